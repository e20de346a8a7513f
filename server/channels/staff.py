"""The staff pages of the citizens' channels (/channels): public links with their QR codes (a
poster for the counter, a code for each dossier receipt), kiosks, and the way to paper.
"""
from __future__ import annotations

import base64

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from actions import kiosks as kiosk_actions
from forms.conventions import DOSSIER_RE
from storage import browse, channels, units

from ..dbconn import get_db
from ..permissions import can
from ..public_address import public_base
from ..web.common import requires, user_scope, web_blueprint
from ..web.i18n import t
from . import registry

bp = web_blueprint("channels", __name__, url_prefix="/channels")


def server_base() -> str:
    return public_base(get_db())


def open_forms_in_scope() -> list[dict]:
    return [f for f in browse.forms_in_scope(get_db(), user_scope()) if f["state"] == "open"]


def _link_choice():
    """The form, unit and dossier code picked on the page, checked against the user's scope."""
    db = get_db()
    form_id = request.args.get("form") or None
    unit_code = request.args.get("unit") or None
    dossier = (request.args.get("dossier") or "").strip() or None
    form = browse.form_in_scope(db, form_id, user_scope()) if form_id else None
    if form_id and form is None:
        abort(404)
    if unit_code and not browse.unit_in_scope(db, unit_code, user_scope()):
        abort(404)
    if dossier and not DOSSIER_RE.match(dossier):
        dossier = None
        flash(t("Mã hồ sơ chỉ gồm chữ, số và các dấu . _ / : -, tối đa 64 ký tự.",
                "A dossier code holds letters, digits and . _ / : -, at most 64 characters."), "error")
    unit = units.get_unit_in_force(db, unit_code) if unit_code else None
    if unit_code and unit is None:
        abort(404)              # a retired unit has no link: its public page is gone
    return form, unit, dossier


@bp.get("/")
@requires("link.manage")
def index():
    form, unit, dossier = _link_choice()
    link = None
    if form is not None:
        url = registry.public_url(server_base(), form["form_id"], unit["code"] if unit else None, dossier)
        qr = base64.b64encode(registry.qr_code_png(url)).decode("ascii")
        link = {"url": url, "qr_data_uri": f"data:image/png;base64,{qr}"}
    db = get_db()
    return render_template(
        "channels/index.html", forms=open_forms_in_scope(),
        units=browse.units_in_scope(db, user_scope(), in_force=True),
        chosen_form=form, chosen_unit=unit, dossier=dossier, link=link,
        open_conflicts=len(channels.conflicts(db, scope=user_scope(), open_only=True)),
        can_paper=can(g.user, "paper.enter"), can_print=can(g.user, "link.manage"))


@bp.get("/poster")
@requires("link.manage")
def poster():
    """A printable page with the link's QR code: A4 for a counter, or cut out for a receipt."""
    form, unit, dossier = _link_choice()
    if form is None:
        abort(404)
    url = registry.public_url(server_base(), form["form_id"], unit["code"] if unit else None, dossier)
    qr = base64.b64encode(registry.qr_code_png(url)).decode("ascii")
    return render_template("channels/poster.html", form=form, unit=unit, dossier=dossier, url=url,
                           qr_data_uri=f"data:image/png;base64,{qr}")


@bp.get("/qr.png")
@requires("link.manage")
def qr_png():
    """The link's QR code as a PNG, for the software that prints dossier receipts (HTTP Basic)."""
    form, unit, dossier = _link_choice()
    if form is None:
        abort(404)
    url = registry.public_url(server_base(), form["form_id"], unit["code"] if unit else None, dossier)
    response = current_app.response_class(registry.qr_code_png(url), 200, content_type="image/png")
    response.headers["Content-Disposition"] = "inline; filename=hailong-qr.png"
    return response


# --- kiosks --------------------------------------------------------------------------------

def _render_kiosks(status: int = 200, created: dict | None = None, form: dict | None = None):
    db = get_db()
    return render_template("channels/kiosks.html", kiosks=channels.list_kiosks(db, user_scope()),
                           units=browse.units_in_scope(db, user_scope(), in_force=True), forms=open_forms_in_scope(),
                           created=created, form=form or {}, default_form=kiosk_actions.DEFAULT_FORM), status


@bp.get("/kiosks")
@requires("kiosk.manage")
def kiosks():
    return _render_kiosks()


@bp.post("/kiosks")
@requires("kiosk.manage")
def create_kiosk():
    data = request.form
    unit_code = (data.get("unit") or "").strip()
    try:
        if not unit_code or not browse.unit_in_scope(get_db(), unit_code, user_scope()):
            raise kiosk_actions.Refused("Hãy chọn một đơn vị trong phạm vi quản lý của bạn.",
                                        "Choose a unit within the scope you manage.")
        new = kiosk_actions.create_kiosk(get_db(), name=data.get("name", ""), unit_code=unit_code,
                                         form_id=data.get("form") or None, actor=g.user["name"])
    except kiosk_actions.Refused as exc:
        flash(t(exc.vi, exc.en), "error")
        return _render_kiosks(400, form={"name": data.get("name", ""), "unit": unit_code, "form": data.get("form")})
    url = registry.activation_url(server_base(), new)
    qr = base64.b64encode(registry.qr_code_png(url)).decode("ascii")
    # the token is shown this once (only its digest is stored), so the page itself is the record
    return _render_kiosks(200, created={"name": new.name, "token": new.token, "url": url,
                                        "kiosk_url": registry.kiosk_url(server_base(), new.unit_code),
                                        "qr_data_uri": f"data:image/png;base64,{qr}"})


@bp.post("/kiosks/<name>/revoke")
@requires("kiosk.manage")
def revoke_kiosk(name):
    db = get_db()
    kiosk = channels.kiosk_by_name(db, name)
    if kiosk is None or not browse.unit_in_scope(db, kiosk["unit_code"], user_scope()):
        abort(404)
    if request.form.get("confirm") != "yes":
        flash(t("Hãy đánh dấu ô xác nhận trước khi thu hồi.", "Tick the confirmation box before revoking."), "error")
        return redirect(url_for(".kiosks"))
    try:
        kiosk_actions.revoke_kiosk(db, name, g.user["name"])
    except kiosk_actions.Refused as exc:
        flash(t(exc.vi, exc.en), "error")
        return redirect(url_for(".kiosks"))
    flash(t(f"Đã thu hồi ki-ốt {name}.", f"Kiosk {name} revoked."), "success")
    return redirect(url_for(".kiosks"))
