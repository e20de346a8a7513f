"""`flask --app server setup`: the first run (`make run`): units, the standard forms, what to do next."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from actions.units import NATIONAL_FROM, province_list
from storage import units, users

from .common import _db
from .forms import publish_path
from .units import import_units_file

DEFAULT_PROVINCE = "46"     # Thành phố Huế


@click.command("setup")
@with_appcontext
@click.option("--forms-dir", default="forms", type=click.Path(path_type=Path))
def setup_command(forms_dir):
    """Chuẩn bị lần chạy đầu / First-run setup: units, standard forms, next steps."""
    db = _db()
    if units.count_units(db) == 0:
        count = import_units_file(db, province_list(DEFAULT_PROVINCE), NATIONAL_FROM)
        click.echo(f"Đã nhập {count} đơn vị của Thành phố Huế (danh sách 1/7/2025). / "
                   f"Imported {count} units of Hue City (the list of 1 July 2025).")
    ok = all([publish_path(db, path, actor="setup") for path in sorted(Path(forms_dir).glob("*.xlsx"))])
    hue = units.get_unit(db, "46")
    if hue is not None and hue["name_vi"] == "Tỉnh Thừa Thiên Huế" and hue.get("retired_on") is None:
        click.echo("\nCây đơn vị vẫn là danh sách 2021 (Tỉnh Thừa Thiên Huế, cấp huyện). Nâng cấp lên Thành phố Huế "
                   "hiện nay / The unit tree is still the 2021 list; bring it to today's Thành phố Huế with:\n"
                   "  .venv/bin/flask --app server units upgrade-2025")
    if not any(u["role"] == "admin" for u in users.list_users(db)):
        # with the DATA_DIR this command worked on, so the account lands where the server reads
        click.echo("\nChưa có quản trị viên. Tạo tài khoản quản trị đầu tiên / No admin yet. Create the first one:\n"
                   f"  DATA_DIR={shlex.quote(current_app.config['DATA_DIR'])} "
                   ".venv/bin/flask --app server users create admin --role admin --password-stdin")
    if not ok:
        sys.exit(1)
