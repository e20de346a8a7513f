"""Invitations to answer online: one letter per sampled dossier with its own link, and a CSV
for an SMS gateway.

Each link is the form's public link with the dossier's unit and code filled in, so the answer
is counted for that dossier (one answer per dossier) and shows up in the plan's coverage.
SMS text is written without Vietnamese diacritics: a message in GSM-7 fits 160 characters,
one with diacritics (UCS-2) only 70, and gateways bill per part.
"""
from __future__ import annotations

import io
from typing import Callable

from exports import csvcells
from storage import registers

SMS_TEMPLATE = ("Moi Ong/Ba danh gia muc do hai long ve viec giai quyet ho so {code}. "
                "Tra loi khoang 3 phut, khong can ghi ho ten: {link}")


def letter_rows(db, plan: dict, members: list[dict], *, base_url: str,
                link: Callable[..., str], with_names: bool) -> list[dict]:
    """What each letter (or message) says; names and phones only when `with_names`."""
    contacts = registers.contacts(db, [m["dossier_id"] for m in members]) if with_names else {}
    rows = []
    for member in members:
        contact = contacts.get(member["dossier_id"], {})
        rows.append({"code": member["code"], "unit_code": member["unit_code"],
                     "procedure_name": member["procedure_name"], "returned_on": member["returned_on"],
                     "link": link(base_url, plan["form_id"], member["unit_code"], member["code"]),
                     "applicant_name": contact.get("applicant_name"), "phone": contact.get("phone")})
    return rows


def sms_csv(rows: list[dict], *, raw: bool = False) -> bytes:
    """phone,message,dossier_code,unit_code,link for the rows that have a phone number; cells
    formula-safe unless `raw` (exports/csvcells.py)."""
    out = io.StringIO()
    writer = csvcells.writer(out, raw=raw)
    writer.writerow(["phone", "message", "dossier_code", "unit_code", "link"])
    for row in rows:
        if row["phone"]:
            writer.writerow([row["phone"], SMS_TEMPLATE.format(code=row["code"], link=row["link"]),
                             row["code"], row["unit_code"], row["link"]])
    return out.getvalue().encode("utf-8")
