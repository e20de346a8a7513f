"""`flask --app server users create|revoke|unlock|password|list`: accounts (actions/accounts.py)."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from actions.accounts import AccountRefused, create_account, reset_password, revoke_account, unlock_account
from storage import users

from .. import auth
from ..collect_settings import collector_qr_png, collector_url
from .common import _db, _fail

users_cli = AppGroup("users", help="Tài khoản / Accounts.")


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
