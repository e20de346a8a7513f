"""Submissions: the raw XML kept byte-exact, the flattened answers, attachments and edit chains."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import group_commit, schema
from .db import first_row, write_transaction


@dataclass
class RepeatRow:
    key: int                 # position in the submission's list of repeat rows
    parent_key: int | None   # key of the enclosing repeat row, None at the top level
    repeat: str              # repeat path
    index: int               # 1-based position among its siblings
    values: dict[str, str]


@dataclass
class NewSubmission:
    instance_id: str
    form_version_id: int
    form_id: str
    version: str
    xml: bytes
    xml_sha256: str
    received_at: str
    started_at: str
    channel: str
    unit_code: str | None = None
    submitter_id: int | None = None
    device_id: str | None = None
    encrypted: bool = False
    attachments_expected: int = 0
    deprecated_id: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    repeat_rows: list[RepeatRow] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    # (name, sha256, size, content_type); the bytes are already durable in the blob store
    attachments: list[tuple[str, str, int, str | None]] = field(default_factory=list)


# Outcomes of store(); the receiver maps each to an OpenRosa answer.
CREATED, RESENT, CONFLICT, EDIT_UNKNOWN, EDIT_REPLACED = (
    "created", "resent", "conflict", "edit_unknown", "edit_replaced")


def store(db, sub: NewSubmission, may_edit: Callable[[dict], str | None] | None = None,
          then: Callable[[object, str, int, list[str]], None] | None = None) -> tuple[str, int | None]:
    """Store a submission atomically; returns (outcome, submission id).

    Every check that depends on what is stored runs inside the same write transaction as the
    insert, so two workers receiving the same resend at once cannot both create a record, and a
    review or deletion cannot slip in between the checks of an edit and its insert. `may_edit`
    gets the row an edit replaces (owner, unit, channel, device, review state, deletion) and
    returns the outcome that refuses it, or None. `then(db, outcome, id, names)` runs in the same
    transaction once a submission is created or resent (`names`: the attachments this call added),
    so what the caller records about it (an audit entry) commits with it or not at all.

    A process's concurrent submissions share their transaction and its commit (group_commit), each
    under its own savepoint; store() returns only once that commit is durable.
    """
    return group_commit.run(db, lambda writer: _store(writer, sub, may_edit, then))


def _store(db, sub: NewSubmission, may_edit, then) -> tuple[str, int | None]:
    row = db.execute("SELECT id, xml_sha256 FROM submissions WHERE instance_id = ?",
                     [sub.instance_id]).fetchone()
    if row is not None:
        if row[1] != sub.xml_sha256:
            return CONFLICT, row[0]
        added = _add_attachments(db, row[0], sub)
        if then is not None:
            then(db, RESENT, row[0], added)
        return RESENT, row[0]
    root_id = None
    if sub.deprecated_id is not None:
        old = first_row(
            db, """SELECT id, root_id, current, form_id, submitter_id, device_id, channel, unit_code,
                          review_state, deleted_at FROM submissions WHERE instance_id = ?""",
            [sub.deprecated_id])
        if old is None or old["form_id"] != sub.form_id:
            return EDIT_UNKNOWN, None
        refusal = may_edit(old) if may_edit is not None else None
        if refusal is not None:
            return refusal, old["id"]
        if old["deleted_at"] is not None:
            return EDIT_UNKNOWN, None
        if not old["current"]:
            return EDIT_REPLACED, old["id"]
        root_id = old["root_id"]
        db.execute("UPDATE submissions SET current = 0 WHERE id = ?", [old["id"]])
    cursor = db.execute(
        """INSERT INTO submissions (instance_id, form_version_id, form_id, version, xml_sha256,
             received_at, started_at, submitter_id, device_id, channel, unit_code, encrypted,
             attachments_expected, root_id, deprecated_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)""",
        [sub.instance_id, sub.form_version_id, sub.form_id, sub.version, sub.xml_sha256,
         sub.received_at, sub.started_at, sub.submitter_id, sub.device_id, sub.channel,
         sub.unit_code, int(sub.encrypted), sub.attachments_expected, sub.deprecated_id])
    sid = cursor.lastrowid
    db.execute("UPDATE submissions SET root_id = ? WHERE id = ?", [root_id or sid, sid])
    db.execute("INSERT INTO submission_xml (submission_id, xml) VALUES (?, ?)", [sid, sub.xml])
    _insert_answers(db, sid, sub)
    for path, value in sub.identifiers.items():
        db.execute("INSERT INTO identifiers (submission_id, path, value) VALUES (?, ?, ?)",
                   [sid, path, value])
    added = _add_attachments(db, sid, sub)
    if then is not None:
        then(db, CREATED, sid, added)
    return CREATED, sid


def store_many(db, subs: list[NewSubmission]) -> list[int]:
    """Store a batch of new submissions in one write transaction; returns their ids in order.

    For bulk loading (imports, benchmarks): the rows are exactly those store() would write for
    each submission in turn, but every table is filled with one executemany. New submissions
    only: an edit (deprecated_id set) is refused with ValueError before anything is written, and
    an instance_id already stored or repeated in the batch fails the whole batch with
    sqlite3.IntegrityError, leaving the database unchanged.
    """
    if any(sub.deprecated_id is not None for sub in subs):
        raise ValueError("store_many stores new submissions only; store edits with store()")
    if not subs:
        return []
    conn = db.conn
    with write_transaction(db):
        # the ids store() would get: INTEGER PRIMARY KEY takes max(id) + 1
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM submissions").fetchone()[0]
        ids = list(range(first, first + len(subs)))
        conn.executemany(
            """INSERT INTO submissions (id, instance_id, form_version_id, form_id, version, xml_sha256,
                 received_at, started_at, submitter_id, device_id, channel, unit_code, encrypted,
                 attachments_expected, root_id, deprecated_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)""",
            [(sid, s.instance_id, s.form_version_id, s.form_id, s.version, s.xml_sha256,
              s.received_at, s.started_at, s.submitter_id, s.device_id, s.channel, s.unit_code,
              int(s.encrypted), s.attachments_expected, sid) for sid, s in zip(ids, subs)])
        conn.executemany("INSERT INTO submission_xml (submission_id, xml) VALUES (?, ?)",
                         [(sid, s.xml) for sid, s in zip(ids, subs)])
        # answer rows, grouped by table and column list so each group is one executemany
        groups: dict[tuple[str, tuple[str, ...]], list[tuple]] = {}
        next_row_id: dict[str, int] = {}

        def add(table: str, row: dict) -> None:
            groups.setdefault((table, tuple(row)), []).append(tuple(row.values()))

        for sid, sub in zip(ids, subs):
            add(schema.answer_table(sub.form_id), {"_submission_id": sid, **sub.values})
            row_ids: dict[int, int] = {}
            for rr in sub.repeat_rows:
                table = schema.answer_table(sub.form_id, rr.repeat)
                if table not in next_row_id:
                    next_row_id[table] = conn.execute(
                        f"SELECT coalesce(max(_row_id), 0) + 1 FROM [{table}]").fetchone()[0]
                row_id = next_row_id[table]
                next_row_id[table] += 1
                row_ids[rr.key] = row_id
                add(table, {"_row_id": row_id, "_submission_id": sid, "_index": rr.index,
                            "_parent_row_id": row_ids.get(rr.parent_key) if rr.parent_key is not None else None,
                            **rr.values})
        for (table, columns), rows in groups.items():
            names = ", ".join(f"[{c}]" for c in columns)
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO [{table}] ({names}) VALUES ({marks})", rows)
        conn.executemany("INSERT INTO identifiers (submission_id, path, value) VALUES (?, ?, ?)",
                         [(sid, path, value) for sid, s in zip(ids, subs)
                          for path, value in s.identifiers.items()])
        conn.executemany(
            """INSERT OR IGNORE INTO attachments (submission_id, name, sha256, size, content_type, received_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(sid, name, sha, size, content_type, s.received_at) for sid, s in zip(ids, subs)
             for name, sha, size, content_type in s.attachments])
    return ids


