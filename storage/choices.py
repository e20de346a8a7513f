"""Breakdown values: each scored submission's procedure field and select_one answers, and their
rollup, so that a breakdown by one of them reads a few thousand summed rows instead of every
submission (schema step 13).

`submission_choices` holds a submission's non-empty value of each dimension recorded for its
version (and "dissatisfied" = "1" when it holds an answer 1 or 2 on a criterion);
`choice_rollup` holds storage.scores.MEASURES summed by dimension, value, form version, local
quarter and unit over the submissions that count. `record` adds a range of scored
submissions in the transaction that scores them; the schema's triggers move a submission out
and back in when it is edited, rejected, approved again or deleted, exactly as for score_rollup.
A submission with no value of a dimension has no row: its group (the "unknown" cell) is the
part of score_rollup the dimension's rows leave, which `choice_sums` computes.
"""
from __future__ import annotations

import json

from .schema import answer_table
from .scores import _COUNTED, MEASURES, Selection, ident, rollup_sums

PROCEDURE_FIELD = "procedure_field"
DISSATISFIED = "dissatisfied"
# the dimensions choice_sums can group by besides the choice: a local month is read as the
# first month of its quarter
KEYS = ("form_version_id", "unit_code", "local_month")
_QUARTER = "(m.local_month / 100 * 10 + (m.local_month % 100 + 2) / 3)"


def through(db) -> int:
    """The highest submission id whose values are recorded (the choices' watermark)."""
    return db.execute("SELECT coalesce((SELECT through_id FROM choice_progress WHERE id = 1), 0)").fetchone()[0]


def dim_ids(db, dims: list[str]) -> dict[str, int]:
    """The number of each dimension, numbering the new ones (inside a write transaction)."""
    db.conn.executemany("INSERT OR IGNORE INTO choice_dims (dim) VALUES (?)", [(d,) for d in dims])
    return known_dims(db, dims)


def known_dims(db, dims: list[str]) -> dict[str, int]:
    """The numbers of the dimensions that have one (never writes)."""
    rows = db.execute("SELECT dim, id FROM choice_dims WHERE dim IN (SELECT value FROM json_each(?))",
                      [json.dumps(list(dims))]).fetchall()
    return dict(rows)


def record(db, after_id: int, through_id: int, answers: dict[str, dict[str, tuple[int, ...]]]) -> None:
    """Record the values of the scored submissions with after_id < id <= through_id and add
    those that count to the rollup; `answers` is {form_id: {path: the version ids recording
    it}}. Call inside a write transaction, with after_id the watermark it read."""
    ids = dim_ids(db, [PROCEDURE_FIELD, DISSATISFIED] + sorted({"answer:" + p for paths in answers.values() for p in paths}))
    db.execute(
        """INSERT INTO submission_choices (submission_id, dim_id, value)
           SELECT submission_id, ?, procedure_field FROM submission_scores
           WHERE submission_id > ? AND submission_id <= ? AND procedure_field <> ''""",
        [ids[PROCEDURE_FIELD], after_id, through_id])
    db.execute(
        """INSERT INTO submission_choices (submission_id, dim_id, value)
           SELECT submission_id, ?, '1' FROM submission_scores
           WHERE submission_id > ? AND submission_id <= ?
             AND procedure_low + staff_low + result_low > 0""",
        [ids[DISSATISFIED], after_id, through_id])
    for form_id, paths in answers.items():
        table = db[answer_table(form_id)]
        present = set(table.columns_dict) if table.exists() else set()
        for path, version_ids in sorted(paths.items()):
            if path not in present:
                continue
            db.execute(
                f"""INSERT INTO submission_choices (submission_id, dim_id, value)
                    SELECT s.id, ?, d.{ident(path)}
                    FROM submissions s JOIN {ident(answer_table(form_id))} d ON d._submission_id = s.id
                    WHERE s.form_id = ? AND s.id > ? AND s.id <= ?
                      AND s.form_version_id IN (SELECT value FROM json_each(?))
                      AND d.{ident(path)} <> ''""",
                [ids["answer:" + path], form_id, after_id, through_id, json.dumps(list(version_ids))])
    _add_to_rollup(db, "c.submission_id > ? AND c.submission_id <= ?", [after_id, through_id])
    db.execute("""INSERT INTO choice_progress (id, through_id) VALUES (1, ?)
                  ON CONFLICT (id) DO UPDATE SET through_id = excluded.through_id""", [through_id])


def _add_to_rollup(db, where: str, params: list) -> None:
    keys = ("dim_id", "form_version_id", "local_quarter", "unit_code", "value")
    sums = ", ".join(f"sum(m.{name})" for name in MEASURES)
    updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in MEASURES)
    db.execute(
        f"""INSERT INTO choice_rollup ({', '.join(keys)}, {', '.join(MEASURES)})
            SELECT c.dim_id, s.form_version_id, {_QUARTER}, coalesce(s.unit_code, ''), c.value, {sums}
            FROM submission_choices c JOIN submissions s ON s.id = c.submission_id
                 JOIN score_measures m ON m.submission_id = c.submission_id
            WHERE {where} AND {_COUNTED}
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}""", params)


