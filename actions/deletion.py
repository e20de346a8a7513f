"""Deleting a submission (`flask submissions delete`): the soft delete of storage.deletion, whose
audit entry, with the deleter's reason, is written in the same transaction."""
from __future__ import annotations

from storage import deletion
from storage.deletion import ALREADY_DELETED, DELETED, NOT_FOUND, Deletion  # noqa: F401  (the outcomes)


def delete_submission(db, instance_id: str, *, reason: str, actor: str | None) -> Deletion:
    """Hide the submission with this instanceID and every version of its chain; the record stays.
    ValueError without a reason."""
    return deletion.soft_delete(db, instance_id, reason=reason, actor=actor)
