"""The audit log: who did what, when. Never holds passwords, tokens or answers."""
from __future__ import annotations

import json

from .clock import now_iso


def record(db, actor: str | None, action: str, target: str | None = None, **details) -> None:
    """Append one entry; joins the caller's transaction when one is open."""
    db.execute(
        "INSERT INTO audit_log (at, actor, action, target, details_json) VALUES (?, ?, ?, ?, ?)",
        [now_iso(), actor, action, target, json.dumps(details, ensure_ascii=False) if details else None],
    )


def recent(db, limit: int = 100) -> list[dict]:
    return list(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit]))