def rebuild_rollup(db) -> None:
    """Recompute the rollup from the recorded values (a repair; it is kept exact without this)."""
    db.execute("DELETE FROM choice_rollup")
    _add_to_rollup(db, "1", [])


def rollup_rows(db) -> list[tuple]:
    """The rollup's non-empty rows in key order, dimensions by name (for checks)."""
    return db.execute(
        f"""SELECT d.dim, r.form_version_id, r.local_quarter, r.unit_code, r.value,
                   {', '.join('r.' + m for m in MEASURES)}
            FROM choice_rollup r JOIN choice_dims d ON d.id = r.dim_id
            WHERE r.submissions <> 0 ORDER BY 1, 2, 3, 4, 5""").fetchall()


def _where(sel: Selection, dim_id: int, quarter_from: int | None, quarter_to: int | None):
    where, params = ["r.dim_id = ?", "r.form_version_id IN (SELECT value FROM json_each(?))"], \
        [dim_id, json.dumps(sel.version_ids)]
    if sel.channel is not None:
        raise ValueError("the choice rollup has no channel")
    if sel.unit_codes is not None:
        where.append("r.unit_code IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sel.unit_codes))
    if quarter_from is not None:
        where.append("r.local_quarter >= ?")
        params.append(quarter_from)
    if quarter_to is not None:
        where.append("r.local_quarter <= ?")
        params.append(quarter_to)
    return " AND ".join(where), params


def _first_month(quarter: int) -> int:
    return quarter // 10 * 100 + quarter % 10 * 3 - 2 if quarter else 0


def _quarter(month: int) -> int:
    return month // 100 * 10 + (month % 100 + 2) // 3 if month else 0


def count(db, sel: Selection, dim: str, quarter_from: int | None, quarter_to: int | None) -> int:
    """Counted submissions with a value of `dim` over whole local quarters."""
    dim_id = known_dims(db, [dim]).get(dim)
    if dim_id is None:
        return 0
    where, params = _where(sel, dim_id, quarter_from, quarter_to)
    return db.execute(f"SELECT coalesce(sum(r.submissions), 0) FROM choice_rollup r WHERE {where}",
                      params).fetchone()[0]


def choice_sums(db, sel: Selection, dims: tuple[str, ...], dim: str, quarter_from: int | None,
                quarter_to: int | None) -> list[tuple]:
    """Measures summed by `dims` (KEYS and the one choice dimension `dim`) over whole local
    quarters, as storage.scores.rollup_sums gives them: one row per group, the value of `dim`
    None for the submissions without one, a local month given as its quarter's first."""
    others = tuple(d for d in dims if d != dim)
    if any(d not in KEYS for d in others):
        raise ValueError(f"the choice rollup has no dimension among {others}")
    dim_id = known_dims(db, [dim]).get(dim)
    month = others.index("local_month") if "local_month" in others else None
    valued: list[tuple] = []
    if dim_id is not None:
        where, params = _where(sel, dim_id, quarter_from, quarter_to)
        keys = [("r.local_quarter" if d == "local_month" else f"r.{d}") for d in others] + ["r.value"]
        sums = ", ".join(f"sum(r.{name})" for name in MEASURES)
        valued = db.execute(
            f"""SELECT {', '.join(keys)}, {sums} FROM choice_rollup r WHERE {where}
                GROUP BY {', '.join(keys)} HAVING sum(r.submissions) > 0""", params).fetchall()
    width = len(others)

    def key_of(row, quarter_given: bool) -> tuple:
        key = list(row[:width])
        if month is not None:
            key[month] = _first_month(key[month] if quarter_given else _quarter(key[month]))
        return tuple(key)

    # the unknown group: everything counted, less what has a value
    rest: dict[tuple, list[int]] = {}
    month_from = _first_month(quarter_from) if quarter_from is not None else None
    month_to = _first_month(quarter_to) + 2 if quarter_to is not None else None
    for row in rollup_sums(db, sel, others, month_from, month_to):
        if row[width] is None:
            continue
        total = rest.setdefault(key_of(row, False), [0] * len(MEASURES))
        for i, amount in enumerate(row[width:]):
            total[i] += amount
    out = []
    position = dims.index(dim)
    for row in valued:
        key, value, measures = key_of(row, True), row[width], row[width + 1:]
        left = rest.get(key)
        if left is not None:
            for i, amount in enumerate(measures):
                left[i] -= amount
        out.append(key[:position] + (value,) + key[position:] + tuple(measures))
    for key, measures in rest.items():
        if measures[0]:
            out.append(key[:position] + (None,) + key[position:] + tuple(measures))
    return out
