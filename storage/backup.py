"""Backups of a DATA_DIR taken while the server runs, and restoring one into an empty DATA_DIR.

A backup holds the database and every attachment file it names, with a manifest giving each
file's size and SHA-256:

    manifest.json
    hailong.sqlite               a consistent snapshot, taken with SQLite's online backup API
    blobs/ab/ab12…               the attachments the snapshot refers to, by their SHA-256

The database is copied first, in one step of the backup API, so the copy is the database as of
one moment even while workers keep committing (WAL mode lets them). The attachment files are
copied after it: an attachment is on disk before the row naming it commits and is never removed
while a row names it, so every file the snapshot refers to exists when it is copied. Files that
arrived after the snapshot are not part of the backup, nor is the secret key (sessions start
again after a restore) or the collectors' QR images (the tokens' digests are in the database, so
configured devices keep working).

The backup is written to a directory, or to a .tar (.tar.gz) file, under a temporary name that is
renamed into place once everything is on disk: a backup that exists is complete.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import schema
from .blobs import copy_hashing
from .clock import now_iso
from .db import DB_FILENAME, connect
from .errors import BilingualError

MANIFEST = "manifest.json"
FORMAT = "hailong-backup"
FORMAT_VERSION = 1
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
_CHUNK = 1 << 20
_BLOB_PATH = re.compile(r"^blobs/([0-9a-f]{2})/([0-9a-f]{64})$")
# what a DATA_DIR holds right after the app has started once on it, with nothing stored yet
_FRESH_ENTRIES = {DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm", "secret_key", "write.lock",
                  "blobs", "collectors", "tmp"}


class BackupError(BilingualError):
    """A backup or restore that cannot be done; the messages are for the person running it."""

    code = "backup_refused"


@dataclass
class Summary:
    path: Path
    schema_version: int
    submissions: int
    attachment_files: int
    total_bytes: int


# --- backup ----------------------------------------------------------------------------------

def is_tar(path: Path) -> bool:
    return path.name.lower().endswith(TAR_SUFFIXES)


def create_backup(data_dir: str | Path, out: str | Path) -> Summary:
    data_dir, out = Path(data_dir), Path(out)
    database = data_dir / DB_FILENAME
    if not database.is_file():
        raise BackupError(f"Không có cơ sở dữ liệu {database}.", f"There is no database at {database}.")
    if out.exists() and (is_tar(out) or not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} đã có; hãy chọn một tên mới.", f"{out} already exists; choose a new name.")
    out.parent.mkdir(parents=True, exist_ok=True)
    # beside OUT, so that the final rename never crosses file systems
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        files = {DB_FILENAME: _snapshot(database, work / DB_FILENAME)}
        snap = sqlite3.connect(work / DB_FILENAME)
        try:
            version = snap.execute("PRAGMA user_version").fetchone()[0]
            submissions = snap.execute("SELECT count(*) FROM submissions").fetchone()[0]
            wanted = sorted(r[0] for r in snap.execute("SELECT DISTINCT sha256 FROM attachments"))
        finally:
            snap.close()
        for sha in wanted:
            relative = f"blobs/{sha[:2]}/{sha}"
            files[relative] = _copy_blob(data_dir / relative, work / relative, sha)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "created_at": now_iso(),
                    "schema_version": version, "submissions": submissions,
                    "files": {name: files[name] for name in sorted(files)}}
        manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
        _write_durably(work / MANIFEST, manifest_bytes)
        if is_tar(out):
            _write_tar(work, out, manifest_bytes, sorted(files))
        else:
            for folder in sorted({p.parent for p in work.rglob("*") if p.is_file()}, reverse=True):
                _fsync_dir(folder)
            if out.exists():
                out.rmdir()
            os.replace(work, out)
            _fsync_dir(out.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Summary(out, version, submissions, len(files) - 1, sum(f["size"] for f in files.values()))


def _snapshot(source: Path, target: Path) -> dict:
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        # pages=-1: the whole database in one step, under one read transaction, so the copy is
        # the database as of one commit however many workers write meanwhile
        src.backup(dst, pages=-1)
        # a self-contained file: no -wal beside it to be forgotten
        dst.execute("PRAGMA journal_mode = DELETE")
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"Bản sao cơ sở dữ liệu không toàn vẹn: {check}.",
                              f"The database copy fails its integrity check: {check}.")
    finally:
        dst.close()
        src.close()
    with open(target, "rb+") as f:
        os.fsync(f.fileno())
    return _describe(target)


def _copy_blob(source: Path, target: Path, sha: str) -> dict:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            copied, size = copy_hashing(src, dst)
    except FileNotFoundError:
        raise BackupError(f"Thiếu tệp đính kèm {source}; bản sao lưu bị huỷ.",
                          f"The attachment file {source} is missing; the backup was abandoned.") from None
    if copied != sha:
        raise BackupError(f"Tệp đính kèm {source} không khớp mã SHA-256 của nó (hỏng đĩa?); bản sao lưu bị huỷ.",
                          f"The attachment file {source} does not match its SHA-256 (disk damage?); "
                          "the backup was abandoned.")
    return {"sha256": sha, "size": size}


def _write_tar(work: Path, out: Path, manifest_bytes: bytes, names: list[str]) -> None:
    mode = "w:gz" if out.name.lower().endswith((".gz", ".tgz")) else "w"
    partial = work / "backup.tar.partial"
    with tarfile.open(partial, mode) as tar:
        # the manifest first, so a reader learns what to expect before the data
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(manifest_bytes), 0o600
        tar.addfile(info, io.BytesIO(manifest_bytes))
        for name in names:
            tar.add(work / name, arcname=name, recursive=False)
    os.chmod(partial, 0o600)  # answers and identifiers: readable by the server's account only
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(partial, out)
    _fsync_dir(out.parent)


# --- restore ---------------------------------------------------------------------------------

def restore_backup(source: str | Path, data_dir: str | Path) -> Summary:
    """Restore a backup into an empty DATA_DIR, checking every file against the manifest first.

    Nothing is moved into DATA_DIR until every file has been read, its size and SHA-256 checked and
    the database has passed its integrity check. The database is then brought up to this
    version's schema (storage.connect), so a backup of an older version restores into a newer one.
    """
    source, data_dir = Path(source), Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not is_empty_data_dir(data_dir):
        raise BackupError(f"Thư mục dữ liệu {data_dir} đã có dữ liệu; chỉ khôi phục vào thư mục trống.",
                          f"The data directory {data_dir} already holds data; restore into an empty one only.")
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        reader = _TarReader(source) if source.is_file() else _DirReader(source)
        with reader:
            manifest = _check_manifest(reader.read_manifest())
            for name, expected in manifest["files"].items():
                reader.copy(name, staging / name, expected)
        staged_db = staging / DB_FILENAME
        summary = _check_database(staged_db, manifest, source)
        for name in manifest["files"]:
            if name == DB_FILENAME:
                continue
            target = data_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
        for folder in {(data_dir / n).parent for n in manifest["files"]}:
            _fsync_dir(folder)
        for suffix in ("-wal", "-shm", ""):
            (data_dir / (DB_FILENAME + suffix)).unlink(missing_ok=True)
        os.replace(staged_db, data_dir / DB_FILENAME)
        _fsync_dir(data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    connect(data_dir).close()  # WAL mode again, and the schema migrated to this version
    summary.path = data_dir
    return summary


def is_empty_data_dir(data_dir: Path) -> bool:
    """Nothing but what starting the app once leaves: an empty database, a key, empty folders."""
    for entry in data_dir.iterdir():
        if entry.name not in _FRESH_ENTRIES:
            return False
        if entry.is_dir() and any(p.is_file() for p in entry.rglob("*")):
            return False
    database = data_dir / DB_FILENAME
    if not database.exists():
        return True
    conn = sqlite3.connect(database, timeout=30)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            # the names come from sqlite_master itself, not from any input
            if conn.execute(f"SELECT 1 FROM [{table}] LIMIT 1").fetchone():
                return False
        return True
    finally:
        conn.close()


def _check_manifest(manifest) -> dict:
    bad = BackupError("Tệp manifest.json của bản sao lưu không hợp lệ.", "The backup's manifest.json is not valid.")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise bad
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError("Bản sao lưu có định dạng khác phiên bản này đọc được.",
                          "The backup's format is not one this version reads.")
    files = manifest["files"]
    if DB_FILENAME not in files:
        raise bad
    for name, entry in files.items():
        blob = _BLOB_PATH.match(name)
        ok_name = name == DB_FILENAME or (blob is not None and name.endswith("/" + blob.group(2))
                                          and blob.group(2).startswith(blob.group(1)))
        if (not ok_name or not isinstance(entry, dict) or not isinstance(entry.get("size"), int)
                or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256")))
                or (blob is not None and entry["sha256"] != blob.group(2))):
            raise bad
    if int(manifest.get("schema_version", 0)) > schema.SCHEMA_VERSION:
        raise BackupError("Bản sao lưu được tạo bởi phiên bản mới hơn; "
                          "hãy nâng cấp phần mềm trước khi khôi phục.",
                          "The backup was made by a newer version; upgrade before restoring it.")
    return manifest


def _check_database(path: Path, manifest: dict, source: Path) -> Summary:
    conn = sqlite3.connect(path)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"Cơ sở dữ liệu trong bản sao lưu không toàn vẹn: {check}.",
                              f"The database in the backup fails its integrity check: {check}.")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        submissions = conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
        named = {r[0] for r in conn.execute("SELECT DISTINCT sha256 FROM attachments")}
    finally:
        conn.close()
    missing = [sha for sha in named if f"blobs/{sha[:2]}/{sha}" not in manifest["files"]]
    if missing:
        raise BackupError(f"Bản sao lưu thiếu {len(missing)} tệp đính kèm mà cơ sở dữ liệu cần.",
                          f"The backup lacks {len(missing)} attachment files the database refers to.")
    return Summary(source, version, submissions, len(manifest["files"]) - 1,
                   sum(e["size"] for e in manifest["files"].values()))


def _mismatch(name: str) -> BackupError:
    return BackupError(f"Tệp {name} trong bản sao lưu không khớp manifest (thiếu, sai kích thước hoặc sai SHA-256); "
                       "không khôi phục gì.",
                       f"The file {name} in the backup does not match the manifest (missing, wrong size or "
                       "wrong SHA-256); nothing was restored.")


def _copy_checked(stream, target: Path, name: str, expected: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if size > expected["size"]:
                raise _mismatch(name)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise _mismatch(name)


class _DirReader:
    def __init__(self, root: Path):
        self.root = root

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def read_manifest(self):
        try:
            return json.loads((self.root / MANIFEST).read_bytes())
        except (OSError, ValueError):
            raise BackupError(f"{self.root} không phải bản sao lưu (không có manifest.json hợp lệ).",
                              f"{self.root} is not a backup (no valid manifest.json).") from None

    def copy(self, name: str, target: Path, expected: dict) -> None:
        path = self.root / name
        if path.is_symlink() or not path.is_file():
            raise _mismatch(name)
        with open(path, "rb") as stream:
            _copy_checked(stream, target, name, expected)


class _TarReader:
    """Reads only the regular-file members the manifest names; nothing is ever extracted by the
    archive's own paths, so links and `..` in a crafted archive lead nowhere."""

    def __init__(self, path: Path):
        try:
            self.tar = tarfile.open(path, "r:*")
        except (OSError, tarfile.TarError):
            raise BackupError(f"{path} không phải bản sao lưu (không đọc được tệp tar).",
                              f"{path} is not a backup (not a readable tar file).") from None
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.tar.close()
        return False

    def _member(self, name: str):
        try:
            member = self.tar.getmember(name)
        except KeyError:
            return None
        return member if member.isreg() else None

    def read_manifest(self):
        member = self._member(MANIFEST)
        try:
            return json.loads(self.tar.extractfile(member).read()) if member else None
        except ValueError:
            return None

    def copy(self, name: str, target: Path, expected: dict) -> None:
        member = self._member(name)
        if member is None or member.size != expected["size"]:
            raise _mismatch(name)
        _copy_checked(self.tar.extractfile(member), target, name, expected)


# --- files -----------------------------------------------------------------------------------

def _describe(path: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
