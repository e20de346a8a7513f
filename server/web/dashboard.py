"""The dashboard of a form: indices with their intervals, the quarterly trend, the ranking of
units, breakdowns by channel and by a select_one question, the dissatisfied list with its
follow-up, export links, and publishing results for the public page.

Every figure comes from `aggregate` (the same queries and JSON shape as /api/v1), always within
the account's unit scope. The tables are rendered here, so the page reads without script and
the tables are the charts' text alternative; the charts are drawn by static/dashboard.js from
the same figures, embedded in the page as JSON, so each breakdown is computed once per view.
Filters live in the query string so that a view can be shared as a link.
Every role of the web pages reads; reporters and administrators follow up and publish.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from flask import abort, flash, g, redirect, render_template, request, url_for

from actions import followups as followup_actions, results
from aggregate import IndexQuery, QueryError, RankQuery, compute_indices, weighted_indices
from aggregate import periods, published, render
from aggregate.breakdowns import breakdown_paths
from aggregate.engine import QUESTION, default_level
from aggregate.unit_views import RECORDED, VIEWS
from aggregate.rankings import rank_units
from aggregate.scoring import rules_of
from storage import browse, publications, scores, units
from vocabulary import CHANNELS, LEVELS

from ..dbconn import get_db
from ..permissions import can
from .common import form_or_404, requires, safe_next, user_scope, web_blueprint
from .followup_list import open_count
from .i18n import lang, t

bp = web_blueprint("dashboard", __name__, url_prefix="/dashboard")

CHILD_LEVEL = {"tinh": "huyen", "huyen": "xa", "xa": "xa"}


@bp.app_template_filter("pick")
def pick(pair: dict | None) -> str:
    """The page language's text of a {"vi", "en"} label from the aggregate JSON (the public
    page's snapshots use the same shape)."""
    if not pair:
        return ""
    return pair.get(lang()) or pair.get("vi") or ""


# --- filters --------------------------------------------------------------------------------

@dataclass
class Filters:
    period: periods.Period | None = None
    unit: str | None = None
    channel: str | None = None
    version: str | None = None
    question: str | None = None      # select_one path of the breakdown
    level: str | None = None         # the ranking's level
    units: str = RECORDED            # the view of the past: as recorded, or on today's units

    def shared(self) -> dict:
        """The query string of this view (what a shared link keeps)."""
        values = {"period": self.period.key if self.period else None, "unit": self.unit,
                  "channel": self.channel, "version": self.version, "q": self.question,
                  "level": self.level, "units": self.units if self.units != RECORDED else None}
        return {k: v for k, v in values.items() if v}

    def query(self, scope: str | None, *, dated: bool = True, view: bool = True) -> dict:
        """The same filters as keyword arguments of the aggregate queries (`view`: with the
        view of the past, which the dissatisfied list, one row per answer, does not take)."""
        values = {"unit": self.unit, "scope": scope, "channel": self.channel,
                  "versions": (self.version,) if self.version else ()}
        if view:
            values["units"] = self.units
        if dated and self.period:
            values.update({"date_from": self.period.start, "date_to": self.period.end})
        return values


def _breakdown_questions(db, form_id: str) -> list[dict]:
    """The select_one questions a breakdown can use (newest label per path), in form order."""
    found: dict[str, dict] = {}
    for version in scores.form_versions(db, [form_id]):
        fields = rules_of(version).select_one
        for path in breakdown_paths(version):
            found[path] = fields[path]
    return [{"path": path, "labels": field.get("labels")} for path, field in found.items()]


# what a dashboard address may carry; anything else is refused, as the API refuses it
DASHBOARD_PARAMS = ("period", "unit", "channel", "version", "q", "level", "units")


def _read_filters(db, form_id: str, versions: list[dict], questions: list[dict]) -> tuple[Filters, list[QueryError]]:
    """The filters of the address, and a refusal for every value that is not one of the choices:
    a mistyped shared link (channel=fax) must not silently show the whole scope."""
    args = request.args
    filters = Filters()
    problems: list[QueryError] = []
    for name in args:
        if name not in DASHBOARD_PARAMS:
            problems.append(QueryError("unknown_parameter", name=name, allowed=", ".join(DASHBOARD_PARAMS)))
    text = args.get("period", "").strip()
    if text:
        try:
            filters.period = periods.parse_period(text)
        except ValueError:
            problems.append(QueryError("bad_period", value=text))
    unit = args.get("unit", "").strip()
    if unit:
        if not browse.unit_in_scope(db, unit, user_scope()):
            abort(404)              # another unit's figures are not even said to exist
        filters.unit = unit
    channel = args.get("channel", "").strip()
    if channel in CHANNELS:
        filters.channel = channel
    elif channel:
        problems.append(QueryError("bad_channel", value=channel, allowed=", ".join(CHANNELS)))
    version = args.get("version", "").strip()
    if version in {v["version"] for v in versions}:
        filters.version = version
    elif version:
        problems.append(QueryError("unknown_version", form=form_id, value=version))
    paths = [q["path"] for q in questions]
    filters.question = args.get("q") if args.get("q") in paths else None
    if args.get("q") and filters.question is None:
        problems.append(QueryError("bad_question", path=args["q"]))
    if filters.question is None and paths:
        # the procedure field is what reports break down by first
        filters.question = next((p for p in paths if p.endswith("procedure_field")), paths[0])
    if args.get("units") in VIEWS:
        filters.units = args["units"]
    elif args.get("units"):
        problems.append(QueryError("bad_units", value=args["units"]))
    in_force = {u["level"] for u in units.all_units(db, in_force=True)}
    if args.get("level") in LEVELS and args["level"] in in_force:
        filters.level = args["level"]
    else:
        if args.get("level"):
            problems.append(QueryError("bad_level", value=args["level"]))
        # the level just under the unit looked at: a district's communes, the province's
        # districts, or its communes where districts no longer exist
        anchor = units.get_unit(db, filters.unit or user_scope()) if (filters.unit or user_scope()) else None
        filters.level = CHILD_LEVEL[anchor["level"]] if anchor else default_level(db)
        if filters.level not in in_force:
            filters.level = default_level(db)
    return filters, problems


