"""Reads behind the exports (exports/): every submission row, repeat row, identifier and
attachment of a form, streamed with a cursor in a fixed order, never fetched whole.

Each function takes an `ExportSelection` (which submissions) and yields plain tuples. Only the
current version of an edit chain is exported, and never a deleted submission. Rows come in
submission id order (repeat rows in (submission id, row id) order), so readers of different
tables can be walked side by side in constant memory: that is how identifiers are joined to the
rows they belong to and how a repeat row finds its parent's position.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from vocabulary import SQL_LOCAL_SHIFT

from .schema import answer_table

# The metadata read with every top-level row, in this order (see root_rows).
ROOT_META = ("submission_id", "instance_id", "received_at", "started_at", "submitter_id",
             "submitter", "device_id", "channel", "unit_code", "unit_name_vi", "unit_name_en",
             "review_state", "version", "attachments_expected", "attachments_present", "edits",
             "encrypted")
# ... and with every repeat row, followed by the _index of each enclosing repeat, outermost first.
REPEAT_META = ("submission_id", "instance_id", "row_id", "parent_row_id", "index")


@dataclass(frozen=True)
class ExportSelection:
    """Which submissions of one form: the current, not deleted ones, optionally narrowed.

    unit_codes None keeps every submission, with or without a unit; a tuple keeps those
    recorded against one of the codes. started_* are UTC texts compared with started_at.
    """
    form_id: str
    unit_codes: tuple[str, ...] | None = None
    started_from: str | None = None      # inclusive
    started_before: str | None = None    # exclusive
    review_states: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _where(sel: ExportSelection) -> tuple[str, list]:
    where = ["s.form_id = ?", "s.current = 1", "s.deleted_at IS NULL"]
    params: list = [sel.form_id]
    if sel.unit_codes is not None:
        where.append("s.unit_code IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(sel.unit_codes)))
    if sel.started_from is not None:
        where.append("s.started_at >= ?")
        params.append(sel.started_from)
    if sel.started_before is not None:
        where.append("s.started_at < ?")
        params.append(sel.started_before)
    if sel.review_states:
        where.append("s.review_state IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(sel.review_states)))
    if sel.versions:
        where.append("s.version IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(sel.versions)))
    return " AND ".join(where), params


def stored_columns(db, form_id: str, repeat: str | None = None) -> set[str] | None:
    """The columns of an answer table, None when the table does not exist."""
    table = db[answer_table(form_id, repeat)]
    return set(table.columns_dict) if table.exists() else None


def count_rows(db, sel: ExportSelection, repeat: str | None = None) -> int:
    """How many rows root_rows / repeat_rows will yield (for a progress bar)."""
    where, params = _where(sel)
    if stored_columns(db, sel.form_id, repeat) is None:
        return 0
    table = _ident(answer_table(sel.form_id, repeat))
    key = "_submission_id"
    return db.execute(f"SELECT count(*) FROM {table} d CROSS JOIN submissions s ON s.id = d.{key} "
                      f"WHERE {where}", params).fetchone()[0]


def filled_columns(db, sel: ExportSelection, repeat: str | None, columns: list[str]) -> set[str]:
    """Which of `columns` hold a non-empty value in some selected row: a note is left out of a
    workbook only when no answer in it says anything."""
    present = stored_columns(db, sel.form_id, repeat)
    if not present:
        return set()
    where, params = _where(sel)
    table = _ident(answer_table(sel.form_id, repeat))
    found = set()
    for column in columns:
        if column not in present:
            continue
        col = f"d.{_ident(column)}"
        if db.execute(f"SELECT EXISTS (SELECT 1 FROM {table} d CROSS JOIN submissions s ON s.id = d._submission_id "
                      f"WHERE {where} AND {col} IS NOT NULL AND {col} <> '')", params).fetchone()[0]:
            found.add(column)
    return found


def root_rows(db, sel: ExportSelection, columns: list[str]):
    """One tuple per submission: ROOT_META, then the value of each of `columns` of the answer
    table (None for a column the table does not have), in submission id order."""
    present = stored_columns(db, sel.form_id)
    if present is None:
        return iter(())
    picked = [f"d.{_ident(c)}" if c in present else "NULL" for c in columns]
    where, params = _where(sel)
    # the answer table drives the scan: its rowid is the submission id, so rows come in id
    # order without a sort, each submission found by its primary key
    sql = f"""SELECT s.id, s.instance_id, s.received_at, s.started_at, s.submitter_id, u.name,
                     s.device_id, s.channel, s.unit_code,
                     (SELECT un.name_vi FROM unit_versions un WHERE un.id = ({UNIT_VERSION_AT_INTERVIEW})),
                     (SELECT un.name_en FROM unit_versions un WHERE un.id = ({UNIT_VERSION_AT_INTERVIEW})),
                     s.review_state,
                     s.version, s.attachments_expected,
                     (SELECT count(*) FROM attachments a WHERE a.submission_id = s.id),
                     CASE WHEN s.root_id = s.id THEN 0
                          ELSE (SELECT count(*) FROM submissions e WHERE e.root_id = s.root_id) - 1 END,
                     s.encrypted{''.join(', ' + p for p in picked)}
              FROM {_ident(answer_table(sel.form_id))} d CROSS JOIN submissions s ON s.id = d._submission_id
              LEFT JOIN users u ON u.id = s.submitter_id
              WHERE {where} ORDER BY d._submission_id"""
    return db.execute(sql, params)


# The unit a submission was recorded for: its code's version in force on the interview's local
# day (storage.units.version_at, in SQL), so a 2024 answer of 474 is named Thành phố Huế even
# after 474 came to mean Quận Thuận Hóa.
UNIT_VERSION_AT_INTERVIEW = f"""coalesce(
    (SELECT v.id FROM unit_versions v WHERE v.code = s.unit_code
       AND coalesce(v.valid_from, '') <= date(s.started_at, '{SQL_LOCAL_SHIFT}')
     ORDER BY coalesce(v.valid_from, '') DESC, v.id DESC LIMIT 1),
    (SELECT v.id FROM unit_versions v WHERE v.code = s.unit_code
     ORDER BY coalesce(v.valid_from, ''), v.id LIMIT 1))"""


def repeat_rows(db, sel: ExportSelection, chain: list[str], columns: list[str]):
    """One tuple per row of the repeat chain[-1]: REPEAT_META, the _index of each enclosing
    repeat (chain[0] outermost .. chain[-2]), then the values of `columns`; in (submission id,
    row id) order, which is document order within a submission."""
    repeat = chain[-1]
    present = stored_columns(db, sel.form_id, repeat)
    if present is None:
        return iter(())
    picked = [f"r.{_ident(c)}" if c in present else "NULL" for c in columns]
    joins, ancestors = [], []
    child = "r"
    for depth, parent in enumerate(reversed(chain[:-1]), start=1):
        alias = f"p{depth}"
        joins.append(f"LEFT JOIN {_ident(answer_table(sel.form_id, parent))} {alias} "
                     f"ON {alias}._row_id = {child}._parent_row_id")
        ancestors.insert(0, f"{alias}._index")
        child = alias
    where, params = _where(sel)
    sql = f"""SELECT s.id, s.instance_id, r._row_id, r._parent_row_id, r._index{''.join(', ' + a for a in ancestors)}
                     {''.join(', ' + p for p in picked)}
              FROM {_ident(answer_table(sel.form_id, repeat))} r CROSS JOIN submissions s ON s.id = r._submission_id
              {' '.join(joins)}
              WHERE {where} ORDER BY r._submission_id, r._row_id"""
    return db.execute(sql, params)


def row_keys(db, sel: ExportSelection, repeat: str | None = None):
    """The (submission id, row id) of every row root_rows / repeat_rows yields, in the same
    order (row id = submission id at the top level): to find a row's position by walking."""
    if stored_columns(db, sel.form_id, repeat) is None:
        return iter(())
    where, params = _where(sel)
    table = _ident(answer_table(sel.form_id, repeat))
    if repeat is None:
        return db.execute(f"SELECT s.id, s.id FROM {table} d CROSS JOIN submissions s "
                          f"ON s.id = d._submission_id WHERE {where} ORDER BY d._submission_id", params)
    return db.execute(f"SELECT s.id, r._row_id FROM {table} r CROSS JOIN submissions s "
                      f"ON s.id = r._submission_id WHERE {where} ORDER BY r._submission_id, r._row_id", params)


