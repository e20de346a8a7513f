"""Importing a checked dossier register (the /registers page and `flask register import`).

The file is read and checked by sampling.register_file first; what passed is stored here with
its import row and audit entry in one transaction (storage.registers.import_dossiers). A
unit-bound import (`scope`) never takes a dossier that belongs to a unit outside it: it raises
storage.registers.DossierOwnedElsewhere and stores nothing.
"""
from __future__ import annotations

import hashlib

from storage import registers


def import_register(db, check, *, filename: str, content: bytes, actor: str | None,
                    scope: set[str] | None, actor_unit: str | None):
    """Store the good rows of `check` (a sampling.register_file check of `content`); returns what
    storage.registers.import_dossiers did (sampling.register_file.import_summary words it)."""
    return registers.import_dossiers(db, check.rows, filename=filename,
                                     sha256=hashlib.sha256(content).hexdigest(),
                                     rows_total=check.rows_total, rows_skipped=check.rows_skipped,
                                     actor=actor, scope=scope, actor_unit=actor_unit)
