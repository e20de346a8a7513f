"""The web pages for form designers, reporting staff, unit heads and administrators.

Blueprints, one per area: `accounts` (login, logout, language), `admin` (/admin: accounts,
surveyors, units, audit log), `questionnaires` (/questionnaires: forms), `submissions`
(/submissions), `dashboard` (/dashboard: indices, follow-up, publishing), `registers` (/registers: dossier registers),
`sampling` (/sampling: sample plans, coverage, invitations), `public` (/ket-qua:
published results, no login), `vendor` (/static/vendor: the npm files pages use). Each page
blueprint is made by `common.web_blueprint`, which adds the CSRF check, the login check,
security headers and error pages. Templates extend `templates/base.html`; texts are
Vietnamese first, English by the switch (`i18n`).
"""
from __future__ import annotations

from . import (accounts, admin, common, dashboard, followup_list, i18n, public, questionnaires, registers,
               sampling, submissions, vendor)
from .. import csrf


def init_app(app) -> None:
    app.session_interface = common.SessionInterface()
    app.config.setdefault("WEB_PAGE_SIZE", 50)
    i18n.init_app(app)
    csrf.init_app(app)
    app.jinja_env.globals.update(nav_items=common.nav_items, current_user=common.current_user,
                                 public_base=common.public_base, qr_address_warning=common.qr_address_warning)
    for blueprint in (accounts.bp, admin.bp, questionnaires.bp, submissions.bp, dashboard.bp, public.bp,
                      vendor.bp, registers.bp, sampling.bp, followup_list.bp):
        app.register_blueprint(blueprint)
    from .. import export_jobs  # exports started from the pages, as background jobs
    app.register_blueprint(export_jobs.bp)
    from .. import channels  # citizens' channels: public links, kiosks, paper (server/channels)
    channels.init_app(app)
