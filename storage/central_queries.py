"""Reads behind ODK Central's REST API (server/central): the project, form statistics and
submissions as Central lists them, each scoped to a unit subtree in its WHERE clause.

Central names a submission by the instanceID it was first sent with, whatever edits followed; so
do these reads: `root_instance_id` is the chain's first instanceID, the other columns are those
of its current version.
"""
from __future__ import annotations

from .browse import SUBTREE
from .db import first_row

_SUBMISSION = """SELECT s.id, r.instance_id AS root_instance_id, s.instance_id, s.root_id, s.form_id,
       s.version, r.received_at AS created_at,
       CASE WHEN s.id = s.root_id THEN NULL ELSE s.received_at END AS updated_at,
       s.received_at, s.submitter_id, s.device_id, s.review_state, s.unit_code, s.channel,
       s.attachments_expected, s.form_version_id, s.encrypted
FROM submissions s JOIN submissions r ON r.id = s.root_id"""


def _scoped(where: list[str], params: list, scope: str | None) -> str:
    if scope is not None:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(scope)
    return " AND ".join(where)


def instance_started(db) -> str | None:
    """When this instance began: its first account (the project's createdAt)."""
    return db.execute("SELECT min(created_at) FROM users").fetchone()[0]


def form_statistics(db, form_id: str, scope: str | None) -> dict:
    params: list = [form_id]
    where = _scoped(["s.form_id = ?", "s.current = 1", "s.deleted_at IS NULL"], params, scope)
    count, last = db.execute(f"SELECT count(*), max(s.received_at) FROM submissions s WHERE {where}",
                             params).fetchone()
    return {"submissions": count, "last": last}


def submissions(db, form_id: str, scope: str | None):
    """Every current submission of a form, newest first: a cursor, read as it is sent."""
    params: list = [form_id]
    where = _scoped(["s.form_id = ?", "s.current = 1", "s.deleted_at IS NULL"], params, scope)
    cursor = db.execute(f"{_SUBMISSION} WHERE {where} ORDER BY s.id DESC", params)
    names = [d[0] for d in cursor.description]
    return (dict(zip(names, row)) for row in cursor)


def submission(db, form_id: str, root_instance_id: str, scope: str | None) -> dict | None:
    """The current version of the submission first sent as `root_instance_id`."""
    params: list = [form_id, root_instance_id]
    where = _scoped(["s.form_id = ?", "r.instance_id = ?", "r.id = r.root_id", "s.current = 1",
                     "s.deleted_at IS NULL"], params, scope)
    return first_row(db, f"{_SUBMISSION} WHERE {where}", params)


def versions(db, root_id: int, scope: str | None) -> list[dict]:
    """Every version of one submission, newest first."""
    params: list = [root_id]
    where = _scoped(["s.root_id = ?", "s.deleted_at IS NULL"], params, scope)
    cursor = db.execute(f"SELECT s.instance_id, s.received_at, s.submitter_id, s.device_id, s.current, "
                        f"s.version FROM submissions s WHERE {where} ORDER BY s.id DESC", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def root_instance_id(db, submission_id: int) -> str | None:
    """The instanceID a submission's chain was first sent with: Central's name for it."""
    row = db.execute("SELECT r.instance_id FROM submissions s JOIN submissions r ON r.id = s.root_id "
                     "WHERE s.id = ?", [submission_id]).fetchone()
    return row[0] if row else None
