"""Site settings an administrator changes in the web pages: the report's header and signature
lines, and the public address of QR codes, letters and links. storage.settings writes the values
and their one audit entry in one transaction."""
from __future__ import annotations

from urllib.parse import urlsplit

from exports.report import REPORT_SETTINGS
from storage import settings
from storage.errors import BilingualError

REPORT_VALUE_MAX = 200
# the stored public address (server/public_address.py reads it for QR codes, letters and links)
SETTING = "public_url"


class AddressRefused(BilingualError):
    """A typed public address that cannot be used."""

    code = "bad_public_address"




def save_report(db, typed: dict[str, str | None], actor: str | None) -> list[str]:
    """The report's lines as typed (spaces collapsed, at most 200 characters each; an empty one
    goes back to its default); returns the keys changed."""
    values = {key: " ".join((typed.get(key) or "").split())[:REPORT_VALUE_MAX] for key, *_ in REPORT_SETTINGS}
    return settings.set_settings(db, values, actor=actor)


def save_public_address(db, typed: str, actor: str | None) -> str | None:
    """Store the typed public address (None: remove the stored one, the environment's or the
    request's applies); raises AddressRefused, changing nothing, if unusable."""
    value = normalise(typed)
    settings.set_settings(db, {SETTING: value}, actor=actor)
    return value


def normalise(value: str) -> str | None:
    """A typed address as stored (no trailing slash), None for empty; AddressRefused if unusable."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("Địa chỉ phải bắt đầu bằng http:// hoặc https:// và có tên máy, ví dụ https://khaosat.hue.gov.vn.",
                             "The address must start with http:// or https:// and name a host, e.g. https://khaosat.hue.gov.vn.")
    if parts.username or parts.password or parts.query or parts.fragment or any(c.isspace() for c in value):
        raise AddressRefused("Địa chỉ không được chứa tên đăng nhập, mật khẩu, dấu ?, dấu # hay khoảng trắng.",
                             "The address may not hold a user name, password, '?', '#' or spaces.")
    try:
        parts.port
    except ValueError:
        raise AddressRefused("Cổng (port) trong địa chỉ không hợp lệ.", "The port in the address is not valid.") from None
    return value.rstrip("/")
