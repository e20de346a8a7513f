"""CSRF protection for the web pages: every state-changing request carries the session's token.

The token lives in the (signed) session cookie and goes back in a hidden form field
`csrf_token`, or in the `X-CSRF-Token` header for scripts. Another site can make a browser send
the cookie but cannot read the page to learn the token. Only the web blueprints are protected:
ODK Collect (OpenRosa) and API clients authenticate every request themselves and have no
cookie to abuse.
"""
from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session
from markupsafe import Markup, escape

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token() -> str:
    """The session's token, made on first use; templates call it as csrf_token()."""
    if not isinstance(session.get("csrf"), str):
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def field() -> Markup:
    """The hidden input every POST form carries; templates call it as csrf_field()."""
    # the one value in it is escaped
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token())}">')  # nosec B704


def check() -> None:
    """Refuse (400) a non-GET request whose token is missing or not the session's."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


def protect(blueprint) -> None:
    """Check the token before any other hook of the blueprint runs."""
    blueprint.before_request_funcs.setdefault(None, []).insert(0, check)


def init_app(app) -> None:
    app.jinja_env.globals.update(csrf_token=token, csrf_field=field)
