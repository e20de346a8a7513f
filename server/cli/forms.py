"""`flask --app server forms publish|list|close|open`: questionnaires (actions/publish.py, actions/forms.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from actions import forms as form_actions
from actions.publish import PublishRefused, publish_compiled
from forms.compile import compile_file
from forms.problems import FormProblems
from storage import forms, units

from .common import _db, _echo_problem, _fail

forms_cli = AppGroup("forms", help="Biểu mẫu (XLSForm) / Questionnaires.")


def publish_path(db, path: Path, actor: str | None, unit_code: str | None = None, media_dirs=()) -> bool:
    """Compile and publish one file, printing what happened; False when it could not be published."""
    try:
        compiled = compile_file(path)
    except FormProblems as exc:
        for problem in exc.problems:
            _echo_problem(problem)
        click.echo(f"Không xuất bản được {path.name}. / {path.name} was not published.", err=True)
        return False
    dirs = [Path(d) for d in media_dirs] + [path.parent / f"{path.stem}-media", path.parent]
    try:
        result = publish_compiled(db, compiled, actor=actor, unit_code=unit_code, search_dirs=dirs)
    except PublishRefused as exc:
        for problem in exc.problems:
            _echo_problem(problem)
        click.echo(f"Không xuất bản được {path.name}. / {path.name} was not published.", err=True)
        return False
    for problem in result.warnings:
        _echo_problem(problem)
    if result.created:
        click.echo(f"Đã xuất bản {result.form_id} phiên bản {result.version}. / "
                   f"Published {result.form_id} version {result.version}.")
    else:
        click.echo(f"{result.form_id} phiên bản {result.version} đã có, không đổi. / "
                   f"{result.form_id} version {result.version} is already published, unchanged.")
    return True


@forms_cli.command("publish")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--unit", "unit_code", help="Đơn vị sở hữu biểu mẫu / unit that owns the form.")
@click.option("--media-dir", "media_dirs", multiple=True, help="Thư mục chứa tệp đính kèm / media folder.")
def forms_publish(paths, unit_code, media_dirs):
    """Xuất bản XLSForm (.xlsx) hoặc XForm (.xml) / Publish XLSForms or XForms."""
    db = _db()
    if unit_code and units.get_unit(db, unit_code) is None:
        _fail(f'Không có đơn vị "{unit_code}". / Unknown unit "{unit_code}".')
    ok = True
    for path in paths:
        if not path.is_file():
            click.echo(f"Không tìm thấy tệp {path}. / File not found: {path}.", err=True)
            ok = False
            continue
        ok = publish_path(db, path, actor="cli", unit_code=unit_code, media_dirs=media_dirs) and ok
    if not ok:
        sys.exit(1)


@forms_cli.command("list")
def forms_list():
    """Liệt kê biểu mẫu / List forms."""
    rows = forms.list_forms(_db())
    if not rows:
        click.echo("Chưa có biểu mẫu nào. / No forms yet.")
    for row in rows:
        state = "đang mở / open" if row["state"] == "open" else "đã đóng / closed"
        click.echo(f"{row['form_id']}\t{row['version']}\t{row['versions']} phiên bản/versions\t{state}\t{row['title']}")


def _set_state(form_id: str, state: str) -> None:
    if not form_actions.set_state(_db(), form_id, state, actor="cli"):
        _fail(f'Không có biểu mẫu "{form_id}". / No form "{form_id}".')
    word = ("Đã đóng", "closed") if state == "closed" else ("Đã mở lại", "reopened")
    click.echo(f"{word[0]} {form_id}. / {form_id} {word[1]}.")


@forms_cli.command("close")
@click.argument("form_id")
def forms_close(form_id):
    """Đóng biểu mẫu, ngừng nhận phiếu / Close a form to submissions."""
    _set_state(form_id, "closed")


@forms_cli.command("open")
@click.argument("form_id")
def forms_open(form_id):
    """Mở lại biểu mẫu / Reopen a form."""
    _set_state(form_id, "open")
