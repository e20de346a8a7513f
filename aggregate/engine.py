"""The satisfaction indices of docs/index-definitions.md, for any breakdown.

For a set S of submissions, criterion c and respondent r:
  s_rc  = share of r's valid answers on c's items that are satisfied (undefined without one)
  I_c   = 100 x mean of s_rc over the n_c respondents with s_rc defined
  CI    = I_c -/+ 1.96 x 100 x sd(s_rc) / sqrt(n_c), sample sd, clipped to [0, 100]; none if n_c < 2
  overall index = mean of the defined I_c
Every number here is made from sums over submissions (storage.scores.MEASURES): how many, sum
of s_rc, sum of s_rc^2, ... Sums add, so a group is the sum of its parts whatever the breakdown
(a district is the sum of its communes, a quarter of its months), and the arithmetic is exact:
the sums are integers in units of 1/27720 and the indices are Fractions until they are shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from storage import forms as form_store
from storage import choices, scores, units as unit_store
from storage.db import read_snapshot
from vocabulary import CHANNELS, CRITERIA, LEVELS, PERIOD_KINDS

from . import breakdowns, periods
from .problems import QueryError
from .unit_views import RECORDED, VIEWS, UnitMap
from .scoring import VersionRules, refresh as refresh_scores, rules_of

DEFAULT_MIN_N = 30
Z95 = 1.96
UNIT_KEYS = ("unit", "level") + LEVELS
BY_KEYS = UNIT_KEYS + PERIOD_KINDS + ("channel", "procedure_field", "version", "form")
QUESTION = "q:"

_M = {name: i for i, name in enumerate(scores.MEASURES)}
_UNIT2 = scores.SCORE_UNIT * scores.SCORE_UNIT


@dataclass(frozen=True)
class IndexQuery:
    """What to compute. Dates are local (Vietnam) days, both inclusive.

    `unit` keeps that unit's subtree; `scope` is the asking account's unit, whose subtree the
    result never leaves (None for province-wide accounts). `versions` keeps those version
    strings (of any of the forms); empty keeps every version. `units` is the view of the past:
    "recorded" (each submission under the unit it was recorded for) or "current" (followed to
    today's units, aggregate/unit_views.py).
    """
    forms: tuple[str, ...]
    by: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None
    scope: str | None = None
    channel: str | None = None
    versions: tuple[str, ...] = ()
    min_n: int = DEFAULT_MIN_N
    items: bool = False
    units: str = RECORDED

    def __post_init__(self):
        for name in ("forms", "by", "versions"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,) if value else ())
            else:
                object.__setattr__(self, name, tuple(value))


@dataclass
class CriterionIndex:
    criterion: str
    n: int                              # respondents with s_rc defined
    index: Fraction | None              # I_c, 0..100
    sd: float | None                    # sample sd of s_rc (0..1)
    ci: tuple[float, float] | None      # 95% interval of I_c
    answers: int                        # valid answers on the criterion's items
    dissatisfied: int                   # of which 1 or 2
    mean_score: Fraction | None         # mean of the answers given on a 1..5 scale
    enough: bool                        # n >= min_n

    @property
    def dissatisfied_share(self) -> Fraction | None:
        return Fraction(self.dissatisfied, self.answers) if self.answers else None


@dataclass
class ItemIndex:
    form_id: str
    path: str
    criterion: str
    answers: int                        # valid answers
    satisfied: int
    enough: bool

    @property
    def index(self) -> Fraction | None:
        """p_i = 100 x satisfied / valid answers."""
        return Fraction(100 * self.satisfied, self.answers) if self.answers else None


@dataclass
class Cell:
    key: dict[str, str | None]          # one value per `by` key, None = not known
    submissions: int                    # counted submissions in the cell
    n: int                              # respondents: submissions with a valid answer
    enough: bool                        # n >= min_n; otherwise never ranked or published
    criteria: dict[str, CriterionIndex]
    overall: Fraction | None            # mean of the defined criterion indices
    overall_ci: tuple[float, float] | None
    answers: int
    dissatisfied: int
    value_sum: int
    value_n: int
    items: list[ItemIndex] = field(default_factory=list)
    declined: int = 0                   # of the submissions, those without consent (never in n)

    @property
    def dissatisfied_share(self) -> Fraction | None:
        return Fraction(self.dissatisfied, self.answers) if self.answers else None

    @property
    def mean_score(self) -> Fraction | None:
        return Fraction(self.value_sum, self.value_n) if self.value_n else None


# --- resolving a query ------------------------------------------------------------------------

@dataclass
class Context:
    """A query checked against the database: versions, unit tree, which units are kept."""
    forms: tuple[str, ...]
    versions: dict[int, VersionRules]           # every version of the forms
    selected: tuple[int, ...]                   # the versions kept by the version filter
    units: dict[str, dict]                      # the units of the view, by key
    ancestors: dict[str, dict[str, str]]        # unit -> {level: the unit or its ancestor there}
    unit_codes: tuple[str, ...] | None          # None: every unit and none
    unit_map: UnitMap | None = None             # set when the tree has a history
    within: tuple[str, ...] = ()                # codes the view's unit must lie under

    def codes_only_within(self) -> tuple[str, ...] | None:
        """For reads by unit code alone (raw exports): the codes whose every version lies
        inside the unit filter, so that nothing outside it is ever shown (a code that moved
        in or out of the subtree is left out; the indices decide per month instead)."""
        if self.unit_map is None or not self.within:
            return self.unit_codes
        codes = None
        for code in self.within:
            inside = self.unit_map.codes_only_within(code)
            codes = inside if codes is None else codes & inside
        return tuple(sorted(codes))

    def selection(self, form_id: str | None = None, channel: str | None = None,
                  strict: bool = False) -> scores.Selection:
        """`strict`: for reads that take every row the SQL gives (no per-month unit check)."""
        ids = tuple(v for v in self.selected if form_id is None or self.versions[v].form_id == form_id)
        return scores.Selection(form_ids=(form_id,) if form_id else self.forms, version_ids=ids,
                                unit_codes=self.codes_only_within() if strict else self.unit_codes,
                                channel=channel)


def resolve(db, *, forms, unit=None, scope=None, channel=None, versions=(), date_from=None,
            date_to=None, min_n=DEFAULT_MIN_N, by=(), units=RECORDED) -> Context:
    """Check every part of a query; raises QueryError naming the first problem."""
    if not forms:
        raise QueryError("no_forms")
    for form_id in forms:
        if form_store.get_form(db, form_id) is None:
            raise QueryError("unknown_form", form=form_id)
    rules = {v["id"]: rules_of(v) for v in scores.form_versions(db, list(forms))}
    selected = tuple(rules)
    if versions:
        known = {r.version for r in rules.values()}
        for version in versions:
            if version not in known:
                raise QueryError("unknown_version", form=", ".join(forms), value=version)
        selected = tuple(v for v, r in rules.items() if r.version in versions)
    seen = set()
    for key in by:
        if key in seen:
            raise QueryError("repeated_by", value=key)
        seen.add(key)
        if key.startswith(QUESTION):
            path = key[len(QUESTION):]
            if not any(path in r.select_one for r in rules.values()):
                raise QueryError("bad_question", path=path)
        elif key not in BY_KEYS:
            raise QueryError("bad_by", value=key)
    if channel is not None and channel not in CHANNELS:
        raise QueryError("bad_channel", value=channel, allowed=", ".join(CHANNELS))
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 1:
        raise QueryError("bad_min_n", value=str(min_n))
    if date_from and date_to and date_from > date_to:
        raise QueryError("bad_range", date_from=date_from.isoformat(), date_to=date_to.isoformat())
    if units not in VIEWS:
        raise QueryError("bad_units", value=units)
    all_units = {u["code"]: u for u in unit_store.all_units(db)}
    check_levels(db, [key for key in by if key in LEVELS])
    kept = None
    for code in (unit, scope):
        if code is None:
            continue
        if code not in all_units:
            raise QueryError("unknown_unit", value=code)
        subtree = unit_store.subtree_codes(db, code)
        kept = subtree if kept is None else kept & subtree
    if unit is not None and scope is not None and unit not in kept:
        raise QueryError("forbidden_unit", scope=scope, unit=unit)
    unit_map = UnitMap(db, units)
    if not unit_map.history:
        return Context(forms=tuple(forms), versions=rules, selected=selected, units=all_units,
                       ancestors=_ancestors(all_units),
                       unit_codes=tuple(sorted(kept)) if kept is not None else None)
    # a tree with a history: keys are the view's units, and the unit filter is decided per
    # submission month; the codes below are only the SQL's first cut
    within = tuple(code for code in (unit, scope) if code is not None)
    codes = None
    for code in within:
        inside = unit_map.codes_within(code)
        codes = inside if codes is None else codes & inside
    return Context(forms=tuple(forms), versions=rules, selected=selected, units=unit_map.units,
                   ancestors={}, unit_codes=tuple(sorted(codes)) if codes is not None else None,
                   unit_map=unit_map, within=within)


def check_levels(db, levels) -> None:
    """A level of the tree in force, or a clear refusal: there is no district level after
    1/7/2025, and a breakdown by it would silently show nothing of today."""
    present = {u["level"] for u in unit_store.all_units(db, in_force=True)}
    for level in levels:
        if present and level not in present:
            raise QueryError("no_level", value=level)


def default_level(db) -> str:
    """The level rankings use when none is asked: districts where they exist, else communes."""
    present = {u["level"] for u in unit_store.all_units(db, in_force=True)}
    return "huyen" if "huyen" in present or not present else "xa"


def _ancestors(all_units: dict[str, dict]) -> dict[str, dict[str, str]]:
    result = {}
    for code in all_units:
        found: dict[str, str] = {}
        current, steps = code, 0
        while current in all_units and steps <= len(all_units):
            found.setdefault(all_units[current]["level"], current)
            current, steps = all_units[current]["parent_code"], steps + 1
        result[code] = found
    return result


# --- computing --------------------------------------------------------------------------------

def compute_indices(db, query: IndexQuery, *, refresh: bool = True) -> list[Cell]:
    """The cells of a breakdown, sorted by key (unknown values last); groups without
    submissions are absent. Scores any submission not scored yet first, unless refresh=False."""
    ctx = resolve(db, forms=query.forms, unit=query.unit, scope=query.scope, channel=query.channel,
                  versions=query.versions, date_from=query.date_from, date_to=query.date_to,
                  min_n=query.min_n, by=query.by, units=query.units)
    if refresh:
        refresh_scores(db)
    with read_snapshot(db):
        return _compute(db, ctx, query)


def group_dims(by: tuple[str, ...], ctx: Context | None = None) -> tuple[str, ...]:
    dims: list[str] = []

    def need(dim):
        if dim not in dims:
            dims.append(dim)

    if ctx is not None and ctx.unit_map is not None and (ctx.within or any(k in UNIT_KEYS for k in by)):
        # which unit a submission belongs to depends on its code and its month
        need("unit_code")
        need("local_month")

    for key in by:
        if key in UNIT_KEYS:
            need("unit_code")
        elif key in PERIOD_KINDS:
            need("local_month")
        elif key in ("channel", "procedure_field"):
            need(key)
        elif key in ("version", "form"):
            need("form_version_id")
        else:
            need(scores.ANSWER_DIM + key[len(QUESTION):])
    return tuple(dims)


def utc_window(date_from: date | None, date_to: date | None) -> tuple[str | None, str | None]:
    """[start, end) in stored UTC text for local days date_from..date_to."""
    return (periods.utc_start(date_from) if date_from else None,
            periods.utc_start(date_to + timedelta(days=1)) if date_to else None)


class Keyer:
    """Turns a row's dimension values into the cell key of the query's `by`."""

    def __init__(self, ctx: Context, by: tuple[str, ...], dims: tuple[str, ...]):
        self.ctx, self.by = ctx, by
        self.index = {d: i for i, d in enumerate(dims)}
        self.cache: dict[tuple, tuple] = {}

    def keep(self, values: tuple) -> bool:
        """Whether a row lies inside the query's unit filter (a tree with a history only: a
        code's versions may sit in different subtrees)."""
        ctx = self.ctx
        if ctx.unit_map is None or not ctx.within:
            return True
        unit = self.unit_key(values)
        month = self._month(values)
        return all(ctx.unit_map.within(unit, code, month) for code in ctx.within)

    def _month(self, values: tuple) -> int | None:
        return (values[self.index["local_month"]] or None) if "local_month" in self.index else None

    def unit_key(self, values: tuple) -> str | None:
        """The unit of the query's view for a row (the code itself without a history)."""
        code = values[self.index["unit_code"]] or None
        if self.ctx.unit_map is None or code is None:
            return code
        return self.ctx.unit_map.key(code, self._month(values))

    def __call__(self, values: tuple) -> tuple:
        key = self.cache.get(values)
        if key is None:
            key = self.cache[values] = tuple(self._one(k, values) for k in self.by)
        return key

    def _one(self, key: str, values: tuple):
        ctx = self.ctx
        if key in UNIT_KEYS:
            code = self.unit_key(values)
            if key == "unit" or code is None:
                return code
            if key == "level":
                return ctx.units[code]["level"] if code in ctx.units else None
            if ctx.unit_map is not None:
                return ctx.unit_map.ancestors(code, self._month(values)).get(key)
            return ctx.ancestors.get(code, {}).get(key)
        if key in PERIOD_KINDS:
            period = periods.period_of_month(key, values[self.index["local_month"]] or 0)
            return period.key if period else None
        if key in ("version", "form"):
            rules = ctx.versions[values[self.index["form_version_id"]]]
            return rules.version if key == "version" else rules.form_id
        if key.startswith(QUESTION):
            return values[self.index[scores.ANSWER_DIM + key[len(QUESTION):]]] or None
        return values[self.index[key]] or None


@dataclass
class _Sums:
    measures: list[int]
    extra_sum: dict[str, Fraction] = field(default_factory=dict)
    extra_sq: dict[str, Fraction] = field(default_factory=dict)
    items: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    declined: int = 0


def _compute(db, ctx: Context, query: IndexQuery) -> list[Cell]:
    dims = group_dims(query.by, ctx)
    keyer = Keyer(ctx, query.by, dims)
    groups: dict[tuple, _Sums] = {}
    width = len(dims)
    answer_dims = any(d.startswith(scores.ANSWER_DIM) for d in dims)
    whole_window = utc_window(query.date_from, query.date_to)

    def add(rows):
        for row in rows:
            if not row[width + _M["submissions"]] or not keyer.keep(row[:width]):
                continue            # the empty row of a sum over no submissions, or outside
            key = keyer(row[:width])
            if key not in groups:
                groups[key] = _Sums([0] * len(scores.MEASURES))
            target = groups[key].measures
            for i, value in enumerate(row[width:]):
                target[i] += value or 0

    def scan(window):
        if answer_dims:
            for form_id in ctx.forms:
                sel = ctx.selection(form_id, query.channel)
                if sel.version_ids:
                    add(scores.scan_sums(db, sel, dims, *window, form_id=form_id))
        else:
            add(scores.scan_sums(db, ctx.selection(channel=query.channel), dims, *window))

    # a month may be read as its quarter's first when nothing finer than a quarter is asked: no
    # breakdown by month, and (a tree with a history) every list took effect on a quarter's
    # first day, so that a code's unit is the same in each month of a quarter
    quarterly = "month" not in query.by and (ctx.unit_map is None or ctx.unit_map.same_within_quarters())
    if all(d in scores.ROLLUP_DIMS for d in dims):
        # whole months from the rollup, the days around them from the submissions
        months, edges = periods.split_range(query.date_from, query.date_to)
        if months is not None:
            add(scores.rollup_sums(db, ctx.selection(channel=query.channel), dims, *months,
                                   by_quarter=quarterly))
        for edge in edges:
            scan(utc_window(*edge))
    elif quarterly and (choice_dim := breakdowns.rollup_dim(db, ctx.forms, ctx.selected, dims, query.by,
                                                             query.channel)):
        # whole quarters from the breakdown rollup, the days around them from the submissions
        quarters, edges = breakdowns.split_quarters(query.date_from, query.date_to)
        if quarters is not None:
            add(choices.choice_sums(db, ctx.selection(), dims, choice_dim, *quarters))
        for edge in edges:
            scan(utc_window(*edge))
    else:
        scan(whole_window)

    _add_declined(db, ctx, query, dims, keyer, groups, answer_dims, whole_window)
    if any(s.measures[_M["irregular"]] for s in groups.values()):
        _add_irregular(db, ctx, query, dims, keyer, groups, answer_dims, whole_window)
    items = _add_items(db, ctx, query, dims, keyer, groups, whole_window) if query.items else []
    cells = [_cell(dict(zip(query.by, key)), sums, query.min_n, items)
             for key, sums in groups.items()]
    cells.sort(key=lambda c: [(v is None, v or "") for v in c.key.values()])
    return cells


def _add_declined(db, ctx, query, dims, keyer, groups, answer_dims, window) -> None:
    """Count the submissions that declined consent into their cells (they are already among
    the cell's submissions, and never among its respondents)."""
    width = len(dims)
    for form_id in ctx.forms if answer_dims else (None,):
        sel = ctx.selection(form_id, query.channel)
        if not sel.version_ids:
            continue
        for row in scores.declined_counts(db, sel, dims, *window, form_id=form_id):
            sums = groups.get(keyer(row[:width])) if keyer.keep(row[:width]) else None
            if sums is not None:
                sums.declined += row[-1]


def _add_irregular(db, ctx, query, dims, keyer, groups, answer_dims, window) -> None:
    """Add, exactly, the criterion scores that could not be stored in SCORE_UNITs."""
    width = len(dims)
    form_ids = ctx.forms if answer_dims else (None,)
    for form_id in form_ids:
        sel = ctx.selection(form_id, query.channel)
        if not sel.version_ids:
            continue
        for row in scores.irregular_counts(db, sel, dims, *window, form_id=form_id):
            sums = groups.get(keyer(row[:width])) if keyer.keep(row[:width]) else None
            count = row[-1]
            for i, criterion in enumerate(CRITERIA):
                valid, satisfied, missing = row[width + 3 * i: width + 3 * i + 3]
                if valid and missing and sums is not None:
                    share = Fraction(satisfied, valid)
                    sums.extra_sum[criterion] = sums.extra_sum.get(criterion, 0) + count * share
                    sums.extra_sq[criterion] = sums.extra_sq.get(criterion, 0) + count * share * share


def item_rules(ctx: Context, form_id: str) -> list[tuple[str, str, list[scores.ItemRule]]]:
    """(path, criterion, rules) of every item marked in a kept version of the form; versions
    sharing a scale share a rule. The criterion is the newest version's."""
    by_path: dict[str, dict[tuple, list[int]]] = {}
    criterion: dict[str, str] = {}
    for vid in ctx.selected:
        rules = ctx.versions[vid]
        if rules.form_id != form_id:
            continue
        for path, crit in rules.items.items():
            scale = (tuple(sorted(rules.valid)), tuple(sorted(rules.satisfied)))
            by_path.setdefault(path, {}).setdefault(scale, []).append(vid)
            criterion[path] = crit
    return [(path, criterion[path],
             [scores.ItemRule(tuple(ids), valid, satisfied) for (valid, satisfied), ids in groups.items()])
            for path, groups in by_path.items()]


def _add_items(db, ctx, query, dims, keyer, groups, window) -> list[tuple[str, str, str]]:
    """Count each item's answers into the groups; returns (form, path, criterion) of the items."""
    width = len(dims)
    listed = []
    for form_id in ctx.forms:
        sel = ctx.selection(form_id, query.channel)
        items = item_rules(ctx, form_id)
        if not sel.version_ids or not items:
            continue
        listed += [(form_id, path, crit) for path, crit, _ in items]
        rows = scores.item_counts(db, form_id, sel, dims, *window,
                                  [(path, rules) for path, _, rules in items])
        for row in rows:
            sums = groups.get(keyer(row[:width])) if keyer.keep(row[:width]) else None
            if sums is None:
                continue
            for i, (path, _, _) in enumerate(items):
                counts = sums.items.setdefault((form_id, path), [0, 0])
                counts[0] += row[width + 2 * i] or 0
                counts[1] += row[width + 2 * i + 1] or 0
    return listed


def _interval(centre: Fraction, total: Fraction, squares: Fraction, n: int,
              unit: int = 100) -> tuple[float | None, tuple[float, float] | None]:
    """(sample sd of the values, 95% interval around `centre`) from n, sum and sum of squares."""
    if n < 2:
        return None, None
    return _spread(centre, float((squares - total * total / n) / (n - 1)), n, unit)


def _whole_interval(centre: Fraction, total: int, squares: int, scale: int, n: int,
                    unit: int = 100) -> tuple[float | None, tuple[float, float] | None]:
    """The same from whole sums in units of 1/scale (the squares in 1/scale^2), without
    Fractions: the variance (n Q - S^2) / (n (n-1) scale^2) is one correctly rounded division
    of integers, the same float as the Fraction's."""
    if n < 2:
        return None, None
    return _spread(centre, (n * squares - total * total) / (n * (n - 1) * scale * scale), n, unit)


def _spread(centre: Fraction, variance: float, n: int, unit: int):
    sd = math.sqrt(max(variance, 0.0))
    half = unit * Z95 * sd / math.sqrt(n)
    middle = centre.numerator / centre.denominator      # float(centre), without the ABC's detour
    return sd, (max(0.0, middle - half), min(float(unit), middle + half))


def _cell(key: dict, sums: _Sums, min_n: int, items: list[tuple[str, str, str]]) -> Cell:
    m = sums.measures
    criteria = {}
    defined = []
    answers = dissatisfied = value_sum = value_n = 0
    for c in CRITERIA:
        n = m[_M[f"{c}_n"]]
        index, sd, ci = None, None, None
        if n and c not in sums.extra_sum:
            index = Fraction(100 * m[_M[f"{c}_sum"]], scores.SCORE_UNIT * n)
            sd, ci = _whole_interval(index, m[_M[f"{c}_sum"]], m[_M[f"{c}_sq"]], scores.SCORE_UNIT, n)
        elif n:
            total = Fraction(m[_M[f"{c}_sum"]], scores.SCORE_UNIT) + sums.extra_sum[c]
            squares = Fraction(m[_M[f"{c}_sq"]], _UNIT2) + sums.extra_sq[c]
            index = 100 * total / n
            sd, ci = _interval(index, total, squares, n)
        crit = CriterionIndex(
            criterion=c, n=n, index=index, sd=sd, ci=ci, answers=m[_M[f"{c}_answers"]],
            dissatisfied=m[_M[f"{c}_low"]],
            mean_score=(Fraction(m[_M[f"{c}_value_sum"]], m[_M[f"{c}_value_n"]])
                        if m[_M[f"{c}_value_n"]] else None),
            enough=n >= min_n)
        criteria[c] = crit
        if index is not None:
            defined.append(index)
        answers += crit.answers
        dissatisfied += crit.dissatisfied
        value_sum += m[_M[f"{c}_value_sum"]]
        value_n += m[_M[f"{c}_value_n"]]
    respondents = m[_M["respondents"]]
    overall = sum(defined, Fraction(0)) / len(defined) if defined else None
    overall_ci = None
    if overall is not None:
        # the interval of the respondents' own mean scores, around the overall index (the
        # two are the same number when every respondent rated every criterion)
        _, overall_ci = _whole_interval(overall, m[_M["overall_sum"]], m[_M["overall_sq"]],
                                        scores.OVERALL_UNIT, respondents)
    item_cells = []
    for form_id, path, criterion in items:
        valid, satisfied = sums.items.get((form_id, path), (0, 0))
        item_cells.append(ItemIndex(form_id=form_id, path=path, criterion=criterion,
                                    answers=valid, satisfied=satisfied, enough=valid >= min_n))
    return Cell(key=key, submissions=m[_M["submissions"]], n=respondents,
                enough=respondents >= min_n, criteria=criteria, overall=overall,
                overall_ci=overall_ci, answers=answers, dissatisfied=dissatisfied,
                value_sum=value_sum, value_n=value_n, items=item_cells, declined=sums.declined)
