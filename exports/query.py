"""What to export, read from a query string or the command line, and checked against the
database before a single byte is written: a refused export never leaves a truncated file.

    plan = prepare(db, ExportQuery("tthc_hailong", unit="474", date_from=date(2026, 7, 1)))

`prepare` raises QueryError (aggregate's catalogue, or ExportError) naming the first problem.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from aggregate import params, periods
from aggregate.engine import DEFAULT_MIN_N, resolve, utc_window
from aggregate.problems import QueryError
from storage import units as unit_store
from storage.export_queries import ExportSelection

from .problems import ExportError
from .schema import LANGS, FormSchema, file_stem, load_schema

REVIEW_STATES = ("received", "approved", "hasIssues", "rejected")
HEADER_MODES = ("labels", "names")
VALUE_MODES = ("labels", "codes", "both")     # how the workbook writes a select_one's answer
FILTER_PARAMS = ("from", "to", "period", "unit", "review_state", "version")
XLSX_PARAMS = FILTER_PARAMS + ("lang", "headers", "identifiers", "values")
CSVZIP_PARAMS = FILTER_PARAMS + ("identifiers", "media", "split_select", "raw_cells")
REPORT_PARAMS = ("period", "unit", "min_n", "units", "lang")


@dataclass(frozen=True)
class ExportQuery:
    """A raw data export of one form. Dates are local (Vietnam) days of the interview start,
    both inclusive, as for the indices. `unit` keeps that unit's subtree; `scope` is the
    asking account's unit, whose subtree the export never leaves (None: province-wide)."""
    form_id: str
    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None
    scope: str | None = None
    review_states: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    include_identifiers: bool = False
    lang: str = "vi"
    headers: str = "labels"
    split_select: bool = False   # the CSV zip's 0/1 column per choice (Central's option); the workbook always has them
    media: bool = False          # the CSV zip's media/ folder
    raw_cells: bool = False      # the CSV zip's cells as stored, formulas not neutralised (exports/csvcells.py)
    values: str = "labels"       # the workbook's select_one answers: labels, codes or both (ratings are numbers)
    period: str | None = None    # the period asked for, as typed (for the file's name)


@dataclass
class ExportPlan:
    query: ExportQuery
    schema: FormSchema
    selection: ExportSelection
    unit_name: dict | None = None           # {"vi", "en"} of the unit filter
    filters: dict = field(default_factory=dict)   # for the audit log and the file's notes


def prepare(db, query: ExportQuery) -> ExportPlan:
    """Check everything about an export; the plan then only has to be written."""
    if query.lang not in LANGS:
        raise ExportError("bad_choice", name="lang", allowed=", ".join(LANGS), value=query.lang)
    if query.values not in VALUE_MODES:
        raise ExportError("bad_choice", name="values", allowed=", ".join(VALUE_MODES), value=query.values)
    if query.headers not in HEADER_MODES:
        raise ExportError("bad_choice", name="headers", allowed=", ".join(HEADER_MODES), value=query.headers)
    for state in query.review_states:
        if state not in REVIEW_STATES:
            raise ExportError("bad_choice", name="review_state", allowed=", ".join(REVIEW_STATES), value=state)
    # the form, the unit against the scope, the versions and the dates: the indices' own checks
    ctx = resolve(db, forms=(query.form_id,), unit=query.unit, scope=query.scope,
                  versions=query.versions, date_from=query.date_from, date_to=query.date_to)
    start, end = utc_window(query.date_from, query.date_to)
    selection = ExportSelection(form_id=query.form_id, unit_codes=ctx.codes_only_within(), started_from=start,
                                started_before=end, review_states=query.review_states,
                                versions=query.versions)
    unit_name = None
    if query.unit:
        unit = unit_store.get_unit(db, query.unit)
        unit_name = {"vi": unit["name_vi"], "en": unit["name_en"] or unit["name_vi"]}
    filters = {"from": query.date_from.isoformat() if query.date_from else None,
               "to": query.date_to.isoformat() if query.date_to else None,
               "unit": query.unit, "scope": query.scope,
               "review_states": list(query.review_states) or None,
               "versions": list(query.versions) or None}
    return ExportPlan(query=query, schema=load_schema(db, query.form_id), selection=selection,
                      unit_name=unit_name, filters=filters)


