"""Site settings kept in the database, changed by administrators in the web pages."""
from __future__ import annotations

from .clock import now_iso
from . import audit
from .db import write_transaction


def get_setting(db, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def get_settings(db, keys) -> dict[str, str | None]:
    return {key: get_setting(db, key) for key in keys}


def set_settings(db, values: dict[str, str | None], actor: str | None) -> list[str]:
    """Store the values (None or "" removes a key), with one audit entry; returns the keys changed."""
    with write_transaction(db):
        changed = []
        for key, value in values.items():
            before = get_setting(db, key)
            value = value or None
            if value == before:
                continue
            changed.append(key)
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
            else:
                db.execute("""INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
                              ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                              updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
                           [key, value, now_iso(), actor])
        if changed:
            audit.record(db, actor, "settings.change", None, **{key: values[key] or None for key in changed})
    return changed
