"""Site settings an administrator changes in the web pages: the report's header and signature
lines, and the public address of QR codes, letters and links. storage.settings writes the values
and their one audit entry in one transaction."""
from __future__ import annotations

from exports.report import REPORT_SETTINGS
from server import public_address
from storage import settings

REPORT_VALUE_MAX = 200


def save_report(db, typed: dict[str, str | None], actor: str | None) -> list[str]:
    """The report's lines as typed (spaces collapsed, at most 200 characters each; an empty one
    goes back to its default); returns the keys changed."""
    values = {key: " ".join((typed.get(key) or "").split())[:REPORT_VALUE_MAX] for key, *_ in REPORT_SETTINGS}
    return settings.set_settings(db, values, actor=actor)


def save_public_address(db, typed: str, actor: str | None) -> str | None:
    """Store the typed public address (None: remove the stored one, the environment's or the
    request's applies); raises public_address.AddressRefused, changing nothing, if unusable."""
    value = public_address.normalise(typed)
    settings.set_settings(db, {public_address.SETTING: value}, actor=actor)
    return value
