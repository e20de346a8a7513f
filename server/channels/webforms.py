"""What every page running ODK Web Forms needs: its files, its Content-Security-Policy, and the
form definition with the values a link or a kiosk fills in.

Web Forms (with Vue) is served from node_modules through one route that knows exactly which
files may be fetched; nothing comes from another origin and nothing is built.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path

from defusedxml import minidom
from flask import Blueprint, abort, current_app, send_file

from ..web.i18n import lang

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
WEB_FORMS_DIST = NODE_MODULES / "@getodk" / "web-forms" / "dist"
VUE_FILE = NODE_MODULES / "vue" / "dist" / "vue.esm-browser.prod.js"
# Be Vietnam Pro: drawn for Vietnamese (stacked diacritics), served from its npm package.
FONT_DIR = NODE_MODULES / "@fontsource" / "be-vietnam-pro"
FONT_WEIGHTS = ("400", "600", "700")

ASSETS_PREFIX = "/static/odk"
WEB_FORMS_URL = f"{ASSETS_PREFIX}/web-forms/index.js"
VUE_URL = f"{ASSETS_PREFIX}/vue/vue.esm-browser.prod.js"
# The entry module and the chunks it imports by relative name (index-<hash>.js, MapBlock-<hash>.js).
_DIST_NAME = re.compile(r"^(index|MapBlock)(-[A-Za-z0-9_-]+)?\.js$")
FONT_URL = f"{ASSETS_PREFIX}/fonts/be-vietnam-pro"
_FONT_FILE = re.compile(r"^be-vietnam-pro-(vietnamese|latin|latin-ext)-(%s)-normal\.woff2?$" % "|".join(FONT_WEIGHTS))

# "vue" is the only bare import in Web Forms' modules, so the import map holds one entry. The
# text is fixed, so the page's CSP names it by hash instead of allowing inline scripts.
IMPORT_MAP = '{"imports": {"vue": "%s"}}' % VUE_URL
IMPORT_MAP_HASH = "sha256-" + base64.b64encode(hashlib.sha256(IMPORT_MAP.encode("utf-8")).digest()).decode("ascii")

bp = Blueprint("odk_assets", __name__)


@bp.get(f"{ASSETS_PREFIX}/web-forms/<name>")
def web_forms_file(name):
    if not _DIST_NAME.match(name):
        abort(404)
    return _script(WEB_FORMS_DIST / name)


@bp.get(VUE_URL)
def vue_file():
    return _script(VUE_FILE)


@bp.get(f"{FONT_URL}/<weight>.css")
def font_css(weight):
    """Fontsource's own @font-face rules (one per subset, by unicode-range), whose relative
    URLs lead to font_file below."""
    if weight not in FONT_WEIGHTS:
        abort(404)
    return _asset(FONT_DIR / f"{weight}.css", "text/css")


@bp.get(f"{FONT_URL}/files/<name>")
def font_file(name):
    if not _FONT_FILE.match(name):
        abort(404)
    return _asset(FONT_DIR / "files" / name, "font/woff2" if name.endswith(".woff2") else "font/woff")


def _script(path: Path):
    return _asset(path, "text/javascript")


def _asset(path: Path, mimetype: str):
    if not path.is_file():
        abort(404)
    # unhashed names (index.js) change with the npm version, so a day, revalidated by ETag
    response = send_file(path, mimetype=mimetype, max_age=24 * 3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def new_style_nonce() -> str:
    return secrets.token_urlsafe(18)


def content_security_policy(style_nonce: str) -> str:
    """The policy of a page that runs Web Forms: our own origin, plus exactly what it needs.

    - the import map, by its hash;
    - 'wasm-unsafe-eval': Web Forms evaluates XPath with tree-sitter compiled to WebAssembly
      (inlined in its bundle); this allows compiling WebAssembly only, not JavaScript eval;
    - styles: Web Forms and PrimeVue add <style> elements at run time whose text varies with the
      components on screen, so no fixed list of hashes covers them; the page gives each of those
      elements this response's nonce (static/channels/webform.js) instead of 'unsafe-inline';
    - fonts: bundled in the CSS as data: URIs; images: blob: previews of a chosen photo.
    """
    return ("default-src 'self'; "
            f"script-src 'self' '{IMPORT_MAP_HASH}' 'wasm-unsafe-eval'; "
            f"style-src 'self' 'nonce-{style_nonce}'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def page_headers(response, style_nonce: str):
    response.headers["Content-Security-Policy"] = content_security_policy(style_nonce)
    response.headers["X-Frame-Options"] = "DENY"
    # the nonce is for this response only; a cached copy would reuse it
    response.headers["Cache-Control"] = "no-store"
    return response


# --- values filled in before the citizen starts ----------------------------------------------

def link_values(version: dict, *, unit: dict | None = None, dossier: str | None = None,
                channel: str | None = None) -> dict[str, str]:
    """Instance paths and values to fill in: the unit (and its level), the dossier code, the channel.

    Fields are found by the conventions (forms/README.md): the `unit`, `dossier_code` and
    `channel` roles, and a `level` field beside the unit whose choices hold the unit's level.
    A value that is not among a select's choices is left out rather than stored as an answer the
    form cannot show.
    """
    roles = version["conventions"].get("roles", {})
    fields = {f["path"]: f for f in version["fields"] if not f.get("repeat")}
    values: dict[str, str] = {}
    unit_path = roles.get("unit")
    if unit is not None and unit_path in fields:
        values[unit_path] = unit["code"]
        level_path = unit_path.rpartition("/")[0] + "/level" if "/" in unit_path else "level"
        if _has_choice(fields.get(level_path), unit["level"]):
            values[level_path] = unit["level"]
    dossier_path = roles.get("dossier_code")
    if dossier and dossier_path in fields:
        values[dossier_path] = dossier
    channel_path = roles.get("channel")
    if channel and _has_choice(fields.get(channel_path), channel):
        values[channel_path] = channel
    return values


def _has_choice(field: dict | None, value: str) -> bool:
    return field is not None and any(choice[0] == value for choice in field.get("choices", []))


def prefilled_form_response(version: dict, *, unit: dict | None, channel: str, dossier: str | None = None):
    """The form definition a Web Forms page loads: the version's XForm with what the page knows
    filled in, in the page's language, never cached (the unit and dossier differ from one link
    to the next).

    The channel question is not shown: on these pages the server knows the channel and stores
    it whatever the answer says (receive.accept.SERVER_CHANNELS). Collect still shows it to
    surveyors, who may record a postal or other answer."""
    values = link_values(version, unit=unit, dossier=dossier, channel=channel)
    channel_path = version["conventions"].get("roles", {}).get("channel")
    hidden = [channel_path] if channel_path else []
    xform = prefilled_xform(version["xform"], values, hidden, language=lang())
    response = current_app.response_class(xform, 200, content_type="text/xml; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def prefilled_xform(xform: bytes, values: dict[str, str], hidden: list[str] = (),
                    language: str | None = None) -> bytes:
    """The XForm with `values` as the defaults of its primary instance, without the body
    controls of the `hidden` paths (their values, defaults included, are still sent), opening in
    `language` (a code such as "en", matched against the "Name (code)" of the form's
    translations) when the form has it.

    Web Forms 0.22 has no way to set arbitrary answers from the page (its `preloadProperties`
    covers only deviceid, email, phone number and user name; `editInstance` turns the answer
    into an edit of an earlier submission). Default values in the instance are the XForm's own
    way, so the browser shows them and sends them as answers, and what it sends is stored as
    it is. The form id and version are unchanged: the answer belongs to the published version.
    """
    if not values and not hidden and not language:
        return xform
    doc = minidom.parseString(xform)
    changed = _choose_translation(doc, language) if language else False
    root = _primary_instance_root(doc)
    if root is None:
        return doc.toxml(encoding="utf-8") if changed else xform
    refs = {f"/{_local(root.tagName)}/{path}" for path in hidden}
    for body in doc.getElementsByTagNameNS("*", "body"):
        for control in [e for e in body.getElementsByTagName("*") if e.getAttribute("ref") in refs]:
            control.parentNode.removeChild(control)
    for path, value in values.items():
        node = root
        for step in path.split("/"):
            node = next((c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE
                         and _local(c.tagName) == step), None)
            if node is None:
                break
        if node is None or any(c.nodeType == c.ELEMENT_NODE for c in node.childNodes):
            continue
        for child in list(node.childNodes):
            node.removeChild(child)
        node.appendChild(doc.createTextNode(value))
    return doc.toxml(encoding="utf-8")


def _choose_translation(doc, language: str) -> bool:
    """Make the itext translation named "… (<language>)" the default one (Web Forms opens a
    form in its default translation). False when the form has no such translation."""
    translations = [node for node in doc.getElementsByTagNameNS("*", "translation")
                    if _local(node.tagName) == "translation"]
    wanted = [node for node in translations
              if node.getAttribute("lang").strip().lower().endswith(f"({language.lower()})")
              or node.getAttribute("lang").strip().lower() == language.lower()]
    if not wanted:
        return False
    for node in translations:
        if node.hasAttribute("default"):
            node.removeAttribute("default")
    wanted[0].setAttribute("default", "true()")
    return True


def _local(tag: str) -> str:
    return tag.rsplit(":", 1)[-1]


def _primary_instance_root(doc):
    for model in doc.getElementsByTagNameNS("*", "model"):
        for instance in model.childNodes:
            if (instance.nodeType == instance.ELEMENT_NODE and _local(instance.tagName) == "instance"
                    and not instance.getAttribute("id")):
                return next((c for c in instance.childNodes if c.nodeType == c.ELEMENT_NODE), None)
    return None
