"""The administrative unit tree (province, district, commune), imported from a file."""
from __future__ import annotations

import csv
import io

from .db import write_transaction
from .clock import now_iso


def upsert_units(db, units: list[dict]) -> int:
    """Insert or update units; units missing from `units` stay, since old submissions name them."""
    stamp = now_iso()
    with write_transaction(db):
        # parents first, so the foreign key holds at every statement
        for unit in _parents_first(units):
            db.execute(
                """INSERT INTO units (code, parent_code, level, name_vi, name_en, imported_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code,
                     level = excluded.level, name_vi = excluded.name_vi,
                     name_en = excluded.name_en, imported_at = excluded.imported_at""",
                [unit["code"], unit["parent_code"] or None, unit["level"], unit["name_vi"],
                 unit.get("name_en") or None, stamp],
            )
    return len(units)


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


def all_units(db) -> list[dict]:
    return list(db.query("SELECT * FROM units ORDER BY level = 'xa', level = 'huyen', code"))


def get_unit(db, code: str) -> dict | None:
    rows = list(db.query("SELECT * FROM units WHERE code = ?", [code]))
    return rows[0] if rows else None


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
    """The units.csv media file that questionnaires select the unit from (name = unit code)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "label", "level", "parent", "label_en"])
    for unit in all_units(db):
        writer.writerow([unit["code"], unit["name_vi"], unit["level"], unit["parent_code"] or "",
                         unit["name_en"] or ""])
    return out.getvalue().encode("utf-8")

