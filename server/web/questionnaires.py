"""Forms (questionnaires): list, upload and check, preview, publish, close and reopen, downloads.

Designers and administrators change forms; reporters and viewers read the list and download.
An upload is compiled and checked at once; its bytes are then kept server-side (storage.staging)
and the preview's Publish button publishes exactly those bytes. A unit-bound designer publishes
forms for units of its subtree and new versions of those forms only.
"""
from __future__ import annotations

import io
from pathlib import Path

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from markupsafe import Markup

import forms as forms_package
from actions import forms as form_actions
from actions.publish import PublishRefused, compile_bytes
from exports.schema import file_stem
from forms.problems import FormProblems
from storage import browse, forms, staging

from ..dbconn import get_db
from ..permissions import can
from .common import form_or_404, requires, user_scope, web_blueprint
from .i18n import lang, t

bp = web_blueprint("questionnaires", __name__, url_prefix="/questionnaires")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 10 * 1024 * 1024


def _can_manage(form: dict | None) -> bool:
    """May the user publish versions of, close or reopen this form (None: a new form)?"""
    if not can(g.user, "form.publish"):
        return False
    if form is None or user_scope() is None:
        return True
    return form["unit_code"] is not None and browse.unit_in_scope(get_db(), form["unit_code"], user_scope())


@bp.get("/")
def index():
    return render_template("questionnaires/index.html", forms=browse.forms_in_scope(get_db(), user_scope()),
                           can_upload=can(g.user, "form.publish"))


# --- upload, preview, publish --------------------------------------------------------------

def _render_upload(problems=(), status: int = 200, filename: str | None = None):
    return render_template("questionnaires/upload.html", problems=list(problems), filename=filename,
                           units=browse.units_in_scope(get_db(), user_scope(), in_force=True),
                           unit_required=user_scope() is not None), status


@bp.get("/upload")
@requires("form.publish")
def upload():
    return _render_upload()


@bp.post("/upload")
@requires("form.publish")
def upload_post():
    db = get_db()
    file = request.files.get("file")
    data = file.read(MAX_UPLOAD + 1) if file else b""
    filename = (file.filename or "") if file else ""
    if not data:
        flash(t("Hãy chọn tệp XLSForm để tải lên.", "Choose an XLSForm file to upload."), "error")
        return _render_upload(status=400)
    if len(data) > MAX_UPLOAD:
        flash(t("Tệp lớn hơn 10 MB.", "The file is larger than 10 MB."), "error")
        return _render_upload(status=413)
    unit = (request.form.get("unit") or "").strip() or None
    if (unit is None and user_scope() is not None) or (unit and not browse.unit_in_scope(db, unit, user_scope())):
        flash(t("Hãy chọn một đơn vị trong phạm vi của bạn.", "Choose a unit within your scope."), "error")
        return _render_upload(status=400, filename=filename)
    try:
        compiled = compile_bytes(data, filename)
    except FormProblems as exc:
        return _render_upload(exc.problems, 422, filename)
    existing_form = forms.get_form(db, compiled.form_id)
    if existing_form is not None and not _can_manage(existing_form):
        flash(t(f'Biểu mẫu "{compiled.form_id}" đã có và thuộc đơn vị ngoài phạm vi của bạn; '
                "hãy đổi form_id ở trang settings.",
                f'Form "{compiled.form_id}" exists and belongs outside your scope; '
                "change the form_id in the settings sheet."),
              "error")
        return _render_upload(status=403, filename=filename)
    sha = form_actions.stage_upload(db, compiled, data=data, filename=filename, unit_code=unit,
                                    uploaded_by=g.user["name"])
    return redirect(url_for("questionnaires.staged", sha256=sha))


def _staged_or_404(sha256: str) -> dict:
    row = staging.get_staged(get_db(), sha256, g.user["name"])
    if row is None:
        abort(404)
    return row


@bp.get("/help/xlsform")
def guide():
    """forms/README.md, the designers' guide to the conventions, as a page."""
    from markdown_it import MarkdownIt
    text = (Path(forms_package.__file__).parent / "README.md").read_text(encoding="utf-8")
    # the guide is ours, and raw HTML is off anyway: markdown-it escapes every text it renders
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return render_template("questionnaires/guide.html", body=Markup(body))  # nosec B704


