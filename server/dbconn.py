"""The database connection and blob store of the running app.

Each worker process (and thread) keeps one connection open for its life instead of opening one
per request: closing the last connection makes SQLite checkpoint and delete the WAL, which the
next request then recreates, costing extra fsyncs on every submission.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import current_app

import storage
from storage.blobs import BlobStore

_local = threading.local()


def get_db():
    # keyed by process too: a connection must never cross a fork (gunicorn's preload)
    key = (os.getpid(), current_app.config["DATA_DIR"])
    cache = getattr(_local, "dbs", None)
    if cache is None:
        cache = _local.dbs = {}
    db = cache.get(key)
    if db is None:
        db = cache[key] = storage.connect(current_app.config["DATA_DIR"], migrate=False)
    return db


def get_blobs() -> BlobStore:
    key = current_app.config["DATA_DIR"]
    cache = getattr(_local, "blobs", None)
    if cache is None:
        cache = _local.blobs = {}
    if key not in cache:
        cache[key] = BlobStore(Path(key) / "blobs")
    return cache[key]


def end_request(_exc=None) -> None:
    """A request never leaves a transaction open on the kept connection."""
    db = getattr(_local, "dbs", {}).get((os.getpid(), current_app.config["DATA_DIR"]))
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def init_app(app) -> None:
    # the schema is brought up to date once per process, not on every request
    storage.connect(app.config["DATA_DIR"]).close()
    app.teardown_appcontext(end_request)