def _insert_answers(db, sid: int, sub: NewSubmission) -> None:
    _insert_row(db, schema.answer_table(sub.form_id), {"_submission_id": sid, **sub.values})
    row_ids: dict[int, int] = {}
    for rr in sub.repeat_rows:
        row = {"_submission_id": sid, "_index": rr.index,
               "_parent_row_id": row_ids.get(rr.parent_key) if rr.parent_key is not None else None,
               **rr.values}
        row_ids[rr.key] = _insert_row(db, schema.answer_table(sub.form_id, rr.repeat), row)


def _insert_row(db, table: str, row: dict) -> int:
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" for _ in row)
    return db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values())).lastrowid


def _add_attachments(db, sid: int, sub: NewSubmission) -> list[str]:
    """Adds the attachments not received before; returns their names."""
    added = []
    for name, sha, size, content_type in sub.attachments:
        cursor = db.execute(
            """INSERT OR IGNORE INTO attachments (submission_id, name, sha256, size, content_type, received_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [sid, name, sha, size, content_type, sub.received_at])
        if cursor.rowcount:
            added.append(name)
    return added


def get_submission(db, instance_id: str) -> dict | None:
    return first_row(db, "SELECT * FROM submissions WHERE instance_id = ?", [instance_id])


def get_xml(db, submission_id: int) -> bytes | None:
    row = db.execute("SELECT xml FROM submission_xml WHERE submission_id = ?", [submission_id]).fetchone()
    return row[0] if row else None


def list_attachments(db, submission_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM attachments WHERE submission_id = ? ORDER BY name", [submission_id]))


def referenced_blobs(db) -> set[str]:
    return {r[0] for r in db.execute("SELECT DISTINCT sha256 FROM attachments")}


def count_submissions(db, form_id: str | None = None) -> int:
    if form_id is None:
        return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    return db.execute("SELECT count(*) FROM submissions WHERE form_id = ?", [form_id]).fetchone()[0]


def answers(db, form_id: str, submission_id: int) -> dict | None:
    rows = list(db.query(f"SELECT * FROM [{schema.answer_table(form_id)}] WHERE _submission_id = ?",
                         [submission_id]))
    return rows[0] if rows else None


def repeat_rows(db, form_id: str, repeat: str, submission_id: int) -> list[dict]:
    return list(db.query(
        f"SELECT * FROM [{schema.answer_table(form_id, repeat)}] WHERE _submission_id = ? ORDER BY _row_id",
        [submission_id]))


def identifiers(db, submission_id: int) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute(
        "SELECT path, value FROM identifiers WHERE submission_id = ?", [submission_id])}
