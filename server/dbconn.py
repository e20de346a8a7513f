"""One database connection per request, and the blob store, for the running app."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, g

import storage
from storage.blobs import BlobStore


def get_db():
    if "db" not in g:
        g.db = storage.connect(current_app.config["DATA_DIR"], migrate=False)
    return g.db


def get_blobs() -> BlobStore:
    if "blobs" not in g:
        g.blobs = BlobStore(Path(current_app.config["DATA_DIR"]) / "blobs")
    return g.blobs


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app) -> None:
    # the schema is brought up to date once per process, not on every request
    storage.connect(app.config["DATA_DIR"]).close()
    app.teardown_appcontext(close_db)
