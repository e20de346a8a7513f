"""Deleting a submission: a soft delete that hides it everywhere and keeps the record.

Acknowledged answers are official records, so nothing is erased: `deleted_at` is set on every
version of the submission's edit chain (the list, the pages, the indices and the edit rules all
skip deleted rows; the score rollup follows through the schema's trigger), and the audit log says
who deleted it, when and why. A resend of a deleted submission by Collect is answered as the
identical resend it is and does not bring it back.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import audit
from .clock import now_iso
from .db import write_transaction

DELETED, ALREADY_DELETED, NOT_FOUND = "deleted", "already_deleted", "not_found"


@dataclass
class Deletion:
    outcome: str
    instance_ids: list[str]     # every version of the chain that this call deleted


def soft_delete(db, instance_id: str, *, reason: str, actor: str | None) -> Deletion:
    """Delete the submission with this instanceID (any version of its chain) and its edits."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a deletion needs a reason")
    with write_transaction(db):
        row = db.execute("SELECT root_id FROM submissions WHERE instance_id = ?", [instance_id]).fetchone()
        if row is None:
            return Deletion(NOT_FOUND, [])
        chain = db.execute("SELECT id, instance_id FROM submissions WHERE root_id = ? AND deleted_at IS NULL "
                           "ORDER BY id", [row[0]]).fetchall()
        if not chain:
            return Deletion(ALREADY_DELETED, [])
        at = now_iso()
        db.execute("UPDATE submissions SET deleted_at = ? WHERE root_id = ? AND deleted_at IS NULL", [at, row[0]])
        ids = [r[1] for r in chain]
        # the reason is the deleter's own words about the record, not an answer: it belongs here
        audit.record(db, actor, "submission.delete", instance_id, reason=reason[:2000], versions=ids)
        return Deletion(DELETED, ids)


def is_deleted(db, instance_id: str) -> bool | None:
    row = db.execute("SELECT deleted_at FROM submissions WHERE instance_id = ?", [instance_id]).fetchone()
    return None if row is None else row[0] is not None
