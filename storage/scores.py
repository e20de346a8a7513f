"""Scores: the per-submission measures the satisfaction indices are summed from, and every query
the indices, rankings and dissatisfied list read.

`submission_scores` holds one row per submission (see schema step 2), filled by `add_scores` in
submission id order: the highest scored id is the watermark, which is safe because writers are
serialised and ids only grow. `score_rollup` holds the same measures summed by form version,
unit, local month and channel over the submissions that count; `add_scores` adds new ones and the
schema's triggers move a submission out and back in when it is edited, rejected or deleted, so
both stay exact. What the measures mean and how they become indices is `aggregate/`'s business.

Every read takes a `Selection` (which submissions) and a list of dimensions to group by, and
returns plain tuples: the dimension values, then the summed MEASURES in their order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from vocabulary import CRITERIA

from . import followups
from .schema import answer_table, local_month

# lcm(1..12): a respondent's share k/m of satisfied answers is a whole number of these units
# whenever m divides it, which covers every criterion of up to 12 items
SCORE_UNIT = 27720
# the mean of 1, 2 or 3 criterion scores is a whole number of these units
OVERALL_UNIT = 6 * SCORE_UNIT

PER_CRITERION = ("valid", "satisfied", "score", "low", "value_sum", "value_n")
SCORE_COLUMNS = (("submission_id", "local_month", "procedure_field", "respondent", "overall_score",
                  "irregular")
                 + tuple(f"{c}_{part}" for c in CRITERIA for part in PER_CRITERION)
                 + ("declined",))

MEASURES = (("submissions", "respondents", "overall_sum", "overall_sq", "irregular")
            + tuple(f"{c}_{part}" for c in CRITERIA
                    for part in ("n", "sum", "sq", "answers", "low", "value_sum", "value_n")))

# dimensions the rollup is keyed by; others ("procedure_field", ANSWER_DIM + path) need a pass
# over the submissions
ROLLUP_DIMS = ("form_version_id", "unit_code", "local_month", "channel")
ANSWER_DIM = "answer:"          # "answer:<path>": the value of a top-level field

_SHORT_WINDOW_DAYS = 62
# YYYYMM of the first month of r.local_month's quarter (0, the unreadable month, stays 0)
_QUARTER_START = "(CASE WHEN r.local_month = 0 THEN 0 ELSE r.local_month - (r.local_month % 100 + 2) % 3 END)"
_COUNTED = "s.current = 1 AND s.review_state <> 'rejected' AND s.deleted_at IS NULL"


@dataclass(frozen=True)
class Selection:
    """Which submissions: those of these form versions that count, optionally narrowed."""
    form_ids: tuple[str, ...]
    version_ids: tuple[int, ...]
    unit_codes: tuple[str, ...] | None = None     # None: any unit, and no unit
    channel: str | None = None


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _data_table(form_id: str) -> str:
    return ident(answer_table(form_id))


# --- form versions and answer tables ---------------------------------------------------------

def form_versions(db, form_ids: list[str] | tuple[str, ...]) -> list[dict]:
    """Every version of these forms, oldest first, with fields and conventions decoded."""
    rows = db.execute(
        """SELECT id, form_id, version, title, fields_json, conventions_json, published_at
           FROM form_versions WHERE form_id IN (SELECT value FROM json_each(?)) ORDER BY id""",
        [json.dumps(list(form_ids))]).fetchall()
    return [{"id": r[0], "form_id": r[1], "version": r[2], "title": r[3], "fields": json.loads(r[4]),
             "conventions": json.loads(r[5]), "published_at": r[6]} for r in rows]


def answer_columns(db, form_id: str) -> set[str]:
    table = db[answer_table(form_id)]
    return set(table.columns_dict) if table.exists() else set()


# --- scoring ----------------------------------------------------------------------------------

def scored_through(db) -> int:
    """The highest submission id scored so far (the watermark)."""
    return db.execute("SELECT coalesce(max(submission_id), 0) FROM submission_scores").fetchone()[0]


def newest_submission(db) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM submissions").fetchone()[0]


def next_unscored(db, after_id: int, limit: int) -> list[tuple[int, str]]:
    """(id, form_id) of the next submissions after the watermark, in id order."""
    return db.execute("SELECT id, form_id FROM submissions WHERE id > ? ORDER BY id LIMIT ?",
                      [after_id, limit]).fetchall()


def unscored_answers(db, form_id: str, after_id: int, through_id: int,
                     columns: list[str]) -> list[tuple]:
    """(id, form_version_id, local month, *answers in `columns` order) of a form's submissions
    with after_id < id <= through_id. The local month is computed here, by the same SQL
    expression the triggers use when a start time is corrected."""
    present = answer_columns(db, form_id)
    picked = ", ".join(f"d.{ident(c)}" if c in present else "NULL" for c in columns)
    join = f"LEFT JOIN {_data_table(form_id)} d ON d._submission_id = s.id" if present else ""
    return db.execute(
        f"""SELECT s.id, s.form_version_id,
                   {local_month("s")}
                   {', ' + picked if columns else ''}
            FROM submissions s {join}
            WHERE s.form_id = ? AND s.id > ? AND s.id <= ? ORDER BY s.id""",
        [form_id, after_id, through_id]).fetchall()


def add_scores(db, rows: list[tuple], after_id: int, through_id: int) -> None:
    """Store the scores of every submission with after_id < id <= through_id (rows in
    SCORE_COLUMNS order) and add those that count to the rollup. Call inside the write
    transaction that read `after_id` as the watermark."""
    marks = ", ".join("?" for _ in SCORE_COLUMNS)
    db.conn.executemany(
        f"INSERT INTO submission_scores ({', '.join(SCORE_COLUMNS)}) VALUES ({marks})", rows)
    _add_to_rollup(db, "m.submission_id > ? AND m.submission_id <= ?", [after_id, through_id])


def _add_to_rollup(db, where: str, params: list) -> None:
    sums = ", ".join(f"sum(m.{name})" for name in MEASURES)
    updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in MEASURES)
    db.execute(
        f"""INSERT INTO score_rollup ({', '.join(ROLLUP_DIMS)}, {', '.join(MEASURES)})
            SELECT s.form_version_id, coalesce(s.unit_code, ''), m.local_month, s.channel, {sums}
            FROM score_measures m JOIN submissions s ON s.id = m.submission_id
            WHERE {where} AND {_COUNTED}
            GROUP BY 1, 2, 3, 4
            ON CONFLICT ({', '.join(ROLLUP_DIMS)}) DO UPDATE SET {updates}""", params)


def rebuild_rollup(db) -> None:
    """Recompute the rollup from the scores (a repair; it is kept exact without this)."""
    db.execute("DELETE FROM score_rollup")
    _add_to_rollup(db, "1", [])


def rollup_rows(db) -> list[tuple]:
    """The rollup's non-empty rows in key order (for checks against a rebuild)."""
    return db.execute(
        f"SELECT {', '.join(ROLLUP_DIMS)}, {', '.join(MEASURES)} FROM score_rollup "
        f"WHERE submissions <> 0 ORDER BY {', '.join(ROLLUP_DIMS)}").fetchall()


