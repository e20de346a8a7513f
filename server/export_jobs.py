"""Exports started from the web pages run as background jobs with a progress bar.

    POST /exports/<form_id>/<kind>        kind: xlsx | csvzip | report; the API's query parameters
    GET  /exports/jobs/<job_id>           the job's page: progress bar, then the file
    GET  /exports/jobs/<job_id>.json      {state, done, total, filename, error} for the page's script
    GET  /exports/jobs/<job_id>/file      the finished file

A job is checked like the API's download (same filters, same refusals, same unit scope) before it
starts; then a thread of the worker that took the request writes the file. Under gunicorn another
worker may answer the next request, so the job's state lives in DATA_DIR/exports/jobs/<id>.json
(replaced atomically) beside its file, never in a process's memory. Files are kept a day; every new
job sweeps older ones away. A job whose state stops changing (its worker was restarted) is shown as
failed. Scripts keep the API's direct downloads (server/api_exports.py).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from flask import abort, current_app, g, jsonify, redirect, render_template, request, send_file, url_for

import exports
import storage
from aggregate.problems import QueryError
from exports.report import gather
from exports.rows import count, tables
from storage.blobs import BlobStore

from .dbconn import get_db
from .web.common import form_or_404, user_scope, web_blueprint
from .web.i18n import lang

bp = web_blueprint("export_jobs", __name__, url_prefix="/exports")
log = logging.getLogger(__name__)

KINDS = {"xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
         "csvzip": ("csv.zip", "application/zip"),
         "report": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
KEEP_SECONDS = 24 * 3600
STALE_SECONDS = 15 * 60          # no progress for this long: the worker that ran it is gone
WRITE_EVERY = 0.5                # seconds between two progress writes


def _jobs_dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "exports" / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save(directory: Path, job: dict) -> None:
    target = directory / f"{job['id']}.json"
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, target)


def _load(job_id: str) -> dict:
    """The job of this id, if it belongs to the signed-in account; 404 otherwise."""
    if not job_id.replace("-", "").replace("_", "").isalnum() or len(job_id) > 40:
        abort(404)
    path = _jobs_dir() / f"{job_id}.json"
    try:
        job = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        abort(404)
    if job["user_id"] != g.user["id"]:
        abort(404)
    if job["state"] == "running" and time.time() - path.stat().st_mtime > STALE_SECONDS:
        job.update(state="failed", error="stale")
    return job


def sweep(directory: Path, now: float | None = None) -> int:
    """Remove job files older than a day; returns how many."""
    now = now or time.time()
    removed = 0
    for path in directory.iterdir():
        try:
            if now - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _plan(db, form_id: str, kind: str):
    """The checked plan of the export the form asked for (QueryError for a bad filter)."""
    args = {k: v for k, v in request.form.items() if k != "csrf_token" and v}
    if kind == "report":
        return exports.prepare_report(db, exports.report_query(form_id, args, scope=user_scope()))
    query = exports.export_query(form_id, kind, args, scope=user_scope())
    if query.include_identifiers:
        raise exports.ExportError("forbidden_identifiers")
    return exports.prepare(db, query)


def _filename(plan, kind: str) -> str:
    if kind == "report":
        suffix = f"-{plan.unit}" if plan.unit else ""
        return f"bao-cao-{plan.query.form_id}-{plan.period.key}{suffix}.xlsx"
    return exports.export_filename(plan.query, KINDS[kind][0])


def _run(data_dir: str, directory: Path, job: dict, plan, kind: str, actor: str) -> None:
    """The thread: write the file, telling the job file how far it got."""
    db = storage.connect(data_dir, migrate=False)
    last = [0.0]

    def progress(rows: int) -> None:
        job["done"] += rows
        if time.monotonic() - last[0] >= WRITE_EVERY:
            last[0] = time.monotonic()
            _save(directory, job)

    out = directory / f"{job['id']}.{KINDS[kind][0]}"
    try:
        if kind == "xlsx":
            work = Path(data_dir) / "tmp" / "exports"
            work.mkdir(parents=True, exist_ok=True)
            exports.write_xlsx(db, plan, str(out), tmpdir=str(work), progress=progress, actor=actor)
        elif kind == "csvzip":
            with open(out, "wb") as handle:
                for piece in exports.stream_csv_zip(db, plan, blobs=BlobStore(Path(data_dir) / "blobs"),
                                                    progress=progress):
                    handle.write(piece)
        else:
            figures = gather(db, plan)
            progress(1)
            exports.write_report(db, plan, str(out), figures=figures)
            progress(1)
        exports.record_export(db, actor, kind, plan)
        job.update(state="done", done=job["total"], finished_at=time.time())
    except Exception as exc:                      # noqa: BLE001 — the page must say it failed
        log.exception("export job %s failed", job["id"])
        out.unlink(missing_ok=True)
        job.update(state="failed", error=type(exc).__name__)
    finally:
        _save(directory, job)
        db.close()


@bp.post("/<form_id>/<kind>")
def start(form_id, kind):
    if kind not in KINDS:
        abort(404)
    form_or_404(form_id)
    db = get_db()
    try:
        plan = _plan(db, form_id, kind)
    except QueryError as exc:
        return render_template("exports/refused.html", message=exc.message(lang()), form_id=form_id), exc.status
    if kind == "report":
        total = 2                                # gathering the figures, then writing the sheets
    else:
        total = sum(count(db, plan, table) for table in tables(plan, split_select=True))
    directory = _jobs_dir()
    sweep(directory)
    job = {"id": secrets.token_urlsafe(12), "user_id": g.user["id"], "form_id": form_id, "kind": kind,
           "state": "running", "done": 0, "total": total, "filename": _filename(plan, kind),
           "error": None, "started_at": time.time(), "finished_at": None}
    _save(directory, job)
    threading.Thread(target=_run, name=f"export-{job['id']}", daemon=True,
                     args=(current_app.config["DATA_DIR"], directory, job, plan, kind, g.user["name"])).start()
    return redirect(url_for("export_jobs.page", job_id=job["id"]))


@bp.get("/jobs/<job_id>")
def page(job_id):
    return render_template("exports/job.html", job=_load(job_id))


@bp.get("/jobs/<job_id>.json")
def state(job_id):
    job = _load(job_id)
    return jsonify({k: job[k] for k in ("state", "done", "total", "filename", "error")})


@bp.get("/jobs/<job_id>/file")
def download(job_id):
    job = _load(job_id)
    if job["state"] != "done":
        abort(404)
    extension, mimetype = KINDS[job["kind"]]
    path = _jobs_dir() / f"{job['id']}.{extension}"
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=job["filename"], max_age=0)
