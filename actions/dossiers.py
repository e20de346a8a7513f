"""One answer per dossier: a citizen's answer (public link, kiosk) for a dossier code already
answered is refused, whatever the case, spaces or invisible characters of the code.

The check and the store happen under one lock, so two answers for one dossier sent at the same
moment cannot both pass; an identical resend (same instanceID) is still a success.
"""
from __future__ import annotations

import contextlib

from forms.conventions import DOSSIER_RE, dossier_key
from storage import channels, forms

from .receive.accept import Result, Upload, receive
from .receive.flatten import top_level_value
from .receive.parse import Instance


def dossier_code(db, inst: Instance) -> tuple[str | None, str | None]:
    """(dossier path, dossier code) of the instance; Nones when absent."""
    version = forms.receiving_version(db, inst.form_id, inst.version)
    if version is None or inst.encrypted:
        return None, None
    path = version["conventions"].get("roles", {}).get("dossier_code")
    return path, top_level_value(inst.root, path)


def receive_once_per_dossier(db, blobs, *, xml: bytes, uploads: list[Upload], inst: Instance,
                             submitter: dict | None, device_id: str | None,
                             arrival_channel: str) -> Result:
    """receive() the instance (already read from `xml`), unless its dossier code is malformed
    ("dossier_invalid") or already answered by another submission ("dossier_answered")."""
    path, code = dossier_code(db, inst)
    # compared by key: a different case, a space or a zero-width character is the same dossier
    key = dossier_key(code)
    if key and not DOSSIER_RE.match(key):
        return Result("dossier_invalid")
    guard = channels.exclusive(db, "dossier") if key else contextlib.nullcontext()
    with guard:
        if key:
            earlier = [i for i in channels.dossier_answered(db, inst.form_id, path, key) if i != inst.instance_id]
            if earlier:
                return Result("dossier_answered", values={"dossier": key})
        return receive(db, blobs, xml=xml, uploads=uploads, submitter=submitter, device_id=device_id,
                       arrival_channel=arrival_channel, inst=inst)
