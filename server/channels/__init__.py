"""Citizens' channels besides ODK Collect: public links, kiosks and paper questionnaires (the pages).

Every answer goes through `actions.receive.accept.receive()` and is stored like Collect's, with
its channel: `online` (/f/<form_id>, anonymous), `kiosk` (/kiosk/<unit>, a registered device),
`paper` (sheets entered by staff); the rules of each (one answer per dossier code, rate limits,
kiosks, sheets) are in actions/. Modules: `webforms` (Web Forms' files, the pages' CSP, a
link's values filled into the form), `receiving` (the posted form read, answers and messages),
`citizen` (what the citizens' pages share, limits' defaults), `public`,
`kiosk`, `paper` (print runs, entry, double entries) with `sheet` (the printed layout), `staff`
(/channels: links and QR codes, kiosks), `registry` (the channels' addresses and QR codes),
`cli` (`flask kiosks ...`). Tables: storage/channels.py.
"""
from __future__ import annotations


def init_app(app) -> None:
    from . import citizen, cli, kiosk, paper, public, staff, webforms
    citizen.configure(app)
    for blueprint in (webforms.bp, public.bp, kiosk.bp, staff.bp, paper.bp):
        app.register_blueprint(blueprint)
    app.cli.add_command(cli.kiosks_cli)
