"""The weighted index: the indices post-stratified by each unit's dossier volume (README,
"Chỉ số có trọng số / Weighted index").

A survey's respondents are not spread over the units as the dossiers are: a commune that
returned 2,000 dossiers and one that returned 50 weigh the same in the respondent mean if each
had 40 respondents. Here each unit is a stratum weighted by its volume. For a group G (a cell of
a breakdown by level, tinh, huyen, xa and periods) and criterion c:

  W_u      = dossiers of unit u returned in the cell's period (storage.registers.monthly_volumes)
  U_c      = units u of G with W_u > 0 and n_c,u >= min_n
  I^w_c(G) = sum over U_c of W_u * I_c,u / sum over U_c of W_u
  overall  = mean of the defined I^w_c

I_c,u is the engine's index of the submissions recorded against u itself (a `unit` breakdown),
so a district's own desk and each of its communes are separate strata. A stratum with fewer than
min_n answers is left out: its index is too noisy to carry a large weight. Everything is a
Fraction; nothing is rounded here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from storage import registers
from vocabulary import CRITERIA, LEVELS, PERIOD_KINDS

from .engine import Cell, IndexQuery, Keyer, compute_indices, group_dims, resolve
from .problems import QueryError

# the `by` keys a group of units and periods is made of; `unit` is not one: a cell of one unit
# is its own only stratum, so its weighted index would just repeat its index
WEIGHTABLE_BY = ("level",) + LEVELS + PERIOD_KINDS


@dataclass
class WeightedCriterion:
    criterion: str
    index: Fraction | None          # I^w_c; None when no unit qualifies
    units: tuple[str, ...]          # U_c
    n: int                          # respondents with s_rc defined in U_c
    volume: int                     # dossiers of U_c
    share: Fraction | None          # volume / the group's volume
    enough: bool                    # n >= min_n


@dataclass
class WeightedCell:
    key: dict[str, str | None]
    volume: int                     # dossiers of every unit of the group, respondents or not
    criteria: dict[str, WeightedCriterion]
    overall: Fraction | None        # mean of the defined I^w_c
    units: tuple[str, ...]          # units weighted on at least one criterion
    n: int                          # their respondents
    share: Fraction | None          # their dossiers / the group's
    enough: bool
    unregistered: tuple[str | None, ...]   # units with respondents but no dossier (None: no unit given)
    below_min_n: tuple[str, ...]    # units with dossiers left out of a criterion for n_c,u < min_n


def check_by(by: tuple[str, ...]) -> None:
    """Refuse a breakdown whose cells are not groups of units and periods."""
    for key in by:
        if key not in WEIGHTABLE_BY:
            raise QueryError("weighted_by", value=key)


def weighted_indices(db, query: IndexQuery) -> dict[tuple, WeightedCell | None]:
    """{cell key as a tuple in `by` order: its weighted figures} for every cell compute_indices
    gives for `query`; None for a cell without any dossier in the register."""
    ctx = resolve(db, forms=query.forms, unit=query.unit, scope=query.scope, channel=query.channel,
                  versions=query.versions, date_from=query.date_from, date_to=query.date_to,
                  min_n=query.min_n, by=query.by, units=query.units)
    check_by(query.by)
    volumes = _volumes(ctx, query.by, registers.monthly_volumes(db, query.date_from, query.date_to))
    if not volumes:
        # no dossier to weigh by: every cell is None, and no cell per unit need be computed
        return {tuple(cell.key.values()): None for cell in compute_indices(db, replace(query, items=False))}
    strata: dict[tuple, dict[str | None, Cell]] = {}
    for cell in compute_indices(db, replace(query, by=query.by + ("unit",), items=False)):
        values = tuple(cell.key.values())
        strata.setdefault(values[:-1], {})[values[-1]] = cell
    return {key: _weigh(dict(zip(query.by, key)), units, volumes.get(key, {}), query.min_n)
            for key, units in strata.items()}


def _volumes(ctx, by: tuple[str, ...], monthly: dict[tuple[str, int], int]) -> dict[tuple, dict[str, int]]:
    """{group key: {unit: dossiers}}, the register's months put in groups the way the engine puts
    submissions (the same keyer), so a unit's dossiers and answers meet in the same cell."""
    dims = group_dims(by + ("unit",), ctx)     # the unit is each stratum's name
    keyer = Keyer(ctx, by, dims)
    grouped: dict[tuple, dict[str, int]] = {}
    for (unit, month), count in monthly.items():
        if ctx.unit_codes is not None and unit not in ctx.unit_codes:
            continue
        values = tuple(unit if dim == "unit_code" else month for dim in dims)
        if not keyer.keep(values):
            continue
        key, name = keyer(values), keyer.unit_key(values)
        per_unit = grouped.setdefault(key, {})
        per_unit[name] = per_unit.get(name, 0) + count
    return grouped


def _ordered(codes) -> tuple:
    return tuple(sorted(codes, key=lambda code: (code is None, code or "")))


def _share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def _weigh(key: dict, units: dict[str | None, Cell], volume: dict[str, int],
           min_n: int) -> WeightedCell | None:
    total = sum(volume.values())
    if not total:
        return None
    # the strata: units with respondents and dossiers (None, no unit given, has no dossiers)
    strata = {code: (volume[code], cell) for code, cell in units.items() if cell.n and volume.get(code)}
    criteria = {c: _weigh_criterion(c, strata, total, min_n) for c in CRITERIA}
    defined = [w.index for w in criteria.values() if w.index is not None]
    weighted = {code for w in criteria.values() for code in w.units}
    n = sum(units[code].n for code in weighted)
    return WeightedCell(
        key=key, volume=total, criteria=criteria,
        overall=sum(defined, Fraction(0)) / len(defined) if defined else None,
        units=_ordered(weighted), n=n, share=_share(sum(volume[code] for code in weighted), total),
        enough=bool(weighted) and n >= min_n,
        unregistered=_ordered(code for code, cell in units.items() if cell.n and code not in strata),
        below_min_n=_ordered(code for code, (_, cell) in strata.items()
                             if any(cell.criteria[c].n < min_n for c in CRITERIA)))


def _weigh_criterion(criterion: str, strata: dict[str, tuple[int, Cell]], total: int,
                     min_n: int) -> WeightedCriterion:
    chosen = {code: (weight, cell.criteria[criterion]) for code, (weight, cell) in strata.items()
              if cell.criteria[criterion].n >= min_n}
    weights = sum(weight for weight, _ in chosen.values())
    n = sum(crit.n for _, crit in chosen.values())
    index = (sum((weight * crit.index for weight, crit in chosen.values()), Fraction(0)) / weights
             if weights else None)
    return WeightedCriterion(criterion=criterion, index=index, units=_ordered(chosen), n=n,
                             volume=weights, share=_share(weights, total),
                             enough=bool(chosen) and n >= min_n)


def note(db, weighted: dict[tuple, WeightedCell | None]) -> tuple[str, str] | None:
    """Why no cell has weighted figures (Vietnamese, English); None when some cell has them."""
    if any(w is not None for w in weighted.values()):
        return None
    if not registers.dossier_count(db):
        return ("Chưa nhập sổ hồ sơ nào nên chưa tính được chỉ số có trọng số.",
                "No dossier register has been imported, so there is no weighted index.")
    return ("Sổ hồ sơ không có hồ sơ nào của các đơn vị này được trả kết quả trong kỳ, nên chưa tính "
            "được chỉ số có trọng số.",
            "The register has no dossier of these units returned in the period, so there is no "
            "weighted index.")
