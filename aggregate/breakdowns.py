"""Breakdowns by procedure field or by a select_one answer, read from the choice rollup
(storage/choices.py) instead of from every submission.

Which answers a version records is decided by its rules alone (`breakdown_paths`): its
select_one questions outside repeats, less the criterion items and the questions whose role
already has a breakdown of its own (unit, channel) or says nothing (consent). A breakdown is
served from the rollup when every version it reads either records the path or has no such
field (its submissions have no answer there, so they fall in the unknown group, as in a scan),
and when the values are recorded as far as the scores (always, except while a database scored
before the rollup existed catches up).
"""
from __future__ import annotations

from datetime import date, timedelta

import storage
from storage import choices, scores

from . import scoring      # which imports this module: names are read at call time

# roles whose select_one question is no breakdown of its own
NOT_BREAKDOWNS = ("unit", "channel", "consent")
_BATCH = 20000


def breakdown_paths(version: dict) -> tuple[str, ...]:
    """The select_one paths of a version (a row of storage.scores.form_versions) that a
    breakdown can use, in form order."""
    rules = scoring.rules_of(version)
    roles = version["conventions"].get("roles", {})
    skip = set(rules.items) | {roles.get(role) for role in NOT_BREAKDOWNS}
    return tuple(path for path in rules.select_one if path not in skip)


def recorded_answers(versions: list[dict]) -> dict[str, dict[str, tuple[int, ...]]]:
    """{form_id: {path: ids of the versions recording it}} for storage.choices.record."""
    out: dict[str, dict[str, list[int]]] = {}
    for version in versions:
        for path in breakdown_paths(version):
            out.setdefault(version["form_id"], {}).setdefault(path, []).append(version["id"])
    return {form: {path: tuple(ids) for path, ids in paths.items()} for form, paths in out.items()}


def _forms_between(db, after_id: int, through_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT form_id FROM submissions WHERE id > ? AND id <= ?",
                                     [after_id, through_id])]


def record(db, after_id: int, through_id: int, form_ids: list[str]) -> None:
    """Inside the transaction that scored (after_id, through_id] (submissions of `form_ids`):
    record their values, when the recorded values had reached after_id (otherwise
    `catch_up` gets there first)."""
    if choices.through(db) == after_id:
        choices.record(db, after_id, through_id, recorded_answers(scores.form_versions(db, form_ids)))


def catch_up(db, batch: int = _BATCH) -> int:
    """Record the values of scored submissions not recorded yet, a batch per transaction.
    Returns how many ids were covered."""
    done = 0
    while choices.through(db) < scores.scored_through(db):
        with storage.write_transaction(db):
            after, target = choices.through(db), scores.scored_through(db)
            if after >= target:
                break
            through = min(target, after + batch)
            versions = scores.form_versions(db, _forms_between(db, after, through))
            choices.record(db, after, through, recorded_answers(versions))
            done += through - after
    return done


def rollup_dim(db, form_ids: tuple[str, ...], version_ids: tuple[int, ...], dims: tuple[str, ...],
               by: tuple[str, ...], channel: str | None) -> str | None:
    """The one choice dimension of `dims` when the rollup can serve a breakdown by `dims` (for
    the keys `by`) over these versions, else None. The rollup has no channel and no month."""
    rest = [d for d in dims if d not in choices.KEYS]
    if len(rest) != 1 or channel is not None or "month" in by:
        return None
    dim = rest[0]
    if dim.startswith(scores.ANSWER_DIM):
        path = dim[len(scores.ANSWER_DIM):]
        wanted = set(version_ids)
        for version in scores.form_versions(db, form_ids):
            if version["id"] in wanted and path not in breakdown_paths(version) \
                    and any(f["path"] == path for f in version["fields"]):
                return None
    elif dim != choices.PROCEDURE_FIELD:
        return None
    return dim if caught_up(db) else None


def caught_up(db) -> bool:
    return choices.through(db) >= scores.scored_through(db)


def split_quarters(date_from: date | None, date_to: date | None):
    """Cut [date_from, date_to] (local days, inclusive, None = open) into whole quarters and
    edges: ((first YYYYQ or None, last YYYYQ or None) or None when no whole quarter lies
    inside, [(from, to) local-day ranges outside them])."""
    def start(q: int) -> date:
        return date(q // 10, q % 10 * 3 - 2, 1)

    def after(q: int) -> int:
        return q + 1 if q % 10 < 4 else (q // 10 + 1) * 10 + 1

    def of(day: date) -> int:
        return day.year * 10 + (day.month + 2) // 3

    first = last = None
    if date_from is not None:
        first = of(date_from) if start(of(date_from)) == date_from else after(of(date_from))
    if date_to is not None:
        last = of(date_to)
        if start(after(last)) - timedelta(days=1) != date_to:
            last = last - 1 if last % 10 > 1 else (last // 10 - 1) * 10 + 4
    if first is not None and last is not None and first > last:
        return None, [(date_from, date_to)]
    edges = []
    if first is not None and start(first) > date_from:
        edges.append((date_from, start(first) - timedelta(days=1)))
    if last is not None and start(after(last)) <= date_to:
        edges.append((start(after(last)), date_to))
    return (first, last), edges
