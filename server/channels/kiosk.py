"""Kiosk mode: /kiosk/<unit> on a tablet at a centre, bound to a registered kiosk device.

An administrator registers a kiosk (staff page or `flask kiosks create`) and gets its token once;
entering it on the tablet's activation page stores it in an HttpOnly, SameSite=Strict cookie
limited to /kiosk. Revoking the kiosk stops its page and its submissions at once. Answers are
stored with channel "kiosk", the kiosk's unit as scope, and "kiosk:<name>" as device.

The page thanks the citizen after each submission and goes back to the start after the idle
delay (and after a minute without a touch), and keeps answers in the browser (IndexedDB) when
the network is down, sending them in order when it returns: resending is safe because an
identical resend of an instanceID is acknowledged without a second record. A service worker
(/kiosk/sw.js) keeps the page, the form and Web Forms, so the kiosk starts without network.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, redirect, request, send_file, url_for

from actions import credentials, kiosks
from storage import channels, units

from ..dbconn import get_blobs, get_db
from ..web.i18n import lang, t, unit_name
from . import webforms
from .citizen import NOT_FOUND, PageError, citizen_blueprint, message_page, open_form, render_form_page
from .receiving import Refusal, read_instance, read_posted, result_answer

bp = citizen_blueprint("kiosk", __name__)

COOKIE = "hl_kiosk"
COOKIE_PATH = "/kiosk"
COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
# Sent by the kiosk page's script on every submission: another site cannot add a custom header
# to a cross-origin request without a CORS grant, so with the SameSite cookie this stops forgery.
HEADER = "X-Hailong-Kiosk"
SERVICE_WORKER = Path(__file__).resolve().parents[1] / "static" / "channels" / "kiosk-sw.js"


def kiosk_for_request(unit_code: str) -> dict | None:
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 128:
        return None
    kiosk = channels.kiosk_by_token(get_db(), credentials.token_digest(token))
    if kiosk is None or kiosk["revoked_at"] or kiosk["unit_code"] != unit_code:
        return None
    return kiosk


def _unit_or_404(unit_code: str) -> dict:
    unit = units.get_unit_in_force(get_db(), unit_code)
    if unit is None:
        raise PageError("no_unit", NOT_FOUND, code=unit_code)
    return unit


def _activation(unit: dict, status: int = 200, error: str | None = None):
    from flask import render_template
    response = current_app.make_response((render_template(
        "channels/kiosk_activate.html", unit=unit, unit_label=unit_name(unit, ""), error=error), status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/kiosk/<unit_code>")
def page(unit_code):
    unit = _unit_or_404(unit_code)
    kiosk = kiosk_for_request(unit_code)
    if kiosk is None:
        return _activation(unit)
    form, version = open_form(kiosk["form_id"])
    query = {"lang": lang()} if lang() != "vi" else {}
    return render_form_page(
        "channels/kiosk.html", kiosk=kiosk, form=form, version=version, unit=unit,
        unit_label=unit_name(unit, ""), device_id=f"kiosk:{kiosk['name']}",
        form_url=url_for(".form_xml", unit_code=unit_code, **query),
        media_url=url_for("citizen_link.media", form_id=form["form_id"], version=version["version"],
                          filename="x")[:-1],
        submit_url=url_for(".submission", unit_code=unit_code, **query),
        idle_seconds=current_app.config["KIOSK_IDLE_SECONDS"],
        retry_seconds=current_app.config["KIOSK_RETRY_SECONDS"], header=HEADER)


@bp.get("/kiosk/sw.js")
def service_worker():
    """The kiosk's service worker, served under /kiosk/ so that its scope covers every kiosk page
    (a worker's scope cannot reach above the path it is served from)."""
    response = send_file(SERVICE_WORKER, mimetype="text/javascript", max_age=0)
    # always checked again: a new version of the worker reaches kiosks at their next start
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/kiosk/<unit_code>/activate")
def activate(unit_code):
    unit = _unit_or_404(unit_code)
    if not _same_origin():
        return _activation(unit, 403, t("Yêu cầu không đến từ trang này.", "The request did not come from this page."))
    token = (request.form.get("token") or "").strip()
    kiosk = channels.kiosk_by_token(get_db(), credentials.token_digest(token)) if 0 < len(token) <= 128 else None
    if kiosk is None or kiosk["revoked_at"]:
        return _activation(unit, 403, t("Mã ki-ốt không đúng hoặc ki-ốt đã bị thu hồi.",
                                        "The kiosk code is wrong or the kiosk has been revoked."))
    if kiosk["unit_code"] != unit_code:
        return _activation(unit, 403, t(f"Mã này thuộc ki-ốt của đơn vị {kiosk['unit_code']}, không phải đơn vị này.",
                                        f"This code belongs to a kiosk of unit {kiosk['unit_code']}, not this one."))
    response = redirect(url_for(".page", unit_code=unit_code))
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path=COOKIE_PATH, httponly=True,
                        samesite="Strict", secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True
    ours = urlsplit(request.host_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


@bp.get("/kiosk/<unit_code>/form.xml")
def form_xml(unit_code):
    unit = _unit_or_404(unit_code)
    kiosk = kiosk_for_request(unit_code)
    if kiosk is None:
        return message_page(403, t("Ki-ốt chưa đăng ký", "Kiosk not registered"),
                            t("Thiết bị này chưa được đăng ký làm ki-ốt.", "This device is not registered as a kiosk."))
    _form, version = open_form(kiosk["form_id"])
    return webforms.prefilled_form_response(version, unit=unit, channel="kiosk")


@bp.post("/kiosk/<unit_code>/submission")
def submission(unit_code):
    _unit_or_404(unit_code)
    if request.headers.get(HEADER) != "1":
        raise Refusal("kiosk_header")
    kiosk = kiosk_for_request(unit_code)
    if kiosk is None:
        raise Refusal("kiosk_unknown")
    posted = read_posted(request)
    inst = read_instance(posted.xml)
    result = kiosks.receive_answer(get_db(), get_blobs(), kiosk=kiosk, xml=posted.xml, uploads=posted.uploads,
                                   inst=inst)
    return result_answer(result)
