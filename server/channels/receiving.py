"""Taking a submission from a web page (public link, kiosk, paper entry) to the application layer.

Web Forms posts the same multipart body as ODK Collect (`xml_submission_file` plus one part per
attachment), so the submission goes through the very same `receive()` and is stored exactly as
Collect's would be. Only the answer differs: JSON with a message the page shows as it is,
written for the person in front of the screen.
"""
from __future__ import annotations

from flask import current_app, jsonify

from actions.receive import accept, multipart
from actions.receive.accept import Result
from actions.receive.multipart import Posted
from actions.receive.parse import Instance, InstanceError
from catalogue import CITIZEN, RECEIVER

from ..dbconn import get_db
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


def result_answer(result: Result, **values):
    return answer(result.outcome, instance_id=result.instance_id, **result.values, **values)
