"""`flask --app server indices FORM_ID --by unit,quarter`: the satisfaction indices as a table.

The options are parsed by aggregate/params.py, so a bad value gets the same message as from the
API; a refusal ends with exit code 1 and no traceback.
"""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

import storage
from aggregate import compute_indices, params, render, weighted_indices
from aggregate.problems import QueryError


@click.command("indices")
@with_appcontext
@click.argument("form_id")
@click.option("--by", default="", help="Nhóm theo / group by: unit, level, tinh, huyen, xa, month, "
              "quarter, half, year, channel, procedure_field, version, form, q:<path> (comma-separated).")
@click.option("--from", "date_from", help="Từ ngày / from (YYYY-MM-DD, giờ Việt Nam / Vietnam time).")
@click.option("--to", "date_to", help="Đến ngày (kể cả) / to, inclusive (YYYY-MM-DD).")
@click.option("--unit", help="Chỉ đơn vị này và các đơn vị trực thuộc / this unit and the units under it.")
@click.option("--channel", help="Kênh / channel: interview, online, kiosk, paper, post, other.")
@click.option("--version", help="Phiên bản biểu mẫu / form versions (comma-separated).")
@click.option("--min-n", "min_n", default="30", show_default=True,
              help="Số người trả lời tối thiểu để công bố / fewest respondents for a published cell.")
@click.option("--items", is_flag=True, help="Kèm chỉ số từng câu hỏi / with each item's index.")
@click.option("--weighted", is_flag=True, help="Kèm chỉ số có trọng số theo số hồ sơ (sổ hồ sơ) / "
              "with the index weighted by dossier volume (the register).")
@click.option("--units", "units_view", help="recorded: như đã ghi nhận (mặc định) / as recorded (default); "
              "current: theo đơn vị hiện nay (đơn vị kế thừa) / on today's units (successors).")
@click.option("--json", "as_json", is_flag=True, help="In JSON như API / print the API's JSON.")
def indices_command(form_id, by, date_from, date_to, unit, channel, version, min_n, items, weighted,
                    units_view, as_json):
    """Chỉ số hài lòng / Satisfaction indices. FORM_ID: một mã hoặc nhiều mã cách nhau bởi dấu
    phẩy (gộp các biểu mẫu) / one form id, or several separated by commas (read together)."""
    db = storage.connect(current_app.config["DATA_DIR"])
    args = {name: value for name, value in (
        ("by", by), ("from", date_from), ("to", date_to), ("unit", unit), ("channel", channel),
        ("version", version), ("min_n", min_n), ("items", "1" if items else None),
        ("weighted", "1" if weighted else None), ("units", units_view)) if value}
    try:
        forms = params.split_list(form_id)
        query = params.index_query(forms, args)
        weights = weighted_indices(db, query) if params.wants_weighted(args) else None
        cells = compute_indices(db, query)
    except QueryError as exc:
        click.echo(f"LỖI: {exc.message('vi')}", err=True)
        click.echo(f"ERROR: {exc.message('en')}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(render.indices_json(db, query, cells, weights), ensure_ascii=False, indent=2))
    else:
        click.echo(render.text_table(db, query, cells, weights))
