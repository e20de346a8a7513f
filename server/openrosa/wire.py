"""The OpenRosa XML documents the server sends (form list, manifest, responses)."""
from __future__ import annotations

from xml.sax.saxutils import escape  # escapes text we write; parses nothing  # nosec B406

OPENROSA_HEADERS = {"X-OpenRosa-Version": "1.0"}


def form_list(entries: list[dict]) -> bytes:
    items = []
    for e in entries:
        parts = [f"<formID>{escape(e['form_id'])}</formID>",
                 f"<name>{escape(e['title'])}</name>",
                 f"<version>{escape(e['version'])}</version>",
                 f"<hash>md5:{e['md5']}</hash>",
                 f"<downloadUrl>{escape(e['download_url'])}</downloadUrl>"]
        if e.get("manifest_url"):
            parts.append(f"<manifestUrl>{escape(e['manifest_url'])}</manifestUrl>")
        items.append("<xform>" + "".join(parts) + "</xform>")
    return _doc('<xforms xmlns="http://openrosa.org/xforms/xformsList">' + "".join(items) + "</xforms>")


def manifest(files: list[dict]) -> bytes:
    items = "".join(
        f"<mediaFile><filename>{escape(f['filename'])}</filename><hash>md5:{f['md5']}</hash>"
        f"<downloadUrl>{escape(f['download_url'])}</downloadUrl></mediaFile>" for f in files)
    return _doc(f'<manifest xmlns="http://openrosa.org/xforms/xformsManifest">{items}</manifest>')


def response(message: str, nature: str = "") -> bytes:
    attr = f' nature="{nature}"' if nature else ""
    return _doc('<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
                f"<message{attr}>{escape(message)}</message></OpenRosaResponse>")


def _doc(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")
