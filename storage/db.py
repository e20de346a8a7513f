"""Opening the database: one SQLite file in WAL mode, shared by several server processes."""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import sqlite_utils

from . import schema

DB_FILENAME = "hailong.sqlite"


def connect(data_dir: str | Path, *, migrate: bool = True) -> sqlite_utils.Database:
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: transactions are opened explicitly by write_transaction, so that a
    # writer takes the lock up front (BEGIN IMMEDIATE) and waits for it instead of failing with
    # "database is locked" when two workers upgrade a read to a write at the same moment.
    conn = sqlite3.connect(path / DB_FILENAME, isolation_level=None, timeout=30,
                           check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    if migrate:
        # persistent in the file; set once by whoever opens it first
        conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a commit is on disk before it returns, so a 201 is never sent for data a power cut loses
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    if migrate:
        schema.migrate(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
