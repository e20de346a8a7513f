"""Reads of identifiers (names, phone numbers, dossier codes, raw XML), each written to the audit log.

A view calls `record_read()` before it sends what was asked for: if the entry cannot be
written, the request fails and nothing is shown. Only the reads named in READS are entries of
this kind; a change is never recorded through here but with the change itself.
"""
from __future__ import annotations

from storage import audit, write_transaction

READS = (
    "submission.sensitive_view",        # a submission's identifier answers or raw XML (web, /v1)
    "odata.identifiers",                # the OData feed with identifiers (/v1 …svc, identifiers=1)
    "paper.conflict_sensitive_view",    # a paper sheet's second entry, stored bytes whole
    "sample.letters_with_names",        # invitation letters with applicants' names
    "sample.sms_export",                # applicants' phone numbers for an SMS gateway
)


def record_read(db, actor: str | None, action: str, target: str, **details) -> None:
    """Write that `actor` read identifiers (`action`, one of READS) of `target`."""
    if action not in READS:
        raise ValueError(f"{action!r} is not an audited read")
    with write_transaction(db):
        audit.record(db, actor, action, target, **details)
