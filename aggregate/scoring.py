"""Scoring: what one submission's answers give each criterion, under its own version's rules.

Each form version says which items count for which criterion (the `criterion` column), which
answers are valid (`scale`) and which are satisfied (`satisfied`); a unit's form may differ from
the standard one, and a later version from an earlier, so every submission is scored once by the
rules it was answered under and the result is stored (storage/scores.py). Only sums of these
stored numbers are taken afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import storage
from forms.conventions import consent_declined
from storage import scores
from vocabulary import CRITERIA

from . import breakdowns
LOW_VALUES = ("1", "2")                  # docs/index-definitions.md: dissatisfied answers are 1 and 2
FIVE_POINT = frozenset("12345")          # the mean score (1–5) is taken on this scale only
_BATCH = 5000


@dataclass(frozen=True)
class VersionRules:
    version_id: int
    form_id: str
    version: str
    items: dict[str, str]                 # item path -> criterion, in form order
    scale: tuple[str, ...]
    valid: frozenset[str]                 # the scale's values
    satisfied: frozenset[str]
    low: frozenset[str]
    five_point: bool
    procedure_field: str | None           # path of the procedure_field question
    consent: str | None                   # path of the consent question, if the version asks
    comment: str | None                   # path of the free-text comment, if any
    select_one: dict[str, dict]           # path -> field, select_one questions outside repeats
    criterion_items: dict[str, tuple[str, ...]]   # criterion -> its item paths


def rules_of(version: dict) -> VersionRules:
    """The rules of a version row from storage.scores.form_versions."""
    conv = version["conventions"]
    fields = version["fields"]
    criteria = conv.get("criteria", {})
    scale = tuple(str(v) for v in conv.get("scale") or ("1", "2", "3", "4", "5"))
    satisfied = frozenset(str(v) for v in conv.get("satisfied") or ("4", "5"))
    ordered = [f["path"] for f in fields if f["path"] in criteria]
    ordered += [p for p in criteria if p not in ordered]
    sensitive = set(conv.get("sensitive", []))
    comment = next((f["path"] for f in fields if f["name"] == "comment" and not f.get("repeat")
                    and not f.get("sensitive") and f["path"] not in sensitive
                    and f["type"] not in ("group", "repeat")), None)
    select_one = {f["path"]: f for f in fields
                  if f["type"] == "select1" and not f.get("repeat") and not f.get("sensitive")
                  and f["path"] not in sensitive}
    procedure_field = conv.get("roles", {}).get("procedure_field")
    if procedure_field in sensitive:
        procedure_field = None
    # an identifier's answer is not in the answer table scoring reads, so a consent question
    # marked sensitive cannot be checked here (the standard form's never is)
    consent = conv.get("roles", {}).get("consent")
    if consent in sensitive:
        consent = None
    return VersionRules(
        version_id=version["id"], form_id=version["form_id"], version=version["version"],
        items={p: criteria[p] for p in ordered}, scale=scale, valid=frozenset(scale),
        satisfied=satisfied & set(scale),
        low=frozenset(LOW_VALUES) & set(scale), five_point=set(scale) == FIVE_POINT,
        procedure_field=procedure_field, consent=consent, comment=comment, select_one=select_one,
        criterion_items={c: tuple(p for p in ordered if criteria[p] == c) for c in CRITERIA})


def score_submission(rules: VersionRules, submission_id: int, local_month: int,
                     answers: dict[str, str | None]) -> tuple:
    """One row of submission_scores (storage.scores.SCORE_COLUMNS order). A declined consent
    scores as no valid answer at all: the submission is counted, never as a respondent."""
    declined = consent_declined(rules.consent is not None, answers.get(rules.consent))
    rated = {} if declined else answers
    per_criterion = []
    shares = []
    irregular = 0
    for criterion in CRITERIA:
        valid = satisfied = low = value_sum = 0
        for path in rules.criterion_items[criterion]:
            value = rated.get(path)
            if value not in rules.valid:
                continue
            valid += 1
            satisfied += value in rules.satisfied
            low += value in rules.low
            if rules.five_point:
                value_sum += int(value)
        score = None
        if valid:
            shares.append(Fraction(satisfied, valid))
            if scores.SCORE_UNIT % valid == 0:
                score = satisfied * (scores.SCORE_UNIT // valid)
            else:
                irregular = 1
        per_criterion += [valid, satisfied, score, low, value_sum, valid if rules.five_point else 0]
    # exact (a whole number) unless a share had to be left out of SCORE_UNITs; the overall
    # score only feeds the overall index's interval, where that rounding is far below display
    overall = round(sum(shares) * scores.OVERALL_UNIT / len(shares)) if shares else None
    field = answers.get(rules.procedure_field) if rules.procedure_field else None
    return (submission_id, local_month, field or None, int(bool(shares)), overall, irregular,
            *per_criterion, int(declined))


def refresh(db, batch: int = _BATCH) -> int:
    """Score every submission stored since the last call; returns how many were scored.

    Cheap when nothing is new (two indexed lookups, no lock). Each batch is one write
    transaction that re-reads the watermark, so concurrent callers never score a row twice.
    """
    if scores.scored_through(db) >= scores.newest_submission(db):
        breakdowns.catch_up(db)
        return 0
    done = 0
    while True:
        with storage.write_transaction(db):
            after = scores.scored_through(db)
            pending = scores.next_unscored(db, after, batch)
            if not pending:
                break
            through = pending[-1][0]
            rows = []
            for form_id in sorted({f for _, f in pending}):
                # read inside the transaction: no version can be published half-way through
                rules = {v["id"]: rules_of(v) for v in scores.form_versions(db, [form_id])}
                columns = sorted({p for r in rules.values() for p in r.items}
                                 | {r.procedure_field for r in rules.values() if r.procedure_field}
                                 | {r.consent for r in rules.values() if r.consent})
                for row in scores.unscored_answers(db, form_id, after, through, columns):
                    rows.append(score_submission(rules[row[1]], row[0], row[2],
                                                 dict(zip(columns, row[3:]))))
            scores.add_scores(db, rows, after, through)
            breakdowns.record(db, after, through, sorted({f for _, f in pending}))
            done += len(pending)
    breakdowns.catch_up(db)
    return done
