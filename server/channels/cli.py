"""`flask --app server kiosks create|list|revoke`: kiosks from the command line."""
from __future__ import annotations


import click
from flask import current_app
from flask.cli import AppGroup

import storage
from actions import kiosks
from storage import channels

from . import registry
from ..cli.common import _fail
from ..public_address import public_base

kiosks_cli = AppGroup("kiosks", help="Ki-ốt khảo sát / Survey kiosks.")


def _db():
    return storage.connect(current_app.config["DATA_DIR"])


@kiosks_cli.command("create")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị đặt ki-ốt / unit code of the kiosk.")
@click.option("--form", "form_id", default=kiosks.DEFAULT_FORM, show_default=True,
              help="Biểu mẫu hiển thị / form shown.")
@click.option("--server-url", help="Địa chỉ máy chủ / server URL (default PUBLIC_URL).")
def kiosks_create(name, unit_code, form_id, server_url):
    """Đăng ký ki-ốt, in mã kích hoạt / Register a kiosk and print its activation code."""
    try:
        new = kiosks.create_kiosk(_db(), name=name, unit_code=unit_code, form_id=form_id, actor="cli")
    except kiosks.Refused as exc:
        _fail(exc.describe())
    base = server_url or public_base(_db())
    click.echo(f"Đã đăng ký ki-ốt {new.name} (đơn vị {new.unit_code}, biểu mẫu {new.form_id}). / "
               f"Registered kiosk {new.name} (unit {new.unit_code}, form {new.form_id}).")
    click.echo(f"Địa chỉ ki-ốt / kiosk address: {registry.kiosk_url(base, new.unit_code)}")
    click.echo(f"Mã ki-ốt (chỉ hiện một lần) / kiosk code (shown once): {new.token}")
    click.echo(f"Liên kết kích hoạt / activation link: {registry.activation_url(base, new)}")


@kiosks_cli.command("list")
def kiosks_list():
    """Liệt kê ki-ốt / List kiosks."""
    rows = channels.list_kiosks(_db())
    if not rows:
        click.echo("Chưa có ki-ốt nào. / No kiosks yet.")
    for row in rows:
        state = "thu hồi / revoked" if row["revoked_at"] else "hoạt động / active"
        click.echo(f"{row['name']}\t{row['unit_code']}\t{row['form_id']}\t{state}\t{row['last_seen_at'] or '-'}")


@kiosks_cli.command("revoke")
@click.argument("name")
def kiosks_revoke(name):
    """Thu hồi ki-ốt / Revoke a kiosk."""
    try:
        kiosks.revoke_kiosk(_db(), name, "cli")
    except kiosks.Refused as exc:
        _fail(exc.describe())
    click.echo(f"Đã thu hồi ki-ốt {name}. / Kiosk {name} revoked.")
