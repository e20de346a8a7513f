"""Reading a unit list file (code,parent_code,level,name_vi,name_en) and checking it whole."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import storage
from storage import audit
from storage import units as unit_store

LEVELS = {"tinh": 0, "huyen": 1, "xa": 2}
COLUMNS = ("code", "parent_code", "level", "name_vi", "name_en")


@dataclass
class RowError:
    row: int          # line number in the file, header = 1
    message_vi: str
    message_en: str

    def describe(self) -> str:
        return f"Dòng {self.row}: {self.message_vi} / Row {self.row}: {self.message_en}"


def read_units(data: bytes, known_codes: dict[str, str] | None = None) -> tuple[list[dict], list[RowError]]:
    """Parse and check the file; `known_codes` maps codes already stored to their level.

    Returns (units, errors). A caller imports nothing when there is any error, so a half-read
    file never leaves the tree in a state nobody chose.
    """
    known_codes = known_codes or {}
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "Tệp không ở mã UTF-8; hãy lưu lại dạng CSV UTF-8.",
                             "The file is not UTF-8; save it again as CSV UTF-8.")]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
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


def import_units(db, data: bytes, actor: str | None) -> tuple[int, list[RowError]]:
    """Check the whole file, then store it; with any error nothing is stored. Returns (count, errors)."""
    known = {u["code"]: u["level"] for u in unit_store.all_units(db)}
    rows, errors = read_units(data, known)
    if errors:
        return 0, errors
    count = unit_store.upsert_units(db, rows)
    with storage.write_transaction(db):
        audit.record(db, actor, "units.import", None, count=count)
    return count, []
