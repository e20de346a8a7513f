"""Unit scope: which forms and units an account may touch.

An account bound to a unit works within that unit's subtree; an account without a unit is
province-wide. A form published for a unit is used by that unit's subtree; a form published for
no unit (the standard questionnaire) is used everywhere.
"""
from __future__ import annotations

from aggregate.periods import local_moment
from storage import units


def unit_in_scope(db, user: dict, unit_code: str | None) -> bool:
    if user.get("unit_code") is None:
        return True
    if unit_code is None:
        return False
    return unit_code in units.subtree_codes(db, user["unit_code"])


def retired_unit(db, unit_code: str | None, started_at: str | None) -> bool:
    """Whether an answer names a unit that was retired before the interview's local day
    (Collect may still hold a form with the old unit list). Unknown codes are another rule's."""
    if not unit_code or not started_at:
        return False
    day = local_day(started_at)
    version = units.version_at(db, unit_code, day) if day else None
    return version is not None and version["retired_on"] is not None and version["retired_on"] <= day


def local_day(utc_text: str) -> str | None:
    """YYYY-MM-DD in Vietnam of a stored UTC time."""
    moment = local_moment(utc_text)
    return moment.date().isoformat() if moment else None


def form_in_scope(db, user: dict, form: dict) -> bool:
    if user.get("unit_code") is None or form.get("unit_code") is None:
        return True
    mine = user["unit_code"]
    # either the form belongs above the account (a district form used by its communes) or below it
    return (form["unit_code"] in units.ancestor_codes(db, mine)
            or form["unit_code"] in units.subtree_codes(db, mine))
