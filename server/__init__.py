"""Hài Lòng server: the Flask application factory.

Areas are blueprints: `openrosa` (ODK Collect's protocol), `central` (ODK Central's API and
OData), `channels` (public links, kiosks, paper), the web pages (`web`), `api` and `api_exports`
(/api/v1: indices and downloads). `actions.receive` decides what a submission stores, whatever
the door; `cli` holds the commands, one module per group.

Beside them: `permissions` (who may do what, with the unit scope of `actions.scope`), `auth`
(signing in: passwords, tokens, sessions, with `actions.credentials` and `actions.sessions`),
`csrf`, `security` (headers, proxies), `config`, `dbconn`, `access_log`; `media` (a form's
files), `collect_settings` (Collect's QR code and a collector's server URL), `instance_xml` (an
instance with identifiers hidden), `public_address` (the address in QR codes, letters and links),
`export_jobs` (/exports: downloads started from the pages as background jobs), `url_converters`.
Every change the pages and commands make goes through the application layer, actions/.
"""
from __future__ import annotations

from flask import Flask

from . import config, dbconn


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config.from_environment())
    if overrides:
        app.config.update(overrides)
    config.ensure_secret_key(app)
    dbconn.init_app(app)
    from . import url_converters  # <version:...> in the routes below
    url_converters.init_app(app)

    from .openrosa import bp as openrosa_bp
    app.register_blueprint(openrosa_bp)
    # Collect is given a server URL with the token in its path and appends /formList and
    # /submission to it, so the same routes are mounted again under the token prefix.
    app.register_blueprint(openrosa_bp, url_prefix="/key/<token>", name="openrosa_key")
    from .api import bp as api_bp  # /api/v1: indices, rankings, dissatisfied list
    app.register_blueprint(api_bp)
    from .api_exports import bp as exports_bp  # /api/v1: export.xlsx, export.csv.zip, report.xlsx
    app.register_blueprint(exports_bp)
    from .central import bp as central_bp  # /v1: ODK Central's API and OData feed (Excel, Power BI, pyodk)
    app.register_blueprint(central_bp)

    from . import web
    web.init_app(app)
    from . import security  # app-wide security headers; forwarding headers only from TRUSTED_PROXIES
    security.init_app(app)

    from . import cli  # imports the form compiler, which only the commands need
    cli.init_app(app)
    return app
