"""The administrative unit tree (province, district, commune), imported from a file."""
from __future__ import annotations

import csv
import io

from .db import first_row, write_transaction
from .clock import now_iso


def upsert_units(db, units: list[dict]) -> int:
    """Insert or correct units in one transaction (see `correct_units`)."""
    with write_transaction(db):
        return correct_units(db, units)


def correct_units(db, units: list[dict]) -> int:
    """Insert units or correct them in place (names, parent, level), inside the caller's
    transaction; units missing from `units` stay, since old submissions name them. A correction
    rewrites the code's latest version: it is the same unit, better described."""
    stamp = now_iso()
    # parents first, so the foreign key holds at every statement
    for unit in _parents_first(units):
        latest = latest_version(db, unit["code"])
        if latest is None:
            db.execute(
                """INSERT INTO unit_versions (key, code, parent_key, level, name_vi, name_en,
                     valid_from, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [unit["code"], unit["code"], _parent_key(db, unit["parent_code"], None),
                 unit["level"], unit["name_vi"], unit.get("name_en") or None,
                 unit.get("valid_from"), stamp])
        else:
            db.execute(
                """UPDATE unit_versions SET parent_key = ?, level = ?, name_vi = ?, name_en = ?
                   WHERE key = ?""",
                [_parent_key(db, unit["parent_code"], None), unit["level"], unit["name_vi"],
                 unit.get("name_en") or None, latest["key"]])
        _sync_unit(db, unit["code"], stamp)
    return len(units)


def _parent_key(db, parent_code: str | None, day: str | None) -> str | None:
    """The version of the parent code in force on `day` (its latest version when day is None)."""
    if not parent_code:
        return None
    version = version_at(db, parent_code, day) if day else latest_version(db, parent_code)
    return version["key"] if version else parent_code


def _sync_unit(db, code: str, stamp: str) -> None:
    """Make the `units` row of a code say what its latest version says."""
    latest = latest_version(db, code)
    parent = first_row(db, "SELECT code FROM unit_versions WHERE key = ?", [latest["parent_key"]]) \
        if latest["parent_key"] else None
    db.execute(
        """INSERT INTO units (code, parent_code, level, name_vi, name_en, imported_at, valid_from,
             retired_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code,
             level = excluded.level, name_vi = excluded.name_vi, name_en = excluded.name_en,
             imported_at = excluded.imported_at, valid_from = excluded.valid_from,
             retired_on = excluded.retired_on""",
        [code, parent["code"] if parent else None, latest["level"], latest["name_vi"],
         latest["name_en"], stamp, latest["valid_from"], latest["retired_on"]])


# --- history ------------------------------------------------------------------------------------

def latest_version(db, code: str) -> dict | None:
    return first_row(db, """SELECT * FROM unit_versions WHERE code = ?
                            ORDER BY coalesce(valid_from, '') DESC, id DESC LIMIT 1""", [code])


def version_at(db, code: str, day: str) -> dict | None:
    """The version of `code` a submission of local day `day` (YYYY-MM-DD) belongs to: the one
    in force that day; before the code's first dated version, its first version. A retired
    version is returned too (the caller decides what a retired unit means)."""
    found = first_row(db, """SELECT * FROM unit_versions WHERE code = ?
                               AND coalesce(valid_from, '') <= ?
                             ORDER BY coalesce(valid_from, '') DESC, id DESC LIMIT 1""", [code, day])
    return found or first_row(db, """SELECT * FROM unit_versions WHERE code = ?
                                     ORDER BY coalesce(valid_from, ''), id LIMIT 1""", [code])


def all_versions(db) -> list[dict]:
    return list(db.query("""SELECT * FROM unit_versions
                            ORDER BY level = 'xa', level = 'huyen', code, coalesce(valid_from, '')"""))


def latest_list_date(db) -> str | None:
    """The latest day a dated list or retirement took effect: history is written forwards only."""
    row = db.execute("SELECT max(max(coalesce(valid_from, '')), max(coalesce(retired_on, ''))) "
                     "FROM unit_versions").fetchone()
    return row[0] or None


def plan_list(db, units: list[dict], day: str) -> dict[str, list]:
    """What taking `units` as the whole tree in force from `day` changes, without writing:
    added (new codes), replaced (codes in force whose name, level or parent changes: a new
    meaning), corrected (the same, for a version that a list of the same day made: a second
    import of a day's list corrects the first), returning (retired codes that come back),
    renamed_en (only the English name changes), unchanged, retired (codes in force missing
    from the list)."""
    plan = {"added": [], "replaced": [], "corrected": [], "returning": [], "renamed_en": [],
            "unchanged": [], "retired": []}
    listed = {u["code"] for u in units}
    for unit in units:
        latest = latest_version(db, unit["code"])
        if latest is None:
            plan["added"].append(unit)
        elif latest["retired_on"] is not None:
            plan["returning"].append(unit)
        else:
            parent = first_row(db, "SELECT code FROM unit_versions WHERE key = ?",
                               [latest["parent_key"]]) if latest["parent_key"] else None
            same = (latest["name_vi"] == unit["name_vi"] and latest["level"] == unit["level"]
                    and (parent["code"] if parent else None) == (unit["parent_code"] or None))
            if not same:
                plan["corrected" if latest["valid_from"] == day else "replaced"].append(unit)
            elif (latest["name_en"] or None) != (unit.get("name_en") or None):
                plan["renamed_en"].append(unit)
            else:
                plan["unchanged"].append(unit)
    plan["retired"] = [u for u in all_units(db, in_force=True) if u["code"] not in listed]
    return plan


def apply_list(db, units: list[dict], day: str) -> dict[str, list]:
    """Take `units` as the whole tree in force from `day`, inside the caller's transaction.

    Nothing is deleted: a unit that leaves the list is retired on `day`; a code whose meaning
    changes gets a new version (key code@day) that succeeds the old one, so the old one's
    submissions stay its own as recorded and follow it on today's units."""
    plan = plan_list(db, units, day)
    stamp = now_iso()
    new_keys = {}
    for unit in plan["replaced"] + plan["returning"]:
        old = latest_version(db, unit["code"])
        key = f"{unit['code']}@{day}"
        new_keys[unit["code"]] = key
        if old["retired_on"] is None:
            db.execute("UPDATE unit_versions SET retired_on = ?, successor_key = ? WHERE key = ?",
                       [day, key, old["key"]])
    for unit in plan["retired"]:
        db.execute("UPDATE unit_versions SET retired_on = ? WHERE code = ? AND retired_on IS NULL",
                   [day, unit["code"]])
    fresh = {u["code"] for u in plan["added"]} | set(new_keys)
    reparented = fresh | {u["code"] for u in plan["corrected"]}
    for unit in _parents_first([u for u in units if u["code"] in fresh]):
        db.execute(
            """INSERT INTO unit_versions (key, code, level, name_vi, name_en, valid_from, recorded_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [new_keys.get(unit["code"], unit["code"]), unit["code"], unit["level"],
             unit["name_vi"], unit.get("name_en") or None, day, stamp])
    for unit in plan["renamed_en"] + plan["corrected"]:
        db.execute("UPDATE unit_versions SET level = ?, name_vi = ?, name_en = ? WHERE key = ?",
                   [unit["level"], unit["name_vi"], unit.get("name_en") or None,
                    latest_version(db, unit["code"])["key"]])
    # parents are set once every version of the day exists; a unit that stays keeps the
    # parent it was recorded under
    for unit in units:
        if unit["code"] not in reparented:
            continue
        version = version_at(db, unit["code"], day)
        db.execute("UPDATE unit_versions SET parent_key = ? WHERE key = ?",
                   [_parent_key(db, unit["parent_code"], day), version["key"]])
    for code in _parents_first_codes(db, {u["code"] for u in units} | {u["code"] for u in plan["retired"]}):
        _sync_unit(db, code, stamp)
    return plan


def _parents_first_codes(db, codes: set[str]) -> list[str]:
    rows = [{"code": c, "parent_code": (latest_version(db, c) or {}).get("parent_key", "")} for c in codes]
    for row in rows:
        parent = first_row(db, "SELECT code FROM unit_versions WHERE key = ?", [row["parent_code"]]) \
            if row["parent_code"] else None
        row["parent_code"] = parent["code"] if parent else None
    return [r["code"] for r in _parents_first(rows)]


def set_successor(db, old_key: str, new_key: str | None) -> None:
    """Inside the caller's transaction."""
    db.execute("UPDATE unit_versions SET successor_key = ? WHERE key = ?", [new_key, old_key])


def _parents_first(units: list[dict]) -> list[dict]:
    by_code = {u["code"]: u for u in units}
    ordered, seen = [], set()

    def visit(unit, depth=0):
        if unit["code"] in seen or depth > len(units):
            return
        parent = by_code.get(unit["parent_code"] or "")
        if parent is not None:
            visit(parent, depth + 1)
        seen.add(unit["code"])
        ordered.append(unit)

    for unit in units:
        visit(unit)
    return ordered


def all_units(db, in_force: bool = False) -> list[dict]:
    """Every code's latest version; with in_force, only the units in force (not retired)."""
    where = "WHERE retired_on IS NULL " if in_force else ""
    return list(db.query(f"SELECT * FROM units {where}ORDER BY level = 'xa', level = 'huyen', code"))  # nosec B608


def get_unit(db, code: str) -> dict | None:
    rows = list(db.query("SELECT * FROM units WHERE code = ?", [code]))
    return rows[0] if rows else None


def get_unit_in_force(db, code: str) -> dict | None:
    """The unit if it is in force today (not retired): what links, kiosks and forms may offer."""
    unit = get_unit(db, code)
    return unit if unit is not None and unit.get("retired_on") is None else None


def count_units(db) -> int:
    return db.execute("SELECT count(*) FROM units").fetchone()[0]


def subtree_codes(db, code: str) -> set[str]:
    """The unit and everything under it."""
    rows = db.execute(
        """WITH RECURSIVE tree(code) AS (
             SELECT code FROM units WHERE code = ?
             UNION SELECT units.code FROM units JOIN tree ON units.parent_code = tree.code)
           SELECT code FROM tree""",
        [code],
    ).fetchall()
    return {r[0] for r in rows}


def ancestor_codes(db, code: str) -> set[str]:
    """The unit and every unit above it."""
    rows = db.execute(
        """WITH RECURSIVE up(code, parent) AS (
             SELECT code, parent_code FROM units WHERE code = ?
             UNION SELECT units.code, units.parent_code FROM units JOIN up ON units.code = up.parent)
           SELECT code FROM up""",
        [code],
    ).fetchall()
    return {r[0] for r in rows}


def units_csv(db) -> bytes:
    """The units.csv media file that questionnaires select the unit from (name = unit code):
    the units in force only, so a device never offers a unit that no longer exists."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "label", "level", "parent", "label_en"])
    for unit in all_units(db, in_force=True):
        writer.writerow([unit["code"], unit["name_vi"], unit["level"], unit["parent_code"] or "",
                         unit["name_en"] or ""])
    return out.getvalue().encode("utf-8")

