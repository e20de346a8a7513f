"""Submissions: the filtered table, one submission's answers, attachments, history and reviews.

Every role but surveyors reads them, always within the account's unit scope (applied inside
the queries of storage.browse). Reporters and administrators review. Identifier answers
(names, phone numbers, dossier codes) are shown to administrators only when they ask, and each
such look is written to the audit log.
"""
from __future__ import annotations

import io
import re

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for

from actions.audited_reads import record_read
from actions.reviews import decide
from aggregate.periods import parse_date
from storage import browse, forms, reviews, submissions
from storage.blobs import BlobCorrupt
from vocabulary import CHANNELS, REVIEW_STATES

from ..dbconn import get_blobs, get_db
from ..permissions import can
from .common import requires, user_scope, web_blueprint
from .i18n import day_start_utc, t

bp = web_blueprint("submissions", __name__, url_prefix="/submissions")

# types a browser may be told an attachment is; anything else is sent as plain bytes
SAFE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "audio/mpeg", "audio/ogg", "audio/mp4",
              "video/mp4", "application/pdf", "text/csv"}


@bp.get("/")
def index():
    db = get_db()
    args = request.args
    filters = browse.SubmissionFilter(
        form_id=args.get("form") or None, unit_code=args.get("unit") or None,
        channel=args.get("channel") if args.get("channel") in CHANNELS else None,
        review_state=args.get("state") if args.get("state") in REVIEW_STATES else None)
    for key, attr, days_later in (("from", "started_from", 0), ("to", "started_before", 1)):
        text = args.get(key, "").strip()
        if text:
            day = parse_date(text)
            if day is None:
                flash(t(f'Ngày "{text}" không hợp lệ; hãy viết dạng dd/mm/yyyy.',
                        f'"{text}" is not a valid date; write it as dd/mm/yyyy.'), "error")
            else:
                setattr(filters, attr, day_start_utc(day, days_later))
    page = browse.submissions_page(db, user_scope(), filters, after_id=args.get("after", type=int),
                                   before_id=args.get("before", type=int),
                                   limit=int(current_app.config.get("WEB_PAGE_SIZE", 50)))
    kept = {k: v for k, v in args.items() if k not in ("after", "before") and v}
    return render_template("submissions/index.html", page=page, kept=kept,
                           forms=browse.forms_in_scope(db, user_scope()),
                           units=browse.units_in_scope(db, user_scope()), channels=CHANNELS,
                           states=list(REVIEW_STATES), first_page=not (args.get("after") or args.get("before")))


def _submission_or_404(submission_id: int) -> dict:
    row = browse.submission_in_scope(get_db(), submission_id, user_scope())
    if row is None:
        abort(404)
    return row


def _display_items(fields: list[dict], values: dict, shown_identifiers: dict | None) -> list[dict]:
    """The top-level questions with their answers, in form order, for the page."""
    items = []
    for spec in fields:
        path = spec["path"]
        if path == "meta" or path.startswith("meta/") or spec.get("repeat"):
            continue
        depth = path.count("/")
        if spec["type"] in ("group", "repeat"):
            items.append({"kind": spec["type"], "spec": spec, "depth": depth})
            continue
        if spec.get("sensitive"):
            if shown_identifiers is None:
                items.append({"kind": "hidden", "spec": spec, "depth": depth})
            elif shown_identifiers.get(path):
                items.append({"kind": "field", "spec": spec, "depth": depth, "value": shown_identifiers[path],
                              "sensitive": True})
            continue
        value = values.get(path)
        if value not in (None, ""):
            items.append({"kind": "field", "spec": spec, "depth": depth, "value": value})
    # a group heading with nothing under it says nothing
    kept = []
    for i, item in enumerate(items):
        if item["kind"] in ("group", "repeat"):
            prefix = item["spec"]["path"] + "/"
            if not any(other["spec"]["path"].startswith(prefix) and other["kind"] not in ("group", "repeat")
                       for other in items[i + 1:]):
                continue
        kept.append(item)
    return kept


