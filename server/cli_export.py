"""`flask --app server export FORM_ID --format xlsx|csvzip|report --out FILE`: the same files as
the download API, for exports too long for a browser to wait on.

The options go through the same parsing and checks as the API's query string (exports/query.py),
so a mistake reads the same everywhere and is reported before the file is touched. The file is
written beside --out under a temporary name and renamed into place only when complete: a failed
export never leaves a truncated file behind. The command is run by whoever holds the server's
data directory, so it may include identifiers (--include-identifiers); the audit log records it.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

import exports
import storage
from aggregate.problems import QueryError
from exports import rows as export_rows
from storage.blobs import BlobStore

ACTOR = "cli"


def _fail(*lines: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@click.command("export")
@with_appcontext
@click.argument("form_id")
@click.option("--format", "fmt", required=True, type=click.Choice(["xlsx", "csvzip", "report"]),
              help="xlsx: dữ liệu / data; csvzip: CSV theo ODK Central / Central's CSV zip; report: báo cáo.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp ghi ra / file to write.")
@click.option("--period", help="Kỳ / period: 2026-07, 2026-Q3, 2026-H2, 2026 (báo cáo: mặc định quý hiện tại).")
@click.option("--from", "date_from", help="Từ ngày / from (YYYY-MM-DD, ngày phỏng vấn, giờ Việt Nam).")
@click.option("--to", "date_to", help="Đến ngày (kể cả) / to, inclusive (YYYY-MM-DD).")
@click.option("--unit", help="Đơn vị và các đơn vị trực thuộc / this unit and the units under it.")
@click.option("--review-state", help="received, approved, hasIssues, rejected (cách nhau bởi dấu phẩy / comma-separated).")
@click.option("--version", help="Phiên bản biểu mẫu / form versions (comma-separated).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Ngôn ngữ tiêu đề cột (xlsx) hoặc của cả báo cáo / language of the headers (xlsx) or of the whole report.")
@click.option("--headers", type=click.Choice(["labels", "names"]), default="labels", show_default=True,
              help="Tiêu đề là nhãn câu hỏi hay tên XML / headers as labels or XML names (xlsx).")
@click.option("--include-identifiers", is_flag=True,
              help="Kèm mã hồ sơ, họ tên, số điện thoại (ghi nhật ký) / include identifiers (audited).")
@click.option("--media", is_flag=True, help="Kèm tệp đính kèm trong media/ / include attachments (csvzip).")
@click.option("--split-select", is_flag=True, help="Cột 0/1 cho từng lựa chọn / a 0/1 column per choice (csvzip).")
@click.option("--raw-cells", is_flag=True,
              help="Giữ nguyên ô bắt đầu bằng = + - @ (không thêm ') / cells as stored, formulas not "
                   "neutralised (csvzip; for code, not spreadsheets).")
@click.option("--min-n", "min_n", help="Số người trả lời tối thiểu để công bố / fewest respondents shown (report).")
@click.option("--units", "units_view", help="Báo cáo: recorded (như đã ghi nhận, mặc định) hoặc current (theo đơn vị "
              "hiện nay) / report: recorded (default) or current (on today's units).")
def export_command(form_id, fmt, out, period, date_from, date_to, unit, review_state, version, lang,
                   headers, include_identifiers, media, split_select, raw_cells, min_n, units_view):
    """Xuất dữ liệu hoặc báo cáo / Export a form's data or its report."""
    data_dir = Path(current_app.config["DATA_DIR"])
    db = storage.connect(data_dir, migrate=False)
    args = {name: value for name, value in (
        ("period", period), ("from", date_from), ("to", date_to), ("unit", unit),
        ("review_state", review_state), ("version", version)) if value}
    try:
        if fmt == "report":
            for name, value in (("--from", date_from), ("--to", date_to), ("--review-state", review_state),
                                ("--version", version)):
                if value:
                    _fail(f"LỖI: {name} không dùng cho báo cáo.", f"ERROR: {name} does not apply to a report.")
            plan = exports.prepare_report(db, exports.report_query(
                form_id, {k: v for k, v in (("period", period), ("unit", unit), ("min_n", min_n),
                                            ("units", units_view), ("lang", lang)) if v}))
        else:
            if fmt == "xlsx":
                args.update(lang=lang, headers=headers)
            else:
                args.update(media="1" if media else "0", split_select="1" if split_select else "0",
                            raw_cells="1" if raw_cells else "0")
            args["identifiers"] = "1" if include_identifiers else "0"
            plan = exports.prepare(db, exports.export_query(form_id, fmt, args))
    except QueryError as exc:
        _fail(f"LỖI: {exc.message('vi')}", f"ERROR: {exc.message('en')}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except OSError as exc:
        _fail(f"LỖI: không ghi được vào {out.parent} ({exc.strerror}).",
              f"ERROR: cannot write in {out.parent} ({exc.strerror}).")
    try:
        with os.fdopen(fd, "wb") as target:
            summary = _write(db, fmt, plan, target, data_dir, out.parent)
        os.replace(temporary, out)
    except KeyboardInterrupt:
        os.unlink(temporary)
        _fail("Đã dừng; không có tệp nào được ghi. / Stopped; no file was written.")
    except Exception as exc:                      # a disk full or a database error: say it, no traceback
        os.unlink(temporary)
        _fail(f"LỖI: không xuất được ({type(exc).__name__}: {exc}). Không có tệp nào được ghi.",
              f"ERROR: the export failed ({type(exc).__name__}: {exc}). No file was written.")
    exports.record_export(db, ACTOR, fmt, plan)
    click.echo(f"Đã ghi {out} ({summary}). / Wrote {out} ({summary}).")


def _write(db, fmt: str, plan, target, data_dir: Path, work: Path) -> str:
    if fmt == "report":
        exports.write_report(db, plan, target)
        return plan.period.key
    total = sum(export_rows.count(db, plan, table) for table in export_rows.tables(plan))
    with click.progressbar(length=total, label="Đang xuất / Exporting", file=sys.stderr,
                           show_pos=True) as bar:
        if fmt == "xlsx":
            result = exports.write_xlsx(db, plan, target, tmpdir=str(work), actor=ACTOR, progress=bar.update)
            return f"{result.rows:,} dòng / rows"
        for piece in exports.stream_csv_zip(db, plan, blobs=BlobStore(data_dir / "blobs"), progress=bar.update):
            target.write(piece)
    return f"{total:,} dòng / rows"