# --- query strings and command-line options ------------------------------------------------------

def _choice(name: str, text: str | None, allowed: tuple[str, ...], default: str) -> str:
    value = (text or "").strip() or default
    if value not in allowed:
        raise ExportError("bad_choice", name=name, allowed=", ".join(allowed), value=value)
    return value


def _dates(args: Mapping[str, str]) -> tuple[date | None, date | None]:
    period_text = (args.get("period") or "").strip()
    if period_text:
        if args.get("from") or args.get("to"):
            raise ExportError("period_and_dates")
        period = parse_period(period_text)
        return period.start, period.end
    return params.parse_date("from", args.get("from")), params.parse_date("to", args.get("to"))


def parse_period(text: str) -> periods.Period:
    try:
        return periods.parse_period(text)
    except ValueError:
        raise QueryError("bad_period", value=text) from None


def export_query(form_id: str, fmt: str, args: Mapping[str, str], scope: str | None = None) -> ExportQuery:
    """An ExportQuery from query-string style arguments (the API's and the command's)."""
    params.check_known(args, XLSX_PARAMS if fmt == "xlsx" else CSVZIP_PARAMS)
    date_from, date_to = _dates(args)
    return ExportQuery(
        form_id=form_id, date_from=date_from, date_to=date_to,
        unit=(args.get("unit") or "").strip() or None, scope=scope,
        review_states=params.split_list(args.get("review_state")),
        versions=params.split_list(args.get("version")),
        include_identifiers=params.parse_flag("identifiers", args.get("identifiers")),
        lang=_choice("lang", args.get("lang"), LANGS, "vi"),
        headers=_choice("headers", args.get("headers"), HEADER_MODES, "labels"),
        split_select=params.parse_flag("split_select", args.get("split_select")) if fmt == "csvzip" else False,
        media=params.parse_flag("media", args.get("media")) if fmt == "csvzip" else False,
        raw_cells=params.parse_flag("raw_cells", args.get("raw_cells")) if fmt == "csvzip" else False,
        values=_choice("values", args.get("values"), VALUE_MODES, "labels") if fmt == "xlsx" else "labels",
        period=(args.get("period") or "").strip().upper() or None)


def export_filename(query: ExportQuery, extension: str) -> str:
    """form_unit_period.ext, e.g. tthc_hailong_474_2026-Q3.xlsx: what the file holds, at a glance."""
    unit = query.unit or query.scope or "toan-tinh"
    if query.period:
        period = query.period
    elif query.date_from or query.date_to:
        period = "_".join(d.isoformat() if d else "" for d in (query.date_from, query.date_to)).strip("_")
    else:
        period = "tat-ca"
    return f"{file_stem(query.form_id)}_{file_stem(unit)}_{file_stem(period)}.{extension}"


@dataclass(frozen=True)
class ReportQuery:
    form_id: str
    period: str
    unit: str | None = None
    scope: str | None = None
    min_n: int = DEFAULT_MIN_N
    units: str = "recorded"          # the view of the past (aggregate/unit_views.py)
    lang: str = "vi"             # the whole workbook in one language: vi (default) or en


def report_query(form_id: str, args: Mapping[str, str], scope: str | None = None,
                 today: date | None = None) -> ReportQuery:
    """Without a period, the quarter running today in Vietnam (what the dashboard links to)."""
    params.check_known(args, REPORT_PARAMS)
    text = (args.get("period") or "").strip()
    if not text:
        from datetime import datetime
        now = today or datetime.now(periods.VN_TZ).date()
        text = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    parse_period(text)
    return ReportQuery(form_id=form_id, period=text.upper(), unit=(args.get("unit") or "").strip() or None,
                       scope=scope, min_n=params.parse_min_n(args.get("min_n")),
                       units=params.parse_units(args.get("units")),
                       lang=_choice("lang", args.get("lang"), LANGS, "vi"))

