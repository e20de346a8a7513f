"""Aggregates: the satisfaction indices, rankings and the dissatisfied list (docs/index-definitions.md).

A library with no web code: the JSON API (server/api.py), the `indices` command and the tests
call it directly.

    compute_indices(db, IndexQuery(forms=("tthc_hailong",), by=("unit", "quarter"))) -> [Cell]
    rank_units(db, RankQuery(forms=("tthc_hailong",), level="huyen", period="2026-Q3")) -> Ranking
    list_dissatisfied(db, DissatisfiedQuery(forms=("tthc_hailong",))) -> DissatisfiedPage
    refresh(db) -> int          # score the submissions stored since the last call

Modules: `scoring` (one submission's answers -> its stored scores), `engine` (sums -> indices),
`periods` (Vietnam-time months, quarters, halves, years), `rankings`, `dissatisfied`,
`params` (query strings -> queries), `render` (JSON shape and text table), `problems` (errors).
"""
from .dissatisfied import DissatisfiedPage, DissatisfiedQuery, list_dissatisfied  # noqa: F401
from .engine import DEFAULT_MIN_N, Cell, CriterionIndex, IndexQuery, ItemIndex, compute_indices  # noqa: F401
from .problems import QueryError  # noqa: F401
from .rankings import Ranking, RankQuery, rank_units  # noqa: F401
from .scoring import refresh  # noqa: F401
from .weighting import WeightedCell, WeightedCriterion, weighted_indices  # noqa: F401
