"""Today's map and unit history: the bundled lists, dated imports, successors, units in force.

Expected trees are read straight from the bundled CSV files with the csv module, not from the
code under test.
"""
from __future__ import annotations

import csv

import storage
from conftest import ROOT, cli
from storage import units

SEED = ROOT / "server" / "seed"
LIST_2021 = SEED / "units_thua_thien_hue_2021.csv"
LIST_2025_01 = SEED / "units_hue_2025-01-01.csv"
NATIONAL = SEED / "units_vn_2025-07-01.csv"
SUCCESSORS = SEED / "hue_successors_2025-07-01.csv"


def rows(path):
    return list(csv.DictReader(path.open(encoding="utf-8")))


def hue_2025_07():
    """Huế of 1/7/2025 as the national list has it (the city and its communes)."""
    return [r for r in rows(NATIONAL) if r["code"] == "46" or r["parent_code"] == "46"]


def write_hue_2025_07(path):
    """The whole tree of 1/7/2025 for an install that has the provincial centre TTHCC."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["code", "parent_code", "level", "name_vi", "name_en"])
        writer.writeheader()
        data = hue_2025_07()
        writer.writerow(data[0])
        writer.writerow({"code": "TTHCC", "parent_code": "46", "level": "tinh",
                         "name_vi": "Trung tâm Phục vụ hành chính công thành phố Huế",
                         "name_en": "Hue City Public Administrative Service Centre"})
        writer.writerows(data[1:])
    return path


def write_hue_2025_01(path):
    """The 1/1/2025 list with the provincial centre the 2021 install had."""
    with path.open("w", encoding="utf-8", newline="") as f:
        data = rows(LIST_2025_01)
        writer = csv.DictWriter(f, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerow(data[0])
        writer.writerow({"code": "TTHCC", "parent_code": "46", "level": "tinh",
                         "name_vi": "Trung tâm Phục vụ hành chính công thành phố Huế",
                         "name_en": "Hue City Public Administrative Service Centre"})
        writer.writerows(data[1:])
    return path


# --- 1. current by default --------------------------------------------------------------------

def test_a_new_install_is_hue_of_today(tmp_path):
    out = cli(tmp_path, "setup", "--forms-dir", str(tmp_path / "no-forms"))
    assert out.exit_code == 0, out.output
    assert "Thành phố Huế" in out.output
    db = storage.connect(tmp_path)
    stored = {u["code"]: u for u in units.all_units(db)}
    expected = {r["code"]: r for r in hue_2025_07()}
    assert len(expected) == 41
    communes = {c for c, u in stored.items() if u["level"] == "xa"}
    assert communes == {c for c, r in expected.items() if r["level"] == "xa"} and len(communes) == 40
    for code, row in expected.items():
        assert stored[code]["name_vi"] == row["name_vi"] and stored[code]["level"] == row["level"]
        assert (stored[code]["parent_code"] or "") == row["parent_code"]
    assert stored["46"]["name_vi"] == "Thành phố Huế"
    centre = stored["TTHCC"]
    assert centre["parent_code"] == "46" and "hành chính công" in centre["name_vi"]
    assert not any(u["level"] == "huyen" for u in stored.values())
    assert {u["valid_from"] for u in stored.values()} == {"2025-07-01"}
    # the devices' unit list is the same 42 units
    listed = list(csv.DictReader(units.units_csv(db).decode().splitlines()))
    assert {r["name"] for r in listed} == set(stored)


def test_any_province_from_the_national_list(tmp_path):
    national = rows(NATIONAL)
    for province in ("01", "79"):
        data_dir = tmp_path / province
        out = cli(data_dir, "units", "seed", "--province", province)
        assert out.exit_code == 0, out.output
        stored = {u["code"]: u for u in units.all_units(storage.connect(data_dir))}
        head = next(r for r in national if r["code"] == province)
        communes = {r["code"] for r in national if r["parent_code"] == province}
        assert len(communes) > 100
        assert set(stored) == communes | {province, "TTHCC"}
        assert stored[province]["name_vi"] == head["name_vi"]
    bad = cli(tmp_path / "x", "units", "seed", "--province", "99")
    assert bad.exit_code == 1 and "Không có tỉnh" in bad.output and "No province" in bad.output
    assert "Traceback" not in bad.output
    assert units.count_units(storage.connect(tmp_path / "x")) == 0
