"""Downloads under /api/v1: a form's data as an Excel workbook or as ODK Central's CSV zip, and
the report workbook for a period.

    GET /api/v1/forms/<form_id>/export.xlsx     ?from&to|period&unit&review_state&version&lang&headers&identifiers&values
    GET /api/v1/forms/<form_id>/export.csv.zip  ?from&to|period&unit&review_state&version&identifiers&media&split_select&raw_cells
    GET /api/v1/forms/<form_id>/report.xlsx     ?period=2026-Q3&unit=CODE&min_n

Same accounts and unit scope as the indices (server/api.py): an account bound to a unit gets the
rows of its subtree only. Everything is checked before the first byte goes out, and a refusal is
the API's JSON error, never a truncated file: the workbooks are made whole (on disk, in constant
memory) before they are sent with their length; the CSV zip is streamed as it is made, once its
first piece exists. Every export is written to the audit log; identifiers go out only to an
administrator who asks for them (identifiers=1), and the log says so.
"""
from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from itertools import chain
from pathlib import Path

from flask import Blueprint, Response, current_app, g, request, send_file, stream_with_context

import exports
from aggregate.problems import QueryError
from exports.problems import ExportError
from exports.schema import attachment, file_stem
from storage import forms

from actions import scope
from .api import reader_required
from .dbconn import get_blobs, get_db
from .permissions import can

bp = Blueprint("api_exports", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


@bp.errorhandler(QueryError)
def _refused(exc: QueryError) -> Response:
    response = Response(json.dumps(exc.to_json(), ensure_ascii=False), exc.status,
                        content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    if exc.code == "unauthorized":
        response.headers["WWW-Authenticate"] = 'Basic realm="Hai Long", charset="UTF-8"'
    return response


def _form(form_id: str) -> None:
    """A form hidden from the account is as unknown as a form that does not exist."""
    form = forms.get_form(get_db(), form_id)
    if form is None or not scope.form_in_scope(get_db(), g.reader, form):
        raise QueryError("unknown_form", form=form_id)


def _export_plan(form_id: str, fmt: str):
    _form(form_id)
    query = exports.export_query(form_id, fmt, request.args, scope=g.reader["unit_code"])
    if query.include_identifiers and not can(g.reader, "export.identifiers"):
        raise ExportError("forbidden_identifiers")
    return exports.prepare(get_db(), query)


def _work_dir() -> Path:
    # beside the database rather than in /tmp, which may be a small RAM disk
    path = Path(current_app.config["DATA_DIR"]) / "tmp" / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _failed(exc: Exception) -> ExportError:
    log.exception("export failed")
    return ExportError("export_failed", detail=type(exc).__name__)


def _download(handle, size: int, filename: str, mimetype: str) -> Response:
    response = send_file(handle, mimetype=mimetype, as_attachment=True, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    # the whole file exists before it is sent: its length lets a client tell a cut download
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/forms/<form_id>/export.xlsx")
@reader_required
def export_xlsx(form_id):
    db = get_db()
    plan = _export_plan(form_id, "xlsx")
    work = _work_dir()
    fd, path = tempfile.mkstemp(dir=work, prefix="export-", suffix=".xlsx")
    try:
        with os.fdopen(fd, "wb") as out:
            exports.write_xlsx(db, plan, out, tmpdir=str(work), actor=g.reader["name"])
        exports.record_export(db, g.reader["name"], "xlsx", plan)
        handle = open(path, "rb")
        size = os.fstat(handle.fileno()).st_size
    except QueryError:
        raise
    except Exception as exc:
        raise _failed(exc) from exc
    finally:
        os.unlink(path)                  # the open handle keeps the file until it is sent
    return _download(handle, size, exports.export_filename(plan.query, "xlsx"), XLSX)


@bp.get("/forms/<form_id>/export.csv.zip")
@reader_required
def export_csvzip(form_id):
    db = get_db()
    plan = _export_plan(form_id, "csvzip")
    exports.record_export(db, g.reader["name"], "csvzip", plan)
    pieces = exports.stream_csv_zip(db, plan, blobs=get_blobs())
    try:
        first = next(pieces)
    except Exception as exc:
        pieces.close()
        raise _failed(exc) from exc
    # the request's context (and with it the read transaction) lives until the last piece
    response = Response(stream_with_context(chain([first], pieces)), mimetype=ZIP)
    response.headers["Content-Disposition"] = attachment(exports.export_filename(plan.query, "csv.zip"))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/forms/<form_id>/report.xlsx")
@reader_required
def report_xlsx(form_id):
    db = get_db()
    _form(form_id)
    plan = exports.prepare_report(db, exports.report_query(form_id, request.args, scope=g.reader["unit_code"]))
    buffer = io.BytesIO()
    try:
        exports.write_report(db, plan, buffer)
    except QueryError:
        raise
    except Exception as exc:
        raise _failed(exc) from exc
    exports.record_export(db, g.reader["name"], "report", plan)
    size = buffer.tell()
    buffer.seek(0)
    suffix = f"-{plan.unit}" if plan.unit else ""
    return _download(buffer, size, f"bao-cao-{file_stem(form_id)}-{plan.period.key}{suffix}.xlsx", XLSX)
