"""The JSON API under /api/v1: satisfaction indices, rankings and the dissatisfied list.

Views only turn a request into an `aggregate` query and its result into JSON (the shape is
aggregate/render.py's, documented in the README). Who may read is decided by `reader_required`;
an account bound to a unit reads its unit's subtree only (the query's `scope`). Every refusal is
a problem of catalogue.INDICES (aggregate/problems.py): {"error": {"code", "message_vi", "message_en"}}.
"""
from __future__ import annotations

import functools
import json

from flask import Blueprint, Response, g, request

from aggregate import compute_indices, params, render, weighted_indices
from aggregate.dissatisfied import list_dissatisfied
from aggregate.problems import QueryError
from aggregate.rankings import rank_units
from storage import forms

from actions import scope

from . import auth
from .dbconn import get_db
from .permissions import can

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CHALLENGE = 'Basic realm="Hai Long", charset="UTF-8"'


def requesting_user() -> dict | None:
    """The account behind this request (web session, else HTTP Basic): the API's only source."""
    return auth.current_user()


def reader_required(view):
    """401 with a Basic challenge without an account; 403 for roles that may not read figures."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = requesting_user()
        if user is None:
            return _error(QueryError("unauthorized"), challenge=True)
        if not can(user, "indices.read"):
            return _error(QueryError("forbidden_role"))
        g.reader = user
        return view(*args, **kwargs)
    return wrapper


@bp.errorhandler(QueryError)
def _query_error(exc: QueryError):
    return _error(exc)


def _error(exc: QueryError, challenge: bool = False) -> Response:
    response = _json(exc.to_json(), exc.status)
    if challenge:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def _json(body: dict, status: int = 200) -> Response:
    # keys keep their order (a cell's key follows `by`) and Vietnamese stays readable
    response = Response(json.dumps(body, ensure_ascii=False), status,
                        content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _forms(form_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The forms, each existing and visible to the reader; a hidden one is as unknown."""
    if not form_ids:
        raise QueryError("no_forms")
    db = get_db()
    for form_id in form_ids:
        form = forms.get_form(db, form_id)
        if form is None or not scope.form_in_scope(db, g.reader, form):
            raise QueryError("unknown_form", form=form_id)
    return form_ids


def _combined() -> tuple[str, ...]:
    return _forms(params.split_list(request.args.get("forms")))


def _indices(form_ids: tuple[str, ...], extra: tuple[str, ...] = ()) -> Response:
    db = get_db()
    query = params.index_query(form_ids, request.args, scope=g.reader["unit_code"], extra=extra)
    # asked first, so that a breakdown that cannot be weighted is refused before any work
    weighted = weighted_indices(db, query) if params.wants_weighted(request.args) else None
    return _json(render.indices_json(db, query, compute_indices(db, query), weighted))


def _rankings(form_ids: tuple[str, ...], extra: tuple[str, ...] = ()) -> Response:
    db = get_db()
    query = params.rank_query(form_ids, request.args, scope=g.reader["unit_code"], extra=extra)
    return _json(render.rankings_json(db, query, rank_units(db, query)))


def _dissatisfied(form_ids: tuple[str, ...], extra: tuple[str, ...] = ()) -> Response:
    db = get_db()
    query = params.dissatisfied_query(form_ids, request.args, scope=g.reader["unit_code"], extra=extra)
    return _json(render.dissatisfied_json(db, query, list_dissatisfied(db, query)))


@bp.get("/forms/<form_id>/indices")
@reader_required
def form_indices(form_id):
    return _indices(_forms((form_id,)))


@bp.get("/forms/<form_id>/rankings")
@reader_required
def form_rankings(form_id):
    return _rankings(_forms((form_id,)))


@bp.get("/forms/<form_id>/dissatisfied")
@reader_required
def form_dissatisfied(form_id):
    return _dissatisfied(_forms((form_id,)))


# several forms at once (?forms=a,b): units' customised questionnaires read as one
@bp.get("/indices")
@reader_required
def combined_indices():
    return _indices(_combined(), extra=("forms",))


@bp.get("/rankings")
@reader_required
def combined_rankings():
    return _rankings(_combined(), extra=("forms",))


@bp.get("/dissatisfied")
@reader_required
def combined_dissatisfied():
    return _dissatisfied(_combined(), extra=("forms",))
