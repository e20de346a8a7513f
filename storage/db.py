"""Opening the database: one SQLite file in WAL mode, shared by several server processes."""
from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import weakref
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
    db.write_lock_path = path / "write.lock"
    if migrate:
        schema.migrate(db)
    return db


def first_row(db: sqlite_utils.Database, sql: str, params=()) -> dict | None:
    """One row as a dict, read directly: `db.query` wraps every read in a savepoint, which costs
    two extra statements on the paths that run for every submission."""
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip((d[0] for d in cursor.description), row))


@contextlib.contextmanager
def read_snapshot(db: sqlite_utils.Database):
    """The reads inside see one state of the database, whatever is written meanwhile (in WAL mode
    a read transaction keeps its snapshot), so the parts of a table or an export always add up.
    Joins a transaction the caller has open."""
    if db.conn.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        if db.conn.in_transaction:
            db.execute("COMMIT")


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """A write transaction that queues for the lock instead of polling for it.

    SQLite's own busy handler sleeps in growing steps (up to tens of milliseconds) while another
    process writes, which made the slowest submissions wait over 100 ms. Writers first queue on an
    advisory file lock, which wakes the next one the moment the previous commit is done; SQLite's
    lock still guarantees correctness for any writer that does not take it.
    """
    conn = db.conn
    lock_fd = _lock_fd(db)
    if lock_fd is not None:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if lock_fd is not None:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)


def _lock_fd(db) -> int | None:
    path = getattr(db, "write_lock_path", None)
    if path is None:
        return None
    fd = getattr(db, "_write_lock_fd", None)
    if fd is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        db._write_lock_fd = fd
        weakref.finalize(db, os.close, fd)
    return fd
