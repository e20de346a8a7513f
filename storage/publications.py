"""Published results: the figures a reporter chose to make public, frozen when published.

A publication is a form, a period and a target: a unit (NULL: the whole province) as one figure,
or each unit of a level inside it. Its numbers are a snapshot (aggregate.published): submissions
that arrive late, edits and reviews change the dashboard but never a published number until
someone publishes again, which replaces the live publication of the same target. Withdrawing
keeps the row, so the audit log and the history can say what the public saw and when.
"""
from __future__ import annotations

import json

from . import audit
from .browse import SUBTREE
from .clock import now_iso
from .db import write_transaction

_COLUMNS = """p.id, p.form_id, p.period, p.unit_code, p.level, p.min_n, p.snapshot_json,
              p.published_at, p.published_by, p.withdrawn_at, p.withdrawn_by, f.title AS form_title"""


def _decode(row: dict) -> dict:
    row = dict(row)
    row["snapshot"] = json.loads(row.pop("snapshot_json"))
    return row


def publish(db, *, form_id: str, period: str, unit_code: str | None, level: str | None,
            min_n: int, snapshot: dict, actor: str | None) -> int:
    """Store a new live publication, withdrawing the one it replaces; returns its id."""
    stamp = now_iso()
    with write_transaction(db):
        replaced = db.execute(
            """SELECT id FROM publications WHERE form_id = ? AND period = ? AND unit_code IS ?
               AND level IS ? AND withdrawn_at IS NULL""", [form_id, period, unit_code, level]).fetchone()
        if replaced:
            db.execute("UPDATE publications SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ?",
                       [stamp, actor, replaced[0]])
        cursor = db.execute(
            """INSERT INTO publications (form_id, period, unit_code, level, min_n, snapshot_json,
                 published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [form_id, period, unit_code, level, min_n, json.dumps(snapshot, ensure_ascii=False), stamp, actor])
        audit.record(db, actor, "result.publish", form_id, period=period, unit=unit_code, level=level,
                     publication_id=cursor.lastrowid, replaced=replaced[0] if replaced else None,
                     cells=len(snapshot.get("cells", [])))
        return cursor.lastrowid


def withdraw(db, publication_id: int, actor: str | None) -> bool:
    """Take a live publication off the public page; False when it is not live."""
    with write_transaction(db):
        row = db.execute("SELECT form_id, period, unit_code, level FROM publications "
                         "WHERE id = ? AND withdrawn_at IS NULL", [publication_id]).fetchone()
        if row is None:
            return False
        db.execute("UPDATE publications SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ?",
                   [now_iso(), actor, publication_id])
        audit.record(db, actor, "result.withdraw", row[0], period=row[1], unit=row[2], level=row[3],
                     publication_id=publication_id)
        return True


def get_live(db, publication_id: int, scope: str | None = None) -> dict | None:
    """A live publication whose target lies in the scope (a province-wide one needs scope None)."""
    where, params = ["p.id = ?", "p.withdrawn_at IS NULL"], [publication_id]
    if scope is not None:
        where.append(f"p.unit_code IN {SUBTREE}")
        params.append(scope)
    rows = list(db.query(f"SELECT {_COLUMNS} FROM publications p JOIN forms f ON f.form_id = p.form_id "
                         f"WHERE {' AND '.join(where)}", params))
    return _decode(rows[0]) if rows else None


def live(db, form_id: str | None = None, *, scope: str | None = None, period: str | None = None) -> list[dict]:
    """Live publications, newest period first; `scope` keeps those whose target is in a subtree."""
    where, params = ["p.withdrawn_at IS NULL"], []
    if form_id is not None:
        where.append("p.form_id = ?")
        params.append(form_id)
    if period is not None:
        where.append("p.period = ?")
        params.append(period)
    if scope is not None:
        where.append(f"p.unit_code IN {SUBTREE}")
        params.append(scope)
    rows = db.query(
        f"""SELECT {_COLUMNS} FROM publications p JOIN forms f ON f.form_id = p.form_id
            WHERE {' AND '.join(where)}
            ORDER BY p.form_id, p.period DESC, p.unit_code IS NOT NULL, p.unit_code, p.level IS NOT NULL,
                     p.level, p.id""", params)
    return [_decode(r) for r in rows]


def published_forms(db) -> list[dict]:
    """Forms with at least one live publication, with the periods published."""
    rows = db.query(
        """SELECT p.form_id, f.title, group_concat(DISTINCT p.period) AS periods, count(*) AS publications,
                  max(p.published_at) AS last_published
           FROM publications p JOIN forms f ON f.form_id = p.form_id
           WHERE p.withdrawn_at IS NULL GROUP BY p.form_id ORDER BY f.title""")
    return [{**r, "periods": r["periods"].split(",")} for r in rows]
