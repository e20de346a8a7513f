"""Taking a submission from a web page (public link, kiosk, paper entry) into `receive()`.

Web Forms posts the same multipart body as ODK Collect (`xml_submission_file` plus one part per
attachment), so the submission goes through the very same `receive()` and is stored exactly as
Collect's would be. Only the answer differs: JSON with a message the page shows as it is,
written for the person in front of the screen.
"""
from __future__ import annotations

import contextlib

from flask import current_app, jsonify

from catalogue import CITIZEN, RECEIVER
from forms.conventions import DOSSIER_RE, dossier_key
from storage import channels, forms

from ..dbconn import get_blobs, get_db
from actions.receive import accept, multipart
from actions.receive.accept import Result, receive
from actions.receive.multipart import Posted
from actions.receive.flatten import top_level_value
from actions.receive.parse import Instance, InstanceError
from ..web.i18n import t

# A field no person fills: the page keeps it out of sight and sends it empty; form-filling bots
# that post every field they find give themselves away.
HONEYPOT_FIELD = "hl_website"


class Refusal(Exception):
    """An answer other than success, decided before or instead of receive()."""

    def __init__(self, key: str, headers: dict | None = None, **values):
        super().__init__(key)
        self.key = key
        self.headers = headers or {}
        self.values = values


def answer(key: str, headers: dict | None = None, **values):
    """The JSON answer for an outcome: {"outcome", "message"} plus any extra values."""
    # what the person at the screen is told; receive()'s other outcomes fall back to the receiver's
    problem = CITIZEN.get(key) or RECEIVER.get(key, RECEIVER["server_error"])
    status = problem.status
    text = t(problem.vi, problem.en)
    try:
        text = text.format(**values)
    except (KeyError, IndexError):
        pass
    body = {"outcome": key, "message": text}
    body.update({k: v for k, v in values.items() if k in ("instance_id", "sheet", "differences") and v is not None})
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal_answer(exc: Refusal):
    return answer(exc.key, exc.headers, **exc.values)


def read_posted(request) -> Posted:
    """The submission in a multipart request, read exactly as the OpenRosa receiver reads Collect's."""
    try:
        return multipart.read_posted(request)
    except multipart.PostRefused as exc:
        raise Refusal(exc.key) from None


def check_honeypot(posted: Posted) -> None:
    if posted.fields.get(HONEYPOT_FIELD, "").strip():
        current_app.logger.info("public submission refused: honeypot field filled")
        raise Refusal("honeypot")


def read_instance(xml: bytes) -> Instance:
    """The posted instance, read once within its form's limits; a Refusal saying why it cannot be."""
    try:
        return accept.read_instance(get_db(), xml)
    except InstanceError as exc:
        raise Refusal(exc.reason) from None


def dossier_code(db, inst: Instance) -> tuple[str | None, str | None]:
    """(dossier path, dossier code) of the instance; Nones when absent."""
    version = forms.receiving_version(db, inst.form_id, inst.version)
    if version is None or inst.encrypted:
        return None, None
    path = version["conventions"].get("roles", {}).get("dossier_code")
    return path, top_level_value(inst.root, path)


def receive_once_per_dossier(posted: Posted, inst: Instance, *, submitter: dict | None,
                             device_id: str | None, arrival_channel: str) -> Result:
    """receive(), refusing a second answer for a dossier code already answered.

    The check and the store happen under one lock, so two answers for one dossier sent at the
    same moment cannot both pass; an identical resend (same instanceID) is still a success.
    """
    db = get_db()
    path, code = dossier_code(db, inst)
    # compared by key: a different case, a space or a zero-width character is the same dossier
    key = dossier_key(code)
    if key and not DOSSIER_RE.match(key):
        raise Refusal("dossier_invalid")
    guard = channels.exclusive(db, "dossier") if key else contextlib.nullcontext()
    with guard:
        if key:
            earlier = [i for i in channels.dossier_answered(db, inst.form_id, path, key) if i != inst.instance_id]
            if earlier:
                raise Refusal("dossier_answered", dossier=key)
        return receive(db, get_blobs(), xml=posted.xml, uploads=posted.uploads, submitter=submitter,
                       device_id=device_id, arrival_channel=arrival_channel, inst=inst)


def result_answer(result: Result, **values):
    return answer(result.outcome, instance_id=result.instance_id, **values)
