"""Reading a unit list file (code,parent_code,level,name_vi,name_en) and checking it whole."""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import storage
from storage import audit
from storage import units as unit_store
from storage.db import first_row
from vocabulary import LEVELS as LEVEL_ORDER, TIMEZONE

# a level's depth: a unit's parent is never deeper than the unit
LEVELS = {level: depth for depth, level in enumerate(LEVEL_ORDER)}
COLUMNS = ("code", "parent_code", "level", "name_vi", "name_en")


@dataclass
class RowError:
    row: int          # line number in the file, header = 1
    message_vi: str
    message_en: str

    def describe(self) -> str:
        if not self.row:
            return f"{self.message_vi} / {self.message_en}"
        return f"Dòng {self.row}: {self.message_vi} / Row {self.row}: {self.message_en}"


def _csv_reader(data: bytes) -> tuple[csv.DictReader | None, list[str], RowError | None]:
    """(rows, header, None), or (None, [], the problem) for a file that is not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [], RowError(1, "Tệp không ở mã UTF-8; hãy lưu lại dạng CSV UTF-8.",
                                  "The file is not UTF-8; save it again as CSV UTF-8.")
    reader = csv.DictReader(io.StringIO(text))
    return reader, [h.strip() for h in (reader.fieldnames or [])], None


def read_units(data: bytes, known_codes: dict[str, str] | None = None) -> tuple[list[dict], list[RowError]]:
    """Parse and check the file; `known_codes` maps codes already stored to their level.

    Returns (units, errors). A caller imports nothing when there is any error, so a half-read
    file never leaves the tree in a state nobody chose.
    """
    known_codes = known_codes or {}
    reader, header, problem = _csv_reader(data)
    if problem:
        return [], [problem]
    missing = [c for c in COLUMNS[:4] if c not in header]
    if missing:
        return [], [RowError(1, f"Thiếu cột: {', '.join(missing)} (cần: {', '.join(COLUMNS)}).",
                             f"Missing columns: {', '.join(missing)} (expected: {', '.join(COLUMNS)}).")]
    units, errors, lines = [], [], {}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        code, level = row.get("code", ""), row.get("level", "")
        if not code:
            errors.append(RowError(number, "Thiếu mã đơn vị (cột code).", "The unit code (column code) is empty."))
            continue
        if code in lines:
            errors.append(RowError(number, f'Mã đơn vị "{code}" trùng với dòng {lines[code]}.',
                                   f'Unit code "{code}" repeats row {lines[code]}.'))
            continue
        if level not in LEVELS:
            errors.append(RowError(number, f'Cấp "{level}" không hợp lệ; chỉ dùng tinh, huyen hoặc xa.',
                                   f'Level "{level}" is invalid; use tinh, huyen or xa.'))
            continue
        if not row.get("name_vi"):
            errors.append(RowError(number, "Thiếu tên tiếng Việt (cột name_vi).", "The Vietnamese name (name_vi) is empty."))
            continue
        lines[code] = number
        units.append({"code": code, "parent_code": row.get("parent_code") or None, "level": level,
                      "name_vi": row["name_vi"], "name_en": row.get("name_en") or None})
    levels = {**known_codes, **{u["code"]: u["level"] for u in units}}
    for unit in units:
        parent = unit["parent_code"]
        number = lines[unit["code"]]
        if parent is None:
            continue
        if parent not in levels:
            errors.append(RowError(number, f'Đơn vị cấp trên "{parent}" không có trong tệp hay trên hệ thống.',
                                   f'Parent unit "{parent}" is neither in the file nor on the server.'))
        elif LEVELS[levels[parent]] > LEVELS[unit["level"]]:
            errors.append(RowError(number, f'Đơn vị cấp {unit["level"]} không thể trực thuộc đơn vị cấp {levels[parent]} "{parent}".',
                                   f'A {unit["level"]} unit cannot sit under the {levels[parent]} unit "{parent}".'))
    errors.extend(_cycles(units, lines))
    return units, sorted(errors, key=lambda e: e.row)


def _cycles(units: list[dict], lines: dict[str, int]) -> list[RowError]:
    parent_of = {u["code"]: u["parent_code"] for u in units}
    errors = []
    for code in parent_of:
        seen, current = set(), code
        while current in parent_of and current not in seen:
            seen.add(current)
            current = parent_of[current]
        if current == code:
            errors.append(RowError(lines[code], f'Đơn vị "{code}" nằm trong vòng lặp cấp trên – cấp dưới.',
                                   f'Unit "{code}" is part of a parent cycle.'))
    return errors


def import_units(db, data: bytes, actor: str | None,
                 valid_from: str | None = None) -> tuple[int, list[RowError]]:
    """Check the whole file, then store it; with any error nothing is stored. Returns (count, errors).

    Without `valid_from` the file adds units and corrects them in place. With it, the file is
    the whole tree in force from that day: units missing from it are retired (see
    storage.units.apply_list)."""
    summary, errors = preview_units(db, data, valid_from)
    if errors:
        return 0, errors
    rows = summary.pop("rows")
    with storage.write_transaction(db):
        if valid_from is None:
            unit_store.correct_units(db, rows)
            audit.record(db, actor, "units.import", None, count=len(rows))
        else:
            plan = unit_store.apply_list(db, rows, valid_from)
            audit.record(db, actor, "units.import", None, count=len(rows), valid_from=valid_from,
                         **{k: [u["code"] for u in v] for k, v in plan.items() if k != "unchanged"})
    return len(rows), []


def preview_units(db, data: bytes, valid_from: str | None) -> tuple[dict, list[RowError]]:
    """What importing the file would change: ({rows, and the plan's lists of codes}, errors)."""
    if valid_from is not None:
        problem = check_list_date(db, valid_from)
        if problem:
            return {}, [problem]
        known = {u["code"]: u["level"] for u in unit_store.all_units(db, in_force=True)}
    else:
        known = {u["code"]: u["level"] for u in unit_store.all_units(db)}
    rows, errors = read_units(data, known)
    if errors:
        return {}, errors
    if valid_from is None:
        stored = {u["code"] for u in unit_store.all_units(db)}
        return {"rows": rows, "added": [u for u in rows if u["code"] not in stored],
                "corrected": [u for u in rows if u["code"] in stored]}, []
    listed = {u["code"] for u in rows}
    for unit in rows:
        if unit["parent_code"] and unit["parent_code"] not in listed:
            return {}, [RowError(0, f'Danh sách có hiệu lực từ một ngày phải đủ cả cây: đơn vị cấp trên "{unit["parent_code"]}" không có trong tệp.',
                                 f'A list in force from a date is the whole tree: parent unit "{unit["parent_code"]}" is not in the file.')]
    return {"rows": rows, **unit_store.plan_list(db, rows, valid_from)}, []


def check_list_date(db, day: str) -> RowError | None:
    """A list takes effect on the first day of a month (indices are kept by month, so a unit is
    one version over a whole month), not in the future, and not before the latest list: history
    is written forwards."""
    try:
        parsed = date.fromisoformat(day)
    except (TypeError, ValueError):
        return RowError(0, f'Ngày hiệu lực "{day}" không hợp lệ; viết YYYY-MM-DD.',
                        f'The date in force "{day}" is invalid; write YYYY-MM-DD.')
    if parsed.day != 1:
        return RowError(0, f"Ngày hiệu lực phải là ngày đầu tháng (chỉ số tính theo tháng), không phải {day}.",
                        f"The date in force must be the first day of a month (indices are kept by month), not {day}.")
    if parsed > local_today():
        return RowError(0, f"Ngày hiệu lực {day} chưa đến; nhập danh sách từ ngày đó.",
                        f"The date in force {day} has not come yet; import the list on or after that day.")
    latest = unit_store.latest_list_date(db)
    if latest and day < latest:
        return RowError(0, f"Đã có danh sách hiệu lực từ {latest}; không thể ghi lại lịch sử trước ngày đó.",
                        f"A list in force from {latest} is already recorded; history before it cannot be rewritten.")
    return None


def local_today() -> date:
    return datetime.now(TIMEZONE).date()


# --- successors ---------------------------------------------------------------------------------

SUCCESSOR_COLUMNS = ("old_code", "new_code")


def read_successors(db, data: bytes) -> tuple[list[tuple[dict, dict | None]], list[RowError]]:
    """Parse a successors file (old_code,old_name_vi,old_parent_code,new_code,new_name_vi,how):
    each retired unit and the unit in force on its retirement day that took over its work
    (new_code empty: none). Names, when given, must match what is stored: a file for another
    list is refused rather than applied to the wrong units."""
    reader, header, problem = _csv_reader(data)
    if problem:
        return [], [problem]
    if "old_code" not in header or "new_code" not in header:
        return [], [RowError(1, "Thiếu cột old_code hoặc new_code.", "Missing column old_code or new_code.")]
    pairs, errors, seen = [], [], {}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        old_code, new_code = row.get("old_code", ""), row.get("new_code", "")
        if old_code in seen:
            errors.append(RowError(number, f'Đơn vị cũ "{old_code}" đã có ở dòng {seen[old_code]}; mỗi đơn vị chỉ có một đơn vị kế thừa.',
                                   f'Old unit "{old_code}" is already on row {seen[old_code]}; a unit has one successor.'))
            continue
        seen[old_code] = number
        old = _last_retired(db, old_code)
        if old is None:
            errors.append(RowError(number, f'Đơn vị "{old_code}" không có hoặc chưa giải thể.',
                                   f'Unit "{old_code}" is unknown or not retired.'))
            continue
        if row.get("old_parent_code") and row["old_parent_code"] != _code_of(db, old["parent_key"]):
            errors.append(RowError(number, f'Đơn vị cấp trên "{row["old_parent_code"]}" khác cấp trên đã lưu của {old_code}.',
                                   f'Parent "{row["old_parent_code"]}" differs from the stored parent of {old_code}.'))
            continue
        mismatch = _name_mismatch(number, row.get("old_name_vi"), old)
        if mismatch:
            errors.append(mismatch)
            continue
        new = None
        if new_code:
            new = unit_store.version_at(db, new_code, old["retired_on"])
            if new is None or (new["valid_from"] or "") > old["retired_on"] or \
                    (new["retired_on"] is not None and new["retired_on"] <= old["retired_on"]):
                errors.append(RowError(number, f'Đơn vị kế thừa "{new_code}" không có hiệu lực ngày {old["retired_on"]}.',
                                       f'Successor unit "{new_code}" is not in force on {old["retired_on"]}.'))
                continue
            mismatch = _name_mismatch(number, row.get("new_name_vi"), new)
            if mismatch:
                errors.append(mismatch)
                continue
        pairs.append((old, new))
    return pairs, errors


def _name_mismatch(number: int, given: str | None, stored: dict) -> RowError | None:
    """A name in the file that is not the stored unit's: the file is about other units."""
    if not given or _fold(given) == _fold(stored["name_vi"]):
        return None
    return RowError(number, f'Tên "{given}" khác tên đã lưu của {stored["code"]} ("{stored["name_vi"]}").',
                    f'Name "{given}" differs from the stored name of {stored["code"]} ("{stored["name_vi"]}").')


def _fold(name: str) -> str:
    """A name without marks or case: the lists spell the same name in several Unicode forms and
    with tone marks placed the old or the new way (Thuỷ, Thủy)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", name) if not unicodedata.combining(ch))
    return " ".join(bare.replace("đ", "d").replace("Đ", "D").casefold().split())


def _code_of(db, key: str | None) -> str | None:
    row = first_row(db, "SELECT code FROM unit_versions WHERE key = ?", [key]) if key else None
    return row["code"] if row else None


def _last_retired(db, code: str) -> dict | None:
    return first_row(db, """SELECT * FROM unit_versions WHERE code = ? AND retired_on IS NOT NULL
                                     ORDER BY retired_on DESC, id DESC LIMIT 1""", [code])


def import_successors(db, data: bytes, actor: str | None) -> tuple[int, list[RowError]]:
    pairs, errors = read_successors(db, data)
    if errors:
        return 0, errors
    with storage.write_transaction(db):
        for old, new in pairs:
            unit_store.set_successor(db, old["key"], new["key"] if new else None)
        audit.record(db, actor, "units.successors", None, count=len(pairs),
                     pairs={old["key"]: new["key"] if new else None for old, new in pairs})
    return len(pairs), []


# --- the bundled lists ----------------------------------------------------------------------------

# the bundled lists live with the server, which seeds a first install from them
SEED_DIR = Path(__file__).resolve().parent.parent / "server" / "seed"
NATIONAL_LIST = SEED_DIR / "units_vn_2025-07-01.csv"
NATIONAL_FROM = "2025-07-01"
CENTRE_CODE = "TTHCC"


def province_list(province: str) -> bytes | None:
    """The unit list of one province from the bundled national list: the province, its public
    administrative service centre (code TTHCC, as the 2021 list had it) and its communes."""
    rows = list(csv.DictReader(io.StringIO(NATIONAL_LIST.read_text(encoding="utf-8"))))
    head = next((r for r in rows if r["code"] == province and r["level"] == "tinh"), None)
    if head is None:
        return None
    name = head["name_vi"]
    of_name = name[0].lower() + name[1:] if name.startswith(("Thành phố", "Tỉnh")) else f"tỉnh {name}"
    centre = {"code": CENTRE_CODE, "parent_code": province, "level": "tinh",
              "name_vi": f"Trung tâm Phục vụ hành chính công {of_name}",
              "name_en": f"Public Administrative Service Centre of {head['name_en']}"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow({c: head[c] for c in COLUMNS})
    writer.writerow(centre)
    for row in rows:
        if row["parent_code"] == province:
            writer.writerow({c: row[c] for c in COLUMNS})
    return out.getvalue().encode("utf-8")


def province_codes() -> list[tuple[str, str]]:
    rows = csv.DictReader(io.StringIO(NATIONAL_LIST.read_text(encoding="utf-8")))
    return [(r["code"], r["name_vi"]) for r in rows if r["level"] == "tinh"]


# --- upgrading an install of the 2021 list --------------------------------------------------------

HUE_2025_01 = SEED_DIR / "units_hue_2025-01-01.csv"
HUE_SUCCESSORS = SEED_DIR / "hue_successors_2025-07-01.csv"
HUE = "46"
# Codes whose meaning changed on 1/1/2025 without the old unit going on as the new one: the
# provincial city of Huế (474) was divided into Quận Phú Xuân and Quận Thuận Hóa, which kept its
# code, so neither district is its successor (the same code otherwise succeeds itself).
HUE_DIVIDED_2025 = ("474",)


class _Refused(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(errors)
        self.errors = errors


def upgrade_hue_2025(db, actor: str | None) -> tuple[dict, list[RowError]]:
    """Bring an install of the 2021 list of Thừa Thiên Huế to today, in one transaction: the
    list of 1/1/2025 (Thành phố Huế, 9 districts, 134 communes), the list of 1/7/2025 (40
    communes, no districts) and the communes' successors. The install's own centres (units of
    level tinh under 46, such as TTHCC) are carried through both lists unchanged. Nothing is
    deleted and no submission is touched: each stays with the version of its code in force on
    its interview day. Returns ({day: plan}, errors); with errors nothing changed."""
    province = unit_store.get_unit(db, HUE)
    if province is None or unit_store.latest_list_date(db) is not None:
        return {}, [RowError(0, "Chỉ nâng cấp được cây đơn vị Thừa Thiên Huế chưa có lịch sử (danh sách 2021); "
                                "cây này đã có danh sách theo ngày hoặc không có đơn vị 46.",
                             "Only a Thừa Thiên Huế tree without history (the 2021 list) can be upgraded; this "
                             "tree already has dated lists or has no unit 46.")]
    centres = [u for u in unit_store.all_units(db, in_force=True)
               if u["level"] == "tinh" and u["parent_code"] == HUE]
    july = [r for r in _rows(province_list(HUE)) if r["code"] != CENTRE_CODE]
    lists = (("2025-01-01", _rows(HUE_2025_01.read_bytes())), ("2025-07-01", july))
    plans = {}
    try:
        with storage.write_transaction(db):
            for day, rows in lists:
                rows = rows[:1] + [{k: c[k] for k in COLUMNS} for c in centres] + rows[1:]
                summary, errors = preview_units(db, _csv(rows), day)
                if errors:
                    raise _Refused(errors)
                plan = unit_store.apply_list(db, summary["rows"], day)
                if day == "2025-01-01":
                    for code in HUE_DIVIDED_2025:
                        unit_store.set_successor(db, code, None)
                plans[day] = {k: [u["code"] for u in v] for k, v in plan.items() if k != "unchanged"}
                audit.record(db, actor, "units.import", None, count=len(rows), valid_from=day, **plans[day])
            pairs, errors = read_successors(db, HUE_SUCCESSORS.read_bytes())
            if errors:
                raise _Refused(errors)
            for old, new in pairs:
                unit_store.set_successor(db, old["key"], new["key"] if new else None)
            audit.record(db, actor, "units.successors", None, count=len(pairs),
                         pairs={old["key"]: new["key"] if new else None for old, new in pairs})
    except _Refused as refused:
        return {}, refused.errors
    return plans, []


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: r.get(k) or "" for k in COLUMNS} for r in rows)
    return out.getvalue().encode("utf-8")
