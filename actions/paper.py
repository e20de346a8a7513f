"""Paper questionnaires: print runs, entering a returned sheet, and a sheet entered twice.

A print run reserves the next sheet numbers of a form (never given out twice). A clerk's entry
of a sheet is received like any other answer (channel "paper", the clerk as submitter), and the
sheet is claimed for it in the transaction that stores it. Entering a sheet again with the same
answers stores nothing; with different answers the second entry is kept apart and the first is
flagged "hasIssues" for review, both in one transaction with their audit entries. One lock
("paper") serialises entries, so two clerks entering one sheet at once cannot both be first.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from storage import channels, forms, reviews, submissions, write_transaction

from .receive.accept import Result, Upload, receive
from .receive.flatten import flatten
from .receive.parse import Instance, parse_instance

# metadata the device fills in: two entries of one sheet always differ there
_DEVICE_ROLES = ("start", "end", "today", "deviceid")

MAX_SHEETS_PER_PRINT = channels.MAX_SHEETS_PER_PRINT


def print_run(db, *, form_id: str, version: str, unit_code: str | None, count: int,
              actor: str | None) -> dict:
    """Reserve `count` sheet numbers (1 to MAX_SHEETS_PER_PRINT, else ValueError); the run."""
    return channels.reserve_sheets(db, form_id=form_id, version=version, unit_code=unit_code,
                                   count=count, actor=actor)


@dataclass
class Entry:
    outcome: str            # "paper_created", "paper_same", "paper_conflict", or a refusal's key
    instance_id: str | None = None
    differences: list[str] = field(default_factory=list)    # paths, in form order
    values: dict = field(default_factory=dict)               # what the refusal's message names


def enter_sheet(db, blobs, *, run: dict, sheet_no: int, xml: bytes, uploads: list[Upload],
                inst: Instance, clerk: dict) -> Entry:
    """A clerk's entry of sheet `sheet_no` of print run `run` (a row of storage.channels)."""
    if inst.form_id != run["form_id"]:
        return Entry("wrong_form")
    if inst.version != run["version"]:
        return Entry("paper_wrong_version", values={"printed": run["version"], "entered": inst.version})
    form_id = run["form_id"]
    with channels.exclusive(db, "paper"):
        entered = channels.sheet_entry(db, form_id, sheet_no)
        same_instance = entered is not None and entered["instance_id"] == inst.instance_id
        if entered is not None and entered["submission_id"] and not same_instance:
            return _second_entry(db, run, entered, xml, sheet_no, clerk["name"])
        claim = None
        if inst.instance_id is not None and not same_instance:
            claim = _claim(form_id, sheet_no, inst.instance_id, clerk["name"])
        result = receive(db, blobs, xml=xml, uploads=uploads, submitter=clerk, device_id=None,
                         arrival_channel="paper", inst=inst, then=claim)
    if inst.instance_id is None or result.outcome not in ("created", "resent"):
        # receive()'s own answer: a refusal, or an answer without an instanceID (Web Forms always
        # sends one), which claims no sheet
        return _as_entry(result)
    return Entry("paper_created", result.instance_id)


def _claim(form_id: str, sheet_no: int, instance_id: str, actor: str):
    """receive()'s `then`: the sheet is claimed in the transaction that stores its submission."""
    def claim(db, _outcome, _submission_id, _added):
        channels.claim_sheet(db, form_id, sheet_no, instance_id, actor)
    return claim


def _as_entry(result: Result) -> Entry:
    return Entry(result.outcome, result.instance_id, values=result.values)


def _second_entry(db, run: dict, entered: dict, xml: bytes, sheet_no: int, actor: str) -> Entry:
    version = forms.get_version(db, run["form_id"], run["version"])
    first_xml = submissions.get_xml(db, entered["submission_id"])
    differences = compare_answers(version, first_xml, xml)
    if not differences:
        return Entry("paper_same")
    with write_transaction(db):
        channels.add_conflict(db, form_id=run["form_id"], sheet_no=sheet_no,
                              first_instance_id=entered["instance_id"], xml=xml,
                              differences=differences, actor=actor)
        # a rejected first entry stays rejected: the reviewer's decision is not undone by a clerk
        if reviews.review_state(db, entered["submission_id"]) not in (None, "rejected"):
            reviews.record_review(db, entered["submission_id"], "hasIssues",
                                  f"Phiếu giấy số {sheet_no} được nhập lần nữa với câu trả lời khác "
                                  f"({', '.join(differences)}); xem Kênh khảo sát → Phiếu giấy → Nhập trùng.",
                                  actor)
    return Entry("paper_conflict", differences=differences)


def comparable_answers(version: dict, xml: bytes) -> dict[str, str]:
    """The answers of an instance, by path, without what the device fills in by itself."""
    inst = parse_instance(xml)
    flat = flatten(inst.root, version["fields"])
    roles = version["conventions"].get("roles", {})
    ignored = {roles.get(r) for r in _DEVICE_ROLES} - {None}
    values = {p: v for p, v in {**flat.values, **flat.identifiers}.items()
              if p not in ignored and not p.startswith("meta/")}
    for row in flat.repeat_rows:
        for column, value in row.values.items():
            values[f"{row.repeat}[{row.index}]/{column.rpartition('/')[2]}"] = value
    return values


def compare_answers(version: dict, first: bytes, second: bytes) -> list[str]:
    """The paths whose answers differ between two entries of one sheet, in form order."""
    a, b = comparable_answers(version, first), comparable_answers(version, second)
    order = {f["path"]: i for i, f in enumerate(version["fields"])}
    return sorted((p for p in set(a) | set(b) if (a.get(p) or "") != (b.get(p) or "")),
                  key=lambda p: (order.get(p, len(order)), p))


def resolve_conflict(db, conflict_id: int, note: str | None, actor: str | None) -> bool:
    """Mark a second entry as handled; False when it already was (or does not exist)."""
    return channels.resolve_conflict(db, conflict_id, note, actor)
