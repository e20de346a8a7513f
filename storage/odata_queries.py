"""Reads behind the OData feed (server/central): one page of a form's submissions or of a
repeat's rows, its count, and the repeat rows of a set of submissions for $expand.

Each read is scoped in its WHERE clause (the account's unit subtree, as storage/browse.py does)
and narrowed by a condition tree that server/central/odata_filter.py builds from $filter;
`render` turns that tree into SQL with every value a parameter. Only current, undeleted versions
are read. A page of submissions is read newest first by walking the form's answer table backwards
on its primary key, so the first page costs the same at a thousand submissions or a million.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .browse import SUBTREE
from .export_queries import _ident
from .schema import answer_table

# The submission's metadata read with every top-level row, in this order.
ROOT_META = ("submission_id", "root_instance_id", "instance_id", "submission_date", "updated_at",
             "submitter_id", "submitter_name", "attachments_present", "attachments_expected",
             "review_state", "device_id", "edits", "form_version", "unit", "unit_name", "channel", "encrypted")
# ... and with every repeat row, followed by the _index of each enclosing repeat, outermost first.
REPEAT_META = ("row_id", "submission_id", "parent_row_id", "index", "root_instance_id")

# __system properties that $filter and $orderby may name, as SQL over the aliases of the reads
SYSTEM = {
    "submissionDate": "r.received_at",
    "updatedAt": "(CASE WHEN s.id = s.root_id THEN NULL ELSE s.received_at END)",
    "submitterId": "s.submitter_id",
    "submitterName": "(SELECT name FROM users WHERE id = s.submitter_id)",
    "reviewState": "NULLIF(s.review_state, 'received')",
    "deviceId": "s.device_id",
    "formVersion": "s.version",
    "unit": "s.unit_code",
    "channel": "s.channel",
    "__id": "r.instance_id",
}
_CASTS = {"int": "CAST({} AS INTEGER)", "real": "CAST({} AS REAL)", "julian": "julianday({})",
          "text": "{}", "date": "{}", "time": "{}"}
_OPS = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_PARTS = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}


@dataclass(frozen=True)
class Rows:
    """Which rows of one table of a form, in which order, how many."""
    form_id: str
    repeat: str | None = None             # None: the submissions themselves
    scope: str | None = None              # unit code whose subtree is visible; None: everything
    condition: tuple | None = None        # a tree of odata_filter (see render)
    order: tuple[tuple[tuple, bool], ...] = ()   # ((term, descending), ...); () newest first
    before_id: int | None = None          # keyset: submissions older than this id
    offset: int = 0
    limit: int | None = None


def _raw(term: tuple) -> str:
    kind, key = term[0], term[1]
    if kind == "sys":
        return SYSTEM[key]
    return f"d.{_ident(key)}"


def _term(term: tuple, params: list) -> str:
    if term[0] == "part":
        _, part, inner = term
        return f"CAST(strftime('{_PARTS[part]}', {_raw(inner)}) AS INTEGER)"
    return _CASTS[term[2]].format(_raw(term))


def _value(term: tuple, value, params: list) -> str:
    params.append(value)
    return "julianday(?)" if term[0] != "part" and term[2] == "julian" else "?"


def render(node: tuple, params: list) -> str:
    """SQL for a condition tree; its values are appended to `params`.

    ("and"|"or", a, b) · ("not", a) · ("cmp", op, term, value) · ("in", term, [values]);
    term: ("sys", name, cast) · ("field", column, cast) · ("part", "year"|…, term).
    """
    kind = node[0]
    if kind in ("and", "or"):
        return f"({render(node[1], params)} {kind.upper()} {render(node[2], params)})"
    if kind == "not":
        return f"(NOT {render(node[1], params)})"
    if kind == "in":
        _, term, values = node
        params.append(json.dumps(values))
        return f"({_term(term, params)} IN (SELECT value FROM json_each(?)))"
    _, op, term, value = node
    sql = _term(term, params)
    if value is None:
        empty = f" OR {_raw(term)} = ''" if term[0] == "field" else ""
        return f"({sql} IS NULL{empty})" if op == "eq" else f"({sql} IS NOT NULL AND {_raw(term)} != '')"
    return f"({sql} {_OPS[op]} {_value(term, value, params)})"


def _where(rows: Rows, params: list) -> list[str]:
    where = ["s.form_id = ?", "s.current = 1", "s.deleted_at IS NULL"]
    params.append(rows.form_id)
    if rows.scope is not None:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(rows.scope)
    if rows.condition is not None:
        where.append(render(rows.condition, params))
    return where


def table_exists(db, form_id: str, repeat: str | None = None) -> bool:
    return db[answer_table(form_id, repeat)].exists()


def _columns(db, form_id: str, repeat: str | None, columns: list[str]) -> list[str]:
    present = set(db[answer_table(form_id, repeat)].columns_dict)
    return [f"d.{_ident(c)}" if c in present else "NULL" for c in columns]


_ROOT_SELECT = """d._submission_id, r.instance_id, s.instance_id, r.received_at,
    CASE WHEN s.id = s.root_id THEN NULL ELSE s.received_at END, s.submitter_id, u.name,
    (SELECT count(*) FROM attachments a WHERE a.submission_id = s.id), s.attachments_expected,
    s.review_state, s.device_id, (SELECT count(*) FROM submissions e WHERE e.root_id = s.root_id) - 1,
    s.version, s.unit_code, un.name_vi, s.channel, s.encrypted"""


def _from(rows: Rows, chain: list[str]) -> str:
    # the answer table drives the scan: only this form's rows are walked, by primary key
    sql = (f"FROM {_ident(answer_table(rows.form_id, rows.repeat))} d "
           f"CROSS JOIN submissions s ON s.id = d._submission_id JOIN submissions r ON r.id = s.root_id")
    child = "d"
    for depth, parent in enumerate(reversed(chain[:-1]), start=1):
        sql += (f" LEFT JOIN {_ident(answer_table(rows.form_id, parent))} p{depth}"
                f" ON p{depth}._row_id = {child}._parent_row_id")
        child = f"p{depth}"
    return sql


def _order(rows: Rows, params: list) -> str:
    if not rows.order:
        return "d._submission_id DESC" + (", d._row_id" if rows.repeat else "")
    parts = [f"{_term(term, params)} {'DESC' if desc else 'ASC'}" for term, desc in rows.order]
    return ", ".join(parts + ["d._submission_id DESC"] + (["d._row_id"] if rows.repeat else []))


def count(db, rows: Rows, chain: list[str] = ()) -> int:
    if not table_exists(db, rows.form_id, rows.repeat):
        return 0
    params: list = []
    where = _where(rows, params)
    return db.execute(f"SELECT count(*) {_from(rows, list(chain))} WHERE {' AND '.join(where)}",
                      params).fetchone()[0]


def root_page(db, rows: Rows, columns: list[str]):
    """A cursor over ROOT_META + `columns` (None where the table has no such column)."""
    if not table_exists(db, rows.form_id):
        return iter(())
    params: list = []
    where = _where(rows, params)
    if rows.before_id is not None:
        where.append("d._submission_id < ?")
        params.append(rows.before_id)
    picked = "".join(", " + c for c in _columns(db, rows.form_id, None, columns))
    order = _order(rows, params)
    sql = (f"SELECT {_ROOT_SELECT}{picked} {_from(rows, [])} LEFT JOIN users u ON u.id = s.submitter_id "
           f"LEFT JOIN units un ON un.code = s.unit_code WHERE {' AND '.join(where)} ORDER BY {order}")
    sql, params = _limit(sql, params, rows)
    return db.execute(sql, params)


def repeat_page(db, rows: Rows, chain: list[str], columns: list[str], submission_ids: list[int] | None = None):
    """A cursor over REPEAT_META, the _index of each enclosing repeat, then `columns`, for the
    rows of the repeat chain[-1]; `submission_ids`: only those submissions' rows, in
    (submission, row) order, for $expand."""
    if not table_exists(db, rows.form_id, rows.repeat):
        return iter(())
    params: list = []
    where = _where(rows, params)
    if submission_ids is not None:
        where.append("d._submission_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(submission_ids))
    ancestors = "".join(f", p{depth}._index" for depth in range(len(chain) - 1, 0, -1))
    picked = "".join(", " + c for c in _columns(db, rows.form_id, rows.repeat, columns))
    order = "d._submission_id, d._row_id" if submission_ids is not None else _order(rows, params)
    sql = (f"SELECT d._row_id, d._submission_id, d._parent_row_id, d._index, r.instance_id{ancestors}{picked} "
           f"{_from(rows, chain)} WHERE {' AND '.join(where)} ORDER BY {order}")
    sql, params = _limit(sql, params, rows)
    return db.execute(sql, params)


def _limit(sql: str, params: list, rows: Rows) -> tuple[str, list]:
    if rows.limit is not None or rows.offset:
        sql += " LIMIT ? OFFSET ?"
        params = params + [rows.limit if rows.limit is not None else -1, rows.offset]
    return sql, params


def identifiers_of(db, submission_ids: list[int]) -> dict[int, dict[str, str]]:
    """The identifier answers of some submissions (positional paths inside repeats), by id."""
    found: dict[int, dict[str, str]] = {}
    for sid, path, value in db.execute(
            "SELECT submission_id, path, value FROM identifiers WHERE submission_id IN "
            "(SELECT value FROM json_each(?))", [json.dumps(submission_ids)]):
        found.setdefault(sid, {})[path] = value
    return found
