"""Published results: the figures of a period frozen for the public page, and their withdrawal.
storage.publications writes each with its audit entry in one transaction."""
from __future__ import annotations

from aggregate import published
from storage import publications


def publish(db, target: published.PublishTarget, actor: str | None) -> dict:
    """Freeze the figures of `target` for the public page; returns the snapshot. Cells under the
    target's minimum of respondents are left out, and when none is left nothing is published
    (the snapshot's "cells" is empty). Raises aggregate.QueryError for an unknown period or unit."""
    snapshot = published.snapshot(db, target)
    if snapshot["cells"]:
        publications.publish(db, form_id=target.form_id, period=snapshot["period"]["key"],
                             unit_code=target.unit, level=target.level, min_n=target.min_n,
                             snapshot=snapshot, actor=actor)
    return snapshot


def withdraw(db, publication_id: int, actor: str | None) -> bool:
    """Take a published result off the public page (the row stays, for the history)."""
    return publications.withdraw(db, publication_id, actor=actor)
