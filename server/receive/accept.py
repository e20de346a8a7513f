"""Accepting a submission: every OpenRosa rule about what to store, and nothing about HTTP."""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from storage import forms, submissions
from storage.clock import now_iso

from .. import scope
from .flatten import flatten, top_level_value
from .parse import Instance, InstanceError, parse_instance

CHANNELS = ("interview", "online", "kiosk", "paper", "post", "other")
VN_TZ = timezone(timedelta(hours=7))
_SAFE_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,255}$")


@dataclass
class Upload:
    name: str
    stream: object            # readable binary stream
    content_type: str | None


@dataclass
class Result:
    outcome: str              # "created", "resent", or a key of the problem catalogue
    submission_id: int | None = None
    instance_id: str | None = None


def receive(db, blobs, *, xml: bytes, uploads: list[Upload], submitter: dict | None,
            device_id: str | None, arrival_channel: str) -> Result:
    try:
        inst = parse_instance(xml)
    except InstanceError as exc:
        return Result(exc.reason)
    form = forms.get_form(db, inst.form_id)
    if form is None:
        return Result("unknown_form")
    if submitter is not None and not scope.form_in_scope(db, submitter, form):
        return Result("forbidden_form")
    version = forms.receiving_version(db, inst.form_id, inst.version)
    if version is None:
        return Result("unknown_version")
    if form["state"] != "open":
        return Result("form_closed")
    for upload in uploads:
        if not _SAFE_NAME.match(upload.name) or upload.name in (".", ".."):
            return Result("bad_attachment_name")

    instance_id = inst.instance_id
    if instance_id is None:
        if inst.encrypted:
            return Result("no_instance_id")
        instance_id = f"uuid:{uuid.uuid4()}"
    elif len(instance_id) > 255 or not instance_id.isprintable():
        return Result("bad_instance_id")

    xml_sha = hashlib.sha256(xml).hexdigest()
    # store() decides resends and conflicts atomically; this early look only spares writing the
    # attachments of a submission that is going to be refused
    existing = submissions.get_submission(db, instance_id) if uploads else None
    if existing is not None and existing["xml_sha256"] != xml_sha:
        return Result("conflict", existing["id"], instance_id)

    sub = build_submission(
        version, inst, xml, instance_id=instance_id, xml_sha256=xml_sha, received_at=now_iso(),
        arrival_channel=arrival_channel, submitter_id=submitter["id"] if submitter else None,
        device_id=device_id)
    if submitter is not None and submitter.get("unit_code"):
        if sub.unit_code is None:
            # no unit answered (consent declined): the record belongs where the surveyor works,
            # so refusals still count in that unit's coverage
            sub.unit_code = submitter["unit_code"]
        elif not scope.unit_in_scope(db, submitter, sub.unit_code):
            return Result("forbidden_unit")
    if scope.retired_unit(db, sub.unit_code, sub.started_at):
        return Result("retired_unit")

    sub.attachments = [(u.name, *blobs.put(u.stream), u.content_type) for u in uploads]
    outcome, sid = submissions.store(db, sub)
    return Result(outcome, sid, instance_id)


def build_submission(version: dict, inst: Instance, xml: bytes, *, instance_id: str,
                     received_at: str, arrival_channel: str, submitter_id: int | None = None,
                     device_id: str | None = None, xml_sha256: str | None = None
                     ) -> submissions.NewSubmission:
    """What is stored for a parsed instance of a published form version, without attachments.

    Pure: reads nothing but its arguments, so the receiver and bulk loaders (bench/generate.py)
    derive exactly the same record from the same XML. `version` is a row of storage.forms
    (with "id", "fields" and "conventions"); `device_id` is the one the request named, if any.
    """
    roles = version["conventions"].get("roles", {})
    if inst.encrypted:
        flat_values, repeat_rows, idents = {}, [], {}
        expected = _encrypted_files(inst.root)
        unit_code = channel = started = None
    else:
        flat = flatten(inst.root, version["fields"])
        flat_values, repeat_rows, idents = flat.values, flat.repeat_rows, flat.identifiers
        expected = flat.binaries
        unit_code = top_level_value(inst.root, roles.get("unit"))
        channel = top_level_value(inst.root, roles.get("channel"))
        started = (_utc(top_level_value(inst.root, roles.get("start")))
                   or _utc(top_level_value(inst.root, roles.get("today"))))
        device_id = device_id or top_level_value(inst.root, roles.get("deviceid"))
    return submissions.NewSubmission(
        instance_id=instance_id, form_version_id=version["id"], form_id=inst.form_id,
        version=inst.version, xml=xml, xml_sha256=xml_sha256 or hashlib.sha256(xml).hexdigest(),
        received_at=received_at, started_at=started or received_at,
        channel=channel if channel in CHANNELS else arrival_channel,
        unit_code=unit_code, submitter_id=submitter_id,
        device_id=(device_id or None) and device_id[:255], encrypted=inst.encrypted,
        attachments_expected=len(set(expected)), deprecated_id=inst.deprecated_id,
        values=flat_values, repeat_rows=repeat_rows, identifiers=idents)


def _encrypted_files(root) -> list[str]:
    names = [f.text.strip() for m in root.children if m.name == "media"
             for f in m.children if f.name == "file" and f.text.strip()]
    enc = root.child("encryptedXmlFile")
    if enc is not None and enc.text.strip():
        names.append(enc.text.strip())
    return names


def _utc(value: str | None) -> str | None:
    """A start time or date as stored UTC text; a bare date means midnight in Vietnam."""
    if not value:
        return None
    try:
        if len(value) == 10:
            moment = datetime.fromisoformat(value).replace(tzinfo=VN_TZ)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=VN_TZ)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # year 1 or 9999 shifted out of range: unreadable, like any other
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
