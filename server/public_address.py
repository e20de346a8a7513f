"""The address phones and citizens reach this server at: every QR code, letter, poster and link.

One function, `public_base`, answers for the web pages and the command line alike: the address
an administrator stored in the web pages, else the PUBLIC_URL environment variable, else (in a
request) the host the browser used, else the local default. `address_warning` says when that
address cannot be reached by a phone outside this machine or this LAN.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

from actions.settings import SETTING
from storage import settings

LOCAL_DEFAULT = "http://127.0.0.1:5000"
# RFC 6598 shared address space (carrier-grade NAT) is not "private" to Python but is not public either
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def configured_base(db=None) -> str | None:
    """The stored or configured address, None when neither is set."""
    if db is None:
        from .dbconn import get_db
        db = get_db()
    return settings.get_setting(db, SETTING) or current_app.config.get("PUBLIC_URL") or None


def public_base(db=None) -> str:
    """The base URL (no trailing slash) to put in QR codes, letters, posters and links."""
    base = configured_base(db)
    if base:
        return base
    if has_request_context():
        return request.host_url.rstrip("/")
    return LOCAL_DEFAULT


def address_warning(base: str) -> tuple[str, str] | None:
    """(Vietnamese, English) when phones outside this machine or LAN cannot reach `base`."""
    host = (urlsplit(base).hostname or "").lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if host == "localhost" or host.endswith(".localhost") or (ip is not None and (ip.is_loopback or ip.is_unspecified)):
        return (f"Địa chỉ {base} chỉ dùng được trên chính máy chủ: điện thoại quét mã QR này sẽ không mở được. "
                "Hãy đặt địa chỉ công khai ở Quản trị → Cài đặt.",
                f"The address {base} works only on the server itself: a phone scanning this QR code cannot open it. "
                "Set the public address in Administration → Settings.")
    if (ip is not None and (ip.is_private or ip.is_link_local or ip in _SHARED)) or (ip is None and "." not in host) \
            or host.endswith((".local", ".lan", ".internal", ".home.arpa")):
        return (f"Địa chỉ {base} là địa chỉ nội bộ: chỉ điện thoại trong cùng mạng LAN mới mở được. "
                "Nếu người dân hoặc điều tra viên dùng mạng di động, hãy đặt địa chỉ công khai ở Quản trị → Cài đặt.",
                f"The address {base} is a private one: only phones on the same LAN can open it. "
                "If citizens or surveyors use mobile data, set the public address in Administration → Settings.")
    return None
