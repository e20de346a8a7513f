"""`flask --app server register ...`: dossier registers from the one-stop system.

`register import FILE` checks the whole file first. A file with row problems imports nothing
unless --skip-errors says to leave those rows out: a frame missing rows silently would bias
every sample drawn from it.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from actions.registers import import_register
from sampling.register_file import MAX_BYTES, MAX_PROBLEMS_SHOWN, RegisterFileError, import_summary, read_register
from storage import registers, units

from .common import _db, _echo_problem, _fail

register_cli = AppGroup("register", help="Sổ theo dõi hồ sơ / Dossier registers.")


def echo_check(check) -> None:
    for problem in check.warnings + check.problems[:MAX_PROBLEMS_SHOWN]:
        _echo_problem(problem)
    hidden = len(check.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        click.echo(f"… và {hidden} lỗi khác. / … and {hidden} more problems.", err=True)


@register_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-errors", is_flag=True,
              help="Bỏ qua các dòng lỗi, nhập các dòng hợp lệ / skip rows with problems, import the good ones.")
@click.option("--actor", default="cli", show_default=True, help="Ghi vào nhật ký / name written to the audit log.")
@click.option("--unit", "unit_code",
              help="Nhập thay cho đơn vị này: chỉ hồ sơ của đơn vị và các đơn vị trực thuộc / import as this "
                   "unit: only dossiers of its subtree, never another unit's.")
def register_import(path, skip_errors, actor, unit_code):
    """Nhập sổ hồ sơ (CSV, XLSX) / Import a dossier register (CSV, XLSX)."""
    with path.open("rb") as handle:
        content = handle.read(MAX_BYTES + 1)   # read_register refuses anything larger
    db = _db()
    scope = _scope(db, unit_code)
    try:
        check = read_register(path.name, content, {u["code"]: u for u in units.all_units(db)}, scope=scope,
                              owners=lambda codes: registers.owner_units(db, codes))
    except RegisterFileError as exc:
        _fail(f"LỖI / ERROR: {exc.describe()}")
    echo_check(check)
    if check.problems and not skip_errors:
        _fail(f"Không nhập hồ sơ nào: {check.problem_rows} dòng có lỗi, {len(check.rows)} dòng hợp lệ. "
              "Sửa tệp, hoặc dùng --skip-errors để bỏ qua các dòng lỗi.\n"
              f"Nothing was imported: {check.problem_rows} rows have problems, {len(check.rows)} rows are good. "
              "Fix the file, or use --skip-errors to leave out the rows with problems.")
    if not check.rows:
        _fail("Không có dòng hợp lệ nào để nhập. / There is no good row to import.")
    try:
        result = import_register(db, check, filename=path.name, content=content, actor=actor, scope=scope,
                                 actor_unit=unit_code)
    except registers.DossierOwnedElsewhere as exc:
        _fail(f"LỖI / ERROR: {exc.describe()}")
    vi, en = import_summary(result)
    click.echo(f"{vi} / {en}")


def _scope(db, unit_code: str | None) -> set[str] | None:
    if unit_code is None:
        return None
    if units.get_unit(db, unit_code) is None:
        _fail(f'LỖI: Không có đơn vị "{unit_code}". / ERROR: Unknown unit "{unit_code}".')
    return units.subtree_codes(db, unit_code)


@register_cli.command("list")
@click.option("--unit", "unit_code", help="Chỉ các lần nhập và hồ sơ của đơn vị này / this unit's imports and dossiers only.")
def register_list(unit_code):
    """Các lần nhập gần đây và số hồ sơ / Recent imports and the number of dossiers."""
    db = _db()
    scope = _scope(db, unit_code)
    for row in registers.recent_imports(db, scope=scope):
        click.echo(f"{row['id']}\t{row['imported_at']}\t{row['imported_by'] or '-'}\t{row['filename']}\t"
                   f"{row['rows_imported']}/{row['rows_total']} dòng/rows, {row['rows_skipped']} bỏ qua/skipped")
    count = registers.dossier_count(db, scope=scope)
    click.echo(f"Tổng số hồ sơ: {count}. / Dossiers: {count}.")
