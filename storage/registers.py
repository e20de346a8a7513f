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
from .errors import BilingualError

DOSSIER_COLUMNS = ("unit_code", "procedure_name", "procedure_field", "received_on", "due_on", "returned_on")
CONTACT_COLUMNS = ("applicant_name", "phone")


class DossierOwnedElsewhere(BilingualError):
    """A row would change a dossier of a unit outside the importer's scope; nothing was imported."""

    def __init__(self):
        super().__init__(MESSAGE_OWNED_VI + " Không nhập hồ sơ nào; hãy kiểm tra lại tệp.",
                         MESSAGE_OWNED_EN + " Nothing was imported; check the file again.")


# the unit that holds the dossier is not named: it is outside the importer's scope
MESSAGE_OWNED_VI = "Mã hồ sơ đã thuộc đơn vị khác."
MESSAGE_OWNED_EN = "The dossier code already belongs to another unit."


def import_dossiers(db, rows: list[dict], *, filename: str, sha256: str, rows_total: int,
                    rows_skipped: int, actor: str | None, scope: set[str] | None = None,
                    actor_unit: str | None = None) -> dict:
    """Insert or update dossiers by code, all in one transaction: either every row lands or none.

    Each row has `code`, the DOSSIER_COLUMNS and the CONTACT_COLUMNS (None when unknown). An
    empty contact value never erases one imported before (a later export may leave it out).
    `scope` (the unit codes the importer may write; None: the whole province) holds both the
    rows' units and the units that own the dossiers already: a dossier of another unit is never
    moved or given contacts, even when it was imported between the file's check and now
    (DossierOwnedElsewhere). `actor_unit` is the importer's unit, which scopes the history.
    """
    with write_transaction(db):
        known = _known_by_code(db, [r["code"] for r in rows])
        if scope is not None and any(unit not in scope for _, unit in known.values()):
            raise DossierOwnedElsewhere()
        import_id = db.execute(
            """INSERT INTO register_imports (filename, sha256, rows_total, rows_imported, rows_skipped,
                 imported_at, imported_by, unit_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [filename, sha256, rows_total, len(rows), rows_skipped, now_iso(), actor, actor_unit]).lastrowid
        added = 0
        for row in rows:
            values = [row.get(c) for c in DOSSIER_COLUMNS]
            dossier_id = known[row["code"]][0] if row["code"] in known else None
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


def _known_by_code(db, codes: list[str]) -> dict[str, tuple[int, str]]:
    """{code: (dossier id, unit code)} of the codes already in the register."""
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        for code, dossier_id, unit in db.execute(
                f"SELECT code, id, unit_code FROM dossiers WHERE code IN ({', '.join('?' for _ in chunk)})", chunk):
            found[code] = (dossier_id, unit)
    return found


def owner_units(db, codes: list[str]) -> dict[str, str]:
    """{code: unit code} of the codes already in the register (for checking a file's rows)."""
    return {code: unit for code, (_, unit) in _known_by_code(db, codes).items()}


def recent_imports(db, limit: int = 20, *, scope: set[str] | None = None) -> list[dict]:
    """The latest imports; with `scope`, only those made by accounts of those units (an import
    by a province-wide account is not shown to a unit's staff)."""
    if scope is None:
        return list(db.query("SELECT * FROM register_imports ORDER BY id DESC LIMIT ?", [limit]))
    return list(db.query(
        f"""SELECT * FROM register_imports WHERE unit_code IN ({', '.join('?' for _ in scope)})
            ORDER BY id DESC LIMIT ?""", [*sorted(scope), limit]))


def dossier_count(db, *, scope: set[str] | None = None) -> int:
    if scope is None:
        return db.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    return db.execute(f"SELECT count(*) FROM dossiers WHERE unit_code IN ({', '.join('?' for _ in scope)})",
                      sorted(scope)).fetchone()[0]


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
