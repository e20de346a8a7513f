"""Ranking the units of a level for a period by their overall index.

Only units with at least min_n respondents are ranked; the others are listed, unranked. Equal
indices (compared exactly) share a rank and the next rank skips (1, 2, 2, 4). A unit's numbers
include its children's (a district holds its communes). Beside each rank: the change of the
overall index against the previous period of the same length (when both are ranked) and whether
its 95% interval overlaps its neighbours' (then the order of the two is not significant).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from . import periods
from .engine import DEFAULT_MIN_N, LEVELS, Cell, IndexQuery, compute_indices, default_level, resolve
from .problems import QueryError
from .unit_views import RECORDED


@dataclass(frozen=True)
class RankQuery:
    forms: tuple[str, ...]
    level: str                       # tinh | huyen | xa; "" = the level the tree in force has
    period: str                      # 2026-07, 2026-Q3, 2026-H2, 2026
    unit: str | None = None          # rank only the units inside this unit's subtree
    scope: str | None = None         # the asking account's unit (see IndexQuery)
    channel: str | None = None
    versions: tuple[str, ...] = ()
    min_n: int = DEFAULT_MIN_N
    units: str = RECORDED            # the view of the past (aggregate/unit_views.py)

    def __post_init__(self):
        for name in ("forms", "versions"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))


@dataclass
class RankRow:
    unit_code: str
    rank: int | None                 # None: not ranked (fewer than min_n respondents)
    cell: Cell | None                # this period's numbers; None without any submission
    previous_rank: int | None
    previous: Cell | None
    change: Fraction | None          # overall index now minus before, both ranked
    overlaps_above: bool | None      # interval meets the one ranked just above
    overlaps_below: bool | None


@dataclass
class Ranking:
    level: str
    period: periods.Period
    previous_period: periods.Period
    rows: list[RankRow]


def rank_units(db, query: RankQuery) -> Ranking:
    if not query.level:
        query = replace(query, level=default_level(db))
    if query.level not in LEVELS:
        raise QueryError("bad_level", value=query.level)
    try:
        period = periods.parse_period(query.period)
    except ValueError:
        raise QueryError("bad_period", value=query.period) from None
    ctx = resolve(db, forms=query.forms, unit=query.unit, scope=query.scope, channel=query.channel,
                  versions=query.versions, min_n=query.min_n, by=(query.level,), units=query.units)
    previous_period = period.previous()

    def cells_of(p: periods.Period) -> dict[str, Cell]:
        cells = compute_indices(db, IndexQuery(
            forms=query.forms, by=(query.level,), date_from=p.start, date_to=p.end, unit=query.unit,
            scope=query.scope, channel=query.channel, versions=query.versions, min_n=query.min_n,
            units=query.units))
        return {c.key[query.level]: c for c in cells if c.key[query.level] is not None}

    now, before = cells_of(period), cells_of(previous_period)
    ranks_now, ranks_before = _ranks(now), _ranks(before)
    if ctx.unit_map is None:
        codes = [code for code, unit in ctx.units.items() if unit["level"] == query.level
                 and (ctx.unit_codes is None or code in ctx.unit_codes)]
    else:
        # units of the level that existed during the period (in this view), or have figures
        codes = [key for key, unit in ctx.units.items() if unit["level"] == query.level
                 and all(ctx.unit_map.within(key, code) for code in ctx.within)
                 and (key in now or key in before or _in_force_during(unit, period))]
    rows = []
    for code in codes:
        cell, old = now.get(code), before.get(code)
        change = None
        if code in ranks_now and code in ranks_before:
            change = cell.overall - old.overall
        rows.append(RankRow(code, ranks_now.get(code), cell, ranks_before.get(code), old, change,
                            None, None))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit_code))
    ranked = [r for r in rows if r.rank is not None]
    for above, below in zip(ranked, ranked[1:]):
        overlap = _overlap(above.cell.overall_ci, below.cell.overall_ci)
        above.overlaps_below = below.overlaps_above = overlap
    return Ranking(query.level, period, previous_period, rows)


def _in_force_during(unit: dict, period: periods.Period) -> bool:
    if unit.get("dissolved"):
        return False
    start, end = unit.get("valid_from"), unit.get("retired_on")
    return ((start is None or start <= period.end.isoformat())
            and (end is None or end > period.start.isoformat()))


def _ranks(cells: dict[str, Cell]) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4) of the cells with enough respondents, best first."""
    ordered = sorted((c for c in cells.items() if c[1].enough and c[1].overall is not None),
                     key=lambda item: (-item[1].overall, item[0]))
    ranks: dict[str, int] = {}
    for position, (code, cell) in enumerate(ordered, start=1):
        if position > 1 and cell.overall == ordered[position - 2][1].overall:
            ranks[code] = ranks[ordered[position - 2][0]]
        else:
            ranks[code] = position
    return ranks


def _overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool | None:
    if a is None or b is None:
        return None
    return a[0] <= b[1] and b[0] <= a[1]
