"""Follow-up of dissatisfied submissions: open until someone of the unit handles it, with a note.

A status belongs to the edit chain (its root submission), not to one version of it: when a
surveyor sends a corrected version, the unit's follow-up is not lost. Every change is kept; the
latest one is the status. A submission without any change is open.
"""
from __future__ import annotations

from . import audit
from .clock import now_iso
from .db import write_transaction

STATUSES = ("open", "handled")
DEFAULT_STATUS = "open"

# The chains (root ids) whose latest status is other than open: few, as each is set by hand.
SETTLED_ROOTS = """SELECT f.root_id FROM followups f
    WHERE f.status <> 'open' AND f.id = (SELECT max(g.id) FROM followups g WHERE g.root_id = f.root_id)"""


def set_status(db, submission_id: int, status: str, note: str | None, actor: str | None) -> bool:
    """Record a status for the chain of `submission_id`; False when there is no such submission."""
    if status not in STATUSES:
        raise ValueError(f"unknown follow-up status {status!r}")
    note = (note or "").strip() or None
    with write_transaction(db):
        row = db.execute(
            """SELECT s.root_id, r.instance_id FROM submissions s JOIN submissions r ON r.id = s.root_id
               WHERE s.id = ? AND s.deleted_at IS NULL""", [submission_id]).fetchone()
        if row is None:
            return False
        root_id, root_instance = row
        previous = db.execute("SELECT status FROM followups WHERE root_id = ? ORDER BY id DESC LIMIT 1",
                              [root_id]).fetchone()
        db.execute("INSERT INTO followups (root_id, status, note, actor, at) VALUES (?, ?, ?, ?, ?)",
                   [root_id, status, note, actor, now_iso()])
        # the note may quote what the citizen wrote, so it stays here and out of the audit log
        audit.record(db, actor, "followup.set", root_instance, status=status,
                     previous=previous[0] if previous else DEFAULT_STATUS,
                     submission_id=submission_id, root_id=root_id)
        return True


def of_submissions(db, submission_ids: list[int]) -> dict[int, dict]:
    """{submission id: {"status", "note", "actor", "at", "history": [older changes, newest first]}}
    for each id given; a submission whose chain has no change yet is open with no history."""
    result = {sid: {"status": DEFAULT_STATUS, "note": None, "actor": None, "at": None, "history": []}
              for sid in submission_ids}
    if not submission_ids:
        return result
    marks = ",".join("?" * len(submission_ids))
    rows = db.execute(
        f"""SELECT s.id, f.status, f.note, f.actor, f.at
            FROM submissions s JOIN followups f ON f.root_id = s.root_id
            WHERE s.id IN ({marks}) ORDER BY f.id DESC""", list(submission_ids)).fetchall()
    for sid, status, note, actor, at in rows:
        change = {"status": status, "note": note, "actor": actor, "at": at}
        entry = result[sid]
        if entry["at"] is None:
            entry.update(change)
        else:
            entry["history"].append(change)
    return result