def _refused(form_row: dict, problems: list[QueryError]):
    """The page saying which filters are wrong, with a link to the same view without them."""
    bad = {name for name in request.args if name not in DASHBOARD_PARAMS}
    bad |= {key for key, code in (("period", "bad_period"), ("channel", "bad_channel"), ("version", "unknown_version"),
                                  ("q", "bad_question"), ("level", "bad_level"), ("units", "bad_units"))
            if any(p.code == code for p in problems)}
    kept = {k: v for k, v in request.args.items() if k not in bad}
    return render_template("dashboard/refused.html", form=form_row, messages=[p.message(lang()) for p in problems],
                           clean_url=_with_query(url_for("dashboard.form", form_id=form_row["form_id"]), kept)), 400


# --- pages ----------------------------------------------------------------------------------

@bp.get("/")
def index():
    forms = browse.forms_in_scope(get_db(), user_scope())
    return render_template("dashboard/index.html", forms=forms)


def _indices(db, form_id: str, filters: Filters, by: tuple[str, ...], dated: bool = True,
             weighted: bool = False) -> dict:
    query = IndexQuery(forms=(form_id,), by=by, **filters.query(user_scope(), dated=dated))
    return render.indices_json(db, query, compute_indices(db, query),
                               weighted_indices(db, query) if weighted else None)


def _ranking_weighted(db, form_id: str, filters: Filters, period: periods.Period | None) -> dict:
    """{unit code: its index weighted by dossier volume} for the ranked level and period; empty
    for communes (one stratum each: the weighted index would repeat the index) and when the
    register has no dossier of the period."""
    if period is None or filters.level == "xa":
        return {}
    data = _indices(db, form_id, replace(filters, period=period), (filters.level,), weighted=True)
    return {cell["key"][filters.level]: cell["weighted"] for cell in data["cells"] if cell["weighted"]}


