"""What every web blueprint shares: who may enter, the navigation, headers and error pages.

A blueprint made with `web_blueprint()` gets, in this order, for every request: the CSRF
check on non-GET requests, then the login check (anonymous visitors are sent to the login page,
surveyors get 403: they work in ODK Collect, not here). A view then names the roles it admits
with `@roles(...)`.

For the areas still to come: a public page (results) uses `web_blueprint(..., login=False)`; a
page that needs more than the strict default Content-Security-Policy (ODK Web Forms' inline
import map and styles) sets its own header in the view, which `security_headers` leaves alone;
a new menu entry is one line in NAV.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from .. import csrf
from ..auth import current_user
from .i18n import t

# Roles that use the web pages (surveyors only use ODK Collect).
WEB_ROLES = ("admin", "designer", "reporter", "viewer")

# Only our own files: no inline script, no other origin. The QR code is a data: image.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, whose cookie is Secure whenever the request came by HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


# --- navigation ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label_vi: str
    label_en: str
    roles: tuple[str, ...]
    section: str  # the blueprint whose pages mark this entry as current


# The menu, in order. A new area (dashboard, public results) adds its entry here.
NAV: list[NavItem] = [
    NavItem("submissions.index", "Phiếu đã nhận", "Submissions", WEB_ROLES, "submissions"),
    NavItem("dashboard.index", "Chỉ số hài lòng", "Dashboard", WEB_ROLES, "dashboard"),
    NavItem("questionnaires.index", "Biểu mẫu", "Forms", WEB_ROLES, "questionnaires"),
    NavItem("sampling.index", "Chọn mẫu", "Sampling", ("admin", "reporter"), "sampling"),
    NavItem("channels.index", "Kênh khảo sát", "Survey channels", ("admin", "designer", "reporter"), "channels"),
    NavItem("admin.users", "Quản trị", "Administration", ("admin",), "admin"),
]


def nav_items() -> list[dict]:
    user = current_user()
    if user is None:
        return []
    return [{"url": url_for(item.endpoint), "label": t(item.label_vi, item.label_en),
             "current": request.blueprint == item.section}
            for item in NAV if user["role"] in item.roles]


# --- the public address in pages ------------------------------------------------------------

def public_base() -> str:
    from ..dbconn import get_db
    from ..public_address import public_base as base
    return base(get_db())


def qr_address_warning() -> str | None:
    """The warning to show beside a QR code whose address phones may not reach, in the reader's language."""
    from ..public_address import address_warning
    warning = address_warning(public_base())
    return t(*warning) if warning else None


# --- access --------------------------------------------------------------------------------

def user_scope() -> str | None:
    """The unit whose subtree the logged-in account works in; None for province-wide accounts."""
    return g.user["unit_code"]


def form_or_404(form_id: str) -> dict:
    """A form the account may see, or 404 (never 403: another unit's forms are not confirmed)."""
    from storage import browse
    from ..dbconn import get_db
    form = browse.form_in_scope(get_db(), form_id, user_scope())
    if form is None:
        abort(404)
    return form


def safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after login; anything else (other hosts) is dropped."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def require_login():
    user = current_user()
    if user is None:
        target = request.full_path if request.method == "GET" else None
        if target and target.endswith("?"):
            target = target[:-1]
        return redirect(url_for("accounts.login", next=target))
    if user["role"] not in WEB_ROLES:
        abort(403)
    g.user = user
    return None


def roles(*allowed: str):
    """Admit only these roles to a view (after require_login has admitted a web user)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.user["role"] not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


# --- headers and errors --------------------------------------------------------------------

def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_user() is not None:
        # pages behind a login are never kept by shared caches or the back button of the next user
        response.headers.setdefault("Cache-Control", "no-store")
    return response


ERRORS = {
    400: ("Yêu cầu không hợp lệ", "Bad request",
          "Máy chủ không hiểu yêu cầu này.", "The server could not understand this request."),
    403: ("Không có quyền truy cập", "Access denied",
          "Tài khoản của bạn không được dùng trang này.", "Your account may not use this page."),
    404: ("Không tìm thấy", "Not found",
          "Trang hoặc dữ liệu này không có, hoặc nằm ngoài phạm vi đơn vị của bạn.",
          "This page or record does not exist, or is outside your unit's scope."),
    405: ("Không được phép", "Method not allowed",
          "Trang này không nhận kiểu yêu cầu đó.", "This page does not accept that kind of request."),
    413: ("Tệp quá lớn", "File too large",
          "Tệp tải lên vượt quá giới hạn cho phép.", "The uploaded file is larger than allowed."),
}
CSRF_MESSAGE = ("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ; không có gì được thay đổi. "
                "Hãy tải lại trang rồi thử lại.",
                "Your session expired or the form was not valid; nothing was changed. "
                "Reload the page and try again.")


def error_page(exc: HTTPException):
    code = exc.code or 500
    title_vi, title_en, text_vi, text_en = ERRORS.get(
        code, ("Lỗi", "Error", "Đã có lỗi xảy ra.", "Something went wrong."))
    if code == 400 and exc.description == "csrf":
        text_vi, text_en = CSRF_MESSAGE
    if code == 403 and current_user() is not None and current_user()["role"] == "collector":
        text_vi = "Tài khoản điều tra viên chỉ dùng với ODK Collect, không dùng trang web này."
        text_en = "Surveyor accounts work in ODK Collect only, not on these pages."
    return render_template("error.html", code=code, title=t(title_vi, title_en),
                           message=t(text_vi, text_en)), code


def web_blueprint(name: str, import_name: str, *, url_prefix: str | None = None,
                  login: bool = True) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    csrf.protect(bp)
    if login:
        bp.before_request(require_login)
    bp.after_request(security_headers)
    for code in ERRORS:
        bp.register_error_handler(code, error_page)
    return bp
