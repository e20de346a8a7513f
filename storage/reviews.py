"""Review decisions on submissions: each one kept, the latest copied onto the submission."""
from __future__ import annotations

from vocabulary import REVIEWED_STATES as DECISIONS

from . import audit
from .clock import now_iso
from .db import write_transaction


def add_review(db, submission_id: int, state: str, note: str | None, actor: str | None) -> bool:
    """Record a decision and make it the submission's state; False when there is no such submission.

    The review row, the state and the audit entry are written in one transaction, so the page
    that lists a submission's reviews never disagrees with its state.
    """
    with write_transaction(db):
        return record_review(db, submission_id, state, note, actor)


def record_review(db, submission_id: int, state: str, note: str | None, actor: str | None) -> bool:
    """add_review() inside the caller's write transaction, for a change that flags a submission
    as part of something else (a paper sheet entered twice: actions/paper.py)."""
    if state not in DECISIONS:
        raise ValueError(f"unknown review state {state!r}")
    note = (note or "").strip() or None
    row = db.execute("SELECT instance_id, review_state FROM submissions WHERE id = ?",
                     [submission_id]).fetchone()
    if row is None:
        return False
    db.execute("UPDATE submissions SET review_state = ? WHERE id = ?", [state, submission_id])
    db.execute("INSERT INTO reviews (submission_id, state, note, actor, at) VALUES (?, ?, ?, ?, ?)",
               [submission_id, state, note, actor, now_iso()])
    # the note can quote an answer, so it stays in the reviews table and out of the audit log
    audit.record(db, actor, "submission.review", row[0], state=state, previous=row[1],
                 submission_id=submission_id)
    return True


def review_state(db, submission_id: int) -> str | None:
    """The submission's current review state; None when there is no such submission."""
    row = db.execute("SELECT review_state FROM submissions WHERE id = ?", [submission_id]).fetchone()
    return row[0] if row else None


def reviews_of(db, submission_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM reviews WHERE submission_id = ? ORDER BY id", [submission_id]))
