"""Accepting a submission: every OpenRosa rule about what to store, and nothing about HTTP.

Who sends decides what is believed (`arrival_channel`):
- "interview": ODK Collect, with the surveyor's account as `submitter`, or a trusted in-process
  caller (bulk loaders, tests) with none. The instance's own channel answer is kept.
- "online", "kiosk", "paper": the public link, a kiosk, a clerk's paper entry. The channel is the
  door, whatever the XML says; a link or kiosk bound to a unit (`submitter` = {"id": None,
  "unit_code": ...}) stores that unit, and an unbound link only known units that use the form;
  only files the instance names in its binary fields may come with it.
An edit (`deprecatedID`) is accepted only from whoever may edit the original (`_may_edit`).
"""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from storage import forms, submissions, units
from storage.clock import now_iso
from vocabulary import CHANNELS, TIMEZONE

from .. import scope
from .flatten import flatten, top_level_value
from .parse import DEFAULT_LIMITS, Instance, InstanceError, Limits, form_of_root, parse_instance

# doors whose channel the server knows: the instance cannot claim another one
SERVER_CHANNELS = ("online", "kiosk", "paper")
# doors where only the files the instance asks for may come along (Web Forms sends them all in
# the same request; Collect sends them in later parts, each repeating the XML)
NAMED_FILES_ONLY = ("online", "kiosk", "paper")
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
    values: dict = field(default_factory=dict)   # what the refusal's message names (a dossier code)


def bound_to(unit_code: str | None) -> dict | None:
    """receive()'s submitter for an anonymous answer through a unit's link or kiosk.

    Nobody is named (no account id), but the unit scope applies as it does to a surveyor: the
    answer must be about a unit in that subtree, and an answer without a unit (consent
    declined) is counted for that unit.
    """
    return {"id": None, "unit_code": unit_code} if unit_code else None


# Sizing an instance from its form: the elements the form declares, what Collect and Central add
# beside them (meta, instanceName, audit...), and entries of each repeat, times a wide margin.
LIMIT_MARGIN = 4
LIMIT_EXTRA_ELEMENTS = 64
LIMIT_REPEAT_ENTRIES = 1000
LIMIT_FLOOR_ELEMENTS = 2000


def limits_for(fields: list[dict]) -> Limits:
    """How large an instance of a form with these fields may be (see parse.Limits)."""
    in_repeats = sum(1 for f in fields if f.get("repeat") or f["type"] == "repeat")
    expected = len(fields) - in_repeats + LIMIT_EXTRA_ELEMENTS + LIMIT_REPEAT_ENTRIES * in_repeats
    elements = max(LIMIT_FLOOR_ELEMENTS, LIMIT_MARGIN * expected)
    # beside each element a text node (its value, or the whitespace of pretty-printed XML) and
    # a few attributes
    return Limits(elements=elements, attributes=DEFAULT_LIMITS.attributes, text=DEFAULT_LIMITS.text,
                  nodes=3 * elements)


def read_instance(db, xml: bytes) -> Instance:
    """The instance in `xml`, read within the limits of the form version its root names."""
    def limits(root_attrs: dict[str, str]) -> Limits:
        form_id, version = form_of_root(root_attrs)
        row = forms.receiving_version(db, form_id, version) if form_id else None
        # an unknown form or version is refused once read; until then the smallest limits
        return limits_for(row["fields"] if row else [])
    return parse_instance(xml, limits)


def receive(db, blobs, *, xml: bytes, uploads: list[Upload], submitter: dict | None,
            device_id: str | None, arrival_channel: str, inst: Instance | None = None,
            then=None) -> Result:
    """Store a submission, or say why not. `inst`: the instance already read from `xml` by
    read_instance(), if the caller needed it first; `then`: as for storage.submissions.store,
    run in the storing transaction."""
    if inst is None:
        try:
            inst = read_instance(db, xml)
        except InstanceError as exc:
            return Result(exc.reason)
    if inst.deprecated_id is not None and arrival_channel == "online":
        return Result("edit_public")
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
    if arrival_channel in SERVER_CHANNELS:
        sub.channel = arrival_channel
        bound = submitter.get("unit_code") if submitter is not None and submitter.get("id") is None else None
        if bound:
            # a link or kiosk of a unit speaks for that unit, whatever unit of its subtree the
            # answer names
            sub.unit_code = bound
        elif sub.unit_code is not None and not _known_unit(db, sub.unit_code, form):
            return Result("unknown_unit")
    if arrival_channel in NAMED_FILES_ONLY and uploads:
        asked = set(expected_files(inst, version))
        if any(u.name not in asked for u in uploads):
            return Result("unexpected_attachment")

    if scope.retired_unit(db, sub.unit_code, sub.started_at):
        return Result("retired_unit")

    def may_edit(original: dict) -> str | None:
        return _may_edit(db, original, submitter=submitter, device_id=device_id,
                         arrival_channel=arrival_channel)

    sub.attachments = [(u.name, *blobs.put(u.stream), u.content_type) for u in uploads]
    outcome, sid = submissions.store(db, sub, may_edit=may_edit, then=then)
    return Result(outcome, sid, instance_id)


def _known_unit(db, code: str, form: dict) -> bool:
    return units.get_unit(db, code) is not None and scope.form_in_scope(db, {"unit_code": code}, form)


def _may_edit(db, original: dict, *, submitter: dict | None, device_id: str | None,
              arrival_channel: str) -> str | None:
    """Why this sender may not replace `original` (a row of submissions), or None if it may.

    The account (or kiosk) that sent the original may edit it, and so may a surveyor whose
    unit scope holds the original's unit; paper entry edits only the clerk's own entries, and a
    public link nothing (refused before this). A rejected or deleted submission is out of
    reach: a reviewer's decision is undone by a reviewer, not by sending a new version.
    """
    if arrival_channel == "kiosk":
        mine = (original["channel"] == "kiosk" and original["submitter_id"] is None
                and device_id is not None and original["device_id"] == device_id)
    elif arrival_channel == "paper":
        mine = (submitter is not None and submitter.get("id") is not None
                and original["submitter_id"] == submitter["id"])
    elif arrival_channel != "interview":
        mine = False
    elif submitter is None:
        mine = True         # a trusted in-process caller (bulk loaders, tests): no account to check
    else:
        mine = (original["submitter_id"] == submitter["id"]
                or scope.unit_in_scope(db, submitter, original["unit_code"]))
    if not mine:
        return "edit_forbidden"
    if original["deleted_at"] is not None:
        return "edit_deleted"
    if original["review_state"] == "rejected":
        return "edit_rejected"
    return None


def expected_files(inst: Instance, version: dict) -> list[str]:
    """The file names the instance asks for: its binary fields' answers (an encrypted one: its
    media files and the encrypted XML)."""
    if inst.encrypted:
        return _encrypted_files(inst.root)
    return flatten(inst.root, version["fields"]).binaries


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
            moment = datetime.fromisoformat(value).replace(tzinfo=TIMEZONE)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=TIMEZONE)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # year 1 or 9999 shifted out of range: unreadable, like any other
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
