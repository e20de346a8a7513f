"""The project (one: this instance, id 1) and its forms, as Central describes them.

Every reader of figures sees the project; a form outside the account's unit scope is as unknown
as a form that does not exist, as in /api/v1.
"""
from __future__ import annotations

from flask import Response, g

from storage import browse, central_queries, forms

from actions import scope
from ..dbconn import get_db
from . import PROJECT_ID, bp, json_response
from .errors import CentralError
from .sessions import require
from .wire import form_json, project_json, version_json, wants_extended

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def project_or_404(project_id: int) -> None:
    if project_id != PROJECT_ID:
        raise CentralError("not_found", what=f"project {project_id}")


def visible_form(form_id: str) -> dict:
    """The form, if it exists and the account's scope reaches it; 404 otherwise."""
    db = get_db()
    form = forms.get_form(db, form_id)
    if form is None or not scope.form_in_scope(db, g.api_user, form):
        raise CentralError("not_found", what=f"form {form_id}")
    return form


def _visible_forms(db) -> list[dict]:
    return browse.forms_in_scope(db, g.api_user["unit_code"])


@bp.get("/projects")
def list_projects():
    require("form.read")
    db = get_db()
    count = len(_visible_forms(db)) if wants_extended() else None
    return json_response([project_json(central_queries.instance_started(db), count)])


@bp.get("/projects/<int:project_id>")
def get_project(project_id):
    require("form.read")
    project_or_404(project_id)
    db = get_db()
    count = len(_visible_forms(db)) if wants_extended() else None
    return json_response(project_json(central_queries.instance_started(db), count))


def _form_body(db, form: dict) -> dict:
    version = forms.latest_version(db, form["form_id"])
    stats = central_queries.form_statistics(db, form["form_id"], g.api_user["unit_code"]) if wants_extended() else None
    return form_json(form, version, stats)


@bp.get("/projects/<int:project_id>/forms")
def list_forms(project_id):
    require("form.read")
    project_or_404(project_id)
    db = get_db()
    return json_response([_form_body(db, forms.get_form(db, row["form_id"])) for row in _visible_forms(db)])


@bp.get("/projects/<int:project_id>/forms/<form_id>")
def get_form(project_id, form_id):
    require("form.read")
    project_or_404(project_id)
    return json_response(_form_body(get_db(), visible_form(form_id)))


def _latest_version(project_id: int, form_id: str) -> dict:
    """The form's newest version, for a reader allowed to see the form (404 otherwise)."""
    require("form.read")
    project_or_404(project_id)
    visible_form(form_id)
    return forms.latest_version(get_db(), form_id)


@bp.get("/projects/<int:project_id>/forms/<form_id>.xml")
def form_xml(project_id, form_id):
    version = _latest_version(project_id, form_id)
    return Response(version["xform"], 200, content_type="application/xml; charset=utf-8")


@bp.get("/projects/<int:project_id>/forms/<form_id>.xlsx")
def form_xlsx(project_id, form_id):
    version = _latest_version(project_id, form_id)
    if not version["xlsform"]:
        raise CentralError("not_found", what=f"XLSForm of {form_id}")
    response = Response(version["xlsform"], 200, content_type=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{form_id}.xlsx"'
    return response


@bp.get("/projects/<int:project_id>/forms/<form_id>/versions")
def form_versions(project_id, form_id):
    require("form.read")
    project_or_404(project_id)
    form = visible_form(form_id)
    state = "open" if form["state"] == "open" else "closed"
    return json_response([version_json(form_id, state, v) for v in browse.form_versions(get_db(), form_id)])
