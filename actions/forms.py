"""A form's life after publishing (open to submissions or closed) and an upload waiting between
its preview and its publication (storage.staging: the bytes that were checked are the bytes
that get published, whatever the browser sends the second time)."""
from __future__ import annotations

import hashlib

from storage import forms, staging

from .publish import (PublishResult, field_rows, find_media, publish_compiled, version_given_before,
                      version_lower, version_lower_problem, version_taken)

STATES = ("open", "closed")


def set_state(db, form_id: str, state: str, actor: str | None) -> bool:
    """Close a form to submissions or open it again, audited (`form.close` / `form.open`) in the
    same transaction; False when there is no such form."""
    if state not in STATES:
        raise ValueError(f"unknown form state {state!r}")
    return forms.set_state(db, form_id, state, actor=actor)


def _preview(db, compiled, unit_code: str | None) -> dict:
    """What publishing the compiled upload would do, as the preview page shows it."""
    existing_form = forms.get_form(db, compiled.form_id)
    _, missing = find_media(compiled, [])
    # a versionless form gets a new version on publishing (or the one its same bytes got before)
    given = None if compiled.version else version_given_before(db, compiled)
    existing = forms.get_version(db, compiled.form_id, compiled.version) if compiled.version else None
    latest = forms.latest_version(db, compiled.form_id) if existing_form else None
    if given is not None:
        status = "unchanged"
    elif (existing is None and latest is not None and compiled.version
          and version_lower(compiled.version, latest["version"])):
        status = "lower_version"
    elif existing is None:
        status = "new_version" if existing_form else "new_form"
    elif existing["xform_md5"] == hashlib.md5(compiled.xform, usedforsecurity=False).hexdigest() or (
            compiled.xlsform is not None and existing["xlsform"] == compiled.xlsform):
        status = "unchanged"
    else:
        status = "conflict"
    return {
        "form_id": compiled.form_id, "version": compiled.version or given or "", "title": compiled.title,
        "fields": field_rows(compiled), "conventions": compiled.conventions,
        "warnings": [p.as_dict() for p in compiled.warnings], "missing_media": missing,
        "status": status, "languages": list(compiled.info.languages),
        "conflict": version_taken(compiled).as_dict() if status == "conflict" else None,
        "lower": (version_lower_problem(compiled, latest["version"]).as_dict()
                  if status == "lower_version" else None),
        "form_unit": existing_form["unit_code"] if existing_form else unit_code,
        "published_version": latest["version"] if latest else None,
    }


def stage_upload(db, compiled, *, data: bytes, filename: str, unit_code: str | None, uploaded_by: str) -> str:
    """Keep a checked upload with its preview for its uploader; returns its SHA-256, the key of
    the preview page and of publishing it."""
    sha = hashlib.sha256(data).hexdigest()
    staging.stage(db, sha256=sha, uploaded_by=uploaded_by, filename=filename or "form.xlsx",
                  content=data, unit_code=unit_code, summary=_preview(db, compiled, unit_code))
    return sha


def publish_staged(db, staged: dict, compiled, actor: str) -> PublishResult:
    """Publish a staged upload (compiled from its stored bytes) for the unit chosen on upload,
    then drop it; raises PublishRefused, keeping it staged, when it cannot be published."""
    result = publish_compiled(db, compiled, actor=actor, unit_code=staged["unit_code"])
    # the publication and its audit entry are committed by then; a staged copy left behind by a
    # failure here would only be dropped a day later, and publishing it again finds it unchanged
    staging.drop_staged(db, staged["sha256"], staged["uploaded_by"])
    return result


def discard_staged(db, sha256: str, uploaded_by: str) -> None:
    staging.drop_staged(db, sha256, uploaded_by)
