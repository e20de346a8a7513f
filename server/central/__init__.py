"""ODK Central's REST API and OData feed under /v1/, so that Excel, Power BI, ruODK and pyodk
connect to this server as they would to Central.

    sessions.py     POST/DELETE /v1/sessions, GET /v1/users/current; who is asking (Bearer, Basic)
    projects.py     the one project (id 1, this instance) and its forms
    submissions.py  list, get, .xml, attachments, POST (through receive()), review, versions
    odata.py        the service document, $metadata and the entity sets' rows
    csdl.py         $metadata: the form as OData's CSDL XML
    odata_rows.py   a form's rows as Central's OData JSON, streamed
    odata_filter.py $filter parsed by odata-query, turned into parametrised SQL

Accounts, the failed-login limit and the audit log are those of the web pages (server/auth.py);
roles and unit scope those of /api/v1. The web session cookie is not accepted here: a client
sends its credentials with each request, so no page can make a request on a reader's behalf.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, json, request
from werkzeug.exceptions import HTTPException

from .errors import CentralError

bp = Blueprint("central", __name__, url_prefix="/v1")

PROJECT_ID = 1
CHALLENGE = 'Basic realm="Hai Long", charset="UTF-8"'


def json_response(body, status: int = 200) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(CentralError)
def _refused(exc: CentralError) -> Response:
    response = json_response(exc.to_json(), exc.problem.status)
    if exc.problem.status == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    if exc.key == "locked":
        response.headers["Retry-After"] = str(int(exc.values.get("minutes", 1)) * 60)
    return response


@bp.errorhandler(Exception)
def _unexpected(exc):
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        return json_response({"code": float(f"{status}.1"), "message": f"{exc.name}", "details": {}}, status)
    current_app.logger.exception("unexpected error in the Central API")
    return json_response({"code": 500.1, "message": "Máy chủ gặp lỗi. / The server failed.", "details": {}}, 500)


@bp.before_request
def _authenticate():
    from . import sessions
    if request.endpoint == "central.create_session":
        return None
    g.api_user = sessions.requesting_user()
    if g.api_user is None:
        raise CentralError("unauthorized")
    return None


from . import odata, projects, sessions, submissions  # noqa: E402,F401  the routes
