"""Maintenance commands: checking the attachment store against the database."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

import storage
from storage import submissions
from storage.blobs import BlobStore

maintenance_cli = AppGroup("maintenance", help="Bảo trì dữ liệu / Data maintenance.")


@maintenance_cli.command("sweep-blobs")
@click.option("--min-age", default=600, show_default=True,
              help="Chỉ xoá tệp cũ hơn số giây này / only remove files older than this many seconds.")
def sweep_blobs(min_age):
    """Xoá tệp đính kèm mồ côi / Remove attachment files no submission names."""
    db = storage.connect(current_app.config["DATA_DIR"])
    blobs = BlobStore(Path(current_app.config["DATA_DIR"]) / "blobs")
    removed = blobs.sweep(submissions.referenced_blobs(db), min_age)
    click.echo(f"Đã xoá {len(removed)} tệp mồ côi. / Removed {len(removed)} orphaned files.")