@bp.get("/staged/<sha256>")
@requires("form.publish")
def staged(sha256):
    row = _staged_or_404(sha256)
    return render_template("questionnaires/preview.html", staged=row, summary=row["summary"])


@bp.post("/staged/<sha256>/publish")
@requires("form.publish")
def publish_staged(sha256):
    db = get_db()
    row = _staged_or_404(sha256)
    try:
        # the stored bytes, already checked on upload; ODK Validate need not run twice
        compiled = compile_bytes(row["content"], row["filename"], validate=False)
    except FormProblems:
        abort(400)
    existing_form = forms.get_form(db, compiled.form_id)
    if existing_form is not None and not _can_manage(existing_form):
        abort(403)
    try:
        result = form_actions.publish_staged(db, row, compiled, actor=g.user["name"])
    except PublishRefused as exc:
        for problem in exc.problems:
            flash(problem.describe(lang()), "error")
        return redirect(url_for("questionnaires.staged", sha256=sha256))
    if result.created:
        flash(t(f"Đã xuất bản {result.form_id} phiên bản {result.version}.",
                f"Published {result.form_id} version {result.version}."), "success")
    else:
        flash(t(f"{result.form_id} phiên bản {result.version} đã được xuất bản trước đó, không đổi.",
                f"{result.form_id} version {result.version} was already published, unchanged."), "info")
    return redirect(url_for("questionnaires.detail", form_id=result.form_id))


@bp.post("/staged/<sha256>/discard")
@requires("form.publish")
def discard_staged(sha256):
    _staged_or_404(sha256)
    form_actions.discard_staged(get_db(), sha256, g.user["name"])
    flash(t("Đã bỏ tệp vừa tải lên.", "The upload was discarded."), "info")
    return redirect(url_for("questionnaires.index"))


# --- one form ------------------------------------------------------------------------------

@bp.get("/<form_id>")
def detail(form_id):
    form = form_or_404(form_id)
    versions = browse.form_versions(get_db(), form_id)
    wanted = request.args.get("version") or form["version"]
    shown = forms.get_version(get_db(), form_id, wanted)
    if shown is None:
        abort(404)
    return render_template("questionnaires/detail.html", form=form, versions=versions, shown=shown,
                           can_manage=_can_manage(form))


@bp.post("/<form_id>/state")
@requires("form.publish")
def set_state(form_id):
    form = form_or_404(form_id)
    if not _can_manage(form):
        abort(403)
    state = request.form.get("state")
    if state not in form_actions.STATES:
        abort(400)
    form_actions.set_state(get_db(), form_id, state, actor=g.user["name"])
    if state == "closed":
        flash(t("Đã đóng biểu mẫu; máy chủ không nhận thêm phiếu.",
                "The form is closed; no more submissions are accepted."), "success")
    else:
        flash(t("Đã mở lại biểu mẫu.", "The form is open again."), "success")
    return redirect(url_for("questionnaires.detail", form_id=form_id))


def _version_file(form_id: str, version: str) -> dict:
    form_or_404(form_id)
    row = forms.get_version(get_db(), form_id, version)
    if row is None:
        abort(404)
    return row


@bp.get("/<form_id>/versions/<version:version>/xlsform", merge_slashes=False)
def download_xlsform(form_id, version):
    row = _version_file(form_id, version)
    if not row["xlsform"]:
        abort(404)
    # .xlsx files are zip archives; anything else published as a spreadsheet is the old .xls
    is_xlsx = row["xlsform"][:2] == b"PK"
    return send_file(io.BytesIO(row["xlsform"]), as_attachment=True,
                     mimetype=XLSX_TYPE if is_xlsx else "application/vnd.ms-excel",
                     download_name=f"{file_stem(form_id)}-{file_stem(version)}.{'xlsx' if is_xlsx else 'xls'}")


@bp.get("/<form_id>/versions/<version:version>/xform", merge_slashes=False)
def download_xform(form_id, version):
    row = _version_file(form_id, version)
    return send_file(io.BytesIO(row["xform"]), as_attachment=True, mimetype="application/xml",
                     download_name=f"{file_stem(form_id)}-{file_stem(version)}.xml")
