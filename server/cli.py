"""Command-line tools under `flask --app server`: forms, units, users and first-run setup.

Every failure ends with a message in Vietnamese and English and a non-zero exit code, never a
traceback: the people running these are form designers and provincial IT staff.
"""
from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

import storage
from forms.compile import compile_file
from forms.problems import FormProblems
from storage import forms, units, users

from . import auth
from .publish import PublishRefused, publish_compiled
from .unit_import import (NATIONAL_FROM, import_successors, import_units, province_codes,
                          province_list, upgrade_hue_2025)
from .user_admin import (AccountRefused, collector_qr_png, collector_url, create_account, reset_password,
                         revoke_account, unlock_account)

DEFAULT_PROVINCE = "46"     # Thành phố Huế

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


def import_units_file(db, data: bytes, valid_from: str | None = None) -> int:
    count, errors = import_units(db, data, actor="cli", valid_from=valid_from)
    if errors:
        for error in errors:
            click.echo(error.describe(), err=True)
        _fail("Không nhập đơn vị nào vì tệp có lỗi. / Nothing was imported because the file has errors.")
    return count


@units_cli.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "valid_from", metavar="YYYY-MM-DD",
              help="Danh sách đầy đủ có hiệu lực từ ngày này; đơn vị không còn trong tệp sẽ giải thể / "
                   "the whole list in force from this day; units not in it are retired.")
def units_import(csv_path, valid_from):
    """Nhập danh sách đơn vị từ CSV / Import units (code,parent_code,level,name_vi,name_en)."""
    db = _db()
    count = import_units_file(db, csv_path.read_bytes(), valid_from)
    click.echo(f"Đã nhập {count} đơn vị. / Imported {count} units.")
    if valid_from:
        retired = [u for u in units.all_units(db) if u["retired_on"] == valid_from]
        click.echo(f"Giải thể từ {valid_from}: {len(retired)} đơn vị. / Retired on {valid_from}: {len(retired)} units.")


@units_cli.command("seed")
@click.option("--province", required=True, help="Mã tỉnh/thành phố (34 mã của danh sách 1/7/2025) / province code.")
@click.option("--from", "valid_from", metavar="YYYY-MM-DD",
              help="Khi đã có cây đơn vị: danh sách này thay cây cũ từ ngày này / on a tree already set up: "
                   "this list replaces it from this day.")
def units_seed(province, valid_from):
    """Nhập đơn vị của một tỉnh từ danh sách quốc gia 1/7/2025 / Set up a province from the national list."""
    data = province_list(province)
    if data is None:
        known = ", ".join(f"{code} {name}" for code, name in province_codes())
        _fail(f'Không có tỉnh/thành phố mã "{province}". Các mã: {known}. / '
              f'No province with code "{province}".')
    db = _db()
    if units.count_units(db) and not valid_from:
        _fail("Đã có cây đơn vị; để thay bằng danh sách này, ghi ngày có hiệu lực bằng --from YYYY-MM-DD "
              "(đơn vị cũ giải thể từ ngày đó, không bị xóa). / A unit tree is already set up; to replace it "
              "with this list, give the day it takes effect with --from YYYY-MM-DD (the old units are "
              "retired on that day, never deleted).")
    count = import_units_file(db, data, valid_from or NATIONAL_FROM)
    click.echo(f"Đã nhập {count} đơn vị. / Imported {count} units.")


@units_cli.command("successors")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_successors(csv_path):
    """Ghi đơn vị kế thừa của đơn vị đã giải thể / Record successors
    (old_code,old_name_vi,old_parent_code,new_code,new_name_vi,how)."""
    count, errors = import_successors(_db(), csv_path.read_bytes(), actor="cli")
    if errors:
        for error in errors:
            click.echo(error.describe(), err=True)
        _fail("Không ghi đơn vị kế thừa nào vì tệp có lỗi. / Nothing was recorded because the file has errors.")
    click.echo(f"Đã ghi {count} đơn vị kế thừa. / Recorded {count} successors.")


