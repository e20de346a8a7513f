"""Unit scope: which forms and units an account may touch.

An account bound to a unit works within that unit's subtree; an account without a unit is
province-wide. A form published for a unit is used by that unit's subtree; a form published for
no unit (the standard questionnaire) is used everywhere.
"""
from __future__ import annotations

from storage import units


def unit_in_scope(db, user: dict, unit_code: str | None) -> bool:
    if user.get("unit_code") is None:
        return True
    if unit_code is None:
        return False
    return unit_code in units.subtree_codes(db, user["unit_code"])


def form_in_scope(db, user: dict, form: dict) -> bool:
    if user.get("unit_code") is None or form.get("unit_code") is None:
        return True
    mine = user["unit_code"]
    # either the form belongs above the account (a district form used by its communes) or below it
    return (form["unit_code"] in units.ancestor_codes(db, mine)
            or form["unit_code"] in units.subtree_codes(db, mine))
