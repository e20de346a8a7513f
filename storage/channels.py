"""Citizens' channels: kiosk devices, the public endpoint's request counts, paper print runs,
the sheets entered from them and the second entries that disagreed with the first.

Submissions themselves are stored by `storage.submissions` like every other; these tables only
say how a submission arrived (kiosk, sheet number) and guard the anonymous endpoint.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from . import audit
from .clock import now_iso
from .db import write_transaction
from .schema import DOSSIER_KEY_SQL


# --- a lock for check-then-store sequences --------------------------------------------------

@contextlib.contextmanager
def exclusive(db, name: str):
    """Serialise one kind of check-then-store across every server process.

    `receive()` stores in its own transaction, so a rule that must look at what is stored and
    then store (one answer per dossier code, one entry per paper sheet) holds this lock around
    both steps. A lock file, unlike a row, is released by the kernel if the process dies.
    """
    base = getattr(db, "write_lock_path", None)
    if base is None:
        yield
        return
    fd = os.open(Path(base).parent / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --- kiosks --------------------------------------------------------------------------------

def create_kiosk(db, *, name: str, unit_code: str, form_id: str, token_sha256: str,
                 actor: str | None) -> int:
    with write_transaction(db):
        cursor = db.execute(
            """INSERT INTO kiosks (name, unit_code, form_id, token_sha256, created_at, created_by)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [name, unit_code, form_id, token_sha256, now_iso(), actor])
        audit.record(db, actor, "kiosk.create", name, unit=unit_code, form=form_id)
        return cursor.lastrowid


def kiosk_by_token(db, token_sha256: str) -> dict | None:
    rows = list(db.query("SELECT * FROM kiosks WHERE token_sha256 = ?", [token_sha256]))
    return rows[0] if rows else None


def kiosk_by_name(db, name: str) -> dict | None:
    rows = list(db.query("SELECT * FROM kiosks WHERE name = ?", [name]))
    return rows[0] if rows else None


def list_kiosks(db, scope: str | None = None) -> list[dict]:
    """Kiosks with their unit's names; `scope` limits them to a unit's subtree."""
    sql = """SELECT k.*, u.name_vi AS unit_name_vi, u.name_en AS unit_name_en
             FROM kiosks k LEFT JOIN units u ON u.code = k.unit_code"""
    params: list = []
    if scope is not None:
        sql += """ WHERE k.unit_code IN (WITH RECURSIVE tree(code) AS (
                     SELECT code FROM units WHERE code = ?
                     UNION SELECT units.code FROM units JOIN tree ON units.parent_code = tree.code)
                   SELECT code FROM tree)"""
        params.append(scope)
    return list(db.query(sql + " ORDER BY k.revoked_at IS NOT NULL, k.name", params))


