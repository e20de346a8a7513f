"""The SQLite schema: every table and index of the product is declared here and nowhere else.

Fixed tables are created by `migrate`. Each published form also gets answer tables whose columns
follow its fields (see `ensure_answer_tables`): one wide table per form for the fields outside
repeats and one per repeat, so aggregates and exports are plain SQL over typed rows rather than
key/value pivots.
"""
from __future__ import annotations

import re
import sqlite3

SCHEMA_VERSION = 1

# Bumping SCHEMA_VERSION means adding the step that brings version N-1 to N here; steps only add.
_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE units (
        code TEXT PRIMARY KEY,
        parent_code TEXT REFERENCES units(code),
        level TEXT NOT NULL CHECK (level IN ('tinh', 'huyen', 'xa')),
        name_vi TEXT NOT NULL,
        name_en TEXT,
        imported_at TEXT NOT NULL
    );
    CREATE INDEX units_parent ON units(parent_code);

    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'designer', 'reporter', 'collector', 'viewer')),
        unit_code TEXT REFERENCES units(code),
        password_hash TEXT,
        token_sha256 TEXT UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );

    CREATE TABLE forms (
        form_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
        unit_code TEXT REFERENCES units(code),
        created_at TEXT NOT NULL
    );

    CREATE TABLE form_versions (
        id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL REFERENCES forms(form_id),
        version TEXT NOT NULL,
        title TEXT NOT NULL,
        xlsform BLOB,
        xform BLOB NOT NULL,
        xform_md5 TEXT NOT NULL,
        fields_json TEXT NOT NULL,
        conventions_json TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT,
        UNIQUE (form_id, version)
    );

    -- Files published with a version (pyxform's itemsets.csv, images); units.csv is not stored
    -- here because it is made from the unit tree whenever that changes.
    CREATE TABLE form_media (
        form_version_id INTEGER NOT NULL REFERENCES form_versions(id),
        filename TEXT NOT NULL,
        content BLOB NOT NULL,
        md5 TEXT NOT NULL,
        PRIMARY KEY (form_version_id, filename)
    );

    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL UNIQUE,
        form_version_id INTEGER NOT NULL REFERENCES form_versions(id),
        form_id TEXT NOT NULL,
        version TEXT NOT NULL,
        xml_sha256 TEXT NOT NULL,
        received_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        submitter_id INTEGER REFERENCES users(id),
        device_id TEXT,
        channel TEXT NOT NULL,
        unit_code TEXT,
        review_state TEXT NOT NULL DEFAULT 'received'
            CHECK (review_state IN ('received', 'approved', 'hasIssues', 'rejected')),
        encrypted INTEGER NOT NULL DEFAULT 0,
        attachments_expected INTEGER NOT NULL DEFAULT 0,
        -- edit chain: root_id is the first submission of the chain, deprecated_id the
        -- instanceID this one replaces, and current is 0 once a newer edit exists
        root_id INTEGER NOT NULL,
        deprecated_id TEXT,
        current INTEGER NOT NULL DEFAULT 1,
        deleted_at TEXT
    );
    CREATE INDEX submissions_form ON submissions(form_id, current, started_at);
    CREATE INDEX submissions_root ON submissions(root_id);

    -- The raw XML sits apart so that scans over submissions never page through it.
    CREATE TABLE submission_xml (
        submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),
        xml BLOB NOT NULL
    );

    -- Identifier answers (names, phone numbers, dossier codes) are kept apart from the answer
    -- tables so that nothing reading answers can leak them by accident.
    CREATE TABLE identifiers (
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        path TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (submission_id, path)
    );

    -- Attachment bytes are content-addressed files under DATA_DIR/blobs; this is the index.
    CREATE TABLE attachments (
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT,
        received_at TEXT NOT NULL,
        PRIMARY KEY (submission_id, name)
    );
    CREATE INDEX attachments_sha ON attachments(sha256);

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        target TEXT,
        details_json TEXT
    );
    """,
}

# Columns every answer table has; a form field may not take one of these names.
ANSWER_META_COLUMNS = ("_submission_id", "_row_id", "_parent_row_id", "_index")

_FORM_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


def migrate(db) -> None:
    """Bring the database to SCHEMA_VERSION; safe to call from several processes at once."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(_MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str):
    """Split a script into statements (executescript would commit the open transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending!r}")


def answer_table(form_id: str, repeat: str | None = None) -> str:
    """Name of the answer table for a form's top level or one of its repeats."""
    if not _FORM_ID.match(form_id):
        raise ValueError(f"invalid form id {form_id!r}")
    return f"data:{form_id}" if repeat is None else f"data:{form_id}:{repeat}"


def ensure_answer_tables(db, form_id: str, fields: list[dict]) -> None:
    """Create or widen the answer tables of a form so every stored field has a column.

    Columns are only ever added, so rows stored under older versions stay readable and a
    field that left the form keeps its data.
    """
    repeats = [f["path"] for f in fields if f["type"] == "repeat"]
    wanted: dict[str | None, list[str]] = {None: []}
    for repeat in repeats:
        wanted[repeat] = []
    for field in fields:
        if field["type"] in ("group", "repeat") or field.get("sensitive"):
            continue
        if field["path"] in ANSWER_META_COLUMNS:
            raise ValueError(f"field name {field['path']!r} is reserved")
        wanted[field.get("repeat")].append(field["path"])
    for repeat, columns in wanted.items():
        table = db[answer_table(form_id, repeat)]
        if not table.exists():
            if repeat is None:
                meta = {"_submission_id": int}
                pk = "_submission_id"
            else:
                meta = {"_row_id": int, "_submission_id": int, "_parent_row_id": int, "_index": int}
                pk = "_row_id"
            table.create({**meta, **{c: str for c in columns}}, pk=pk)
            if repeat is not None:
                table.create_index(["_submission_id"])
            continue
        existing = set(table.columns_dict)
        for column in columns:
            if column not in existing:
                table.add_column(column, str)
