"""The addresses of the citizens' channels, shared by the staff pages, the letters and the CLI:
a kiosk's page and activation link, a public link, their QR codes. Registering and revoking a
kiosk is actions/kiosks.py's."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from actions.kiosks import NewKiosk

from ..collect_settings import qr_png


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