# --- sums -------------------------------------------------------------------------------------

def rollup_sums(db, sel: Selection, dims: tuple[str, ...], month_from: int | None,
                month_to: int | None, by_quarter: bool = False) -> list[tuple]:
    """Measures summed by `dims` (a subset of ROLLUP_DIMS) over whole local months; with
    by_quarter, a local month is given as the first month of its quarter (fewer groups to add
    up in Python when no breakdown is finer than a quarter)."""
    where, params = ["r.form_version_id IN (SELECT value FROM json_each(?))"], [json.dumps(sel.version_ids)]
    if sel.unit_codes is not None:
        where.append("r.unit_code IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sel.unit_codes))
    if sel.channel is not None:
        where.append("r.channel = ?")
        params.append(sel.channel)
    if month_from is not None:
        where.append("r.local_month >= ?")
        params.append(month_from)
    if month_to is not None:
        where.append("r.local_month <= ?")
        params.append(month_to)
    keys = [_QUARTER_START if d == "local_month" and by_quarter else f"r.{d}" for d in dims]
    sums = ", ".join(f"sum(r.{name})" for name in MEASURES)
    return db.execute(
        f"""SELECT {''.join(k + ', ' for k in keys)}{sums} FROM score_rollup r
            WHERE {' AND '.join(where)} {_group(keys, 'sum(r.submissions)')}""", params).fetchall()


def _group(keys: list[str], count: str) -> str:
    """GROUP BY the keys, leaving out groups left empty (rollup rows whose submissions all
    stopped counting); without keys the one row may be all NULL and the caller skips it."""
    return f"GROUP BY {', '.join(keys)} HAVING {count} > 0" if keys else ""


def _scan_from(db, sel: Selection, dims: tuple[str, ...], start: str | None, end: str | None,
               form_id: str | None = None, extra_where: str = "", join_answers: bool = False,
               scores: str = "score_measures", newest_first: bool = False,
               declined_only: bool = False, from_roots: str | None = None
               ) -> tuple[str, list[str], list, set[str]]:
    """FROM ... WHERE ... over the counted, scored submissions; the SQL of each dimension; the
    parameters; and the answer columns that can be read (as d.<column>). `declined_only` keeps
    the submissions that declined consent, found from their (few) scores rather than by a scan;
    `from_roots` (SQL selecting root_id) those of a few edit chains, found from the chains."""
    join_answers = join_answers or any(d.startswith(ANSWER_DIM) for d in dims)
    if join_answers and form_id is None:
        raise ValueError("answers are read form by form")
    present = answer_columns(db, form_id) if join_answers else set()
    keys = []
    for d in dims:
        if d == "unit_code":
            keys.append("coalesce(s.unit_code, '')")
        elif d in ("form_version_id", "channel"):
            keys.append(f"s.{d}")
        elif d in ("local_month", "procedure_field"):
            keys.append(f"m.{d}")
        elif d.startswith(ANSWER_DIM):
            path = d[len(ANSWER_DIM):]
            keys.append(f"d.{ident(path)}" if path in present else "NULL")
        else:
            raise ValueError(f"unknown dimension {d!r}")
    # the (form, current, started_at) index pays for a short window only: beyond that, walking
    # the table in id order beats following the index into random pages
    # the index pays too for the newest rows of one form, read in its order until a page is full
    hint = "" if newest_first or _short_window(start, end) else "NOT INDEXED"
    if from_roots is not None:
        sql = (f"FROM ({from_roots}) r CROSS JOIN submissions s INDEXED BY submissions_root "
               f"ON s.root_id = r.root_id JOIN {scores} m ON m.submission_id = s.id")
    elif declined_only:
        sql = ("FROM submission_scores m INDEXED BY submission_scores_declined "
               "CROSS JOIN submissions s ON s.id = m.submission_id")
        extra_where = " AND ".join(w for w in ("m.declined = 1", extra_where) if w)
    else:
        sql = f"FROM submissions s {hint} JOIN {scores} m ON m.submission_id = s.id"
    if present:
        sql += f" LEFT JOIN {_data_table(form_id)} d ON d._submission_id = s.id"
    where = ["s.form_id = ?" if form_id else "s.form_id IN (SELECT value FROM json_each(?))",
             "s.form_version_id IN (SELECT value FROM json_each(?))", _COUNTED]
    params: list = [form_id or json.dumps(list(sel.form_ids)), json.dumps(sel.version_ids)]
    if sel.unit_codes is not None:
        where.append("coalesce(s.unit_code, '') IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sel.unit_codes))
    if sel.channel is not None:
        where.append("s.channel = ?")
        params.append(sel.channel)
    if start is not None:
        where.append("s.started_at >= ?")
        params.append(start)
    if end is not None:
        where.append("s.started_at < ?")
        params.append(end)
    if extra_where:
        where.append(extra_where)
    return f"{sql} WHERE {' AND '.join(where)}", keys, params, present


def _short_window(start: str | None, end: str | None) -> bool:
    if start is None or end is None:
        return False
    days = (datetime.fromisoformat(end[:10]) - datetime.fromisoformat(start[:10])).days
    return days <= _SHORT_WINDOW_DAYS


def scan_sums(db, sel: Selection, dims: tuple[str, ...], start: str | None, end: str | None,
              form_id: str | None = None) -> list[tuple]:
    """Measures summed by any dimensions over the submissions started in [start, end) (UTC text).
    With an answer dimension, `form_id` names the one form whose answers are read."""
    sql, keys, params, _ = _scan_from(db, sel, dims, start, end, form_id)
    sums = ", ".join(f"sum(m.{name})" for name in MEASURES)
    return db.execute(f"SELECT {''.join(k + ', ' for k in keys)}{sums} {sql} {_group(keys, 'count(*)')}",
                      params).fetchall()


def declined_counts(db, sel: Selection, dims: tuple[str, ...], start: str | None, end: str | None,
                    form_id: str | None = None) -> list[tuple]:
    """By any dimensions: how many of the counted submissions started in [start, end) declined
    consent (they are in MEASURES' `submissions`, never in `respondents`)."""
    sql, keys, params, _ = _scan_from(db, sel, dims, start, end, form_id, declined_only=True)
    return db.execute(f"SELECT {''.join(k + ', ' for k in keys)}count(*) {sql} "
                      f"{'GROUP BY ' + ', '.join(keys) if keys else ''}", params).fetchall()


def irregular_counts(db, sel: Selection, dims: tuple[str, ...], start: str | None, end: str | None,
                     form_id: str | None = None) -> list[tuple]:
    """For the submissions whose score could not be stored in SCORE_UNITs: the dimensions, then
    (valid, satisfied, score is NULL) for each criterion, then how many submissions share them."""
    sql, keys, params, _ = _scan_from(db, sel, dims, start, end, form_id, "m.irregular = 1",
                                      scores="submission_scores")
    parts = [f"m.{c}_valid, m.{c}_satisfied, m.{c}_score IS NULL" for c in CRITERIA]
    columns = keys + parts
    return db.execute(f"SELECT {', '.join(columns)}, count(*) {sql} GROUP BY {', '.join(columns)}",
                      params).fetchall()


@dataclass(frozen=True)
class ItemRule:
    """How one item's answers count under a group of versions that share a scale."""
    version_ids: tuple[int, ...]
    valid: tuple[str, ...]
    satisfied: tuple[str, ...]


def item_counts(db, form_id: str, sel: Selection, dims: tuple[str, ...], start: str | None,
                end: str | None, items: list[tuple[str, list[ItemRule]]]) -> list[tuple]:
    """By `dims`: for each (path, rules) of `items`, the number of valid and of satisfied answers,
    each answer judged by the rule of its own version."""
    sql, keys, params, present = _scan_from(db, sel, dims, start, end, form_id, "m.declined = 0",
                                            join_answers=True, scores="submission_scores")
    select_params: list = []
    sums = []
    for path, rules in items:
        for kind in ("valid", "satisfied"):
            cases = []
            for rule in rules if path in present else ():
                values = getattr(rule, kind)
                ids = ", ".join(str(int(v)) for v in rule.version_ids)
                cases.append(f"WHEN s.form_version_id IN ({ids}) "
                             f"THEN d.{ident(path)} IN ({', '.join('?' for _ in values)})")
                select_params.extend(values)
            sums.append(f"sum(CASE {' '.join(cases)} ELSE 0 END)" if cases else "0")
    group = f"GROUP BY {', '.join(keys)}" if keys else ""
    return db.execute(f"SELECT {''.join(k + ', ' for k in keys)}{', '.join(sums) or '0'} {sql} {group}",
                      select_params + params).fetchall()


# --- the dissatisfied list --------------------------------------------------------------------

_LOW = " + ".join(f"m.{c}_low" for c in CRITERIA) + " > 0"


def count_dissatisfied(db, form_id: str, sel: Selection, start: str | None, end: str | None,
                       *, settled_only: bool = False) -> int:
    """How many are listed; `settled_only`: of those, how many chains were last marked other
    than open (storage.followups)."""
    # few chains are ever marked: the settled are read from them through the root index
    sql, _, params, _ = _scan_from(db, sel, (), start, end, form_id, _LOW,
                                   from_roots=followups.SETTLED_ROOTS if settled_only else None)
    return db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]


def dissatisfied_rows(db, form_id: str, sel: Selection, start: str | None, end: str | None,
                      columns: list[str], limit: int, offset: int) -> list[dict]:
    """Counted submissions of one form with an answer 1 or 2 on a criterion, newest first: their
    metadata and the values of `columns` (answer table columns; never identifiers, which are
    kept in another table)."""
    sql, _, params, present = _scan_from(db, sel, (), start, end, form_id, _LOW, join_answers=True,
                                         newest_first=True)
    picked = [f"d.{ident(c)}" if c in present else "NULL" for c in columns]
    rows = db.execute(
        f"""SELECT s.id, s.instance_id, s.form_id, s.version, s.form_version_id, s.unit_code,
                   s.started_at, s.channel, s.review_state{''.join(', ' + p for p in picked)}
            {sql} ORDER BY s.started_at DESC, s.id DESC LIMIT ? OFFSET ?""",
        params + [limit, offset]).fetchall()
    names = ["submission_id", "instance_id", "form_id", "version", "form_version_id", "unit_code",
             "started_at", "channel", "review_state"]
    return [{**dict(zip(names, r[:len(names)])), "answers": dict(zip(columns, r[len(names):]))}
            for r in rows]
