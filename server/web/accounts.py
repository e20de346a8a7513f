"""Logging in and out, and the language switch."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from actions import sessions

from .. import auth
from ..dbconn import get_db
from ..permissions import can
from .common import safe_next, web_blueprint
from .i18n import LANGUAGES, t

bp = web_blueprint("accounts", __name__, login=False)


@bp.get("/")
def home():
    # the first page of a logged-in user; the login page for anyone else
    if auth.current_user() is None:
        return redirect(url_for("accounts.login"))
    return redirect(url_for("submissions.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method in ("GET", "HEAD"):
        if auth.current_user() is not None and can(auth.current_user(), "web.sign_in"):
            return redirect(next_url or url_for("accounts.home"))
        return render_template("login.html", next_url=next_url, name="")
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    if not name or not password:
        flash(t("Hãy nhập tên đăng nhập và mật khẩu.", "Enter your user name and password."), "error")
        return render_template("login.html", next_url=next_url, name=name), 400
    result = auth.password_login(get_db(), name, password, request.remote_addr)
    if result.wait_seconds:
        minutes = max(1, -(-result.wait_seconds // 60))
        flash(t(f"Đăng nhập sai quá nhiều lần. Vì an toàn, hãy chờ khoảng {minutes} phút rồi thử lại.",
                f"Too many failed logins. For safety, wait about {minutes} minutes and try again."), "error")
        return render_template("login.html", next_url=next_url, name=name), 429
    if result.user is None:
        flash(t("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong user name or password."), "error")
        return render_template("login.html", next_url=next_url, name=name)
    if not can(result.user, "web.sign_in"):
        sessions.refuse_web_sign_in(get_db(), result.user, ip=request.remote_addr)
        flash(t("Tài khoản điều tra viên chỉ dùng với ODK Collect, không đăng nhập trang web này.",
                "Surveyor accounts work in ODK Collect only; they cannot log in here."), "error")
        return render_template("login.html", next_url=next_url, name=name), 403
    auth.start_session(result.user)
    return redirect(next_url or url_for("accounts.home"))


@bp.post("/logout")
def logout():
    auth.end_session(auth.current_user())
    flash(t("Bạn đã đăng xuất.", "You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/language")
def set_language():
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.home"))
