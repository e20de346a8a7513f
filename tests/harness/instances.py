"""Making submissions of any published form, filled as Collect would fill them.

Used by the benchmarks and the tests: the instance skeleton is read from the XForm, so a
generated submission always matches the form version it claims.
"""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree  # for the Element type; parsing below is defusedxml's  # nosec B405
from xml.sax.saxutils import escape, quoteattr  # escapes text we write  # nosec B406

from defusedxml import ElementTree as SafeElementTree

XF = "{http://www.w3.org/2002/xforms}"
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"

STANDARD_ITEMS = {
    "procedure": ["proc_posted", "proc_documents", "proc_fees", "proc_visits", "proc_overall"],
    "staff": ["staff_polite", "staff_guidance", "staff_no_trouble", "staff_rules", "staff_overall"],
    "result": ["result_on_time", "result_correct", "result_apology", "result_feedback", "result_overall"],
}
ITEM_PATHS = [f"main/{criterion}/{item}" for criterion, items in STANDARD_ITEMS.items() for item in items]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def primary_instance(xform: bytes) -> ElementTree.Element:
    root = SafeElementTree.fromstring(xform)
    model = root.find(f".//{XF}model")
    instance = model.find(f"{XF}instance")
    return next(iter(instance))


def fill_instance(xform: bytes, values: dict[str, str], instance_id: str | None = None,
                  repeats: dict[str, list[dict[str, str]]] | None = None,
                  deprecated_id: str | None = None) -> bytes:
    """An instance of the form with `values` at their paths (relative to the root).

    `repeats` maps a repeat path to one dict of values (paths relative to the repeat) per entry.
    """
    template = primary_instance(xform)
    repeats = repeats or {}
    values = {**values, "meta/instanceID": instance_id or f"uuid:{uuid.uuid4()}"}
    if deprecated_id:
        values["meta/deprecatedID"] = deprecated_id

    def children_xml(node, abs_prefix: str, rel_prefix: str, scope: dict[str, str]) -> str:
        parts, done = [], set()
        for child in node:
            name = _local(child.tag)
            abs_path, rel_path = abs_prefix + name, rel_prefix + name
            if child.get(JR_TEMPLATE) is not None or abs_path in repeats:
                if abs_path not in done:
                    done.add(abs_path)
                    for entry in repeats.get(abs_path, []):
                        parts.append(f"<{name}>{children_xml(child, abs_path + '/', '', entry)}</{name}>")
                continue
            if len(child):
                parts.append(f"<{name}>{children_xml(child, abs_path + '/', rel_path + '/', scope)}</{name}>")
            elif rel_path == "meta/deprecatedID" and not deprecated_id:
                continue
            else:
                value = scope.get(rel_path, "")
                parts.append(f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>")
        return "".join(parts)

    name = _local(template.tag)
    attrs = f" id={quoteattr(template.get('id'))}"
    version = template.get("version") or template.get("{http://openrosa.org/xforms}version")
    if version:
        attrs += f" version={quoteattr(version)}"
    body = children_xml(template, "", "", values)
    if deprecated_id and "<deprecatedID>" not in body:
        # Collect adds deprecatedID to meta when it sends an edit; pyxform's template lacks it
        body = body.replace("</meta>", f"<deprecatedID>{escape(deprecated_id)}</deprecatedID></meta>", 1)
    return f"<?xml version='1.0' ?><{name}{attrs}>{body}</{name}>".encode("utf-8")


def standard_answers(rng: random.Random, unit: str, level: str, start: datetime | None = None,
                     channel: str | None = None) -> dict[str, str]:
    """Random but plausible answers to the standard questionnaire."""
    start = start or datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=7))) + timedelta(
        minutes=rng.randrange(0, 60 * 24 * 150))
    answers = {
        "start": start.isoformat(timespec="milliseconds"),
        "end": (start + timedelta(minutes=rng.randrange(3, 20))).isoformat(timespec="milliseconds"),
        "today": start.date().isoformat(),
        "deviceid": "collect:bench0000000000",
        "consent": "yes",
        "main/respondent_type": rng.choice(["individual", "organisation"]),
        "main/gender": rng.choice(["male", "female", "other", "no_answer"]),
        "main/age_group": rng.choice(["18_30", "31_45", "46_60", "over_60"]),
        "main/procedure_field": rng.choice(["land", "construction", "justice_civil_status", "business_registration", "other"]),
        "main/occupation": rng.choice(["civil_servant", "business", "worker", "farmer", "retired"]),
        "main/level": level,
        "main/unit": unit,
        "main/comment": rng.choice(["", "Cán bộ nhiệt tình & chu đáo", "Cần rút ngắn thời gian <chờ>"]),
    }
    if channel:
        answers["main/channel"] = channel
    for path in ITEM_PATHS:
        answers[path] = rng.choice("5554443321" + "0")
    return answers


def rate_all(answers: dict[str, str], value: str) -> dict[str, str]:
    """The same answers with every criterion item of the standard form rated `value`."""
    return {**answers, **{path: value for path in ITEM_PATHS}}
