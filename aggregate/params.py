"""Query strings into queries: the same parsing and the same errors for the API and the CLI.

Every parameter not listed for an endpoint is refused: a misspelt `untit=474` must not quietly
return the whole province's figures.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from .dissatisfied import MAX_LIMIT, DissatisfiedQuery
from .engine import DEFAULT_MIN_N, IndexQuery
from .problems import QueryError
from .unit_views import RECORDED, VIEWS
from .rankings import RankQuery

FILTERS = ("from", "to", "unit", "channel", "version")
INDEX_PARAMS = ("by",) + FILTERS + ("min_n", "items", "weighted", "units")
RANK_PARAMS = ("level", "period", "unit", "channel", "version", "min_n", "units")
DISSATISFIED_PARAMS = FILTERS + ("limit", "offset")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^\d{1,9}$")
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no", "")


def split_list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def check_known(args: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    for name in args:
        if name not in allowed:
            raise QueryError("unknown_parameter", name=name, allowed=", ".join(allowed))


def parse_date(name: str, text: str | None) -> date | None:
    if text is None or text == "":
        return None
    if not _DATE.match(text):
        raise QueryError("bad_date", name=name, value=text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError("bad_date", name=name, value=text) from None


def parse_min_n(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_MIN_N
    if not _INT.match(text.strip()) or int(text) < 1:
        raise QueryError("bad_min_n", value=text)
    return int(text)


def parse_int(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    if not _INT.match(text.strip()) or not low <= int(text) <= high:
        raise QueryError("bad_number", name=name, low=low, high=high, value=text)
    return int(text)


def parse_flag(name: str, text: str | None) -> bool:
    value = (text or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise QueryError("bad_flag", name=name, value=text)


def _blank(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


def index_query(forms: tuple[str, ...], args: Mapping[str, str], scope: str | None = None,
                extra: tuple[str, ...] = ()) -> IndexQuery:
    check_known(args, INDEX_PARAMS + extra)
    return IndexQuery(
        forms=forms, by=split_list(args.get("by")),
        date_from=parse_date("from", args.get("from")), date_to=parse_date("to", args.get("to")),
        unit=_blank(args.get("unit")), scope=scope, channel=_blank(args.get("channel")),
        versions=split_list(args.get("version")), min_n=parse_min_n(args.get("min_n")),
        items=parse_flag("items", args.get("items")), units=parse_units(args.get("units")))


def parse_units(text: str | None) -> str:
    """units=recorded (the default) or units=current: the view of the past."""
    value = (text or "").strip() or RECORDED
    if value not in VIEWS:
        raise QueryError("bad_units", value=text)
    return value


def wants_weighted(args: Mapping[str, str]) -> bool:
    """`weighted=1`: the index weighted by dossier volume beside each cell's (not a field of
    IndexQuery: it adds figures to the answer but changes none of the cells)."""
    return parse_flag("weighted", args.get("weighted"))


def rank_query(forms: tuple[str, ...], args: Mapping[str, str], scope: str | None = None,
               extra: tuple[str, ...] = ()) -> RankQuery:
    check_known(args, RANK_PARAMS + extra)
    if not _blank(args.get("period")):
        raise QueryError("missing_parameter", name="period")
    return RankQuery(
        forms=forms, level=(args.get("level") or "").strip(), period=args["period"].strip(),
        unit=_blank(args.get("unit")), scope=scope, channel=_blank(args.get("channel")),
        versions=split_list(args.get("version")), min_n=parse_min_n(args.get("min_n")),
        units=parse_units(args.get("units")))


def dissatisfied_query(forms: tuple[str, ...], args: Mapping[str, str], scope: str | None = None,
                       extra: tuple[str, ...] = ()) -> DissatisfiedQuery:
    check_known(args, DISSATISFIED_PARAMS + extra)
    return DissatisfiedQuery(
        forms=forms, date_from=parse_date("from", args.get("from")),
        date_to=parse_date("to", args.get("to")), unit=_blank(args.get("unit")), scope=scope,
        channel=_blank(args.get("channel")), versions=split_list(args.get("version")),
        limit=parse_int("limit", args.get("limit"), 100, 1, MAX_LIMIT),
        offset=parse_int("offset", args.get("offset"), 0, 0, 10**9))
