"""Signing in and out, on the web pages, over HTTP Basic and through /v1/sessions: each outcome of
a password check (the failure counted, or the account's count cleared and a session opened) is
written with its audit entry in one transaction.

The password itself is checked by server/auth.py under the failed-login limit; this module only
records what the check found. `via` says which door was used ("basic", "api"; None for the web
pages) and goes into the audit entry, after the client's address.
"""
from __future__ import annotations

import storage
from storage import api_sessions, audit, logins, web_sessions


def _details(ip: str | None, via: str | None) -> dict:
    return {"ip": ip, "via": via} if via else {"ip": ip}


def login_locked(db, name: str, *, ip: str | None, via: str | None = None) -> None:
    """A login refused unchecked because the failed-login limit holds the name or address back."""
    with storage.write_transaction(db):
        audit.record(db, None, "login.locked", name[:128], **_details(ip, via))


def login_failed(db, name: str, *, ip: str | None, keep_seconds: int, via: str | None = None) -> None:
    """A wrong name or password: counted against the name and the address, and audited."""
    name = name[:128]
    with storage.write_transaction(db):
        logins.record_failure(db, name, ip, keep_seconds=keep_seconds)
        audit.record(db, None, "login.failed", name, **_details(ip, via))


def basic_login(db, user: dict) -> None:
    """A right password over HTTP Basic: the account's failures are forgotten. Not audited, as a
    client sending Basic on every request would bury the log in successes."""
    with storage.write_transaction(db):
        logins.forget_failures(db, user["name"])


def refuse_web_sign_in(db, user: dict, *, ip: str | None) -> None:
    """A right password from an account that may not use the web pages (a surveyor)."""
    with storage.write_transaction(db):
        logins.forget_failures(db, user["name"])
        audit.record(db, user["name"], "login.refused", user["name"], ip=ip, role=user["role"])


def open_web_session(db, user: dict, *, sid_sha256: str, lifetime_seconds: int, ip: str | None) -> None:
    """Sign a browser in: the session row (only the id's digest) and the `login` entry."""
    with storage.write_transaction(db):
        logins.forget_failures(db, user["name"])
        web_sessions.open_session(db, sid_sha256, user["id"], lifetime_seconds=lifetime_seconds)
        audit.record(db, user["name"], "login", user["name"], ip=ip)


def close_web_session(db, sid_sha256: str | None, *, user: dict | None, ip: str | None) -> None:
    """Sign a browser out: the session row goes; a signed-in user's `logout` is audited."""
    if sid_sha256 is None and user is None:
        return
    with storage.write_transaction(db):
        if sid_sha256 is not None:
            web_sessions.close_session(db, sid_sha256)
        if user is not None:
            audit.record(db, user["name"], "logout", user["name"], ip=ip)


def open_api_session(db, user: dict, *, token_sha256: str, lifetime_seconds: int, ip: str | None) -> dict:
    """A /v1 Bearer session; returns its createdAt / expiresAt texts."""
    with storage.write_transaction(db):
        logins.forget_failures(db, user["name"])
        times = api_sessions.open_session(db, token_sha256=token_sha256, user_id=user["id"],
                                          lifetime_seconds=lifetime_seconds)
        audit.record(db, user["name"], "login", user["name"], **_details(ip, "api"))
    return times


def close_api_session(db, user: dict, *, token_sha256: str, ip: str | None) -> None:
    """End the caller's own /v1 session (the view has checked it is theirs)."""
    with storage.write_transaction(db):
        api_sessions.close_session(db, token_sha256)
        audit.record(db, user["name"], "logout", user["name"], **_details(ip, "api"))
