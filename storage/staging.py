"""Uploaded forms waiting between their preview and their publication.

The bytes are kept here, keyed by their SHA-256 and the uploader, so that publishing takes
exactly the file that was checked and shown, whatever the browser sends the second time.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from .clock import now_iso
from .db import write_transaction

# an upload nobody published within a day is dropped
KEEP_SECONDS = 24 * 3600


def stage(db, *, sha256: str, uploaded_by: str, filename: str, content: bytes,
          unit_code: str | None, summary: dict) -> None:
    cutoff = (datetime.now(timezone.utc) - timedelta(seconds=KEEP_SECONDS)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    with write_transaction(db):
        db.execute("DELETE FROM staged_forms WHERE uploaded_at < ?", [cutoff])
        db.execute(
            """INSERT INTO staged_forms (sha256, uploaded_by, filename, content, unit_code, summary_json, uploaded_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (sha256, uploaded_by) DO UPDATE SET filename = excluded.filename,
                 unit_code = excluded.unit_code, summary_json = excluded.summary_json,
                 uploaded_at = excluded.uploaded_at""",
            [sha256, uploaded_by, filename, content, unit_code,
             json.dumps(summary, ensure_ascii=False), now_iso()])


def get_staged(db, sha256: str, uploaded_by: str) -> dict | None:
    rows = list(db.query("SELECT * FROM staged_forms WHERE sha256 = ? AND uploaded_by = ?",
                         [sha256, uploaded_by]))
    if not rows:
        return None
    row = rows[0]
    row["summary"] = json.loads(row.pop("summary_json"))
    return row


def drop_staged(db, sha256: str, uploaded_by: str) -> None:
    with write_transaction(db):
        db.execute("DELETE FROM staged_forms WHERE sha256 = ? AND uploaded_by = ?", [sha256, uploaded_by])
