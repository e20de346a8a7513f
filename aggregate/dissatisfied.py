"""The dissatisfied list: every counted submission with an answer 1 or 2 on a criterion item, for a
unit head to follow up, newest first.

Each entry carries what following up needs (unit, date, channel, which items were rated low,
the free-text comment) and no identifier: dossier codes, names and phone numbers are stored
apart from the answers and are never read here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from storage import choices, scores
from storage.db import read_snapshot
from vocabulary import TIMEZONE

from . import breakdowns
from .engine import Context, resolve, utc_window
from .problems import QueryError
from .scoring import refresh as refresh_scores

MAX_LIMIT = 1000


@dataclass(frozen=True)
class DissatisfiedQuery:
    forms: tuple[str, ...]
    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None
    scope: str | None = None
    channel: str | None = None
    versions: tuple[str, ...] = ()
    limit: int = 100
    offset: int = 0

    def __post_init__(self):
        for name in ("forms", "versions"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))


@dataclass
class LowAnswer:
    criterion: str
    path: str
    value: str


@dataclass
class Entry:
    submission_id: int
    instance_id: str
    form_id: str
    version: str
    unit_code: str | None
    started_at: str                  # UTC, as stored
    local_time: datetime             # the same moment in Vietnam
    channel: str
    review_state: str
    comment: str | None
    low_answers: list[LowAnswer] = field(default_factory=list)


@dataclass
class DissatisfiedPage:
    total: int
    limit: int
    offset: int
    entries: list[Entry]


def list_dissatisfied(db, query: DissatisfiedQuery, *, refresh: bool = True, everything: bool = False) -> DissatisfiedPage:
    """A page of the list; `everything` (for the pages' own filters, never the API): the whole
    list in one read, whatever the query's limit and offset."""
    if everything:
        query = DissatisfiedQuery(**{**query.__dict__, "limit": 1, "offset": 0})
    for name, value, high in (("limit", query.limit, MAX_LIMIT), ("offset", query.offset, 10**9)):
        low = 1 if name == "limit" else 0
        if not isinstance(value, int) or not low <= value <= high:
            raise QueryError("bad_number", name=name, low=low, high=high, value=str(value))
    ctx, selections = _selections(db, query, refresh)
    start, end = utc_window(query.date_from, query.date_to)
    total, found = 0, []
    with read_snapshot(db):
        for form_id, sel in selections:
            in_form = _count(db, form_id, sel, query)
            total += in_form
            columns = _columns(ctx, form_id)
            # the page of the merged list lies within the first offset+limit rows of each form
            wanted = in_form if everything else query.offset + query.limit
            found += scores.dissatisfied_rows(db, form_id, sel, start, end, columns, wanted, 0)
    found.sort(key=lambda r: (r["started_at"], r["submission_id"]), reverse=True)
    page = found if everything else found[query.offset:query.offset + query.limit]
    return DissatisfiedPage(total, query.limit, query.offset, [_entry(ctx, row) for row in page])


def count_open(db, query: DissatisfiedQuery, *, refresh: bool = True) -> tuple[int, int]:
    """(listed, of which still open): the list's count, less the chains last marked otherwise.
    Without reading the list, which at a province's scale holds hundreds of thousands."""
    _, selections = _selections(db, query, refresh)
    start, end = utc_window(query.date_from, query.date_to)
    total = settled = 0
    with read_snapshot(db):
        for form_id, sel in selections:
            total += _count(db, form_id, sel, query)
            settled += scores.count_dissatisfied(db, form_id, sel, start, end, settled_only=True)
    return total, total - settled


def _selections(db, query: DissatisfiedQuery, refresh: bool) -> tuple[Context, list]:
    """The query checked (QueryError otherwise), the scores brought up to date if `refresh`, and
    [(form id, its selection)] for each form with a version selected."""
    ctx = resolve(db, forms=query.forms, unit=query.unit, scope=query.scope, channel=query.channel,
                  versions=query.versions, date_from=query.date_from, date_to=query.date_to)
    if refresh:
        refresh_scores(db)
    selections = [(form_id, ctx.selection(form_id, query.channel, strict=True)) for form_id in ctx.forms]
    return ctx, [(form_id, sel) for form_id, sel in selections if sel.version_ids]


def _count(db, form_id: str, sel, query: DissatisfiedQuery) -> int:
    """How many submissions of the form are listed: whole quarters from the breakdown rollup
    (no channel there), the days around them from the submissions."""
    if query.channel is not None or not breakdowns.caught_up(db):
        return scores.count_dissatisfied(db, form_id, sel, *utc_window(query.date_from, query.date_to))
    quarters, edges = breakdowns.split_quarters(query.date_from, query.date_to)
    total = choices.count(db, sel, choices.DISSATISFIED, *quarters) if quarters is not None else 0
    for edge in edges:
        total += scores.count_dissatisfied(db, form_id, sel, *utc_window(*edge))
    return total


def _columns(ctx: Context, form_id: str) -> list[str]:
    paths: list[str] = []
    for vid in ctx.selected:
        rules = ctx.versions[vid]
        if rules.form_id != form_id:
            continue
        for path in list(rules.items) + ([rules.comment] if rules.comment else []):
            if path not in paths:
                paths.append(path)
    return paths


def _entry(ctx: Context, row: dict) -> Entry:
    rules = ctx.versions[row["form_version_id"]]
    answers = row["answers"]
    low = [LowAnswer(criterion, path, answers[path]) for path, criterion in rules.items.items()
           if answers.get(path) in rules.low]
    comment = (answers.get(rules.comment) or "").strip() or None if rules.comment else None
    local = datetime.fromisoformat(row["started_at"].replace("Z", "+00:00")).astimezone(TIMEZONE)
    return Entry(submission_id=row["submission_id"], instance_id=row["instance_id"],
                 form_id=row["form_id"], version=row["version"], unit_code=row["unit_code"],
                 started_at=row["started_at"], local_time=local, channel=row["channel"],
                 review_state=row["review_state"], comment=comment, low_answers=low)
