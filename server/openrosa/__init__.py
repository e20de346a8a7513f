"""The OpenRosa endpoints ODK Collect talks to: form list, form and media download, submission.

Views only translate HTTP; what to store and why is decided in `actions.receive`. Modules:
`wire` (the XML documents sent), `problems` (the receiver's answers, catalogue.RECEIVER).
"""
from __future__ import annotations

from email.utils import formatdate

from flask import Blueprint, Response, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from actions import scope
from actions.receive import multipart
from actions.receive.accept import receive
from storage import forms

from .. import auth, media
from ..dbconn import get_blobs, get_db
from ..public_address import configured_base
from . import wire
from ..permissions import can
from .problems import PARTIAL, PROBLEMS, SUCCESS

bp = Blueprint("openrosa", __name__)



@bp.url_value_preprocessor
def _take_token(_endpoint, values):
    g.token = values.pop("token", None) if values else None


@bp.url_defaults
def _keep_token(_endpoint, values):
    if g.get("token") is not None and "token" not in values:
        values["token"] = g.token


@bp.before_request
def _authenticate():
    db = get_db()
    if g.token is not None:
        g.user = auth.user_for_token(db, g.token)
        if g.user is None:
            # a revoked or forged token: no challenge, since no password would help
            return _problem("unauthorized", challenge=False)
    else:
        g.user = auth.basic_auth_user(db)
        if g.user is None:
            return _problem("unauthorized", challenge=True)
    if not can(g.user, "submission.send"):
        return _problem("forbidden_role")
    return None


@bp.after_request
def _openrosa_headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(current_app.config["SUBMISSION_MAX_BYTES"])
    response.headers.setdefault("Date", formatdate(usegmt=True))
    return response


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return _problem("too_large")


@bp.errorhandler(Exception)
def _unexpected(exc):
    if isinstance(exc, HTTPException):
        return exc
    # Collect shows the message; the details go to the log, never to the device
    current_app.logger.exception("unexpected error in the OpenRosa receiver")
    return _problem("server_error")


def _problem(key: str, challenge: bool = False) -> Response:
    problem = PROBLEMS[key]
    response = Response(wire.response(problem.message), problem.status,
                        content_type="text/xml; charset=utf-8")
    if challenge:
        response.headers["WWW-Authenticate"] = 'Basic realm="Hai Long", charset="UTF-8"'
    return response


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status, content_type="text/xml; charset=utf-8")


def _visible_form(form_id: str) -> dict | None:
    form = forms.get_form(get_db(), form_id)
    if form is None or not scope.form_in_scope(get_db(), g.user, form):
        return None
    return form


def _version_or_404(form_id: str, version: str):
    if _visible_form(form_id) is None:
        return None
    return forms.get_version(get_db(), form_id, version)


def _external(endpoint: str, **values) -> str:
    base = configured_base(get_db())
    if base:
        return base + url_for(f"{request.blueprint}.{endpoint}", **values)
    return url_for(f"{request.blueprint}.{endpoint}", _external=True, **values)


@bp.get("/formList")
def form_list():
    db = get_db()
    wanted = request.args.get("formID")
    entries = []
    for row in forms.list_forms(db):
        if row["state"] != "open" or (wanted and row["form_id"] != wanted):
            continue
        if not scope.form_in_scope(db, g.user, row):
            continue
        version = forms.version_by_id(db, row["version_id"])
        entry = {"form_id": row["form_id"], "title": version["title"], "version": version["version"],
                 "md5": version["xform_md5"],
                 "download_url": _external("form_xml", form_id=row["form_id"], version=version["version"])}
        if media.has_media(db, version):
            entry["manifest_url"] = _external("manifest", form_id=row["form_id"], version=version["version"])
        entries.append(entry)
    return _xml(wire.form_list(entries))


@bp.get("/forms/<form_id>/versions/<version:version>/form.xml", merge_slashes=False)
def form_xml(form_id, version):
    row = _version_or_404(form_id, version)
    if row is None:
        return _problem("not_found")
    return _xml(row["xform"])


@bp.get("/forms/<form_id>/versions/<version:version>/manifest", merge_slashes=False)
def manifest(form_id, version):
    row = _version_or_404(form_id, version)
    if row is None:
        return _problem("not_found")
    files = [{**f, "download_url": _external("media_file", form_id=form_id, version=version,
                                             filename=f["filename"])}
             for f in media.media_files(get_db(), row, g.user)]
    return _xml(wire.manifest(files))


@bp.get("/forms/<form_id>/versions/<version:version>/media/<filename>", merge_slashes=False)
def media_file(form_id, version, filename):
    row = _version_or_404(form_id, version)
    content = media.media_content(get_db(), row, filename, g.user) if row else None
    if content is None:
        return _problem("not_found")
    kind = "text/csv; charset=utf-8" if filename.endswith(".csv") else "application/octet-stream"
    return Response(content, 200, content_type=kind)


@bp.route("/submission", methods=["HEAD", "GET"])
def submission_probe():
    return Response(status=204)


@bp.post("/submission")
def submission():
    try:
        posted = multipart.read_posted(request)
    except multipart.PostRefused as exc:
        return _problem(exc.key)
    xml, uploads, fields = posted.xml, posted.uploads, posted.fields
    result = receive(get_db(), get_blobs(), xml=xml, uploads=uploads, submitter=g.user,
                     device_id=request.args.get("deviceID"), arrival_channel="interview")
    if result.outcome in ("created", "resent"):
        message = PARTIAL if fields.get("*isIncomplete*") == "yes" else SUCCESS
        return _xml(wire.response(message, "submit_success"), 201)
    return _problem(result.outcome)
