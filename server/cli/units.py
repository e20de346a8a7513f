"""`flask --app server units import|seed|successors|upgrade-2025`: the unit tree (actions/units.py)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from actions.units import (NATIONAL_FROM, import_successors, import_units, province_codes, province_list,
                           upgrade_hue_2025)
from storage import units

from .common import _db, _fail

units_cli = AppGroup("units", help="Cây đơn vị hành chính / Administrative unit tree.")


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
