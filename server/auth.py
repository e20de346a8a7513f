"""Credentials: password hashes, collector tokens, and who is asking in a request."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app, g, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from actions import sessions
from actions.credentials import PASSWORD_METHOD, token_digest
from storage import logins, users, web_sessions

from .dbconn import get_db

# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method=PASSWORD_METHOD)


def user_for_token(db, token: str) -> dict | None:
    if not token or len(token) > 128:
        return None
    # only the digest is stored and looked up, so the token itself is never compared
    return users.get_user_by_token(db, token_digest(token))


def check_password(db, name: str, password: str) -> dict | None:
    user = users.get_user_by_name(db, name)
    if user is None or user["revoked_at"] or not user["password_hash"]:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user["password_hash"], password) else None


# --- password logins with a limit, and the account behind a request ---------------------------

@dataclass
class LoginResult:
    user: dict | None
    wait_seconds: int = 0  # > 0: too many failures; the password was not even checked


def password_login(db, name: str, password: str, ip: str | None, via: str | None = None) -> LoginResult:
    """Check a password under the failed-login limit (see config LOGIN_*); a refusal is counted
    and audited here (actions.sessions), `via` naming the door as the audit entry does.

    Failures are counted in the database, so every server process sees them. A success changes
    nothing yet: the caller opens the session (or refuses it), which clears the account's count.
    """
    cfg = current_app.config
    window = int(cfg["LOGIN_WINDOW_SECONDS"])
    name = (name or "")[:128]
    recent = logins.recent_failures(db, name=name, ip=ip, window_seconds=window)
    wait = 0
    for count, oldest, limit in ((recent["name"], recent["name_oldest"], cfg["LOGIN_MAX_FAILURES"]),
                                 (recent["ip"], recent["ip_oldest"], cfg["LOGIN_MAX_FAILURES_PER_IP"])):
        if count >= int(limit) and oldest:
            age = (datetime.now(timezone.utc) - datetime.fromisoformat(oldest.replace("Z", "+00:00"))).total_seconds()
            wait = max(wait, int(window - age) + 1)
    if wait > 0:
        sessions.login_locked(db, name, ip=ip, via=via)
        return LoginResult(None, wait)
    user = check_password(db, name, password or "")
    if user is None:
        sessions.login_failed(db, name, ip=ip, keep_seconds=window, via=via)
        return LoginResult(None)
    return LoginResult(user)


def locked_out(db, names: list[str]) -> set[str]:
    """The accounts among `names` that the failed-login limit holds back right now."""
    cfg = current_app.config
    return logins.locked_names(db, names, window_seconds=int(cfg["LOGIN_WINDOW_SECONDS"]),
                               limit=int(cfg["LOGIN_MAX_FAILURES"]))


def _sid_digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start_session(user: dict) -> None:
    """Sign the browser in: a new random session id, recorded on the server (storage.web_sessions)
    with the `login` audit entry."""
    lang = session.get("lang")
    session.clear()  # a new session id and CSRF token, so nothing planted before login survives
    if lang:
        session["lang"] = lang
    sid = secrets.token_urlsafe(32)
    sessions.open_web_session(get_db(), user, sid_sha256=_sid_digest(sid), ip=request.remote_addr,
                              lifetime_seconds=int(current_app.permanent_session_lifetime.total_seconds()))
    session.permanent = True
    session["since"] = int(time.time())
    session["uid"] = user["id"]
    session["sid"] = sid
    g.current_user = user


def end_session(user: dict | None = None) -> None:
    """Sign out: the server forgets the session id, so a copy of the cookie opens nothing either.
    `user`, when someone signs themselves out, is audited as logging out."""
    sid = session.get("sid")
    sessions.close_web_session(get_db(), _sid_digest(sid) if isinstance(sid, str) else None,
                               user=user, ip=request.remote_addr)
    _clear_cookie()


def _clear_cookie() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g.current_user = None


def _session_user(db) -> dict | None:
    uid, sid = session.get("uid"), session.get("sid")
    if not isinstance(uid, int) or not isinstance(sid, str):
        if uid is not None:
            _clear_cookie()   # a cookie from before server-side sessions
        return None
    # the cookie's own expiry slides with every request; this bounds a session from its login
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if not isinstance(session.get("since"), int) or time.time() - session["since"] > lifetime:
        end_session()
        return None
    # logout, a new password and a revocation delete the row: checked on every request
    if web_sessions.session_user_id(db, _sid_digest(sid)) != uid:
        _clear_cookie()
        return None
    user = users.get_user_by_id(db, uid)
    if user is None or user["revoked_at"]:
        _clear_cookie()
        return None
    return user


def basic_auth_user(db) -> dict | None:
    """The account of a Basic-authenticated request (ODK Collect, API clients), under the same
    failed-login limit as the login page: without it, /formList would let anyone guess passwords."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    result = password_login(db, auth.username, auth.password, request.remote_addr, via="basic")
    if result.user is not None:
        sessions.basic_login(db, result.user)
    return result.user


def current_user() -> dict | None:
    """The account making this request: the web session first, then HTTP Basic (API clients).

    Revoked accounts are nobody. The answer is kept for the rest of the request.
    """
    if "current_user" not in g:
        db = get_db()
        g.current_user = _session_user(db) or basic_auth_user(db)
    return g.current_user
