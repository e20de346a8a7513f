"""What every command shares: the database of DATA_DIR, and failing with a message, no traceback."""
from __future__ import annotations

import sys

import click
from flask import current_app

import storage


def _db():
    return storage.connect(current_app.config["DATA_DIR"])


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _echo_problem(problem, err=True) -> None:
    label = "LỖI / ERROR" if problem.severity == "error" else "CẢNH BÁO / WARNING"
    click.echo(f"{label}: {problem.describe('vi')}", err=err)
    click.echo(f"    {problem.describe('en')}", err=err)
