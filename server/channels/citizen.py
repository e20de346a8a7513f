"""What the pages citizens open (public links, kiosks) share: language, layout, errors, config.

These pages set no cookie of their own (a kiosk keeps its device cookie): the language is a
query parameter (?lang=en), like the public results, and there is no form to protect with a
CSRF token because the receiving endpoints take anonymous (or device-token) submissions.
"""
from __future__ import annotations

import os

from flask import Blueprint, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from catalogue import PAGES
from forms.conventions import DOSSIER_RE
from storage import forms, units

from actions import scope
from ..dbconn import get_db
from ..web.i18n import LANGUAGES, lang, t
from . import webforms
from .receiving import HONEYPOT_FIELD, Refusal, answer, refusal_answer

# Limits of the anonymous endpoint, generous so that a busy centre (many citizens behind one
# address, one poster QR code) is never turned away; 0 turns a limit off.
DEFAULTS = {
    "PUBLIC_RATE_WINDOW_SECONDS": 3600,
    "PUBLIC_RATE_PER_IP": 300,
    "PUBLIC_RATE_PER_LINK": 1000,
    "KIOSK_IDLE_SECONDS": 60,
    "KIOSK_RETRY_SECONDS": 20,
}



def configure(app) -> None:
    for name, default in DEFAULTS.items():
        app.config.setdefault(name, int(os.environ.get(name, default)))


CANNOT_OPEN = ("Không mở được phiếu khảo sát", "The survey cannot be opened")
ENDED = ("Đợt khảo sát đã kết thúc", "The survey has ended")
NOT_FOUND = ("Không tìm thấy", "Not found")


class PageError(Exception):
    """A page that cannot be shown: a Problem of catalogue.PAGES, under the page title `title`."""

    def __init__(self, problem: str, title: tuple[str, str] = CANNOT_OPEN, /, **values):
        super().__init__(problem)
        self.problem, self.title, self.values = PAGES[problem], title, values

    @property
    def status(self) -> int:
        return self.problem.status

    def text(self) -> str:
        return self.problem.text(lang(), **self.values)


def choose_language() -> None:
    chosen = request.args.get("lang")
    g.page_lang = chosen if chosen in LANGUAGES else "vi"


def message_page(status: int, title: str, text: str, kind: str = "error"):
    response = current_app.make_response(
        (render_template("channels/citizen_message.html", title=title, message=text, kind=kind), status))
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.method == "POST"


def plain_answer(status: int, outcome: str, text: str):
    response = jsonify({"outcome": outcome, "message": text})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def citizen_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint for citizens' pages and endpoints: language per request, errors in kind."""
    bp = Blueprint(name, import_name)
    bp.before_request(choose_language)

    @bp.errorhandler(PageError)
    def _page_error(exc: PageError):
        if _wants_json():
            return plain_answer(exc.status, "unavailable", exc.text())
        return message_page(exc.status, t(*exc.title), exc.text())

    @bp.errorhandler(Refusal)
    def _refused(exc: Refusal):
        return refusal_answer(exc)

    @bp.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        return answer("too_large")

    @bp.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):
            code = exc.code or 500
            vi, en = ((("Không tìm thấy.", "Not found.")) if code == 404
                      else ("Yêu cầu không hợp lệ.", "Invalid request."))
            if _wants_json():
                return plain_answer(code, "http_error", t(vi, en))
            return message_page(code, t("Không tìm thấy", "Not found") if code == 404 else t("Lỗi", "Error"), t(vi, en))
        current_app.logger.exception("unexpected error on a citizens' channel page")
        if _wants_json():
            return answer("server_error")
        return message_page(500, t("Lỗi máy chủ", "Server error"),
                            t("Máy chủ gặp lỗi; vui lòng thử lại sau.", "The server failed; please try again later."))

    return bp


# --- what a link or kiosk points at ---------------------------------------------------------

def open_form(form_id: str, *, version: bool = True) -> tuple[dict, dict | None]:
    """The form and its newest version (None if not asked for), if the form is open to answers."""
    db = get_db()
    form = forms.get_form(db, form_id)
    latest = forms.latest_version(db, form_id) if form and version else None
    if form is None or (version and latest is None):
        raise PageError("survey_not_found")
    if form["state"] != "open":
        raise PageError("survey_ended", ENDED)
    return form, latest


def unit_of(form: dict, code: str | None) -> dict | None:
    """The unit a link names, which must exist and use this form."""
    if not code:
        return None
    db = get_db()
    unit = units.get_unit_in_force(db, code)
    if unit is None or not scope.form_in_scope(db, {"unit_code": code}, form):
        raise PageError("unit_not_found", code=code)
    return unit


def dossier_arg(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not DOSSIER_RE.match(value):
        raise PageError("bad_dossier_link")
    return value


def render_form_page(template: str, **context):
    """A page running Web Forms, with its own CSP (see webforms.content_security_policy)."""
    nonce = webforms.new_style_nonce()
    html = render_template(template, style_nonce=nonce, import_map=webforms.IMPORT_MAP,
                           web_forms_url=webforms.WEB_FORMS_URL, honeypot_field=HONEYPOT_FIELD, **context)
    return webforms.page_headers(current_app.make_response(html), nonce)


def media_response(version: dict, filename: str):
    from ..media import media_content
    # no account here: lists made per surveyor (respondents.csv) come with their header alone
    content = media_content(get_db(), version, filename, None)
    if content is None:
        raise PageError("file_not_found")
    kind = "text/csv; charset=utf-8" if filename.endswith(".csv") else "application/octet-stream"
    response = current_app.response_class(content, 200, content_type=kind)
    response.headers["Cache-Control"] = "no-cache"
    return response
