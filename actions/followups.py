"""Following up a dissatisfied citizen's submission: open until the unit has handled it, with a
note saying how. storage.followups writes the status with its audit entry in one transaction."""
from __future__ import annotations

from storage import followups
from storage.errors import BilingualError

NOTE_MAX = 2000


class FollowupRefused(BilingualError):
    """A follow-up status that cannot be recorded as given."""

    code = "followup_refused"


def set_status(db, submission_id: int, status: str | None, note: str, actor: str | None) -> bool:
    """Record `status` for the submission's edit chain; False when there is no such submission.
    Raises FollowupRefused, changing nothing, for an unknown status or "handled" without a note."""
    note = (note or "").strip()
    if status not in followups.STATUSES:
        raise FollowupRefused("Hãy chọn trạng thái theo dõi.", "Choose a follow-up status.")
    if status == "handled" and not note:
        raise FollowupRefused("Hãy ghi chú đã xử lý thế nào.", "Write a note saying how it was handled.")
    return followups.set_status(db, submission_id, status, note[:NOTE_MAX], actor=actor)
