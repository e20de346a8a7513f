"""Dossier registers: upload, check, import (pages under /registers).

Admins and reporting staff upload a register exported from the one-stop system. A clean file is
imported at once. A file with row problems is shown with its problems and imported only when
the user confirms skipping those rows: its bytes wait in DATA_DIR/registers-staging under their
SHA-256 (no table: a staged file is a plain leftover until confirmed, removed after a day), and
are read and checked again at confirm time, so what is imported is what the checks passed now.
A unit-bound account imports dossiers of its own subtree only, never one whose code already
belongs to a unit outside it, and sees the imports and dossiers of its subtree only. Applicants'
names and phones are stored apart and never shown here.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import uuid
from pathlib import Path, PurePath

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from actions.registers import import_register
from sampling import register_file
from storage import registers, units

from ..dbconn import get_db
from .common import requires, user_scope, web_blueprint
from .i18n import lang, t

bp = web_blueprint("registers", __name__, url_prefix="/registers")

STAGING_DIR = "registers-staging"
STAGED_MAX_AGE = 24 * 3600
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("csv", "xlsx")


@bp.get("/")
@requires("register.import")
def index():
    return _render_index()


def _render_index(status: int = 200):
    db = get_db()
    return render_template("registers/index.html", imports=registers.recent_imports(db, scope=_scope()),
                           dossiers=registers.dossier_count(db, scope=_scope()),
                           max_mb=register_file.MAX_BYTES // (1024 * 1024)), status


def _scope() -> set[str] | None:
    """The unit codes the account may import for and see (None: the whole province)."""
    return None if user_scope() is None else units.subtree_codes(get_db(), user_scope())


def _check(filename: str, content: bytes):
    db = get_db()
    known = {u["code"]: u for u in units.all_units(db)}
    return register_file.read_register(filename, content, known, scope=_scope(),
                                       owners=lambda codes: registers.owner_units(db, codes))


def _import(check, filename: str, content: bytes) -> bool:
    try:
        result = import_register(get_db(), check, filename=filename, content=content, actor=g.user["name"],
                                 scope=_scope(), actor_unit=user_scope())
    except registers.DossierOwnedElsewhere as exc:
        flash(exc.describe(lang()), "error")
        return False
    flash(t(*register_file.import_summary(result)), "success")
    if check.warnings:
        ignored = ", ".join(f'"{w.column}"' for w in check.warnings)
        flash(t(f"Các cột không dùng, đã bỏ qua: {ignored}.", f"Columns not used, ignored: {ignored}."), "info")
    return True


@bp.post("/upload")
@requires("register.import")
def upload():
    file = request.files.get("file")
    content = file.read(register_file.MAX_BYTES + 1) if file else b""
    filename = _clean_filename(file.filename if file else "")
    if not content:
        flash(t("Hãy chọn tệp sổ hồ sơ (CSV hoặc Excel) để tải lên.",
                "Choose a register file (CSV or Excel) to upload."), "error")
        return _render_index(400)
    try:
        check = _check(filename, content)
    except register_file.RegisterFileError as exc:
        flash(exc.describe(lang()), "error")
        return _render_index(413 if len(content) > register_file.MAX_BYTES else 400)
    if not check.problems:
        _import(check, filename, content)
        return redirect(url_for("registers.index"))
    sha256 = _stage(content, check.kind) if check.rows else None
    shown = register_file.MAX_PROBLEMS_SHOWN
    return render_template("registers/preview.html", check=check, filename=filename, sha256=sha256,
                           shown=check.problems[:shown], max_shown=shown)


@bp.post("/confirm/<sha256>")
@requires("register.import")
def confirm(sha256):
    staged, kind = _claim_staged(sha256)
    try:
        content = staged.read_bytes()
    finally:
        staged.unlink(missing_ok=True)
    if hashlib.sha256(content).hexdigest() != sha256:
        abort(404)
    filename = _clean_filename(request.form.get("filename")) or f"{sha256}.{kind}"
    try:
        # read as the upload was read (the kind it was staged as); the user's file name is a label
        check = _check(f"{sha256}.{kind}", content)
    except register_file.RegisterFileError as exc:
        flash(exc.describe(lang()), "error")
        return redirect(url_for("registers.index"))
    if not check.rows:
        flash(t("Không có dòng hợp lệ nào để nhập.", "There is no good row to import."), "error")
        return redirect(url_for("registers.index"))
    _import(check, filename, content)
    return redirect(url_for("registers.index"))


# --- the staged uploads ----------------------------------------------------------------------

def _clean_filename(name: str | None) -> str:
    # browsers may send a full Windows path; the name is shown and recorded, never opened
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    return base[:200]


def _staging() -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / STAGING_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _stage(content: bytes, kind: str) -> str:
    """Keep the upload until it is confirmed: written whole under its SHA-256, readable by us only."""
    folder = _staging()
    _drop_old(folder)
    sha256 = hashlib.sha256(content).hexdigest()
    target = folder / f"{sha256}.{kind}"
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")   # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256


def _claim_staged(sha256: str) -> tuple[Path, str]:
    """Take a staged upload for this request alone: a second click on Confirm finds nothing (404)
    instead of importing the file twice. Returns the claimed file and its kind."""
    if not SHA256_RE.match(sha256):
        abort(404)
    folder = Path(current_app.config["DATA_DIR"]) / STAGING_DIR
    for kind in KINDS:
        claimed = folder / f".claimed-{uuid.uuid4().hex}.{kind}"
        try:
            os.rename(folder / f"{sha256}.{kind}", claimed)   # atomic: one request wins
        except FileNotFoundError:
            continue
        return claimed, kind
    abort(404)


def _drop_old(folder: Path) -> None:
    """Uploads never confirmed hold applicants' names and phones: they do not stay."""
    limit = time.time() - STAGED_MAX_AGE
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass   # another worker removed it first