@units_cli.command("upgrade-2025")
def units_upgrade_2025():
    """Nâng cấp cây đơn vị Thừa Thiên Huế 2021 lên Thành phố Huế 1/1/2025 và 1/7/2025 /
    Upgrade the 2021 Thừa Thiên Huế tree through the lists of 1/1/2025 and 1/7/2025."""
    plans, errors = upgrade_hue_2025(_db(), actor="cli")
    if errors:
        for error in errors:
            click.echo(error.describe(), err=True)
        _fail("Không thay đổi gì. / Nothing was changed.")
    for day, plan in plans.items():
        click.echo(f"{day}: thêm / added {len(plan['added'])}, nghĩa mới / new meaning "
                   f"{len(plan['replaced']) + len(plan['returning'])}, giải thể / retired {len(plan['retired'])}")
    click.echo("Đã ghi đơn vị kế thừa của các xã, phường. / The communes' successors are recorded.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(users.ROLES))
@click.option("--unit", "unit_code", help="Mã đơn vị giới hạn phạm vi / unit scope code.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin / read the password from stdin.")
@click.option("--server-url", help="Địa chỉ máy chủ cho Collect (mặc định PUBLIC_URL, không có thì hỏi) / server URL for Collect (default PUBLIC_URL, else asked for).")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Nơi ghi mã QR cấu hình Collect / where to write the Collect QR code PNG.")
def users_create(name, role, unit_code, password_stdin, server_url, qr_path):
    """Tạo tài khoản / Create an account. Collectors get a token URL and a QR code."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif role != "collector":
        _fail("Cần mật khẩu: dùng --password-stdin. / A password is required: use --password-stdin.")
    if role == "collector" and (password is None or server_url or current_app.config.get("PUBLIC_URL")):
        # a token is this account's only credential: it needs the address to go with it
        server_url = _collect_server_url(server_url)
    try:
        account = create_account(_db(), name=name, role=role, unit_code=unit_code, password=password,
                                 actor="cli")
    except AccountRefused as exc:
        _fail(exc.describe())
    click.echo(f"Đã tạo tài khoản {name} ({role}). / Created account {name} ({role}).")
    if account.token and not server_url:
        click.echo("Tài khoản dùng mật khẩu (Basic, qua HTTPS); không in địa chỉ token vì chưa biết địa chỉ máy chủ "
                   "(--server-url hoặc PUBLIC_URL). / A password account (Basic, over HTTPS); no token URL printed, "
                   "as the server address is not known (--server-url or PUBLIC_URL).")
    elif account.token:
        url = collector_url(server_url, account.token)
        qr_path = qr_path or Path(current_app.config["DATA_DIR"]) / "collectors" / f"{name}.png"
        qr_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(qr_path, collector_qr_png(url))
        click.echo(f"Địa chỉ máy chủ cho ODK Collect / Server URL for ODK Collect:\n  {url}")
        click.echo(f"Mã QR cấu hình Collect / Collect settings QR code: {qr_path}")
        click.echo("Giữ bí mật địa chỉ này; thu hồi bằng `users revoke`. / Keep this URL secret; revoke with `users revoke`.")


def _collect_server_url(given: str | None) -> str:
    """The address phones reach the server at: --server-url, else PUBLIC_URL, else asked for.
    Never guessed: a wrong one is only found out on a phone in the field."""
    url = given or current_app.config.get("PUBLIC_URL")
    if not url:
        if not sys.stdin.isatty():
            _fail("Cần địa chỉ máy chủ mà điện thoại truy cập được: dùng --server-url http://192.168.1.10:5000 "
                  "hoặc đặt PUBLIC_URL.\n"
                  "The address phones reach the server at is needed: use --server-url http://192.168.1.10:5000 "
                  "or set PUBLIC_URL.")
        url = click.prompt("Địa chỉ máy chủ cho điện thoại (ví dụ http://192.168.1.10:5000) / "
                           "Server address for the phones (e.g. http://192.168.1.10:5000)")
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        _fail(f"Địa chỉ máy chủ phải bắt đầu bằng http:// hoặc https://: {url}\n"
              f"The server address must start with http:// or https://: {url}")
    return url


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by the server's account only (mode 0600), whatever the umask and
    whatever file was there: the QR code holds the collector's token, its credential."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")   # 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@users_cli.command("revoke")
@click.argument("name")
def users_revoke(name):
    """Thu hồi tài khoản hoặc token / Revoke an account or its token."""
    try:
        revoke_account(_db(), name=name, actor="cli")
    except AccountRefused as exc:
        _fail(exc.describe())
    click.echo(f"Đã thu hồi {name}. / Revoked {name}.")


@users_cli.command("unlock")
@click.argument("name")
def users_unlock(name):
    """Mở khoá tài khoản bị khoá vì đăng nhập sai / Unlock an account locked by failed logins."""
    try:
        forgotten = unlock_account(_db(), name=name, actor="cli")
    except AccountRefused as exc:
        _fail(exc.describe())
    click.echo(f"Đã mở khoá {name} ({forgotten} lần sai được xoá). / Unlocked {name} ({forgotten} failures forgotten).")


@users_cli.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Đọc mật khẩu mới từ stdin / read the new password from stdin.")
def users_password(name, password_stdin):
    """Đặt lại mật khẩu (kết thúc các phiên, mở khoá) / Reset a password (ends sessions, unlocks)."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        reset_password(_db(), name=name, password=password, actor="cli")
    except AccountRefused as exc:
        _fail(exc.describe())
    click.echo(f"Đã đặt mật khẩu mới cho {name}. / New password set for {name}.")


@users_cli.command("list")
def users_list():
    """Liệt kê tài khoản / List accounts."""
    db = _db()
    rows = users.list_users(db)
    locked = auth.locked_out(db, [row["name"] for row in rows])
    for row in rows:
        state = "thu hồi / revoked" if row["revoked_at"] else "hoạt động / active"
        if row["name"] in locked and not row["revoked_at"]:
            state += ", bị khoá / locked"
        click.echo(f"{row['name']}\t{row['role']}\t{row['unit_code'] or '-'}\t{state}")


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
