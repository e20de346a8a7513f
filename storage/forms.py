"""Published forms and their versions, with the files served alongside them."""
from __future__ import annotations

import json

from . import audit, schema
from .clock import now_iso
from .db import first_row, write_transaction


class VersionConflict(Exception):
    """The version exists already with different content."""


def publish_version(db, *, form_id: str, version: str, title: str, xlsform: bytes | None,
                    xform: bytes, xform_md5: str, fields: list[dict], conventions: dict,
                    media: dict[str, bytes], media_md5: dict[str, str], unit_code: str | None,
                    actor: str | None) -> tuple[int, bool]:
    """Store a new version; returns (version id, created). Republishing identical bytes is a no-op."""
    with write_transaction(db):
        existing = get_version(db, form_id, version)
        if existing is not None:
            if existing["xform_md5"] != xform_md5:
                raise VersionConflict(form_id, version)
            return existing["id"], False
        if get_form(db, form_id) is None:
            db.execute(
                "INSERT INTO forms (form_id, title, state, unit_code, created_at) VALUES (?, ?, 'open', ?, ?)",
                [form_id, title, unit_code, now_iso()])
        else:
            db.execute("UPDATE forms SET title = ? WHERE form_id = ?", [title, form_id])
        cursor = db.execute(
            """INSERT INTO form_versions (form_id, version, title, xlsform, xform, xform_md5,
                 fields_json, conventions_json, published_at, published_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [form_id, version, title, xlsform, xform, xform_md5,
             json.dumps(fields, ensure_ascii=False), json.dumps(conventions, ensure_ascii=False),
             now_iso(), actor])
        version_id = cursor.lastrowid
        for filename, content in media.items():
            db.execute("INSERT INTO form_media (form_version_id, filename, content, md5) VALUES (?, ?, ?, ?)",
                       [version_id, filename, content, media_md5[filename]])
        schema.ensure_answer_tables(db, form_id, fields)
        audit.record(db, actor, "form.publish", form_id, version=version)
        return version_id, True


def get_form(db, form_id: str) -> dict | None:
    return first_row(db, "SELECT * FROM forms WHERE form_id = ?", [form_id])


def form_differing_in_case(db, form_id: str) -> str | None:
    """Another form's id equal to `form_id` but for letter case: SQLite's table names ignore
    case, so the two would share answer tables."""
    row = db.execute("SELECT form_id FROM forms WHERE form_id = ? COLLATE NOCASE AND form_id != ?",
                     [form_id, form_id]).fetchone()
    return row[0] if row else None


def versions_of(db, form_id: str) -> list[dict]:
    """Every version of a form (version and conventions only), oldest first."""
    return [{"version": version, "conventions": json.loads(text)} for version, text in db.execute(
        "SELECT version, conventions_json FROM form_versions WHERE form_id = ? ORDER BY id", [form_id])]


def list_forms(db) -> list[dict]:
    """Every form with its newest version (by publish order)."""
    return list(db.query(
        """SELECT f.form_id, f.title, f.state, f.unit_code, v.version, v.id AS version_id,
                  v.xform_md5, v.published_at,
                  (SELECT count(*) FROM form_versions WHERE form_id = f.form_id) AS versions
           FROM forms f JOIN form_versions v ON v.id =
             (SELECT max(id) FROM form_versions WHERE form_id = f.form_id)
           ORDER BY f.form_id"""))


def get_version(db, form_id: str, version: str) -> dict | None:
    rows = list(db.query(
        "SELECT * FROM form_versions WHERE form_id = ? AND version = ?", [form_id, version]))
    return _decode(rows[0]) if rows else None


def receiving_version(db, form_id: str, version: str) -> dict | None:
    """What receiving a submission needs of a version (no XLSForm or XForm bytes), cached.

    A published version never changes (republishing other content is refused), so the cache,
    kept on the connection, needs no invalidation.
    """
    cache = getattr(db, "_receiving_versions", None)
    if cache is None:
        cache = db._receiving_versions = {}
    key = (form_id, version)
    if key not in cache:
        rows = list(db.query(
            """SELECT id, form_id, version, fields_json, conventions_json FROM form_versions
               WHERE form_id = ? AND version = ?""", [form_id, version]))
        if not rows and version == "":
            # An instance naming no version was filled in from the form as uploaded, before the
            # server gave it a version (actions.publish): it belongs to the newest such version,
            # which a later publish may change, so this answer is not cached.
            rows = list(db.query(
                """SELECT id, form_id, version, fields_json, conventions_json FROM form_versions
                   WHERE form_id = ? AND json_extract(conventions_json, '$.version_assigned')
                   ORDER BY id DESC LIMIT 1""", [form_id]))
            return _decode(rows[0]) if rows else None
        if not rows:
            return None
        cache[key] = _decode(rows[0])
    return cache[key]


def latest_version(db, form_id: str) -> dict | None:
    rows = list(db.query(
        "SELECT * FROM form_versions WHERE form_id = ? ORDER BY id DESC LIMIT 1", [form_id]))
    return _decode(rows[0]) if rows else None


def conventions_of_versions(db, form_id: str) -> list[dict]:
    """The conventions of every version of a form, oldest first."""
    return [row["conventions"] for row in versions_of(db, form_id)]


def versions_asking_consent(db, form_id: str) -> set[int]:
    """Ids of the form's versions that have a `consent` question outside repeats."""
    return {vid for (vid,) in db.execute(
        "SELECT id FROM form_versions WHERE form_id = ? "
        "AND json_extract(conventions_json, '$.roles.consent') IS NOT NULL", [form_id])}


def version_by_id(db, version_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM form_versions WHERE id = ?", [version_id]))
    return _decode(rows[0]) if rows else None


def _decode(row: dict) -> dict:
    row["fields"] = json.loads(row.pop("fields_json"))
    row["conventions"] = json.loads(row.pop("conventions_json"))
    return row


def version_media(db, version_id: int) -> list[dict]:
    return list(db.query(
        "SELECT filename, md5, length(content) AS size FROM form_media WHERE form_version_id = ? ORDER BY filename",
        [version_id]))


def media_content(db, version_id: int, filename: str) -> bytes | None:
    row = db.execute("SELECT content FROM form_media WHERE form_version_id = ? AND filename = ?",
                     [version_id, filename]).fetchone()
    return row[0] if row else None


def set_state(db, form_id: str, state: str, actor: str | None) -> bool:
    with write_transaction(db):
        cursor = db.execute("UPDATE forms SET state = ? WHERE form_id = ?", [state, form_id])
        if cursor.rowcount:
            audit.record(db, actor, f"form.{'close' if state == 'closed' else 'open'}", form_id)
        return cursor.rowcount == 1
