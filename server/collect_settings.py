"""The settings QR code ODK Collect scans to configure a device for a collector."""
from __future__ import annotations

import base64
import io
import json
import zlib

import qrcode
from qrcode.image.pure import PyPNGImage


def settings_payload(server_url: str, project_name: str = "Hài Lòng") -> str:
    # Collect reads zlib-compressed, base64-encoded JSON; the token is in the URL, so no password
    settings = {
        # no password: the token is in the URL
        "general": {"server_url": server_url, "username": "", "password": "",  # nosec B105
                    "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular"},
        "admin": {},
        "project": {"name": project_name, "icon": "H", "color": "#0b5394"},
    }
    raw = json.dumps(settings, ensure_ascii=False).encode("utf-8")
    return base64.b64encode(zlib.compress(raw)).decode("ascii")


def decode_payload(payload: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def qr_png(payload: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(payload, image_factory=PyPNGImage, error_correction=qrcode.constants.ERROR_CORRECT_M).save(out)
    return out.getvalue()


def collector_url(base_url: str, token: str) -> str:
    """The server URL a collector's Collect is configured with; the token is its credential."""
    return f"{base_url.rstrip('/')}/key/{token}"


def collector_qr_png(url: str) -> bytes:
    return qr_png(settings_payload(url))
