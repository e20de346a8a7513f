"""Sample plans, assignments to surveyors, coverage and invitations (pages under /sampling).

Reporters and administrators draw a plan from the dossier register, share its members among
surveyors (whose Collect then carries the list), follow the coverage, and print invitations
for the online channel. An account bound to a unit sees the plans of its subtree and of the
units above it, but only the members inside its subtree. Applicants' names and phone numbers
are identifiers: only administrators get them (letters with names, the SMS file), audited.
"""
from __future__ import annotations

import base64
import io

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from aggregate import periods
from exports import csvcells
from sampling import coverage as cover
from sampling import plans
from sampling.draw import DEFAULT_MARGIN, DEFAULT_RESERVE_PERCENT
from sampling.invitations import letter_rows, sms_csv
from actions import plans as plan_actions
from actions.audited_reads import record_read
from storage import browse, registers, sampling, units

from ..channels import registry
from ..channels.staff import server_base
from ..dbconn import get_db
from ..permissions import can
from .common import requires, user_scope, web_blueprint
from .i18n import t, unit_name

bp = web_blueprint("sampling", __name__, url_prefix="/sampling")

MAX_LETTERS = 500


def _within() -> set[str] | None:
    """The units of the account's subtree (None: province-wide), once per request."""
    if "sampling_within" not in g:
        g.sampling_within = units.subtree_codes(get_db(), user_scope()) if user_scope() else None
    return g.sampling_within


def _relation(plan: dict) -> str | None:
    """'own' for a plan of the account's subtree (it may change it), 'above' for a plan of a unit
    above it (it reads its own part), None for any other."""
    within = _within()
    if within is None or plan["unit_code"] in within:
        return "own"
    if plan["unit_code"] is None or plan["unit_code"] in units.ancestor_codes(get_db(), user_scope()):
        return "above"
    return None


def _plan_or_404(plan_id: int, *, own: bool = False) -> dict:
    """A plan the account may see; with `own`, one it may change."""
    plan = sampling.get_plan(get_db(), plan_id)
    relation = _relation(plan) if plan else None
    if relation is None or (own and relation != "own"):
        abort(404)
    return plan


@bp.get("/")
@requires("plan.manage")
def index():
    return _render_index()


def _render_index(status: int = 200, form: dict | None = None):
    db = get_db()
    scope = user_scope()
    return render_template(
        "sampling/index.html", plans=[p for p in sampling.list_plans(db, include_withdrawn=True) if _relation(p)],
        forms=[f for f in browse.forms_in_scope(db, scope) if f["state"] == "open"],
        units=browse.units_in_scope(db, scope), dossiers=registers.dossier_count(db, scope=_within()),
        imports=registers.recent_imports(db, 1, scope=_within()), form=form or {},
        default_margin=DEFAULT_MARGIN, default_reserve=DEFAULT_RESERVE_PERCENT), status


@bp.post("/plans")
@requires("plan.manage")
def create_plan():
    db = get_db()
    form = request.form
    form_id = form.get("form_id", "")
    if browse.form_in_scope(db, form_id, user_scope()) is None:
        flash(t("Hãy chọn một biểu mẫu.", "Choose a form."), "error")
        return _render_index(400, form.to_dict())
    try:
        rule = plans.parse_rule(method=form.get("method", ""), margin=form.get("margin"),
                                fixed_size=form.get("fixed_size"), by_field=form.get("by_field") == "1",
                                reserve_percent=form.get("reserve_percent"), seed=form.get("seed"))
        plan_id = plans.create(db, form_id=form_id, period=form.get("period", ""),
                               unit_code=form.get("unit") or None, rule=rule, actor=g.user["name"],
                               scope=user_scope())
    except plans.PlanError as exc:
        flash(t(exc.vi, exc.en), "error")
        return _render_index(400, form.to_dict())
    flash(t("Đã chọn mẫu. Hãy giao danh sách cho điều tra viên.",
            "Sample drawn. Now assign it to surveyors."), "success")
    return redirect(url_for("sampling.plan", plan_id=plan_id))


@bp.get("/plans/<int:plan_id>")
@requires("plan.manage")
def plan(plan_id):
    db = get_db()
    found = _plan_or_404(plan_id)
    within = _within()
    result = cover.plan_coverage(db, found, within)
    strata = [s for s in sampling.plan_strata(db, plan_id) if within is None or s["unit_code"] in within]
    unit_rows = {u["code"]: u for u in units.all_units(db)}
    plan_units = sorted({s["unit_code"] for s in strata})
    collectors = [c for c in browse.users_in_scope(db, user_scope(), collectors=True) if not c["revoked_at"]]

    def unit_label(code):
        return f"{unit_name(unit_rows[code], '')} ({code})" if code in unit_rows else code

    by_unit = [(unit_label(code), c) for code, c in result["by_unit"]]
    by_collector = [(name or t("(chưa giao)", "(not assigned)"), c) for name, c in result["by_collector"]]
    return render_template(
        "sampling/plan.html", plan=found, period=periods.parse_period(found["period"]), result=result,
        by_unit=by_unit, by_collector=by_collector,
        strata=strata, unit_rows=unit_rows, plan_units=plan_units, collectors=collectors,
        can_change=_relation(found) == "own", can_see_identifiers=can(g.user, "plan.identifiers"),
        rate=cover.rate_text, max_letters=MAX_LETTERS)


