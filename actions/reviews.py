"""A reviewer's decision on a submission (the web page's form and /v1 PATCH).

storage.reviews writes the review row, the submission's state and the audit entry in one
transaction; this is the one call the pages and the API make for it.
"""
from __future__ import annotations

from storage import reviews

DECISIONS = reviews.DECISIONS


def decide(db, submission_id: int, state: str, note: str | None, actor: str | None) -> bool:
    """Make `state` the submission's decision; False when there is no such submission.
    ValueError for a state that is not a decision (the callers check it first, in their words)."""
    return reviews.add_review(db, submission_id, state, note, actor)
