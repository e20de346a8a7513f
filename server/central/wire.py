"""The JSON shapes of Central's API: a user, the project, a form, a submission."""
from __future__ import annotations

from flask import request, url_for

from ..dbconn import get_db
from ..public_address import configured_base
from . import PROJECT_ID

PROJECT_NAME = "Hài Lòng"


def iso(text: str | None) -> str | None:
    """Stored times are already Central's form (UTC, milliseconds, Z)."""
    return text


def review_state(state: str | None) -> str | None:
    # Central has no "received": a submission nobody reviewed has no state
    return None if state in (None, "received") else state


def external(endpoint: str, **values) -> str:
    base = configured_base(get_db())
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def user_json(user: dict) -> dict:
    return {"id": user["id"], "type": "user", "displayName": user["name"], "email": user["name"],
            "createdAt": iso(user["created_at"]), "updatedAt": None, "deletedAt": None,
            "role": user["role"], "unit": user["unit_code"]}


def project_json(created_at: str | None, forms: int | None = None) -> dict:
    body = {"id": PROJECT_ID, "name": PROJECT_NAME, "description": None, "archived": False, "keyId": None,
            "createdAt": iso(created_at), "updatedAt": None, "deletedAt": None}
    if forms is not None:
        body["forms"] = forms
    return body


def form_json(form: dict, version: dict, stats: dict | None = None) -> dict:
    """`form`: a row of `forms`; `version`: its newest version (with xform_md5, published_at)."""
    body = {"projectId": PROJECT_ID, "xmlFormId": form["form_id"], "name": version["title"],
            "version": version["version"], "hash": version["xform_md5"], "sha": None, "sha256": None,
            "state": "open" if form["state"] == "open" else "closed", "keyId": None,
            "enketoId": None, "enketoOnceId": None, "draftToken": None,
            "createdAt": iso(form["created_at"]), "updatedAt": iso(version["published_at"]),
            "publishedAt": iso(version["published_at"]), "unit": form["unit_code"],
            "odataUrl": external("central.odata_service", project_id=PROJECT_ID, form_id=form["form_id"])}
    if stats is not None:
        body["submissions"] = stats["submissions"]
        body["lastSubmission"] = iso(stats["last"])
    return body


def version_json(form_id: str, state: str, version: dict) -> dict:
    return {"projectId": PROJECT_ID, "xmlFormId": form_id, "name": version["title"],
            "version": version["version"], "hash": version["xform_md5"], "sha": None, "sha256": None,
            "state": state, "keyId": None, "createdAt": iso(version["published_at"]),
            "publishedAt": iso(version["published_at"]), "updatedAt": None}


def submission_json(row: dict) -> dict:
    """`row`: a row of storage.central_queries (the current version of a chain)."""
    submitter = row["submitter_id"] or 0      # 0: no account (citizens' channels)
    current = {"instanceId": row["instance_id"], "instanceName": None, "submitterId": submitter,
               "deviceId": row["device_id"], "userAgent": None, "createdAt": iso(row["received_at"]),
               "current": True}
    return {"instanceId": row["root_instance_id"], "submitterId": submitter, "deviceId": row["device_id"],
            "userAgent": None, "instanceName": None, "reviewState": review_state(row["review_state"]),
            "createdAt": iso(row["created_at"]), "updatedAt": iso(row["updated_at"]),
            "currentVersion": current, "formVersion": row["version"], "unit": row["unit_code"],
            "channel": row["channel"]}


def wants_extended() -> bool:
    return request.headers.get("X-Extended-Metadata", "").lower() == "true"