def position_of(db, sel: ExportSelection, repeat: str | None, submission_id: int, row_id: int) -> int | None:
    """1-based position of one row among the rows the selection exports from its table."""
    where, params = _where(sel)
    table = _ident(answer_table(sel.form_id, repeat))
    if repeat is None:
        found = db.execute(f"SELECT 1 FROM {table} d CROSS JOIN submissions s ON s.id = d._submission_id "
                           f"WHERE {where} AND s.id = ?", params + [submission_id]).fetchone()
        if found is None:
            return None
        return db.execute(f"SELECT count(*) FROM {table} d CROSS JOIN submissions s ON s.id = d._submission_id "
                          f"WHERE {where} AND s.id <= ?", params + [submission_id]).fetchone()[0]
    found = db.execute(f"SELECT 1 FROM {table} r CROSS JOIN submissions s ON s.id = r._submission_id "
                       f"WHERE {where} AND r._row_id = ? AND s.id = ?", params + [row_id, submission_id]).fetchone()
    if found is None:
        return None
    return db.execute(
        f"SELECT count(*) FROM {table} r CROSS JOIN submissions s ON s.id = r._submission_id "
        f"WHERE {where} AND (s.id < ? OR (s.id = ? AND r._row_id <= ?))",
        params + [submission_id, submission_id, row_id]).fetchone()[0]


def identifier_rows(db, sel: ExportSelection):
    """(submission id, path, value) of every identifier answer of the selection, by submission
    id. Paths are positional inside repeats ("people[2]/phone"), as the receiver stored them."""
    where, params = _where(sel)
    return db.execute(
        f"""SELECT i.submission_id, i.path, i.value FROM identifiers i
            JOIN submissions s ON s.id = i.submission_id
            WHERE {where} ORDER BY i.submission_id, i.path""", params)


def attachment_rows(db, sel: ExportSelection):
    """(submission id, instance id, name, sha256, size) of the selection's attachments, ordered
    by name then content, so files sharing a name come together."""
    where, params = _where(sel)
    return db.execute(
        f"""SELECT a.submission_id, s.instance_id, a.name, a.sha256, a.size FROM attachments a
            JOIN submissions s ON s.id = a.submission_id
            WHERE {where} ORDER BY a.name, a.sha256, a.submission_id""", params)


def database_path(db) -> str | None:
    """The file behind a connection (None in memory): report sections computed in parallel
    open their own read connections to it."""
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or None
    return None
