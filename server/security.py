"""Headers every response carries, and when the app believes what a reverse proxy says.

The web blueprints already set their own security headers (server.web.common); these are the
app-wide defaults under them, so the OpenRosa answers, the JSON API, static files and error
pages get them too. Every header is only a default (`setdefault`): a page that needs another
Content-Security-Policy (ODK Web Forms) sets it in its view and keeps it.

Behind nginx the client's address and scheme arrive in X-Forwarded-For / X-Forwarded-Proto.
Those headers are believed only when TRUSTED_PROXIES names how many proxies stand in front
(normally 1): without a proxy anyone could send them, claim HTTPS, or dodge the per-address
login limit with a made-up address.
"""
from __future__ import annotations

import os

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from .web.common import CONTENT_SECURITY_POLICY

# a year; browsers then refuse plain HTTP to this host, so it is only sent over HTTPS
HSTS = "max-age=31536000"


def trusted_proxies(app) -> int:
    value = app.config.get("TRUSTED_PROXIES")
    if value is None:
        value = os.environ.get("TRUSTED_PROXIES", "0")
    try:
        return max(0, int(str(value).strip() or 0))
    except ValueError:
        raise ValueError(f"TRUSTED_PROXIES must be a number of proxies (0, 1, ...), not {value!r}") from None


def default_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app) -> None:
    proxies = trusted_proxies(app)
    app.config["TRUSTED_PROXIES"] = proxies
    if proxies:
        # Host is passed through unchanged by the documented nginx set-up, so only the client's
        # address and the scheme are taken from the forwarding headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)
    app.after_request(default_headers)