def _with_query(path: str, args: dict) -> str:
    kept = {k: v for k, v in args.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


def _period_choices(trend: dict, selected: periods.Period | None) -> list[dict]:
    """Years and quarters that hold submissions (newest first), and the one in the URL."""
    keys = set()
    for cell in trend["cells"]:
        if cell["key"]["quarter"]:
            quarter = periods.parse_period(cell["key"]["quarter"])
            keys.update({quarter.key, str(quarter.year)})
    if selected:
        keys.add(selected.key)
    chosen = [periods.parse_period(k) for k in keys]
    chosen.sort(key=lambda p: published.period_order(p.key))
    return [{"key": p.key, "label": p.label(lang())} for p in chosen]


@bp.get("/<form_id>")
def form(form_id):
    db = get_db()
    form_row = form_or_404(form_id)
    versions = browse.form_versions(db, form_id)
    questions = _breakdown_questions(db, form_id)
    filters, problems = _read_filters(db, form_id, versions, questions)
    if problems:
        return _refused(form_row, problems)
    scope = user_scope()

    overall = _indices(db, form_id, filters, (), weighted=True)
    trend = _indices(db, form_id, filters, ("quarter",), dated=False)
    channels = _indices(db, form_id, filters, ("channel",))
    by_question = _indices(db, form_id, filters, (QUESTION + filters.question,)) if filters.question else None

    # a ranking needs one period: the chosen one, else the latest quarter with enough answers
    # (a quarter just begun would rank nobody), else the latest with any
    rank_period = filters.period
    if rank_period is None:
        quarters = [c for c in trend["cells"] if c["key"]["quarter"]]
        chosen = [c for c in quarters if c["enough"]] or quarters
        rank_period = periods.parse_period(chosen[-1]["key"]["quarter"]) if chosen else None
    ranking = None
    if rank_period:
        rank_query = RankQuery(forms=(form_id,), level=filters.level, period=rank_period.key,
                               **filters.query(scope, dated=False))
        ranking = render.rankings_json(db, rank_query, rank_units(db, rank_query))
    ranking_weighted = _ranking_weighted(db, form_id, filters, rank_period) if ranking else {}

    # the follow-up list has its own page (followup_list); the summary shows how many are open
    dissatisfied_total, open_cases = open_count(db, form_id, **filters.query(scope, view=False))

    shared = filters.shared()
    # the exports area's endpoints, by their documented paths: the data of this view (every
    # channel: the export has no channel filter) and the report of its period
    export_args = {"period": filters.period.key if filters.period else None, "unit": filters.unit,
                   "version": filters.version, "lang": "en" if lang() == "en" else None}
    report_period = filters.period or rank_period
    report_args = {"period": report_period.key if report_period else None, "unit": filters.unit}
    # started as background jobs (server/export_jobs.py): the fields of their forms
    export_fields = {k: v for k, v in export_args.items() if v}
    report_fields = {k: v for k, v in {**report_args, "lang": export_args["lang"]}.items() if v}

    return render_template(
        "dashboard/form.html", form=form_row, filters=filters, shared=shared, versions=versions,
        questions=questions, units=browse.units_in_scope(db, scope), channels=CHANNELS,
        levels=[level for level in LEVELS if level in {u["level"] for u in units.all_units(db, in_force=True)}]
        or LEVELS, views=VIEWS,
        overall=overall["cells"][0] if overall["cells"] else None, overall_json=overall,
        trend=trend, channel_cells=channels, by_question=by_question, ranking=ranking,
        ranking_weighted=ranking_weighted,
        rank_period=rank_period, dissatisfied_total=dissatisfied_total, open_cases=open_cases,
        followup_filters={k: v for k, v in shared.items() if k in ("period", "unit", "channel", "version")},
        export_fields=export_fields, report_fields=report_fields,
        period_choices=_period_choices(trend, filters.period),
        publications=publications.live(db, form_id, scope=scope),
        can_edit=can(g.user, "result.publish"), this_url=request.full_path.rstrip("?"))


# --- follow-up and publishing ---------------------------------------------------------------

def _back(form_id: str, anchor: str):
    target = safe_next(request.form.get("next"))
    if not target or not target.startswith(url_for("dashboard.form", form_id=form_id)):
        target = url_for("dashboard.form", form_id=form_id)
    return redirect(f"{target}#{anchor}")


@bp.post("/<form_id>/followups/<int:submission_id>")
@requires("dissatisfied.follow_up")
def followup(form_id, submission_id):
    db = get_db()
    form_or_404(form_id)
    row = browse.submission_in_scope(db, submission_id, user_scope())
    if row is None or row["form_id"] != form_id:
        abort(404)
    anchor = f"dissatisfied-{submission_id}"
    try:
        followup_actions.set_status(db, submission_id, request.form.get("status"), request.form.get("note", ""),
                                    actor=g.user["name"])
    except followup_actions.FollowupRefused as exc:
        flash(t(exc.vi, exc.en), "error")
        return _back(form_id, anchor)
    flash(t("Đã lưu trạng thái theo dõi.", "The follow-up status was saved."), "success")
    return _back(form_id, anchor)


@bp.post("/<form_id>/publish")
@requires("result.publish")
def publish(form_id):
    db = get_db()
    form_or_404(form_id)
    scope = user_scope()
    period = request.form.get("period", "").strip()
    unit = request.form.get("unit", "").strip() or None
    level = request.form.get("level", "").strip() or None
    if unit is None and scope is not None:
        unit = scope                 # a unit-bound account publishes within its own unit
    if unit is not None and not browse.unit_in_scope(db, unit, scope):
        abort(404)
    target = published.PublishTarget(form_id=form_id, period=period, unit=unit, level=level, scope=scope)
    try:
        snapshot = results.publish(db, target, actor=g.user["name"])
    except QueryError as exc:
        flash(exc.message(lang()), "error")
        return _back(form_id, "publish")
    if not snapshot["cells"]:
        flash(t(f"Không có ô số liệu nào đủ {target.min_n} người trả lời; không có gì được công bố.",
                f"No cell has {target.min_n} respondents or more; nothing was published."), "error")
        return _back(form_id, "publish")
    flash(t(f"Đã công bố kết quả {snapshot['period']['vi']} ({len(snapshot['cells'])} ô số liệu).",
            f"Published the results of {snapshot['period']['en']} ({len(snapshot['cells'])} cells)."), "success")
    return _back(form_id, "publish")


@bp.post("/<form_id>/publications/<int:publication_id>/withdraw")
@requires("result.publish")
def withdraw(form_id, publication_id):
    db = get_db()
    form_or_404(form_id)
    found = publications.get_live(db, publication_id, user_scope())
    if found is None or found["form_id"] != form_id:
        abort(404)
    results.withdraw(db, publication_id, actor=g.user["name"])
    flash(t("Đã gỡ kết quả khỏi trang công khai.", "The result was taken off the public page."), "success")
    return _back(form_id, "publish")
