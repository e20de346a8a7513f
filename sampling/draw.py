"""Sizing and drawing a sample from the dossiers returned in a period.

Size of a unit's sample: n = ⌈N / (1 + N·e²)⌉ (the SIPAS rule, e = 5% by default), or a fixed
n (at most N). With `by_field` the unit's n is shared among its fields in proportion to their
dossiers (largest remainders; ties go to the field named first). Each stratum also gets a
reserve of ⌈n × reserve% ⌉ more dossiers (at most what is left), asked in order when a member
refuses or cannot be reached.

Drawing: every dossier of a stratum gets the key SHA-256("<seed>\\n<dossier code>") and the
stratum is sorted by it; the first n are the sample, the next r the reserve. The order depends
only on the seed and the codes, so the same register and seed give the same sample on any
machine, and anyone can check a published sample with a spreadsheet and a SHA-256 tool.
"""
from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_MARGIN = "0.05"
DEFAULT_RESERVE_PERCENT = 20


@dataclass(frozen=True)
class SampleRule:
    method: str                 # 'formula' or 'fixed'
    margin: Fraction | None     # e, for 'formula'
    fixed_size: int | None      # n per unit, for 'fixed'
    by_field: bool
    reserve_percent: int
    seed: str


def formula_size(population: int, margin: Fraction) -> int:
    """n = ⌈N / (1 + N·e²)⌉, computed exactly (a float could round 12.0000001 up to 13)."""
    if population <= 0:
        return 0
    return math.ceil(Fraction(population) / (1 + population * margin * margin))


def unit_size(population: int, rule: SampleRule) -> int:
    if rule.method == "formula":
        return formula_size(population, rule.margin)
    return min(rule.fixed_size, population)


def share(total: int, parts: dict[str, int]) -> dict[str, int]:
    """Split `total` among parts in proportion to their sizes by largest remainders."""
    whole = sum(parts.values())
    if whole == 0:
        return {name: 0 for name in parts}
    exact = {name: Fraction(total * size, whole) for name, size in parts.items()}
    given = {name: math.floor(value) for name, value in exact.items()}
    left = total - sum(given.values())
    for name in sorted(parts, key=lambda n: (-(exact[n] - given[n]), n))[:left]:
        given[name] += 1
    return given


def reserve_size(size: int, population: int, percent: int) -> int:
    return min(population - size, math.ceil(Fraction(size * percent, 100)))


def rank_key(seed: str, code: str) -> str:
    return hashlib.sha256(f"{seed}\n{code}".encode("utf-8")).hexdigest()


def draw(population: list[dict], rule: SampleRule) -> tuple[list[dict], list[dict]]:
    """(strata, members) for dossiers given as {id, code, unit_code, procedure_field}."""
    by_stratum: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for dossier in population:
        field = (dossier["procedure_field"] or "") if rule.by_field else ""
        by_stratum[(dossier["unit_code"], field)].append(dossier)
    per_unit: dict[str, dict[str, int]] = defaultdict(dict)
    for (unit, field), dossiers in by_stratum.items():
        per_unit[unit][field] = len(dossiers)

    strata, members = [], []
    for unit in sorted(per_unit):
        sizes = share(unit_size(sum(per_unit[unit].values()), rule), per_unit[unit])
        for field in sorted(per_unit[unit]):
            dossiers = sorted(by_stratum[(unit, field)], key=lambda d: rank_key(rule.seed, d["code"]))
            size = sizes[field]
            reserve = reserve_size(size, len(dossiers), rule.reserve_percent)
            strata.append({"unit_code": unit, "procedure_field": field, "population": len(dossiers),
                           "size": size, "reserve": reserve})
            for rank, dossier in enumerate(dossiers[:size + reserve], start=1):
                members.append({"dossier_id": dossier["id"], "code": dossier["code"], "unit_code": unit,
                                "procedure_field": field, "rank": rank, "reserve": int(rank > size)})
    return strata, members
