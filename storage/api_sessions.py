"""Bearer sessions of ODK Central's API (/v1/sessions): a token's digest, whose it is, until when."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .clock import iso
from .db import first_row



def open_session(db, *, token_sha256: str, user_id: int, lifetime_seconds: int) -> dict:
    """Store a new session; returns its createdAt / expiresAt texts. Expired rows go on the way.
    The caller holds the write transaction (actions.sessions, with the login's audit entry)."""
    now = datetime.now(timezone.utc)
    created, expires = iso(now), iso(now + timedelta(seconds=lifetime_seconds))
    db.execute("DELETE FROM api_sessions WHERE expires_at < ?", [created])
    db.execute("""INSERT INTO api_sessions (token_sha256, user_id, created_at, expires_at)
                  VALUES (?, ?, ?, ?)""", [token_sha256, user_id, created, expires])
    return {"created_at": created, "expires_at": expires}


def live_session(db, token_sha256: str) -> dict | None:
    """The session of a token digest, unless it has expired."""
    return first_row(db, "SELECT * FROM api_sessions WHERE token_sha256 = ? AND expires_at > ?",
                     [token_sha256, iso(datetime.now(timezone.utc))])


def close_session(db, token_sha256: str) -> bool:
    """Forget one session; the caller holds the write transaction."""
    return db.execute("DELETE FROM api_sessions WHERE token_sha256 = ?", [token_sha256]).rowcount == 1


def close_user_sessions(db, user_id: int) -> None:
    """Every API session of an account; the caller holds the write transaction."""
    db.execute("DELETE FROM api_sessions WHERE user_id = ?", [user_id])
