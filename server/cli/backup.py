"""`flask --app server backup OUT` and `flask --app server restore IN` (storage/backup.py).

backup runs while the server serves; restore goes into an empty DATA_DIR with the server
stopped. Each ends with a message in Vietnamese and English, and exit code 1 on any refusal.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from storage.backup import BackupError, create_backup, restore_backup

from .common import _fail


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@click.command("backup")
@with_appcontext
@click.argument("out", type=click.Path(path_type=Path))
def backup_command(out):
    """Sao lưu khi máy chủ đang chạy / Back up while the server runs. OUT: một thư mục mới, hoặc
    tệp .tar / .tar.gz / a new directory, or a .tar / .tar.gz file."""
    try:
        summary = create_backup(current_app.config["DATA_DIR"], out)
    except BackupError as exc:
        _fail(f"LỖI / ERROR: {exc.describe()}")
    click.echo(f"Đã sao lưu {summary.submissions} phiếu và {summary.attachment_files} tệp đính kèm "
               f"({_size(summary.total_bytes)}) vào {summary.path}. / Backed up {summary.submissions} "
               f"submissions and {summary.attachment_files} attachment files ({_size(summary.total_bytes)}) "
               f"to {summary.path}.")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, path_type=Path))
def restore_command(source):
    """Khôi phục bản sao lưu vào DATA_DIR trống, khi máy chủ đã dừng / Restore a backup into an
    empty DATA_DIR, with the server stopped."""
    try:
        summary = restore_backup(source, current_app.config["DATA_DIR"])
    except BackupError as exc:
        _fail(f"LỖI / ERROR: {exc.describe()}")
    click.echo(f"Đã khôi phục {summary.submissions} phiếu và {summary.attachment_files} tệp đính kèm vào "
               f"{summary.path}; mọi tệp đã được kiểm tra SHA-256. / Restored {summary.submissions} "
               f"submissions and {summary.attachment_files} attachment files into {summary.path}; "
               "every file's SHA-256 was checked.")
