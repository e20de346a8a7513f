"""Submissions of a form, as Central's API gives them: list, one, its XML, its attachments, a new
one (the XML body through the same receive() as ODK Collect's), an attachment of it (the stored XML
resent with the file through receive(), as Collect's later parts do), a review decision, its
versions.

Readers of figures read within their unit scope; a submission outside it is as unknown as one
that does not exist. The raw XML holds the identifier answers, so it goes to administrators
only, and each such read is audited like a sensitive view on the submissions page.
"""
from __future__ import annotations

import hashlib
import io
import json as jsonlib
import tempfile

from flask import Response, current_app, g, request, send_file, stream_with_context

from actions import attachments, reviews
from actions.audited_reads import record_read
from actions.receive.accept import expected_files, read_instance, receive
from actions.receive.parse import InstanceError, parse_instance
from storage import central_queries, forms, submissions as stored
from storage.blobs import BlobCorrupt
from vocabulary import REVIEWED_STATES

from ..dbconn import get_blobs, get_db
from . import bp, json_response
from .errors import CentralError
from .projects import project_or_404, visible_form
from ..permissions import can
from .sessions import require
from .wire import iso, submission_json

XML_TYPES = ("application/xml", "text/xml")
# types a client may be told an attachment is; anything else is sent as plain bytes
SAFE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "audio/mpeg", "audio/ogg", "audio/mp4",
              "video/mp4", "application/pdf", "text/csv"}


def _scope() -> str | None:
    return g.api_user["unit_code"]


def _submission(project_id: int, form_id: str, instance_id: str) -> dict:
    project_or_404(project_id)
    visible_form(form_id)
    row = central_queries.submission(get_db(), form_id, instance_id, _scope())
    if row is None:
        raise CentralError("not_found", what=f"submission {instance_id}")
    return row


