"""Accounts: people who log in and collectors' devices that hold a token URL."""
from __future__ import annotations

from . import api_sessions, audit, logins, web_sessions
from .clock import now_iso
from .db import first_row, write_transaction

ROLES = ("admin", "designer", "reporter", "collector", "viewer")


def create_user(db, name: str, role: str, unit_code: str | None,
                password_hash: str | None, token_sha256: str | None, *, actor: str | None = None) -> int:
    """Insert an account; a revoked account holding the name gives it up in the same transaction,
    which also writes the audit entry (`user.create`, as `actor`).

    The revoked row becomes `name~id` ("~" is outside the allowed account names, so that name can
    never be taken again): its token stays dead and its submissions keep pointing at it.
    """
    with write_transaction(db):
        revoked = db.execute("SELECT id FROM users WHERE name = ? AND revoked_at IS NOT NULL", [name]).fetchone()
        db.execute("UPDATE users SET name = name || '~' || id WHERE name = ? AND revoked_at IS NOT NULL", [name])
        cursor = db.execute(
            """INSERT INTO users (name, role, unit_code, password_hash, token_sha256, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [name, role, unit_code, password_hash, token_sha256, now_iso()],
        )
        audit.record(db, actor, "user.create", name, role=role, unit=unit_code,
                     **({"replaces_revoked_id": revoked[0]} if revoked is not None else {}))
        return cursor.lastrowid


def get_user_by_name(db, name: str) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE name = ?", [name]))
    return rows[0] if rows else None


def get_user_by_token(db, token_sha256: str) -> dict | None:
    return first_row(db, "SELECT * FROM users WHERE token_sha256 = ? AND revoked_at IS NULL", [token_sha256])


def list_users(db) -> list[dict]:
    return list(db.query("SELECT id, name, role, unit_code, created_at, revoked_at FROM users ORDER BY name"))


def revoke_user(db, name: str, *, actor: str | None = None) -> bool:
    """Revoke an account (its token too) and end its web sessions at once; the audit entry
    (`user.revoke`, as `actor`) is written in the same transaction, only when one was revoked."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [now_iso(), name])
        _end_sessions(db, name)
        if cursor.rowcount != 1:
            return False
        audit.record(db, actor, "user.revoke", name)
        return True


def get_user_by_id(db, user_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE id = ?", [user_id]))
    return rows[0] if rows else None


def set_password(db, name: str, password_hash: str, *, actor: str | None = None) -> bool:
    """Replace an active account's password hash, ending its web sessions and lifting its
    lock-out (the failed logins counted against the name); False when there is no such account.
    The audit entry (`user.password_reset`, as `actor`) is written in the same transaction."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE users SET password_hash = ? WHERE name = ? AND revoked_at IS NULL", [password_hash, name])
        if cursor.rowcount != 1:
            return False
        _end_sessions(db, name)
        logins.forget_failures(db, name)
        audit.record(db, actor, "user.password_reset", name)
        return True


def _end_sessions(db, name: str) -> None:
    user = get_user_by_name(db, name)
    if user is not None:
        web_sessions.close_user_sessions(db, user["id"])
        api_sessions.close_user_sessions(db, user["id"])
