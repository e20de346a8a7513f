"""Dossier registers: the dossiers each unit handled, imported from the one-stop system's exports.

The register is the sampling frame (which citizens to ask) and the weights of the weighted index
(how many dossiers each unit returned). The applicant's name and phone are identifiers and sit
in `dossier_contacts`, read only through `contacts()`.
"""
from __future__ import annotations

from datetime import date

from . import audit
from .clock import now_iso
from .db import write_transaction

DOSSIER_COLUMNS = ("unit_code", "procedure_name", "procedure_field", "received_on", "due_on", "returned_on")
CONTACT_COLUMNS = ("applicant_name", "phone")


def import_dossiers(db, rows: list[dict], *, filename: str, sha256: str, rows_total: int,
                    rows_skipped: int, actor: str | None) -> dict:
    """Insert or update dossiers by code, all in one transaction: either every row lands or none.

    Each row has `code`, the DOSSIER_COLUMNS and the CONTACT_COLUMNS (None when unknown). An
    empty contact value never erases one imported before (a later export may leave it out).
    """
    with write_transaction(db):
        import_id = db.execute(
            """INSERT INTO register_imports (filename, sha256, rows_total, rows_imported, rows_skipped,
                 imported_at, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [filename, sha256, rows_total, len(rows), rows_skipped, now_iso(), actor]).lastrowid
        known = _ids_by_code(db, [r["code"] for r in rows])
        added = 0
        for row in rows:
            values = [row.get(c) for c in DOSSIER_COLUMNS]
            dossier_id = known.get(row["code"])
            if dossier_id is None:
                dossier_id = db.execute(
                    f"""INSERT INTO dossiers (code, {", ".join(DOSSIER_COLUMNS)}, import_id)
                        VALUES (?, {", ".join("?" for _ in DOSSIER_COLUMNS)}, ?)""",
                    [row["code"], *values, import_id]).lastrowid
                added += 1
            else:
                db.execute(
                    f"""UPDATE dossiers SET {", ".join(f"{c} = ?" for c in DOSSIER_COLUMNS)}, import_id = ?
                        WHERE id = ?""", [*values, import_id, dossier_id])
            name, phone = row.get("applicant_name") or None, row.get("phone") or None
            if name or phone:
                db.execute(
                    """INSERT INTO dossier_contacts (dossier_id, applicant_name, phone) VALUES (?, ?, ?)
                       ON CONFLICT (dossier_id) DO UPDATE SET
                         applicant_name = coalesce(excluded.applicant_name, applicant_name),
                         phone = coalesce(excluded.phone, phone)""",
                    [dossier_id, name, phone])
        audit.record(db, actor, "register.import", filename, import_id=import_id, sha256=sha256,
                     rows_total=rows_total, added=added, updated=len(rows) - added, skipped=rows_skipped)
    return {"import_id": import_id, "added": added, "updated": len(rows) - added, "skipped": rows_skipped}


def _ids_by_code(db, codes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        found.update(db.execute(
            f"SELECT code, id FROM dossiers WHERE code IN ({', '.join('?' for _ in chunk)})", chunk).fetchall())
    return found


def recent_imports(db, limit: int = 20) -> list[dict]:
    return list(db.query("SELECT * FROM register_imports ORDER BY id DESC LIMIT ?", [limit]))


def dossier_count(db) -> int:
    return db.execute("SELECT count(*) FROM dossiers").fetchone()[0]


def returned_between(db, date_from: date, date_to: date, unit_codes: set[str] | None = None) -> list[dict]:
    """The dossiers returned in [date_from, date_to] (local days), optionally of some units only:
    the sampling frame of a period. Ordered by code, so callers see the same list every time."""
    rows = db.query(
        """SELECT id, code, unit_code, coalesce(procedure_field, '') AS procedure_field
           FROM dossiers WHERE returned_on BETWEEN ? AND ? ORDER BY code""",
        [date_from.isoformat(), date_to.isoformat()])
    return [r for r in rows if unit_codes is None or r["unit_code"] in unit_codes]


def monthly_volumes(db, date_from: date | None = None, date_to: date | None = None) -> dict[tuple[str, int], int]:
    """{(unit code, YYYYMM): dossiers returned} for the weights of the weighted index."""
    rows = db.execute(
        """SELECT unit_code, CAST(substr(returned_on, 1, 4) || substr(returned_on, 6, 2) AS INTEGER), count(*)
           FROM dossiers
           WHERE returned_on IS NOT NULL AND returned_on >= coalesce(?, '') AND returned_on <= coalesce(?, '9999')
           GROUP BY 1, 2""",
        [date_from.isoformat() if date_from else None, date_to.isoformat() if date_to else None]).fetchall()
    return {(unit, month): count for unit, month, count in rows}


def contacts(db, ids: list[int]) -> dict[int, dict]:
    """{dossier id: {applicant_name, phone}}: identifiers, for callers that checked the right."""
    found: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in db.query(
                f"""SELECT dossier_id, applicant_name, phone FROM dossier_contacts
                    WHERE dossier_id IN ({', '.join('?' for _ in chunk)})""", chunk):
            found[row.pop("dossier_id")] = row
    return found