@bp.post("/plans/<int:plan_id>/assign")
@requires("plan.manage")
def assign(plan_id):
    db = get_db()
    found = _plan_or_404(plan_id)
    if found["withdrawn_at"]:
        abort(409)
    within = _within()
    chosen_units = set(request.form.getlist("unit"))
    plan_units = {s["unit_code"] for s in sampling.plan_strata(db, plan_id)}
    if not chosen_units or not chosen_units <= plan_units or (within is not None and not chosen_units <= within):
        flash(t("Hãy chọn các đơn vị của kế hoạch (trong phạm vi tài khoản).",
                "Choose units of the plan (within your account's scope)."), "error")
        return redirect(url_for("sampling.plan", plan_id=plan_id))
    names = request.form.getlist("collector")
    collectors = {c["name"]: c for c in browse.users_in_scope(db, user_scope(), collectors=True)
                  if not c["revoked_at"]}
    if any(name not in collectors for name in names):
        flash(t("Điều tra viên không hợp lệ.", "Unknown surveyor."), "error")
        return redirect(url_for("sampling.plan", plan_id=plan_id))
    try:
        count = plans.assign(db, plan_id, [collectors[n] for n in names], g.user["name"], unit_codes=chosen_units)
    except plans.PlanError as exc:
        flash(t(exc.vi, exc.en), "error")
        return redirect(url_for("sampling.plan", plan_id=plan_id))
    if names:
        flash(t(f"Đã giao {count} hồ sơ cho {', '.join(names)}. Danh sách xuất hiện trong ODK Collect khi "
                "điều tra viên tải lại biểu mẫu.",
                f"{count} dossiers assigned to {', '.join(names)}. The list reaches ODK Collect when the "
                "surveyor gets the blank form again."), "success")
    else:
        flash(t(f"Đã bỏ giao {count} hồ sơ.", f"{count} dossiers unassigned."), "success")
    return redirect(url_for("sampling.plan", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/withdraw")
@requires("plan.manage")
def withdraw(plan_id):
    found = _plan_or_404(plan_id, own=True)
    if request.form.get("confirm") != "yes":
        flash(t("Hãy đánh dấu ô xác nhận trước khi huỷ kế hoạch.", "Tick the confirmation box first."), "error")
    elif plan_actions.withdraw(get_db(), found["id"], g.user["name"]):
        flash(t("Đã huỷ kế hoạch; danh sách của nó không còn trên thiết bị.",
                "Plan withdrawn; its lists leave the devices."), "success")
    return redirect(url_for("sampling.plan", plan_id=plan_id))


def _members_in_view(plan: dict) -> list[dict]:
    members = cover.members_within(get_db(), plan, _within())
    unit = request.args.get("unit")
    if unit:
        members = [m for m in members if m["unit_code"] == unit]
    if request.args.get("which", "pending") == "pending":
        members = [m for m in members if m["active"] and m["status"] == "pending"]
    return members


def _raw_cells() -> bool:
    """`?raw_cells=1`: cells as stored, formulas not neutralised (exports/csvcells.py)."""
    return request.args.get("raw_cells") == "1"


def _csv_response(body: bytes, filename: str):
    response = current_app.response_class(body, 200, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/plans/<int:plan_id>/members.csv")
@requires("plan.manage")
def members_csv(plan_id):
    """The plan's members and where each stands; no name or phone."""
    found = _plan_or_404(plan_id)
    out = io.StringIO()
    writer = csvcells.writer(out, raw=_raw_cells())
    writer.writerow(["dossier_code", "unit_code", "stratum_field", "rank", "reserve", "active", "status",
                     "collector", "procedure_name", "returned_on"])
    for m in cover.members_within(get_db(), found, _within()):
        writer.writerow([m["code"], m["unit_code"], m["stratum_field"], m["rank"], m["reserve"], int(m["active"]),
                         m["status"], m["collector_name"] or "", m["procedure_name"] or "", m["returned_on"] or ""])
    return _csv_response(("\ufeff" + out.getvalue()).encode("utf-8"), f"sample-{plan_id}.csv")


@bp.get("/plans/<int:plan_id>/letters")
@requires("plan.manage")
def letters(plan_id):
    """Printable invitations, one A4 page per dossier, with the QR code of its public link."""
    db = get_db()
    found = _plan_or_404(plan_id)
    with_names = request.args.get("names") == "1"
    if with_names and not can(g.user, "plan.identifiers"):
        abort(403)
    members = _members_in_view(found)
    if len(members) > MAX_LETTERS:
        flash(t(f"Có {len(members)} thư; hãy in theo từng đơn vị (tối đa {MAX_LETTERS} thư một lần).",
                f"{len(members)} letters; print one unit at a time (at most {MAX_LETTERS} at once)."), "error")
        return redirect(url_for("sampling.plan", plan_id=plan_id))
    rows = letter_rows(db, found, members, base_url=server_base(), link=registry.public_url, with_names=with_names)
    for row in rows:
        row["qr_data_uri"] = "data:image/png;base64," + base64.b64encode(registry.qr_code_png(row["link"])).decode("ascii")
    if with_names:
        record_read(db, g.user["name"], "sample.letters_with_names", f"plan:{plan_id}", letters=len(rows))
    return render_template("sampling/letters.html", plan=found, rows=rows,
                           unit_rows={u["code"]: u for u in units.all_units(db)})


@bp.get("/plans/<int:plan_id>/sms.csv")
@requires("plan.identifiers")
def sms(plan_id):
    """Phone numbers and messages for an SMS gateway (identifiers: administrators, audited)."""
    db = get_db()
    found = _plan_or_404(plan_id)
    members = _members_in_view(found)
    rows = letter_rows(db, found, members, base_url=server_base(), link=registry.public_url, with_names=True)
    body = sms_csv(rows, raw=_raw_cells())
    record_read(db, g.user["name"], "sample.sms_export", f"plan:{plan_id}",
                messages=sum(1 for r in rows if r["phone"]))
    return _csv_response(body, f"sms-{plan_id}.csv")
