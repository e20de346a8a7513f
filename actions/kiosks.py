"""Kiosks: registering one (its token made here and shown once), revoking it, and taking the
answers its tablet sends (the staff page, `flask kiosks ...` and /kiosk/<unit>)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from storage import channels, forms, units
from storage.errors import BilingualError

from . import credentials, scope
from .dossiers import receive_once_per_dossier
from .receive.accept import Result, Upload, bound_to
from .receive.parse import Instance

NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
DEFAULT_FORM = "tthc_hailong"


class Refused(BilingualError):
    """A kiosk or link request that cannot be done."""

    code = "channel_refused"


@dataclass
class NewKiosk:
    name: str
    unit_code: str
    form_id: str
    token: str          # shown once; only its SHA-256 is stored


def create_kiosk(db, *, name: str, unit_code: str, form_id: str | None, actor: str | None) -> NewKiosk:
    name = (name or "").strip()
    if not NAME_RE.fullmatch(name):
        raise Refused("Tên ki-ốt chỉ gồm chữ cái không dấu, chữ số và các dấu _ . @ -, tối đa 64 ký tự.",
                      "A kiosk name may hold ASCII letters, digits and _ . @ -, at most 64 characters.")
    if channels.kiosk_by_name(db, name) is not None:
        raise Refused(f'Ki-ốt "{name}" đã có.', f'Kiosk "{name}" already exists.')
    unit = units.get_unit_in_force(db, unit_code or "")
    if unit is None:
        raise Refused(f'Không có đơn vị "{unit_code}" đang có hiệu lực (chưa có hoặc đã giải thể).',
                      f'No unit "{unit_code}" in force (unknown or retired).')
    form_id = form_id or DEFAULT_FORM
    form = forms.get_form(db, form_id)
    if form is None:
        raise Refused(f'Không có biểu mẫu "{form_id}".', f'No form "{form_id}".')
    if not scope.form_in_scope(db, {"unit_code": unit_code}, form):
        raise Refused(f'Biểu mẫu "{form_id}" không dùng cho đơn vị {unit_code}.',
                      f'Form "{form_id}" is not used by unit {unit_code}.')
    token, digest = credentials.new_token()
    channels.create_kiosk(db, name=name, unit_code=unit_code, form_id=form_id, token_sha256=digest, actor=actor)
    return NewKiosk(name, unit_code, form_id, token)


def revoke_kiosk(db, name: str, actor: str | None) -> None:
    if not channels.revoke_kiosk(db, name, actor):
        raise Refused(f'Không có ki-ốt đang hoạt động "{name}".', f'No active kiosk "{name}".')


def receive_answer(db, blobs, *, kiosk: dict, xml: bytes, uploads: list[Upload], inst: Instance) -> Result:
    """An answer from a registered kiosk (a row of storage.channels, not revoked): for its form,
    its unit's, once per dossier, the kiosk remembered as last seen when it is stored."""
    if inst.form_id != kiosk["form_id"]:
        return Result("wrong_form")
    # no rate limit: the device is registered, and a queue of answers kept while the network
    # was down arrives all at once when it returns
    result = receive_once_per_dossier(db, blobs, xml=xml, uploads=uploads, inst=inst,
                                      submitter=bound_to(kiosk["unit_code"]),
                                      device_id=f"kiosk:{kiosk['name']}", arrival_channel="kiosk")
    if result.outcome in ("created", "resent"):
        channels.touch_kiosk(db, kiosk["id"])
    return result
