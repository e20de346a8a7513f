"""Public links: /f/<form_id>?unit=CODE[&dossier=CODE], answered by anyone, stored as "online".

The link's unit (and its level), the dossier code and the channel are filled into the form
before the citizen starts (webforms.prefilled_xform); consent is the form's own first question
and is never answered in advance. Abuse limits, none of which can turn away a busy centre:
a rate per client address and per link (counted in SQLite, so every server process shares the
count), one answer per dossier code, and a honeypot field.
"""
from __future__ import annotations

import math
import time

from flask import current_app, render_template, request, url_for

from actions import public_links
from forms.conventions import dossier_key
from storage import channels, forms

from ..dbconn import get_blobs, get_db
from ..web.i18n import lang, t, unit_name
from . import webforms
from .citizen import (citizen_blueprint, dossier_arg, media_response, message_page, open_form,
                      render_form_page, unit_of)
from .receiving import Refusal, check_honeypot, read_instance, read_posted, result_answer

bp = citizen_blueprint("citizen_link", __name__)


def _link_args(form: dict) -> tuple[dict | None, str | None]:
    return unit_of(form, request.args.get("unit")), dossier_arg(request.args.get("dossier"))


def _query(unit: dict | None, dossier: str | None) -> dict:
    args = {}
    if unit:
        args["unit"] = unit["code"]
    if dossier:
        args["dossier"] = dossier
    if lang() != "vi":
        args["lang"] = lang()
    return args


@bp.get("/f/<form_id>")
def page(form_id):
    form, version = open_form(form_id)
    unit, dossier = _link_args(form)
    if dossier:
        path = version["conventions"].get("roles", {}).get("dossier_code")
        if path and channels.dossier_answered(get_db(), form_id, path, dossier_key(dossier)):
            return message_page(200, t("Hồ sơ đã được đánh giá", "Dossier already rated"),
                                t(f"Hồ sơ {dossier} đã được đánh giá. Mỗi hồ sơ chỉ được đánh giá một lần. "
                                  "Cảm ơn Ông/Bà đã tham gia khảo sát.",
                                  f"Dossier {dossier} has already been rated; each dossier can be rated once. "
                                  "Thank you for taking part."), kind="ok")
    query = _query(unit, dossier)
    return render_form_page(
        "channels/public_form.html", form=form, version=version, unit=unit,
        unit_label=unit_name(unit, "") if unit else None, dossier=dossier,
        form_url=url_for(".form_xml", form_id=form_id, **query),
        media_url=url_for(".media", form_id=form_id, version=version["version"], filename="x")[:-1],
        submit_url=url_for(".submission", form_id=form_id, **query),
        thanks_url=url_for(".thanks", form_id=form_id, **query))


@bp.get("/f/<form_id>/thanks")
def thanks(form_id):
    """Where the page goes once the answer is stored: thanks, and no form to fill in again.

    A link naming a dossier was for that dossier alone; a unit's general link (a poster at the
    counter) offers a fresh start for another dossier the same person may have had handled.
    """
    form, _ = open_form(form_id, version=False)
    unit, dossier = _link_args(form)
    again = None if dossier else url_for(".page", form_id=form_id, **_query(unit, None))
    response = current_app.make_response(render_template(
        "channels/citizen_thanks.html", dossier=dossier, again_url=again,
        unit_label=unit_name(unit, "") if unit else None))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/f/<form_id>/form.xml")
def form_xml(form_id):
    form, version = open_form(form_id)
    unit, dossier = _link_args(form)
    return webforms.prefilled_form_response(version, unit=unit, dossier=dossier, channel="online")


@bp.get("/f/<form_id>/v/<version>/media/<filename>")
def media(form_id, version, filename):
    open_form(form_id, version=False)
    row = forms.receiving_version(get_db(), form_id, version)     # light and cached: no file contents
    if row is None:
        return message_page(404, t("Không tìm thấy", "Not found"), t("Không tìm thấy tệp.", "File not found."))
    return media_response(row, filename)


@bp.post("/f/<form_id>/submission")
def submission(form_id):
    form, _ = open_form(form_id, version=False)
    unit, _dossier = _link_args(form)
    check_rate(f"{form_id}|{unit['code'] if unit else ''}")
    posted = read_posted(request)
    check_honeypot(posted)
    inst = read_instance(posted.xml)
    result = public_links.receive_answer(get_db(), get_blobs(), form_id=form_id, unit=unit, xml=posted.xml,
                                         uploads=posted.uploads, inst=inst)
    return result_answer(result)


def check_rate(link: str) -> None:
    """Count this request against the client address and the link; refuse (429) past a limit."""
    cfg = current_app.config
    over = public_links.count_request(
        get_db(), client=request.remote_addr or "-", link=link, per_ip=int(cfg["PUBLIC_RATE_PER_IP"]),
        per_link=int(cfg["PUBLIC_RATE_PER_LINK"]), window=int(cfg["PUBLIC_RATE_WINDOW_SECONDS"]),
        now=time.time())
    if over is None:
        return
    current_app.logger.info("public submission refused: %s over %s per %ss", over.bucket, over.limit,
                            cfg["PUBLIC_RATE_WINDOW_SECONDS"])
    raise Refusal(over.key, headers={"Retry-After": str(over.retry_after)},
                  minutes=max(1, math.ceil(over.retry_after / 60)))