@bp.get("/projects/<int:project_id>/forms/<form_id>/submissions")
def list_submissions(project_id, form_id):
    require("submission.read")
    project_or_404(project_id)
    visible_form(form_id)
    rows = central_queries.submissions(get_db(), form_id, _scope())

    def pieces():
        # a JSON array written as the rows are read: a large form is never held whole
        yield "["
        for n, row in enumerate(rows):
            yield ("," if n else "") + jsonlib.dumps(submission_json(row), ensure_ascii=False)
        yield "]"

    response = Response(stream_with_context(pieces()), content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>")
def get_submission(project_id, form_id, instance_id):
    require("submission.read")
    return json_response(submission_json(_submission(project_id, form_id, instance_id)))


@bp.get("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>.xml")
def submission_xml(project_id, form_id, instance_id):
    user = require("submission.read")
    row = _submission(project_id, form_id, instance_id)
    if not can(user, "submission.identifiers"):
        # the raw XML carries the identifier answers
        raise CentralError("forbidden_identifiers")
    db = get_db()
    record_read(db, user["name"], "submission.sensitive_view", row["instance_id"],
                submission_id=row["id"], via="api", what="xml")
    return Response(stored.get_xml(db, row["id"]), 200, content_type="application/xml; charset=utf-8")


@bp.get("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>/versions")
def submission_versions(project_id, form_id, instance_id):
    require("submission.read")
    row = _submission(project_id, form_id, instance_id)
    return json_response([
        {"instanceId": v["instance_id"], "instanceName": None, "submitterId": v["submitter_id"] or 0,
         "deviceId": v["device_id"], "userAgent": None, "createdAt": iso(v["received_at"]),
         "current": bool(v["current"]), "formVersion": v["version"]}
        for v in central_queries.versions(get_db(), row["root_id"], _scope())])


def _expected_files(db, row: dict) -> list[str]:
    """The file names the submission's XML asks for: its binary questions' answers (an encrypted
    one: its media files and the encrypted XML)."""
    version = forms.receiving_version(db, row["form_id"], row["version"])
    try:
        inst = read_instance(db, stored.get_xml(db, row["id"]))
    except InstanceError:
        return []
    if version is None:
        return []
    return sorted(set(expected_files(inst, version)))


@bp.get("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>/attachments")
def list_attachments(project_id, form_id, instance_id):
    db = get_db()
    if g.api_user["role"] == "collector":
        # the collector who sent it may see which files arrived (pyodk asks right after a POST)
        project_or_404(project_id)
        row = central_queries.submission(db, form_id, instance_id, None)
        if row is None or row["submitter_id"] != g.api_user["id"]:
            raise CentralError("not_found", what=f"submission {instance_id}")
    else:
        require("submission.read")
        row = _submission(project_id, form_id, instance_id)
    present = {a["name"] for a in stored.list_attachments(db, row["id"])}
    names = sorted(set(_expected_files(db, row)) | present)
    return json_response([{"name": name, "exists": name in present} for name in names])


@bp.get("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>/attachments/<name>")
def get_attachment(project_id, form_id, instance_id, name):
    require("submission.read")
    row = _submission(project_id, form_id, instance_id)
    found = next((a for a in stored.list_attachments(get_db(), row["id"]) if a["name"] == name), None)
    if found is None:
        raise CentralError("not_found", what=f"attachment {name}")
    try:
        data = get_blobs().read_verified(found["sha256"])
    except (FileNotFoundError, BlobCorrupt):
        raise CentralError("not_found", what=f"attachment {name}") from None
    kind = found["content_type"] if found["content_type"] in SAFE_TYPES else "application/octet-stream"
    return send_file(io.BytesIO(data), mimetype=kind, as_attachment=True, download_name=name)


@bp.post("/projects/<int:project_id>/forms/<form_id>/submissions")
def create_submission(project_id, form_id):
    user = require("submission.send")
    project_or_404(project_id)
    visible_form(form_id)
    if request.mimetype not in XML_TYPES:
        raise CentralError("bad_content_type")
    xml = request.get_data()
    try:
        named = parse_instance(xml).form_id
    except InstanceError as exc:
        raise CentralError.from_receiver(exc.reason) from None
    if named != form_id:
        raise CentralError("not_found", what=f"form {named} ≠ {form_id}")
    db = get_db()
    result = receive(db, get_blobs(), xml=xml, uploads=[], submitter=user,
                     device_id=request.args.get("deviceID"), arrival_channel=_channel(user))
    if result.outcome not in ("created", "resent"):
        raise CentralError.from_receiver(result.outcome)
    row = central_queries.submission(db, form_id, central_queries.root_instance_id(db, result.submission_id), None)
    return json_response(submission_json(row))


def _channel(user: dict) -> str:
    # a collector's upload is an interview, as through Collect; anyone else's came some other way
    return "interview" if user["role"] == "collector" else "other"


def _spool(stream, limit: int):
    """The request body in a temporary file, with its SHA-256; refused past `limit` bytes (a
    chunked body, as pyodk sends, has no Content-Length to refuse it by beforehand)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=1 << 20)
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(1 << 16):
        size += len(chunk)
        if size > limit:
            spooled.close()
            raise CentralError("attachment_too_large", limit=limit)
        digest.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, digest.hexdigest()


@bp.post("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>/attachments/<name>")
def upload_attachment(project_id, form_id, instance_id, name):
    """One file of a submission, its bytes the body (pyodk's submissions.create(attachments=)).

    As in Central, only a name the submission's XML asks for is taken (404 otherwise). Unlike
    Central, a file already received is never replaced: the same bytes again are a success that
    changes nothing, different bytes a 409 (OpenRosa keeps the first, as for Collect's resends).
    """
    user = require("submission.send")
    row = _submission(project_id, form_id, instance_id)
    db = get_db()
    if name not in _expected_files(db, row):
        raise CentralError("not_found", what=f"attachment {name}")
    limit = current_app.config["SUBMISSION_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        raise CentralError("attachment_too_large", limit=limit)
    body, sha = _spool(request.stream, limit)
    with body:
        outcome = attachments.add_attachment(db, get_blobs(), row=row, name=name, stream=body, sha256=sha,
                                             content_type=request.mimetype or None, sender=user,
                                             arrival_channel=_channel(user))
    if outcome == attachments.OTHER_BYTES:
        raise CentralError("attachment_exists", name=name)
    if outcome not in (attachments.ADDED, attachments.ALREADY_THERE):
        raise CentralError.from_receiver(outcome)
    return json_response({"success": True})


@bp.patch("/projects/<int:project_id>/forms/<form_id>/submissions/<instance_id>")
def review_submission(project_id, form_id, instance_id):
    user = require("submission.review")
    row = _submission(project_id, form_id, instance_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "reviewState" not in body:
        raise CentralError("bad_json", fields='{"reviewState"}')
    state = body["reviewState"]
    if state not in REVIEWED_STATES:
        raise CentralError("bad_review_state", value=str(state)[:40], allowed=", ".join(REVIEWED_STATES))
    db = get_db()
    reviews.decide(db, row["id"], state, None, user["name"])
    return json_response(submission_json(central_queries.submission(db, form_id, instance_id, _scope())))
