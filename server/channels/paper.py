"""Paper questionnaires' pages: printing numbered sheets, entering the returned ones, the sheets
entered twice with different answers.

A print run reserves the next sheet numbers of the form; each sheet carries the form id, the
version and its number. A clerk (reporter or administrator) enters a returned sheet through the
same Web Forms page as everyone else, for that sheet's version, with the print run's unit filled
in. What is stored, and what a second entry of a sheet does (kept apart in paper_conflicts, the
first entry marked "hasIssues" for review), is actions/paper.py's; the entry page and the review
list show it.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from actions import paper
from actions.audited_reads import record_read
from actions.receive.parse import InstanceError, parse_instance
from storage import browse, channels, forms

from ..dbconn import get_blobs, get_db
from ..instance_xml import without_identifiers
from ..permissions import can
from ..web.common import form_or_404, requires, user_scope, web_blueprint
from ..web.i18n import label, t
from . import webforms
from .receiving import Refusal, answer, read_instance, read_posted, refusal_answer
from .sheet import sheet_items
from .staff import open_forms_in_scope

bp = web_blueprint("paper", __name__, url_prefix="/channels/paper")


@bp.errorhandler(Refusal)
def _refused(exc: Refusal):
    return refusal_answer(exc)


def _run_in_scope(run: dict | None) -> dict | None:
    if run is None:
        return None
    if run["unit_code"] and not browse.unit_in_scope(get_db(), run["unit_code"], user_scope()):
        return None
    if run["unit_code"] is None and user_scope() is not None:
        return None
    return run


@bp.get("/")
@requires("link.manage")
def index():
    db = get_db()
    prints = [p for p in channels.list_prints(db) if _run_in_scope(p)]
    return render_template("channels/paper_index.html", forms=open_forms_in_scope(),
                           units=browse.units_in_scope(db, user_scope(), in_force=True), prints=prints,
                           can_enter=can(g.user, "paper.enter"),
                           open_conflicts=len(channels.conflicts(db, scope=user_scope(), open_only=True)),
                           max_sheets=paper.MAX_SHEETS_PER_PRINT)


@bp.post("/print")
@requires("link.manage")
def create_print():
    db = get_db()
    form = form_or_404(request.form.get("form", ""))
    unit_code = (request.form.get("unit") or "").strip() or None
    if unit_code is None and user_scope() is not None:
        unit_code = user_scope()
    if unit_code and not browse.unit_in_scope(db, unit_code, user_scope()):
        abort(404)
    try:
        count = int(request.form.get("count", "0"))
    except ValueError:
        count = 0
    if not 1 <= count <= paper.MAX_SHEETS_PER_PRINT:
        flash(t(f"Số phiếu cần in phải từ 1 đến {paper.MAX_SHEETS_PER_PRINT}.",
                f"The number of sheets must be between 1 and {paper.MAX_SHEETS_PER_PRINT}."), "error")
        return redirect(url_for(".index"))
    run = paper.print_run(db, form_id=form["form_id"], version=form["version"], unit_code=unit_code,
                          count=count, actor=g.user["name"])
    return redirect(url_for(".sheets", print_id=run["id"]))


@bp.get("/prints/<int:print_id>")
@requires("link.manage")
def sheets(print_id):
    """The sheets of a print run, one A4 sheet each; printing again gives the same numbers."""
    db = get_db()
    run = _run_in_scope(channels.get_print(db, print_id))
    if run is None:
        abort(404)
    version = forms.get_version(db, run["form_id"], run["version"])
    unit = None
    if run["unit_code"]:
        unit = {"code": run["unit_code"], "name_vi": run["unit_name_vi"], "level": run["unit_level"]}
    numbers = range(run["first_sheet"], run["first_sheet"] + run["sheet_count"])
    return render_template("channels/paper_sheets.html", run=run, version=version,
                           items=sheet_items(version, unit=unit), numbers=numbers, unit=unit)


# --- entry ---------------------------------------------------------------------------------

def _sheet_run(form_id: str, sheet_no: int) -> dict:
    run = _run_in_scope(channels.print_of_sheet(get_db(), form_id, sheet_no))
    if run is None:
        raise Refusal("paper_unknown_sheet", sheet=sheet_no)
    return run


@bp.get("/<form_id>/entry")
@requires("paper.enter")
def entry(form_id):
    db = get_db()
    form = form_or_404(form_id)
    sheet_no = request.args.get("sheet", type=int)
    context = {"form": form, "sheet_no": sheet_no, "run": None, "entered": None,
               "sheet_conflicts": [], "next_sheet": request.args.get("next", type=int)}
    if sheet_no is None:
        return render_template("channels/paper_entry.html", **context)
    run = _run_in_scope(channels.print_of_sheet(db, form_id, sheet_no))
    if run is None:
        flash(t(f"Số phiếu {sheet_no} không có trong các lần in phiếu giấy của biểu mẫu này (trong phạm vi của bạn).",
                f"Sheet {sheet_no} was not given out in any paper print of this form (within your scope)."), "error")
        context["sheet_no"] = None
        return render_template("channels/paper_entry.html", **context), 404
    version = forms.get_version(db, form_id, run["version"])
    entered = channels.sheet_entry(db, form_id, sheet_no)
    context.update(run=run, version=version, entered=entered if entered and entered["submission_id"] else None,
                   sheet_conflicts=_labelled(version, channels.conflicts(db, form_id=form_id, sheet_no=sheet_no)))
    nonce = webforms.new_style_nonce()
    html = render_template(
        "channels/paper_entry.html", style_nonce=nonce, import_map=webforms.IMPORT_MAP,
        web_forms_url=webforms.WEB_FORMS_URL, honeypot_field="hl_website", device_id=None,
        form_url=url_for(".entry_form", form_id=form_id, sheet_no=sheet_no),
        media_url=url_for("citizen_link.media", form_id=form_id, version=run["version"], filename="x")[:-1],
        submit_url=url_for(".entry_submission", form_id=form_id, sheet_no=sheet_no), **context)
    return webforms.page_headers(current_app.make_response(html), nonce)


@bp.get("/<form_id>/entry/<int:sheet_no>/form.xml")
@requires("paper.enter")
def entry_form(form_id, sheet_no):
    db = get_db()
    form_or_404(form_id)
    run = _run_in_scope(channels.print_of_sheet(db, form_id, sheet_no))
    if run is None:
        abort(404)
    version = forms.get_version(db, form_id, run["version"])
    unit = {"code": run["unit_code"], "level": run["unit_level"]} if run["unit_code"] else None
    return webforms.prefilled_form_response(version, unit=unit, channel="paper")


@bp.post("/<form_id>/entry/<int:sheet_no>/submission")
@requires("paper.enter")
def entry_submission(form_id, sheet_no):
    db = get_db()
    form_or_404(form_id)
    run = _sheet_run(form_id, sheet_no)
    posted = read_posted(request)
    inst = read_instance(posted.xml)
    entry = paper.enter_sheet(db, get_blobs(), run=run, sheet_no=sheet_no, xml=posted.xml,
                              uploads=posted.uploads, inst=inst, clerk=g.user)
    if entry.outcome == "paper_conflict":
        version = forms.get_version(db, run["form_id"], run["version"])
        labels = _labels(version)
        return answer("paper_conflict", sheet=sheet_no,
                      differences=", ".join(labels.get(p, p) for p in entry.differences))
    if entry.outcome.startswith("paper_"):
        return answer(entry.outcome, sheet=sheet_no, instance_id=entry.instance_id, **entry.values)
    return answer(entry.outcome, instance_id=entry.instance_id, **entry.values)


def _labels(version: dict | None) -> dict[str, str]:
    if version is None:
        return {}
    return {f["path"]: label(f.get("labels"), f["path"]) for f in version["fields"]}


def _labelled(version: dict | None, rows: list[dict]) -> list[dict]:
    labels = _labels(version)
    for row in rows:
        row["difference_labels"] = [labels.get(p, p) for p in row["differences"]]
    return rows


# --- double entries for review ----------------------------------------------------------------

@bp.get("/conflicts")
@requires("link.manage")
def conflicts():
    db = get_db()
    rows = channels.conflicts(db, scope=user_scope())
    by_form: dict[str, dict] = {}
    for row in rows:
        if row["form_id"] not in by_form:
            by_form[row["form_id"]] = _labels(forms.latest_version(db, row["form_id"]))
        row["difference_labels"] = [by_form[row["form_id"]].get(p, p) for p in row["differences"]]
    return render_template("channels/paper_conflicts.html", rows=rows,
                           can_resolve=can(g.user, "paper.enter"),
                           can_reveal=can(g.user, "submission.identifiers"))


@bp.post("/conflicts/<int:conflict_id>/resolve")
@requires("paper.enter")
def resolve(conflict_id):
    db = get_db()
    visible = {c["id"] for c in channels.conflicts(db, scope=user_scope())}
    if conflict_id not in visible:
        abort(404)
    if paper.resolve_conflict(db, conflict_id, request.form.get("note"), g.user["name"]):
        flash(t("Đã đánh dấu là đã xử lý.", "Marked as handled."), "success")
    return redirect(url_for(".conflicts"))


@bp.get("/conflicts/<int:conflict_id>/xml")
@requires("paper.enter")
def conflict_xml(conflict_id):
    """The later entry as sent, identifiers hidden (server.instance_xml); `?sensitive=1` gives an
    administrator the stored bytes whole, and the audit log says so."""
    db = get_db()
    visible = {c["id"]: c for c in channels.conflicts(db, scope=user_scope())}
    if conflict_id not in visible:
        abort(404)
    xml = channels.conflict_xml(db, conflict_id)
    if request.args.get("sensitive") == "1":
        if not can(g.user, "submission.identifiers"):
            abort(403)
        record_read(db, g.user["name"], "paper.conflict_sensitive_view", f"conflict:{conflict_id}",
                    form_id=visible[conflict_id]["form_id"], sheet=visible[conflict_id]["sheet_no"])
    else:
        xml = without_identifiers(xml, _version_of(db, visible[conflict_id]["form_id"], xml))
    response = current_app.response_class(xml, 200, content_type="text/xml; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename=paper-conflict-{conflict_id}.xml"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _version_of(db, form_id: str, xml: bytes) -> dict | None:
    try:
        inst = parse_instance(xml)
    except InstanceError:
        return None
    return forms.get_version(db, form_id, inst.version) if inst.form_id == form_id else None

