"""Command-line tools under `flask --app server`: forms, units, users and first-run setup.

Every failure ends with a message in Vietnamese and English and a non-zero exit code, never a
traceback: the people running these are form designers and provincial IT staff.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

import storage
from forms.compile import compile_file
from forms.problems import FormProblems
from storage import forms, units, users

from .publish import PublishRefused, publish_compiled
from .unit_import import import_units
from .user_admin import AccountRefused, collector_qr_png, collector_url, create_account, revoke_account

SEED_UNITS = Path(__file__).parent / "seed" / "units_thua_thien_hue_2021.csv"

forms_cli = AppGroup("forms", help="Biểu mẫu (XLSForm) / Questionnaires.")
units_cli = AppGroup("units", help="Cây đơn vị hành chính / Administrative unit tree.")
users_cli = AppGroup("users", help="Tài khoản / Accounts.")


def _db():
    return storage.connect(current_app.config["DATA_DIR"])


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _echo_problem(problem, err=True) -> None:
    label = "LỖI / ERROR" if problem.severity == "error" else "CẢNH BÁO / WARNING"
    click.echo(f"{label}: {problem.describe('vi')}", err=err)
    click.echo(f"    {problem.describe('en')}", err=err)


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
    if not forms.set_state(_db(), form_id, state, actor="cli"):
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


def import_units_file(db, data: bytes) -> int:
    count, errors = import_units(db, data, actor="cli")
    if errors:
        for error in errors:
            click.echo(error.describe(), err=True)
        _fail("Không nhập đơn vị nào vì tệp có lỗi. / Nothing was imported because the file has errors.")
    return count


@units_cli.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_import(csv_path):
    """Nhập danh sách đơn vị từ CSV / Import units (code,parent_code,level,name_vi,name_en)."""
    count = import_units_file(_db(), csv_path.read_bytes())
    click.echo(f"Đã nhập {count} đơn vị. / Imported {count} units.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(users.ROLES))
@click.option("--unit", "unit_code", help="Mã đơn vị giới hạn phạm vi / unit scope code.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin / read the password from stdin.")
@click.option("--server-url", help="Địa chỉ máy chủ cho Collect / server URL for Collect (default PUBLIC_URL).")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Nơi ghi mã QR cấu hình Collect / where to write the Collect QR code PNG.")
def users_create(name, role, unit_code, password_stdin, server_url, qr_path):
    """Tạo tài khoản / Create an account. Collectors get a token URL and a QR code."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif role != "collector":
        _fail("Cần mật khẩu: dùng --password-stdin. / A password is required: use --password-stdin.")
    try:
        account = create_account(_db(), name=name, role=role, unit_code=unit_code, password=password,
                                 actor="cli")
    except AccountRefused as exc:
        _fail(exc.describe())
    click.echo(f"Đã tạo tài khoản {name} ({role}). / Created account {name} ({role}).")
    if account.token:
        url = collector_url(server_url or current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000",
                            account.token)
        qr_path = qr_path or Path(current_app.config["DATA_DIR"]) / "collectors" / f"{name}.png"
        qr_path.parent.mkdir(parents=True, exist_ok=True)
        qr_path.write_bytes(collector_qr_png(url))
        click.echo(f"Địa chỉ máy chủ cho ODK Collect / Server URL for ODK Collect:\n  {url}")
        click.echo(f"Mã QR cấu hình Collect / Collect settings QR code: {qr_path}")
        click.echo("Giữ bí mật địa chỉ này; thu hồi bằng `users revoke`. / Keep this URL secret; revoke with `users revoke`.")


@users_cli.command("revoke")
@click.argument("name")
def users_revoke(name):
    """Thu hồi tài khoản hoặc token / Revoke an account or its token."""
    try:
        revoke_account(_db(), name=name, actor="cli")
    except AccountRefused as exc:
        _fail(exc.describe())
    click.echo(f"Đã thu hồi {name}. / Revoked {name}.")


@users_cli.command("list")
def users_list():
    """Liệt kê tài khoản / List accounts."""
    for row in users.list_users(_db()):
        state = "thu hồi / revoked" if row["revoked_at"] else "hoạt động / active"
        click.echo(f"{row['name']}\t{row['role']}\t{row['unit_code'] or '-'}\t{state}")


@click.command("setup")
@with_appcontext
@click.option("--forms-dir", default="forms", type=click.Path(path_type=Path))
def setup_command(forms_dir):
    """Chuẩn bị lần chạy đầu / First-run setup: units, standard forms, next steps."""
    db = _db()
    if units.count_units(db) == 0:
        count = import_units_file(db, SEED_UNITS.read_bytes())
        click.echo(f"Đã nhập {count} đơn vị của tỉnh Thừa Thiên Huế. / Imported {count} Thừa Thiên Huế units.")
    ok = all([publish_path(db, path, actor="setup") for path in sorted(Path(forms_dir).glob("*.xlsx"))])
    if not any(u["role"] == "admin" for u in users.list_users(db)):
        click.echo("\nChưa có quản trị viên. Tạo tài khoản quản trị đầu tiên / No admin yet. Create the first one:\n"
                   "  .venv/bin/flask --app server users create admin --role admin --password-stdin")
    if not ok:
        sys.exit(1)


def init_app(app) -> None:
    for group in (forms_cli, units_cli, users_cli):
        app.cli.add_command(group)
    app.cli.add_command(setup_command)
    from .cli_indices import indices_command
    app.cli.add_command(indices_command)
    from .cli_maintenance import maintenance_cli
    app.cli.add_command(maintenance_cli)
    from .cli_export import export_command
    app.cli.add_command(export_command)
    from .cli_backup import backup_command, restore_command
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from .cli_submissions import submissions_cli
    app.cli.add_command(submissions_cli)
    from .cli_registers import register_cli
    app.cli.add_command(register_cli)
    from .cli_sampling import sample_cli
    app.cli.add_command(sample_cli)
