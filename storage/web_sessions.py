"""Signed-in web sessions, kept on the server so that ending one ends it everywhere.

The session cookie carries a random id; only its SHA-256 is stored. A request is signed in only
while that row exists: logging out deletes it, a new password or a revocation deletes every row
of the account, so a cookie saved before then (copied from a shared computer, say) opens nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .clock import iso, now_iso
from .db import first_row



def open_session(db, sid_sha256: str, user_id: int, *, lifetime_seconds: int) -> None:
    """Record a new session; sessions older than their lifetime are dropped on the way. The
    caller holds the write transaction (actions.sessions, with the login's audit entry)."""
    oldest = iso(datetime.now(timezone.utc) - timedelta(seconds=lifetime_seconds))
    db.execute("INSERT INTO web_sessions (sid_sha256, user_id, started_at) VALUES (?, ?, ?)",
               [sid_sha256, user_id, now_iso()])
    db.execute("DELETE FROM web_sessions WHERE started_at < ?", [oldest])


def session_user_id(db, sid_sha256: str) -> int | None:
    row = first_row(db, "SELECT user_id FROM web_sessions WHERE sid_sha256 = ?", [sid_sha256])
    return row["user_id"] if row else None


def close_session(db, sid_sha256: str) -> None:
    """Forget one session; the caller holds the write transaction."""
    db.execute("DELETE FROM web_sessions WHERE sid_sha256 = ?", [sid_sha256])


def close_user_sessions(db, user_id: int) -> None:
    """Every session of an account; the caller holds the write transaction."""
    db.execute("DELETE FROM web_sessions WHERE user_id = ?", [user_id])
