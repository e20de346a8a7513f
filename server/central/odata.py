"""The OData feed of a form: /v1/projects/1/forms/<form id>.svc — what Excel's and Power BI's
"From OData feed", ruODK and pyodk's get_table read.

    GET …svc                       the service document: the entity sets
    GET …svc/$metadata             CSDL XML (server/central/csdl.py)
    GET …svc/Submissions           ?$top $skip $count $select $expand=* $orderby $filter $skiptoken $wkt
    GET …svc/Submissions.<repeat>  the rows of one repeat, with __id and their parent's __id

Readers of figures, within their unit scope, as /api/v1. Identifier answers are left out (null)
unless an administrator adds identifiers=1 to the request, which is written to the audit log.
Without $top every row is sent, as Central does; with $top the page ends with @odata.nextLink,
whose $skiptoken continues after the last row sent (by id, so a deep page costs what the first
does) or, under an $orderby, at the next offset.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from flask import Response, g, request, stream_with_context

import storage
from actions.audited_reads import record_read
from exports.schema import load_schema
from storage import odata_queries as q

from ..dbconn import get_db
from . import bp
from .csdl import entity_set, metadata
from .errors import CentralError
from .odata_filter import parse_filter, parse_orderby
from .odata_rows import Shaper, repeat_rows, submissions
from .projects import project_or_404, visible_form
from ..permissions import can
from .sessions import require
from .wire import external

JSON = "application/json; charset=utf-8"
KNOWN = ("$top", "$skip", "$count", "$select", "$expand", "$orderby", "$filter", "$skiptoken", "$wkt",
         "$format", "identifiers")


def _schema(project_id: int, form_id: str):
    require("submission.read")
    project_or_404(project_id)
    visible_form(form_id)
    return load_schema(get_db(), form_id)


def _service_root(form_id: str) -> str:
    return external("central.odata_service", project_id=1, form_id=form_id)


@bp.get("/projects/<int:project_id>/forms/<form_id>.svc")
def odata_service(project_id, form_id):
    schema = _schema(project_id, form_id)
    root = _service_root(form_id)
    body = {"@odata.context": f"{root}/$metadata",
            "value": [{"name": entity_set(r), "kind": "EntitySet", "url": entity_set(r)}
                      for r in [None] + schema.repeats]}
    response = Response(json.dumps(body, ensure_ascii=False), 200, content_type=JSON)
    response.headers["OData-Version"] = "4.0"
    return response


@bp.get("/projects/<int:project_id>/forms/<form_id>.svc/$metadata")
def odata_metadata(project_id, form_id):
    schema = _schema(project_id, form_id)
    response = Response(metadata(schema), 200, content_type="application/xml; charset=utf-8")
    response.headers["OData-Version"] = "4.0"
    return response


def _int(name: str, minimum: int = 0) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) < minimum:
        raise CentralError("bad_query", name=name, value=text[:40])
    return int(text)


def _flag(name: str) -> bool:
    text = (request.args.get(name) or "").lower()
    if text not in ("", "true", "false", "1", "0"):
        raise CentralError("bad_query", name=name, value=text[:40])
    return text in ("true", "1")


def _skiptoken() -> dict:
    text = request.args.get("$skiptoken")
    if not text:
        return {}
    try:
        token = json.loads(base64.urlsafe_b64decode(text.encode("ascii") + b"==="))
        if not isinstance(token, dict) or not all(isinstance(v, int) and v >= 0 for v in token.values()):
            raise ValueError
        return token
    except ValueError:
        raise CentralError("bad_query", name="$skiptoken", value=text[:40]) from None


def _make_token(token: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")


def _next_link(table: str, form_id: str, token: dict) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("$skiptoken", "$skip")]
    params.append(("$skiptoken", _make_token(token)))
    return f"{_service_root(form_id)}/{table}?{urlencode(params)}"


@bp.get("/projects/<int:project_id>/forms/<form_id>.svc/<table>")
def odata_rows(project_id, form_id, table):
    schema = _schema(project_id, form_id)
    repeat = next((r for r in [None] + schema.repeats if entity_set(r) == table), "missing")
    if repeat == "missing":
        raise CentralError("unknown_table", table=table[:80])
    unknown = [k for k in request.args if k not in KNOWN]
    if unknown:
        raise CentralError("bad_query", name=unknown[0][:40], value=request.args[unknown[0]][:40])
    expand = request.args.get("$expand")
    if expand not in (None, "", "*"):
        raise CentralError("bad_query", name="$expand", value=expand[:40])
    user = g.api_user
    identifiers = _flag("identifiers")
    if identifiers and not can(user, "submission.identifiers"):
        raise CentralError("forbidden_identifiers")
    top, skip, token = _int("$top"), _int("$skip") or 0, _skiptoken()
    condition = parse_filter(request.args["$filter"], schema, repeat) if request.args.get("$filter") else None
    order = parse_orderby(request.args["$orderby"], schema, repeat) if request.args.get("$orderby") else ()
    select = None
    if request.args.get("$select"):
        select = [item.strip().split("/") for item in request.args["$select"].split(",") if item.strip()]
    keyset = repeat is None and not order
    offset = skip + token.get("o", 0)
    rows = q.Rows(form_id=form_id, repeat=repeat, scope=user["unit_code"], condition=condition, order=order,
                  before_id=token.get("b") if keyset else None, offset=offset,
                  limit=top + 1 if top is not None else None)
    db = get_db()
    chain = schema.chain(repeat) if repeat else []
    total = q.count(db, rows, chain) if _flag("$count") else None
    if identifiers:
        record_read(db, user["name"], "odata.identifiers", form_id, table=table, via="api")
    shaper = Shaper(schema, repeat, expand=expand == "*" and repeat is None, wkt=_flag("$wkt"),
                    identifiers=identifiers, select=select)

    def pieces():
        head = {"@odata.context": f"{_service_root(form_id)}/$metadata#{table}"}
        if total is not None:
            head["@odata.count"] = total
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "value": ['
        sent, last_id = 0, None
        with storage.db.read_snapshot(db):
            if repeat is None:
                source = submissions(db, rows, shaper, identifiers)
            else:
                source = ((None, body) for body in repeat_rows(db, rows, shaper, identifiers))
            more = False
            for sid, body in source:
                if top is not None and sent == top:
                    more = top > 0      # $top=0 asks for the count alone: nothing to continue
                    break
                yield ("," if sent else "") + json.dumps(body, ensure_ascii=False)
                sent += 1
                last_id = sid
        tail = "]"
        if more:
            following = {"b": last_id} if keyset else {"o": offset + sent}
            tail += ', "@odata.nextLink": ' + json.dumps(_next_link(table, form_id, following))
        yield tail + "}"

    response = Response(stream_with_context(pieces()), 200, content_type=JSON)
    response.headers["OData-Version"] = "4.0"
    response.headers["Cache-Control"] = "private, no-store"
    return response