def _repeat_tables(db, row: dict, fields: list[dict]) -> list[dict]:
    tables = []
    for spec in fields:
        if spec["type"] != "repeat":
            continue
        columns = [f for f in fields if f.get("repeat") == spec["path"] and f["type"] not in ("group", "repeat")
                   and not f.get("sensitive")]
        try:
            rows = submissions.repeat_rows(db, row["form_id"], spec["path"], row["id"])
        except Exception:  # the repeat table is created with the version; an old row may lack it
            rows = []
        if rows:
            tables.append({"spec": spec, "columns": columns, "rows": rows})
    return tables


_INDEX = re.compile(r"\[\d+\]")


@bp.get("/<int:submission_id>")
def detail(submission_id):
    db = get_db()
    row = _submission_or_404(submission_id)
    version = forms.version_by_id(db, row["form_version_id"])
    fields = version["fields"] if version else []
    show_sensitive = request.args.get("sensitive") == "1"
    identifiers = None
    if show_sensitive:
        if not can(g.user, "submission.identifiers"):
            abort(403)
        identifiers = submissions.identifiers(db, submission_id)
        record_read(db, g.user["name"], "submission.sensitive_view", row["instance_id"],
                    submission_id=submission_id, fields=sorted(identifiers))
    values = submissions.answers(db, row["form_id"], submission_id) or {}
    by_path = {f["path"]: f for f in fields}
    repeat_identifiers = []
    if identifiers:
        for path, value in identifiers.items():
            if path not in by_path:
                repeat_identifiers.append({"path": path, "spec": by_path.get(_INDEX.sub("", path)), "value": value})
    attachments = submissions.list_attachments(db, submission_id)
    return render_template(
        "submissions/detail.html", row=row, version=version,
        items=_display_items(fields, values, identifiers), repeats=_repeat_tables(db, row, fields),
        repeat_identifiers=repeat_identifiers, attachments=attachments,
        attachment_names={a["name"] for a in attachments},
        chain=browse.edit_chain(db, row["root_id"], user_scope()), reviews=reviews.reviews_of(db, submission_id),
        can_review=can(g.user, "submission.review"), can_see_sensitive=can(g.user, "submission.identifiers"),
        show_sensitive=show_sensitive, has_sensitive=any(f.get("sensitive") for f in fields),
        decisions=reviews.DECISIONS)


@bp.get("/<int:submission_id>/attachments/<name>")
def attachment(submission_id, name):
    found = browse.attachment_in_scope(get_db(), submission_id, name, user_scope())
    if found is None:
        abort(404)
    try:
        data = get_blobs().read_verified(found["sha256"])
    except FileNotFoundError:
        abort(404)
    except BlobCorrupt:
        current_app.logger.error("attachment %s of submission %s fails its SHA-256 check", name, submission_id)
        return render_template("error.html", code=500, title=t("Tệp bị hỏng", "Damaged file"),
                               message=t("Tệp đính kèm này không còn khớp với mã kiểm tra SHA-256 lúc nhận; "
                                         "hãy báo quản trị viên khôi phục từ bản sao lưu.",
                                         "This attachment no longer matches the SHA-256 it was received with; "
                                         "ask an administrator to restore it from a backup.")), 500
    content_type = found["content_type"] if found["content_type"] in SAFE_TYPES else "application/octet-stream"
    return send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True, download_name=name)


@bp.post("/<int:submission_id>/review")
@requires("submission.review")
def review(submission_id):
    row = _submission_or_404(submission_id)
    state = request.form.get("state")
    note = request.form.get("note", "").strip()
    if state not in reviews.DECISIONS:
        flash(t("Hãy chọn kết quả xem xét.", "Choose a review decision."), "error")
        return redirect(url_for("submissions.detail", submission_id=submission_id))
    if state in ("hasIssues", "rejected") and not note:
        flash(t("Hãy ghi chú lý do khi đánh dấu có vấn đề hoặc loại phiếu.",
                "Write a note saying why when marking issues or rejecting."), "error")
        return redirect(url_for("submissions.detail", submission_id=submission_id))
    decide(get_db(), row["id"], state, note[:2000], actor=g.user["name"])
    flash(t("Đã lưu kết quả xem xét.", "The review was saved."), "success")
    return redirect(url_for("submissions.detail", submission_id=submission_id))
