"""Every export is written to the audit log: who took which rows out, and whether identifiers
(dossier codes, names, phone numbers) went with them."""
from __future__ import annotations

import storage
from storage import audit

KINDS = ("xlsx", "csvzip", "report")


def record_export(db, actor: str | None, kind: str, plan, **details) -> None:
    """One entry "export.<kind>" on the form; `plan` is an ExportPlan or a ReportPlan."""
    if kind not in KINDS:
        raise ValueError(kind)
    if kind == "report":
        query = plan.query
        entry = {"period": query.period, "unit": plan.unit, "scope": query.scope, "min_n": query.min_n}
    else:
        query = plan.query
        entry = {**plan.filters, "identifiers": query.include_identifiers}
        if kind == "csvzip":
            entry["media"] = query.media
            entry["raw_cells"] = query.raw_cells
    entry.update(details)
    with storage.write_transaction(db):
        audit.record(db, actor, f"export.{kind}", query.form_id,
                     **{key: value for key, value in entry.items() if value not in (None, [], False)
                        or key == "identifiers"})