def revoke_kiosk(db, name: str, actor: str | None) -> bool:
    with write_transaction(db):
        cursor = db.execute("UPDATE kiosks SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                            [now_iso(), name])
        if cursor.rowcount:
            audit.record(db, actor, "kiosk.revoke", name)
        return cursor.rowcount == 1


def touch_kiosk(db, kiosk_id: int) -> None:
    """Remember when a kiosk last sent something (shown to administrators)."""
    with write_transaction(db):
        db.execute("UPDATE kiosks SET last_seen_at = ? WHERE id = ?", [now_iso(), kiosk_id])


# --- request counts of the public endpoint ---------------------------------------------------

def count_request(db, limits: list[tuple[str, int]], now: float, window: int) -> str | None:
    """Count one request in each bucket, in order; returns the first bucket over its limit.

    A bucket's rate is its hits in the current fixed window plus the previous window's hits
    weighted by how much of it the sliding window still covers: as cheap as a counter, without
    letting twice the limit through at a window edge. Counting stops at the first bucket over
    its limit, so requests refused for their client address do not use up the link's share.
    Rows of windows that can no longer matter are dropped in the same transaction.
    """
    current = int(now // window) * window
    overlap = 1.0 - (now - current) / window
    with write_transaction(db):
        db.execute("DELETE FROM public_rate_counts WHERE window_start < ?", [current - window])
        for bucket, limit in limits:
            hits = db.execute(
                """INSERT INTO public_rate_counts (bucket, window_start, hits) VALUES (?, ?, 1)
                   ON CONFLICT (bucket, window_start) DO UPDATE SET hits = hits + 1
                   RETURNING hits""", [bucket, current]).fetchone()[0]
            previous = db.execute(
                "SELECT hits FROM public_rate_counts WHERE bucket = ? AND window_start = ?",
                [bucket, current - window]).fetchone()
            if hits + (previous[0] * overlap if previous else 0.0) > limit:
                return bucket
    return None


# --- answers already given for a dossier code ------------------------------------------------

def dossier_answered(db, form_id: str, path: str, key: str) -> list[str]:
    """instanceIDs of the counted submissions of a form whose dossier code has this key
    (forms.conventions.dossier_key: "hs-001 " and "HS-001" are one dossier)."""
    return [r[0] for r in db.execute(
        # INDEXED BY: the planner, without statistics, may prefer (path, value) and read every code
        f"""SELECT s.instance_id FROM identifiers i INDEXED BY identifiers_dossier_key
            JOIN submissions s ON s.id = i.submission_id
            WHERE i.path = ? AND {DOSSIER_KEY_SQL.replace("value", "i.value")} = ? AND s.form_id = ?
              AND s.current = 1 AND s.deleted_at IS NULL AND s.review_state <> 'rejected'""",
        [path, key, form_id])]


# --- paper ---------------------------------------------------------------------------------

MAX_SHEETS_PER_PRINT = 1000


def reserve_sheets(db, *, form_id: str, version: str, unit_code: str | None, count: int,
                   actor: str | None) -> dict:
    """A new print run: the next `count` sheet numbers of the form, never given out twice."""
    if not 1 <= count <= MAX_SHEETS_PER_PRINT:
        raise ValueError(f"sheet count {count} out of range")
    with write_transaction(db):
        first = db.execute(
            "SELECT coalesce(max(first_sheet + sheet_count), 1) FROM paper_prints WHERE form_id = ?",
            [form_id]).fetchone()[0]
        cursor = db.execute(
            """INSERT INTO paper_prints (form_id, version, unit_code, first_sheet, sheet_count, printed_at, printed_by)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [form_id, version, unit_code, first, count, now_iso(), actor])
        audit.record(db, actor, "paper.print", form_id, version=version, unit=unit_code,
                     first_sheet=first, sheets=count)
        print_id = cursor.lastrowid
    return get_print(db, print_id)


def get_print(db, print_id: int) -> dict | None:
    rows = list(db.query(
        """SELECT p.*, u.name_vi AS unit_name_vi, u.name_en AS unit_name_en, u.level AS unit_level
           FROM paper_prints p LEFT JOIN units u ON u.code = p.unit_code WHERE p.id = ?""", [print_id]))
    return rows[0] if rows else None


def print_of_sheet(db, form_id: str, sheet_no: int) -> dict | None:
    """The print run a sheet number of this form was given out in."""
    row = db.execute(
        """SELECT id FROM paper_prints WHERE form_id = ? AND first_sheet <= ?
           AND ? < first_sheet + sheet_count""", [form_id, sheet_no, sheet_no]).fetchone()
    return get_print(db, row[0]) if row else None


def list_prints(db, form_id: str | None = None, limit: int = 50) -> list[dict]:
    sql = """SELECT p.*, u.name_vi AS unit_name_vi, u.name_en AS unit_name_en FROM paper_prints p
             LEFT JOIN units u ON u.code = p.unit_code"""
    params: list = []
    if form_id:
        sql += " WHERE p.form_id = ?"
        params.append(form_id)
    return list(db.query(sql + " ORDER BY p.id DESC LIMIT ?", params + [limit]))


def sheet_entry(db, form_id: str, sheet_no: int) -> dict | None:
    """The claim on a sheet with the submission it names (submission_id None if never stored)."""
    rows = list(db.query(
        """SELECT ps.*, s.id AS submission_id, s.form_version_id, s.unit_code
           FROM paper_sheets ps LEFT JOIN submissions s ON s.instance_id = ps.instance_id
           WHERE ps.form_id = ? AND ps.sheet_no = ?""", [form_id, sheet_no]))
    return rows[0] if rows else None


def claim_sheet(db, form_id: str, sheet_no: int, instance_id: str, actor: str | None) -> None:
    """Say that this sheet was entered as this submission. Joins the caller's transaction: run in
    the one that stores the submission (receive()'s `then`), so a refused entry claims nothing."""
    db.execute(
        """INSERT INTO paper_sheets (form_id, sheet_no, instance_id, entered_by, entered_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (form_id, sheet_no) DO UPDATE SET instance_id = excluded.instance_id,
             entered_by = excluded.entered_by, entered_at = excluded.entered_at""",
        [form_id, sheet_no, instance_id, actor, now_iso()])


def add_conflict(db, *, form_id: str, sheet_no: int, first_instance_id: str, xml: bytes,
                 differences: list[str], actor: str | None) -> int:
    """Keep a second entry of a sheet that disagrees with the first, with its audit entry.
    Joins the caller's transaction, in which the first entry is flagged for review too
    (actions/paper.py)."""
    cursor = db.execute(
        """INSERT INTO paper_conflicts (form_id, sheet_no, first_instance_id, xml, differences_json,
             entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [form_id, sheet_no, first_instance_id, xml, json.dumps(differences), actor, now_iso()])
    # the answers stay out of the log; the paths that differ say enough to find them
    audit.record(db, actor, "paper.conflict", f"{form_id}#{sheet_no}", differences=differences)
    return cursor.lastrowid


def conflicts(db, *, form_id: str | None = None, sheet_no: int | None = None,
              scope: str | None = None, open_only: bool = False) -> list[dict]:
    """Flagged second entries with the first entry's submission; `scope` as in storage.browse."""
    where, params = ["1 = 1"], []
    if form_id is not None:
        where.append("c.form_id = ?")
        params.append(form_id)
    if sheet_no is not None:
        where.append("c.sheet_no = ?")
        params.append(sheet_no)
    if open_only:
        where.append("c.resolved_at IS NULL")
    if scope is not None:
        where.append("""s.unit_code IN (WITH RECURSIVE tree(code) AS (
                          SELECT code FROM units WHERE code = ?
                          UNION SELECT units.code FROM units JOIN tree ON units.parent_code = tree.code)
                        SELECT code FROM tree)""")
        params.append(scope)
    rows = list(db.query(
        f"""SELECT c.id, c.form_id, c.sheet_no, c.first_instance_id, c.differences_json, c.entered_by,
                   c.entered_at, c.resolved_at, c.resolved_by, c.resolution_note,
                   s.id AS submission_id, s.unit_code, ps.entered_by AS first_entered_by,
                   ps.entered_at AS first_entered_at
            FROM paper_conflicts c
            LEFT JOIN submissions s ON s.instance_id = c.first_instance_id
            LEFT JOIN paper_sheets ps ON ps.form_id = c.form_id AND ps.sheet_no = c.sheet_no
            WHERE {' AND '.join(where)} ORDER BY c.resolved_at IS NOT NULL, c.id DESC""", params))
    for row in rows:
        row["differences"] = json.loads(row.pop("differences_json"))
    return rows


def resolve_conflict(db, conflict_id: int, note: str | None, actor: str | None) -> bool:
    with write_transaction(db):
        cursor = db.execute(
            """UPDATE paper_conflicts SET resolved_at = ?, resolved_by = ?, resolution_note = ?
               WHERE id = ? AND resolved_at IS NULL""", [now_iso(), actor, (note or "").strip() or None, conflict_id])
        if cursor.rowcount:
            audit.record(db, actor, "paper.resolve", str(conflict_id))
        return cursor.rowcount == 1


def conflict_xml(db, conflict_id: int) -> bytes | None:
    row = db.execute("SELECT xml FROM paper_conflicts WHERE id = ?", [conflict_id]).fetchone()
    return row[0] if row else None
