"""The figures of a published result, taken once when it is published.

The public page shows this snapshot, never a fresh computation: a published index must not move
silently when a late submission, an edit or a review arrives. What a snapshot holds is the index
part only (respondents, overall and criterion indices with their 95% intervals), for the cells
with at least min_n respondents; the other cells are only counted. No answer, comment or
identifier is ever in it.
"""
from __future__ import annotations

from dataclasses import dataclass

from vocabulary import LEVEL_LABELS

from . import periods
from .engine import DEFAULT_MIN_N, LEVELS, IndexQuery, compute_indices
from .problems import QueryError
from .render import Labels, criteria_legend, rounded

SNAPSHOT_VERSION = 1
WHOLE_PROVINCE = ("Toàn tỉnh", "Whole province")


@dataclass(frozen=True)
class PublishTarget:
    form_id: str
    period: str                      # a period key: 2026-Q3, 2026-07, 2026-H2, 2026
    unit: str | None = None          # None: the whole province
    level: str | None = None         # None: the unit as one figure; else each unit of the level in it
    scope: str | None = None         # the publishing account's unit
    min_n: int = DEFAULT_MIN_N


def _ci(ci, show: bool):
    return [rounded(ci[0]), rounded(ci[1])] if ci and show else None


def snapshot(db, target: PublishTarget) -> dict:
    """The JSON-ready figures of a target now. Raises QueryError for a bad period, level, unit or
    a unit outside the scope."""
    try:
        period = periods.parse_period(target.period)
    except ValueError:
        raise QueryError("bad_period", value=target.period) from None
    if target.level is not None and target.level not in LEVELS:
        raise QueryError("bad_level", value=target.level)
    by = (target.level,) if target.level else ()
    cells = compute_indices(db, IndexQuery(forms=(target.form_id,), by=by, date_from=period.start,
                                           date_to=period.end, unit=target.unit, scope=target.scope,
                                           min_n=target.min_n))
    labels = Labels(db, (target.form_id,))
    shown, hidden = [], 0
    for cell in cells:
        code = cell.key.get(target.level) if target.level else target.unit
        if target.level and code is None:
            continue            # submissions under no unit of that level belong to no row
        if not cell.enough or cell.overall is None:
            hidden += 1
            continue
        shown.append({
            "unit": code,
            "label": labels.unit(code) if code else {"vi": WHOLE_PROVINCE[0], "en": WHOLE_PROVINCE[1]},
            "n": cell.n,
            "overall": {"index": rounded(cell.overall), "ci": _ci(cell.overall_ci, True)},
            "criteria": {c: ({"index": rounded(k.index), "ci": _ci(k.ci, True)}
                             if k.enough and k.index is not None else None)
                         for c, k in cell.criteria.items()},
        })
    shown.sort(key=lambda c: (-c["overall"]["index"], c["unit"] or ""))
    unit_label = labels.unit(target.unit) if target.unit else {"vi": WHOLE_PROVINCE[0], "en": WHOLE_PROVINCE[1]}
    return {
        "snapshot_version": SNAPSHOT_VERSION,
        "form": target.form_id,
        "form_title": labels.titles.get(target.form_id, target.form_id),
        "period": {"key": period.key, "vi": period.label("vi"), "en": period.label("en"),
                   "from": period.start.isoformat(), "to": period.end.isoformat()},
        "unit": target.unit,
        "unit_label": unit_label,
        "level": target.level,
        "level_label": ({"vi": LEVEL_LABELS[target.level][0], "en": LEVEL_LABELS[target.level][1]}
                        if target.level else None),
        "min_n": target.min_n,
        "criteria": criteria_legend(),
        "cells": shown,
        "hidden_cells": hidden,
    }


def period_order(key: str) -> tuple:
    """Sort key putting later periods first, and a shorter period before the longer one ending
    on the same day (Q4 before the year)."""
    try:
        period = periods.parse_period(key)
    except ValueError:
        return (1, key)
    return (0, -period.end.toordinal(), -period.start.toordinal())
