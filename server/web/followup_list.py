"""The dissatisfied follow-up list of a form, on its own page: 20 a page, filtered by period,
unit, channel, version, criterion and follow-up status. The dashboard shows only how many are
open and links here.

The criterion and status filters are applied to the whole list of the other filters (the
aggregate's list knows neither): fine for the hundreds a quarter brings; a province-wide list of
many thousands would want them in the query itself.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, g, render_template, request, url_for

from aggregate import DissatisfiedQuery, QueryError, list_dissatisfied, periods, render
from aggregate.dissatisfied import DissatisfiedPage, count_open
from storage import browse, followups
from vocabulary import CHANNELS, CRITERIA

from ..dbconn import get_db
from ..permissions import can
from .common import form_or_404, user_scope, web_blueprint
from .i18n import lang

bp = web_blueprint("followups", __name__, url_prefix="/dashboard")

PAGE = 20
PARAMS = ("period", "unit", "channel", "version", "criterion", "status", "offset")
_CHUNK = 500


def _entries(db, query: DissatisfiedQuery) -> list:
    """Every entry of the list, newest first, in one read."""
    return list_dissatisfied(db, query, everything=True).entries


def _statuses(db, ids: list[int]) -> dict[int, dict]:
    result = {}
    for start in range(0, len(ids), _CHUNK):
        result.update(followups.of_submissions(db, ids[start:start + _CHUNK]))
    return result


def open_count(db, form_id: str, **filters) -> tuple[int, int]:
    """(dissatisfied submissions, of which still open) under the dashboard's filters."""
    return count_open(db, DissatisfiedQuery(forms=(form_id,), **filters))


def _read(db, form_id: str, versions: list[dict]) -> tuple[dict, list[str], set[str]]:
    """The filters of the address; the messages and names of those refused."""
    args, chosen, messages, bad = request.args, {}, [], set()

    def refuse(name, message):
        messages.append(message)
        bad.add(name)

    for name in args:
        if name not in PARAMS:
            refuse(name, QueryError("unknown_parameter", name=name, allowed=", ".join(PARAMS)).message(lang()))
    text = args.get("period", "").strip()
    if text:
        try:
            chosen["period"] = periods.parse_period(text)
        except ValueError:
            refuse("period", QueryError("bad_period", value=text).message(lang()))
    unit = args.get("unit", "").strip()
    if unit:
        if not browse.unit_in_scope(db, unit, user_scope()):
            abort(404)
        chosen["unit"] = unit
    for name, allowed, problem in (("channel", CHANNELS, "bad_channel"),
                                   ("version", [v["version"] for v in versions], "unknown_version")):
        value = args.get(name, "").strip()
        if value in allowed:
            chosen[name] = value
        elif value:
            refuse(name, QueryError(problem, value=value, allowed=", ".join(allowed), form=form_id).message(lang()))
    for name, allowed, problem in (("criterion", CRITERIA, "bad_criterion"),
                                   ("status", followups.STATUSES, "bad_followup_status")):
        value = args.get(name, "").strip()
        if value in allowed:
            chosen[name] = value
        elif value:
            refuse(name, QueryError(problem, value=value, allowed=", ".join(allowed)).message(lang()))
    try:
        chosen["offset"] = int(args.get("offset", 0))
        if chosen["offset"] < 0:
            raise ValueError
    except ValueError:
        chosen["offset"] = 0
        refuse("offset", QueryError("bad_number", name="offset", low=0, high="∞", value=args.get("offset")).message(lang()))
    return chosen, messages, bad


def _url(form_id: str, values: dict) -> str:
    kept = {k: v for k, v in values.items() if v}
    path = url_for("followups.page", form_id=form_id)
    return f"{path}?{urlencode(kept)}" if kept else path


@bp.get("/<form_id>/followups")
def page(form_id):
    db = get_db()
    form_row = form_or_404(form_id)
    versions = browse.form_versions(db, form_id)
    chosen, messages, bad = _read(db, form_id, versions)
    if messages:
        kept = {k: v for k, v in request.args.items() if k not in bad}
        return render_template("dashboard/refused.html", form=form_row, messages=messages,
                               clean_url=_url(form_id, kept)), 400
    period = chosen.get("period")
    query = DissatisfiedQuery(forms=(form_id,), unit=chosen.get("unit"), scope=user_scope(),
                              channel=chosen.get("channel"), versions=(chosen["version"],) if "version" in chosen else (),
                              date_from=period.start if period else None, date_to=period.end if period else None)
    entries = _entries(db, query)
    if "criterion" in chosen:
        entries = [e for e in entries if any(a.criterion == chosen["criterion"] for a in e.low_answers)]
    states = _statuses(db, [e.submission_id for e in entries])
    open_total = sum(1 for e in entries if states[e.submission_id]["status"] == "open")
    if "status" in chosen:
        entries = [e for e in entries if states[e.submission_id]["status"] == chosen["status"]]
    offset = chosen["offset"]
    shown = DissatisfiedPage(len(entries), PAGE, offset, entries[offset:offset + PAGE])
    dissatisfied = render.dissatisfied_json(db, DissatisfiedQuery(**{**query.__dict__, "limit": PAGE, "offset": offset}),
                                            shown)
    shared = {"period": period.key if period else None, **{k: chosen.get(k) for k in
                                                           ("unit", "channel", "version", "criterion", "status")}}
    return render_template(
        "dashboard/followups.html", form=form_row, dissatisfied=dissatisfied, open_total=open_total,
        follow={e["submission_id"]: states[e["submission_id"]] for e in dissatisfied["submissions"]},
        chosen=chosen, shared={k: v for k, v in shared.items() if v},
        back_filters={k: v for k, v in shared.items() if v and k in ("period", "unit", "channel", "version")}, units=browse.units_in_scope(db, user_scope()),
        criteria=CRITERIA, statuses=followups.STATUSES, channels=CHANNELS, versions=versions,
        page_url=lambda new_offset: _url(form_id, {**shared, "offset": new_offset or None}),
        can_edit=can(g.user, "dissatisfied.follow_up"), this_url=request.full_path.rstrip("?"))
