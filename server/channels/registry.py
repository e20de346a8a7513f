"""Registering kiosks and building public links: the rules shared by the staff pages and the CLI."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from storage import channels, forms, units
from storage.errors import BilingualError

from .. import auth, scope
from ..collect_settings import qr_png

NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
DEFAULT_FORM = "tthc_hailong"


class Refused(BilingualError):
    """A kiosk or link request that cannot be done."""


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
    token, digest = auth.new_token()
    channels.create_kiosk(db, name=name, unit_code=unit_code, form_id=form_id, token_sha256=digest, actor=actor)
    return NewKiosk(name, unit_code, form_id, token)


def revoke_kiosk(db, name: str, actor: str | None) -> None:
    if not channels.revoke_kiosk(db, name, actor):
        raise Refused(f'Không có ki-ốt đang hoạt động "{name}".', f'No active kiosk "{name}".')


def kiosk_url(base_url: str, unit_code: str) -> str:
    return f"{base_url.rstrip('/')}/kiosk/{quote(unit_code, safe='')}"


def activation_url(base_url: str, new: NewKiosk) -> str:
    # after '#': the browser fills the activation field from it, and it never reaches a server log
    return f"{kiosk_url(base_url, new.unit_code)}#{new.token}"


def public_url(base_url: str, form_id: str, unit_code: str | None = None, dossier: str | None = None) -> str:
    query = {k: v for k, v in (("unit", unit_code), ("dossier", dossier)) if v}
    url = f"{base_url.rstrip('/')}/f/{quote(form_id, safe='')}"
    return f"{url}?{urlencode(query)}" if query else url


def qr_code_png(text: str) -> bytes:
    return qr_png(text)
