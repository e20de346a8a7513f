"""Who is asking: a Bearer token from POST /v1/sessions, or HTTP Basic (Excel, Power BI).

Both go through the web login's rules: the same password check under the same failed-login limit
(server/auth.password_login), the same audit entries, and a session tied to the password it was
opened with, so a password reset ends every API session as it ends every web session.
"""
from __future__ import annotations

from flask import current_app, g, request

from actions import credentials, sessions
from storage import api_sessions, users

from .. import auth
from ..permissions import can
from ..dbconn import get_db
from . import bp, json_response
from .errors import CentralError
from .wire import iso, user_json



def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _token_user(db, token: str) -> dict | None:
    if not token or len(token) > 128:
        return None
    found = api_sessions.live_session(db, credentials.token_digest(token))
    if found is None:
        return None
    user = users.get_user_by_id(db, found["user_id"])
    if user is None or user["revoked_at"]:
        return None
    return user


def requesting_user() -> dict | None:
    db = get_db()
    token = _bearer()
    if token is not None:
        return _token_user(db, token)
    return auth.basic_auth_user(db)


def require(action: str) -> dict:
    """The API user, if they may do `action` (server/permissions.py)."""
    user = g.api_user
    if not can(user, action):
        raise CentralError("forbidden_role")
    return user


@bp.post("/sessions")
def create_session():
    body = request.get_json(silent=True)
    name = body.get("email") or body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
        raise CentralError("bad_json", fields='{"email" (hoặc/or "username"), "password"}')
    db = get_db()
    result = auth.password_login(db, name.strip(), password, request.remote_addr, via="api")
    if result.wait_seconds:
        raise CentralError("locked", minutes=max(1, -(-result.wait_seconds // 60)))
    if result.user is None:
        raise CentralError("unauthorized")
    token, digest = credentials.new_token()
    lifetime = int(current_app.permanent_session_lifetime.total_seconds())
    times = sessions.open_api_session(db, result.user, token_sha256=digest, lifetime_seconds=lifetime,
                                      ip=request.remote_addr)
    return json_response({"token": token, "createdAt": iso(times["created_at"]),
                          "expiresAt": iso(times["expires_at"])})


@bp.delete("/sessions/<token>")
def delete_session(token):
    db = get_db()
    if token == "current":  # Central's name for the caller's own session, not a secret  # nosec B105
        token = _bearer() or ""
    # only the caller's own session: knowing a token is not leave to end someone else's
    digest = credentials.token_digest(token)
    found = api_sessions.live_session(db, digest) if token and len(token) <= 128 else None
    if found is None or found["user_id"] != g.api_user["id"]:
        raise CentralError("not_found", what="session")
    sessions.close_api_session(db, g.api_user, token_sha256=digest, ip=request.remote_addr)
    return json_response({"success": True})


@bp.get("/users/current")
def current_user():
    return json_response(user_json(g.api_user))
