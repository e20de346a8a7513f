"""A file added to a stored submission through the Central API (/v1 …/attachments/<name>).

The submission's stored XML is received again with the file, as Collect's later parts repeat
it, so every rule of a submission applies (form open, unit scope, retired unit) and the file is
added as to a resend. The audit entry is written in the transaction that stores the file
(receive()'s `then`): the file and its entry commit together or not at all, and a call that
adds nothing (the file came first by another way) writes no entry.
"""
from __future__ import annotations

from storage import audit, submissions

from .receive.accept import Upload, receive

ADDED, ALREADY_THERE, OTHER_BYTES = "added", "already_there", "attachment_exists"


def _stored_sha(db, submission_id: int, name: str) -> str | None:
    return next((a["sha256"] for a in submissions.list_attachments(db, submission_id) if a["name"] == name), None)


def add_attachment(db, blobs, *, row: dict, name: str, stream, sha256: str, content_type: str | None,
                   sender: dict, arrival_channel: str) -> str:
    """Add file `name` (bytes in `stream`, whose SHA-256 is `sha256`) to submission `row` (a row
    of submissions) for `sender`, an account. Returns ADDED; ALREADY_THERE when the same bytes
    were there before (a success that changes nothing); OTHER_BYTES when a file of that name with
    other bytes was (the first one received is kept); or the key of receive()'s refusal."""
    kept = _stored_sha(db, row["id"], name)
    added_here = False
    if kept is None:
        def record(db, outcome, submission_id, added):
            nonlocal added_here
            if outcome == "resent" and submission_id == row["id"] and name in added:
                added_here = True
                # read in the storing transaction: the bytes this call's row names
                audit.record(db, sender["name"], "submission.attachment_upload", row["instance_id"],
                             submission_id=row["id"], via="api", name=name,
                             sha256=_stored_sha(db, row["id"], name))

        result = receive(db, blobs, xml=submissions.get_xml(db, row["id"]),
                         uploads=[Upload(name, stream, content_type)], submitter=sender,
                         device_id=row["device_id"], arrival_channel=arrival_channel, then=record)
        if result.outcome != "resent" or result.submission_id != row["id"]:
            return result.outcome
        if added_here:
            return ADDED
        # another upload of this name got in first
        kept = _stored_sha(db, row["id"], name)
    return ALREADY_THERE if kept == sha256 else OTHER_BYTES
