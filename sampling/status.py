"""Where each sampled dossier stands, read from the submissions that carry its code.

A member is `reached` when a counted submission of the plan's form carries its dossier code
(interviewed by a surveyor, or answered online from an invitation), `refused` when the surveyor
recorded a refusal or the citizen declined consent, `unreachable` when the surveyor could not
reach them, and `pending` otherwise. Several submissions for one dossier: reached wins over
refused, which wins over unreachable.

Reserves: in each stratum, members are taken in rank order while fewer than n of those taken
have not failed (refused or unreachable). The n sample members are therefore always taken, and
each failure releases the next reserve, whose own failure releases the one after.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from itertools import groupby

from forms.conventions import consent_declined
from storage import forms, sampling

OUTCOMES = ("reached", "refused", "unreachable")
FAILED = ("refused", "unreachable")
_PRIORITY = {"reached": 3, "refused": 2, "unreachable": 1}


def outcome_of(contact_outcome: str | None, consent: str | None) -> str:
    """`consent` is None when the submission's version does not ask for it, and otherwise the
    answer ('' when left blank): without a yes the citizen is no respondent, so not reached."""
    if contact_outcome in FAILED:
        return contact_outcome
    if consent_declined(consent is not None, consent):
        return "refused"
    return "reached"


def outcomes_by_code(rows) -> dict[str, str]:
    """{dossier code: outcome} from (code, contact outcome, consent) rows (see outcome_of)."""
    best: dict[str, str] = {}
    for code, contact, consent in rows:
        outcome = outcome_of(contact, consent)
        if _PRIORITY[outcome] > _PRIORITY.get(best.get(code), 0):
            best[code] = outcome
    return best


def form_outcomes(db, form_id: str, plan_ids: list[int]) -> dict[str, str]:
    """The outcome of every member of these plans (of one form) that has a submission."""
    paths = defaultdict(list)
    for conv in forms.conventions_of_versions(db, form_id):
        for role in ("dossier_code", "respondent", "contact_outcome", "consent"):
            path = conv.get("roles", {}).get(role)
            if path and path not in paths[role]:
                paths[role].append(path)
    # a respondent picked from the surveyor's list carries the dossier code even when the rest of
    # the form (dossier_code included) was not relevant: refused, unreachable, consent declined
    rows = sampling.responses(db, form_id, plan_ids, paths["dossier_code"] + paths["respondent"],
                              paths["contact_outcome"], paths["consent"])
    asking = forms.versions_asking_consent(db, form_id)
    return outcomes_by_code((code, contact, (consent or "") if version_id in asking else None)
                            for code, contact, consent, version_id in rows)


def with_status(members: list[dict], outcomes: dict[str, str]) -> list[dict]:
    """Members (in plan, stratum, rank order) with `status` and `active` (sample or released)."""
    out = []
    for _stratum, group in groupby(members, key=lambda m: (m["plan_id"], m["unit_code"], m["stratum_field"])):
        group = list(group)
        size = sum(1 for m in group if not m["reserve"])
        holding = 0     # members taken that have not failed
        for member in group:
            status = outcomes.get(member["code"], "pending")
            active = not member["reserve"] or holding < size or status != "pending"
            if active and status not in FAILED:
                holding += 1
            out.append({**member, "status": status, "active": active})
    return out


def plan_status(db, plan: dict) -> list[dict]:
    members = sampling.plan_members(db, plan["id"])
    return with_status(members, form_outcomes(db, plan["form_id"], [plan["id"]]))


def worklist(db, collector_id: int, form_id: str) -> list[dict]:
    """What a surveyor still has to do for a form: their active members not yet done."""
    members = sampling.strata_members_of_collector(db, collector_id, form_id)
    outcomes = form_outcomes(db, form_id, sorted({m["plan_id"] for m in members}))
    return [m for m in with_status(members, outcomes)
            if m["collector_id"] == collector_id and m["active"] and m["status"] == "pending"]


@dataclass
class Coverage:
    planned: int = 0        # sample size n (reserves not included)
    active: int = 0         # sample members and released reserves
    reserves_used: int = 0
    reached: int = 0
    refused: int = 0
    unreachable: int = 0
    pending: int = 0

    @property
    def contacted(self) -> int:
        return self.reached + self.refused + self.unreachable

    @property
    def response_rate(self) -> Fraction | None:
        """reached / contacted: of the people asked, how many answered."""
        return Fraction(self.reached, self.contacted) if self.contacted else None

    @property
    def completion(self) -> Fraction | None:
        """reached / planned: how much of the planned sample has answers."""
        return Fraction(self.reached, self.planned) if self.planned else None

    def add(self, member: dict) -> None:
        self.planned += not member["reserve"]
        if not member["active"]:
            return
        self.active += 1
        self.reserves_used += bool(member["reserve"])
        setattr(self, member["status"], getattr(self, member["status"]) + 1)


def coverage(members: list[dict], key) -> tuple[dict, Coverage]:
    """({key(member): Coverage}, the total)."""
    table: dict = defaultdict(Coverage)
    total = Coverage()
    for member in members:
        table[key(member)].add(member)
        total.add(member)
    return dict(table), total
