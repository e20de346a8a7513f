"""The respondents.csv each surveyor's ODK Collect carries: whom they still have to ask.

The standard form picks the respondent from this file (`select_one_from_file respondents.csv`)
and fills the dossier code, level, unit, procedure field and procedure name in from the chosen
row (forms/README.md). Columns:

    name             the dossier code: the answer to `respondent` IS the dossier code
    label            what the surveyor reads and searches: applicant · phone · procedure ·
                     dossier code · return date
    dossier_code, unit, level, procedure
    procedure_field  the register's field text as a choice name of the form's procedure_field
                     question, or empty when none matches

A surveyor's list is their pending active members (`sampling.status.worklist`): a member drops
off once a submission carries its code, a released reserve comes on, and so the file's md5 in
the manifest changes and Collect fetches it again. Anyone else (web pages, an administrator on
Collect) gets the header alone, so the question stays hidden. Names and phone numbers go only
into the list of the surveyor the members are assigned to.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from storage import registers, units

from .folding import folded_words
from .status import worklist

COLUMNS = ("name", "label", "dossier_code", "unit", "level", "procedure_field", "procedure")

# Register field names that do not read like any choice label of the standard form, as
# {folded text: choice name}. Used only when the form has that choice and nothing matched.
FIELD_SYNONYMS = {
    "ho tich": "justice_civil_status",          # Hộ tịch
    "tu phap": "justice_civil_status",          # Tư pháp
    "chung thuc": "justice_civil_status",       # Chứng thực (a field of the justice sector)
    "dang ky doanh nghiep": "business_registration",  # Đăng ký doanh nghiệp
}


def respondents_csv(db, version: dict, user: dict | None) -> bytes:
    """The respondents.csv of a form version for this user (None: a web page)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    if user is not None and user.get("role") == "collector" and user.get("id") is not None:
        for row in respondent_rows(db, version, user["id"]):
            writer.writerow([row[c] for c in COLUMNS])
    return out.getvalue().encode("utf-8")


def respondent_rows(db, version: dict, collector_id: int) -> list[dict]:
    """The rows of a surveyor's list, in plan, stratum and rank order."""
    members = worklist(db, collector_id, version["form_id"])
    contacts = registers.contacts(db, [m["dossier_id"] for m in members])
    levels: dict[str, str] = {}
    field_choice = field_matcher(version)
    rows = []
    for member in members:
        unit = member["unit_code"]
        if unit not in levels:
            found = units.get_unit(db, unit)
            levels[unit] = found["level"] if found else ""
        contact = contacts.get(member["dossier_id"], {})
        rows.append({
            "name": member["code"],
            "label": label_of(member, contact),
            "dossier_code": member["code"],
            "unit": unit,
            "level": levels[unit],
            "procedure_field": field_choice(member["procedure_field"]),
            "procedure": _one_line(member["procedure_name"]),
        })
    return rows


def label_of(member: dict, contact: dict) -> str:
    """"Nguyễn Văn An · 0905 123 456 · Đăng ký khai sinh · HS-0001 · trả KQ 15/07/2026"."""
    # the register stores local days as YYYY-MM-DD (storage/registers.py)
    returned = f"trả KQ {date.fromisoformat(member['returned_on']):%d/%m/%Y}" if member.get("returned_on") else ""
    parts = [contact.get("applicant_name"), contact.get("phone"), member.get("procedure_name"),
             member["code"], returned]
    return " · ".join(p for p in (_one_line(x) for x in parts) if p)


def _one_line(value) -> str:
    """Text on one line: Collect and Web Forms read the file as CSV, a label is one line."""
    return " ".join(str(value or "").split())


def fold(text: str) -> str:
    """Text compared without case, accents, punctuation or the word "và":
    "Tư pháp - Hộ tịch" and "Tư pháp – hộ tịch" both give "tu phap ho tich"."""
    return " ".join(w for w in folded_words(text) if w != "va")


def field_matcher(version: dict):
    """A function from the register's field text to a choice name of the version's
    procedure_field question (by its names and its labels in every language), or ""."""
    path = version["conventions"].get("roles", {}).get("procedure_field")
    field = next((f for f in version["fields"] if f["path"] == path), None)
    known: dict[str, str] = {}
    names = set()
    for name, labels in (field or {}).get("choices", []):
        names.add(name)
        for text in (name, *labels.values()):
            known.setdefault(fold(text), name)
    for text, name in FIELD_SYNONYMS.items():
        if name in names:
            known.setdefault(text, name)

    def match(text: str | None) -> str:
        return known.get(fold(text or ""), "") if text else ""
    return match
