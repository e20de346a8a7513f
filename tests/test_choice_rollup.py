"""The breakdown rollup (storage/choices.py, aggregate/breakdowns.py): breakdowns by procedure
field and by a select_one answer read from it stay equal to an independent recount after
edited, rejected, approved-again and deleted submissions.

Data goes in through the receiver, reviews through storage.reviews, deletions through
storage.deletion, as the server does it. The expected cells come from the naive reference of
test_indices_engine.py (written from DOMAIN.md over the test's own record of what was sent);
the rollup's rows are also compared with counts made here from that record.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta, timezone

import pytest

import storage
from aggregate import IndexQuery, compute_indices, refresh
from aggregate.dissatisfied import DissatisfiedQuery, list_dissatisfied
from storage import choices, deletion, reviews
from test_indices_engine import MOMENTS, RULES, Site, Sub, _assert_same, _store, reference, template  # noqa: F401

VN = timezone(timedelta(hours=7))
GENDERS = ["male", "female", ""]
FIELDS = ["dat_dai", "xay_dung", ""]
UNITS = ["474", "19753", "19754", "481", "20100", "TTHCC", "", "999"]
# whole months only (served from the rollup) and ranges with days around whole months (the
# rollup for the months, the submissions for the days)
WINDOWS = [(None, None), (date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 4, 1), None),
           (date(2025, 12, 31), date(2026, 7, 14)), (None, date(2026, 3, 31))]


def _spec(rng: random.Random, form_id: str = None, version: str = None) -> dict:
    if form_id is None:
        form_id, version = rng.choice([("khao_sat", "1"), ("khao_sat", "2"), ("don_vi", "1"), ("dai", "1")])
    items = {"khao_sat": ["p1", "p2", "t1", "t2", "t3", "r1"] + (["p3"] if version == "2" else []),
             "don_vi": ["u_proc", "u_staff1", "u_staff2", "u_result"],
             "dai": [f"l{i}" for i in range(1, 14)] + ["l_staff", "l_result"]}[form_id]
    scale = "1234567" if form_id == "don_vi" else "12345"
    values = {item: rng.choice(list(scale) + ["0", ""]) for item in items}
    if form_id != "dai":
        values["gender"] = rng.choice(GENDERS)
        values["procedure_field"] = rng.choice(FIELDS)
    return dict(form_id=form_id, version=version, values=values, channel=rng.choice(["", "online", "kiosk"]),
                unit=rng.choice(UNITS), start=rng.choice(MOMENTS))


def _recount(model: list[Sub], db) -> Counter:
    """(dimension, version id, local quarter, unit, value) -> counted submissions, from the
    test's own record of what was sent and what happened to it."""
    version_ids = dict(((r[0], r[1]), r[2]) for r in db.execute("SELECT form_id, version, id FROM form_versions"))
    counts: Counter = Counter()
    for sub in model:
        if not sub.current or sub.rejected or sub.deleted:
            continue
        local = sub.start.astimezone(VN)
        key = (version_ids[(sub.form_id, sub.version)], local.year * 10 + (local.month + 2) // 3, sub.unit or "")
        for dim, path in (("procedure_field", "procedure_field"), ("answer:procedure_field", "procedure_field"),
                          ("answer:gender", "gender")):
            if sub.values.get(path):
                counts[(dim,) + key + (sub.values[path],)] += 1
        if _low(sub):
            counts[("dissatisfied",) + key + ("1",)] += 1
    return counts


def _low(sub: Sub) -> bool:
    """An answer 1 or 2 on one of the version's items (DOMAIN.md: a dissatisfied answer)."""
    rules = RULES[(sub.form_id, sub.version)]
    return any(sub.values.get(item) in ("1", "2") and sub.values.get(item) in rules["scale"]
               for item in rules["items"])


def _rollup_counts(db) -> Counter:
    return Counter({row[:5]: row[5] for row in choices.rollup_rows(db)})


def _rebuilt(db) -> list[tuple]:
    with storage.write_transaction(db):
        choices.rebuild_rollup(db)
    return choices.rollup_rows(db)


def _check(site: Site, model: list[Sub], monkeypatch) -> None:
    """Every breakdown by procedure field or gender equals the reference, read from the rollup."""
    served, asked = [], 0
    real = choices.choice_sums
    monkeypatch.setattr(choices, "choice_sums", lambda *a, **k: served.append(a[3]) or real(*a, **k))
    for forms in (("khao_sat",), ("khao_sat", "don_vi", "dai")):
        for by in (("q:gender",), ("procedure_field",), ("q:gender", "quarter"), ("unit", "procedure_field"),
                   ("channel", "q:gender", "version")):
            for date_from, date_to in WINDOWS:
                for filters in ({}, {"unit": "474"}, {"scope": "474", "channel": "online"}, {"versions": ("1",)}):
                    query = IndexQuery(forms=forms, by=by, date_from=date_from, date_to=date_to, min_n=1, **filters)
                    engine = {tuple(c.key.values()): c for c in compute_indices(site.db, query)}
                    _assert_same(engine, reference(model, query))
                    # the rollup has no channel: a channel is read from the submissions
                    asked += "channel" not in by and "channel" not in filters
    # every one of those queries without a channel had whole quarters to read, and read them
    # from the rollup
    assert set(served) == {"answer:gender", "procedure_field"}
    assert len(served) == asked
    for date_from, date_to in WINDOWS:
        for filters in ({}, {"unit": "474"}, {"channel": "online"}, {"versions": ("2",)}):
            query = DissatisfiedQuery(forms=("khao_sat", "don_vi", "dai"), date_from=date_from, date_to=date_to,
                                      limit=5, **filters)
            listed = [sub for sub in model if sub.current and not sub.rejected and not sub.deleted and _low(sub)
                      and (date_from is None or sub.start.astimezone(VN).date() >= date_from)
                      and (date_to is None or sub.start.astimezone(VN).date() <= date_to)
                      and ("unit" not in filters or sub.unit in ("474", "19753", "19754"))
                      and ("channel" not in filters or sub.channel == "online")
                      and ("versions" not in filters or sub.version == "2")]
            page = list_dissatisfied(site.db, query)
            assert page.total == len(listed), (date_from, date_to, filters)
            newest = sorted(listed, key=lambda sub: (sub.start, sub.sid), reverse=True)[:5]
            assert [e.submission_id for e in page.entries] == [sub.sid for sub in newest]
    assert _rollup_counts(site.db) == _recount(model, site.db)
    assert choices.rollup_rows(site.db) == _rebuilt(site.db)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_equals_a_recount_after_edits_rejections_approvals_and_deletions(template, tmp_path, seed,
                                                                               monkeypatch):
    rng = random.Random(seed)
    site = Site(template, tmp_path / "site")
    model: list[Sub] = []
    for _ in range(30):
        _store(site, model, _spec(rng))
    refresh(site.db)       # scored and recorded: what follows reaches the rollup through the triggers
    _check(site, model, monkeypatch)
    for _ in range(12):
        target = rng.choice(model)
        action = rng.choice(["edit", "reject", "approve", "delete"])
        if action == "edit" and target.current and not target.deleted:
            # a correction: other answers (gender, field, channel, unit and start may all change)
            _store(site, model, _spec(rng, target.form_id, target.version), deprecated=target)
        elif action == "reject":
            assert reviews.add_review(site.db, target.sid, "rejected", None, "test")
            target.rejected = True
        elif action == "approve":
            assert reviews.add_review(site.db, target.sid, "approved", None, "test")
            target.rejected = False
        elif action == "delete" and not target.deleted:
            done = deletion.soft_delete(site.db, target.instance_id, reason="trùng / duplicate", actor="test")
            for sub in model:
                if sub.instance_id in done.instance_ids:
                    sub.deleted = True
    for _ in range(5):
        _store(site, model, _spec(rng))       # scored at the next query
    _check(site, model, monkeypatch)
    site.db.close()


def test_a_database_scored_before_the_rollup_catches_up(template, tmp_path, monkeypatch):
    rng = random.Random(7)
    site = Site(template, tmp_path / "site")
    model: list[Sub] = []
    for _ in range(25):
        _store(site, model, _spec(rng))
    refresh(site.db)
    # the state right after schema step 13 on a database scored earlier: nothing recorded
    with storage.write_transaction(site.db):
        site.db.execute("DELETE FROM choice_rollup")
        site.db.execute("DELETE FROM submission_choices")
        site.db.execute("DELETE FROM choice_progress")
    scanned = compute_indices(site.db, IndexQuery(forms=("khao_sat",), by=("q:gender",), min_n=1), refresh=False)
    _assert_same({tuple(c.key.values()): c for c in scanned},
                 reference(model, IndexQuery(forms=("khao_sat",), by=("q:gender",), min_n=1)))
    assert choices.through(site.db) == 0            # read from the submissions, nothing written
    # changes while it is behind touch nothing that is not recorded yet
    assert reviews.add_review(site.db, model[0].sid, "rejected", None, "test")
    model[0].rejected = True
    refresh(site.db)
    assert choices.through(site.db) == max(s.sid for s in model)
    _check(site, model, monkeypatch)
    site.db.close()


def test_a_corrected_unit_or_start_moves_the_values(template, tmp_path, monkeypatch):
    # no page corrects these yet; the schema's triggers promise to follow whatever code does
    rng = random.Random(11)
    site = Site(template, tmp_path / "site")
    model: list[Sub] = []
    for _ in range(20):
        _store(site, model, _spec(rng, "khao_sat", "1"))
    refresh(site.db)
    moved = [sub for sub in model if sub.values.get("gender") or sub.values.get("procedure_field")][:4]
    assert len(moved) == 4
    targets = [(MOMENTS[0], "481"), (MOMENTS[-1], "19753"), (MOMENTS[4], None), (MOMENTS[2], "TTHCC")]
    with storage.write_transaction(site.db):
        for sub, (start, unit) in zip(moved, targets):
            site.db.execute("UPDATE submissions SET started_at = ?, unit_code = ? WHERE id = ?",
                            [start.isoformat(timespec="milliseconds").replace("+00:00", "Z"), unit, sub.sid])
            sub.start, sub.unit = start, unit
    _check(site, model, monkeypatch)
    site.db.close()
