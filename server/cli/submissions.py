"""`flask --app server submissions delete INSTANCE_ID --reason TEXT`: the soft delete of a record.

For administrators of the server (whoever runs these commands has the database anyway); the
deletion and its reason go to the audit log (actions/deletion.py).
"""
from __future__ import annotations


import click
from flask import current_app
from flask.cli import AppGroup

import storage
from actions import deletion

from .common import _fail

submissions_cli = AppGroup("submissions", help="Phiếu đã nhận / Submissions.")


@submissions_cli.command("delete")
@click.argument("instance_id")
@click.option("--reason", required=True, help="Lý do xoá, ghi vào nhật ký / why, written to the audit log.")
def submissions_delete(instance_id, reason):
    """Xoá (ẩn) một phiếu và các bản sửa của nó / Delete (hide) a submission and its edits."""
    if not reason.strip():
        _fail("Cần ghi lý do xoá (--reason). / A reason is required (--reason).")
    db = storage.connect(current_app.config["DATA_DIR"])
    result = deletion.delete_submission(db, instance_id, reason=reason, actor="cli")
    if result.outcome == deletion.NOT_FOUND:
        _fail(f'Không có phiếu "{instance_id}". / No submission "{instance_id}".')
    if result.outcome == deletion.ALREADY_DELETED:
        click.echo(f"Phiếu {instance_id} đã bị xoá trước đó. / Submission {instance_id} was already deleted.")
        return
    click.echo(f"Đã xoá {len(result.instance_ids)} bản của phiếu {instance_id}; dữ liệu vẫn được giữ và "
               f"ghi vào nhật ký. / Deleted {len(result.instance_ids)} version(s) of {instance_id}; "
               "the record is kept and the deletion is in the audit log.")
