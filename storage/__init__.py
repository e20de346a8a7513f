"""Storage: the only package that knows the SQLite schema and writes to the database.

Modules by what they keep: `units`, `users`, `forms`, `submissions`, `audit`; `blobs` keeps
attachment bytes on disk; `schema` declares every table; `db` opens the file.
"""
from .db import connect, write_transaction  # noqa: F401
