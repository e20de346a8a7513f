"""The indices engine (aggregate/) against numbers computed by hand, and against a naive reference
written here from docs/index-definitions.md on random data (hypothesis).

Data goes in the way the server takes it: XML filled from the published XForm, through the
receiver (actions.receive.accept.receive) into storage; reviews through storage.reviews.
"""
from __future__ import annotations

import math
import sqlite3
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storage
from aggregate import IndexQuery, QueryError, compute_indices, refresh
from aggregate import periods
from aggregate.dissatisfied import DissatisfiedQuery, list_dissatisfied
from aggregate.rankings import RankQuery, rank_units
from aggregate.render import rounded
from tests.harness.instances import fill_instance
from conftest import ROOT, cli
from actions.receive.accept import receive
from storage import forms, reviews, scores
from storage.blobs import BlobStore
from storage.db import DB_FILENAME
from xlsforms import write_xlsform

CRITERIA = ("procedure", "staff", "result")

# --- the forms, and what they mean, written out independently of the engine ---------------------

RULES = {
    ("khao_sat", "1"): {"items": {"p1": "procedure", "p2": "procedure", "t1": "staff", "t2": "staff",
                                  "t3": "staff", "r1": "result"},
                        "scale": ("1", "2", "3", "4", "5"), "satisfied": ("4", "5")},
    # a later version: one more item, and only "5" counts as satisfied
    ("khao_sat", "2"): {"items": {"p1": "procedure", "p2": "procedure", "p3": "procedure", "t1": "staff",
                                  "t2": "staff", "t3": "staff", "r1": "result"},
                        "scale": ("1", "2", "3", "4", "5"), "satisfied": ("5",)},
    # a unit's own questionnaire: other items, a seven-point scale
    ("don_vi", "1"): {"items": {"u_proc": "procedure", "u_staff1": "staff", "u_staff2": "staff",
                                "u_result": "result"},
                      "scale": ("1", "2", "3", "4", "5", "6", "7"), "satisfied": ("6", "7")},
    # thirteen items on one criterion: 13 answers do not divide the engine's score unit
    ("dai", "1"): {"items": {**{f"l{i}": "procedure" for i in range(1, 14)}, "l_staff": "staff",
                             "l_result": "result"},
                   "scale": ("1", "2", "3", "4", "5"), "satisfied": ("4", "5")},
}
LABELS = {"procedure": "Thủ tục", "staff": "Công chức", "result": "Kết quả"}
COMMUNES = [("19753", "474", "Phường Phú Hội"), ("19754", "474", "Phường Vĩnh Ninh"),
            ("20100", "481", "Thị trấn A Lưới")]


def _xlsform(path: Path, form_id: str, version: str) -> Path:
    rules = RULES[(form_id, version)]
    scale_list = "s7" if len(rules["scale"]) == 7 else "s5"
    survey = [["type", "name", "label", "criterion"],
              ["start", "start", "", ""],
              ["text", "unit", "Đơn vị", ""],
              ["select_one channels", "channel", "Kênh", ""]]
    if form_id != "dai":
        survey += [["select_one fields", "procedure_field", "Lĩnh vực", ""],
                   ["select_one genders", "gender", "Giới tính", ""]]
    survey.append(["text", "dossier_code", "Mã hồ sơ", ""])
    survey += [[f"select_one {scale_list}", item, f"{LABELS[c]} {item}", c]
               for item, c in rules["items"].items()]
    survey.append(["text", "comment", "Góp ý", ""])
    choices = [["list_name", "name", "label"]]
    choices += [["s5", v, v] for v in "543210"] + [["s7", v, v] for v in "76543210"]
    choices += [["channels", c, c] for c in ("interview", "online", "kiosk", "paper", "post", "other")]
    choices += [["fields", "dat_dai", "Đất đai"], ["fields", "xay_dung", "Xây dựng"],
                ["genders", "male", "Nam"], ["genders", "female", "Nữ"]]
    settings_row = {"form_id": form_id, "version": version, "form_title": f"Thử {form_id}"}
    if rules["scale"] != ("1", "2", "3", "4", "5"):
        settings_row["scale"] = " ".join(rules["scale"])
    if rules["satisfied"] != ("4", "5"):
        settings_row["satisfied"] = " ".join(rules["satisfied"])
    return write_xlsform(path, survey, choices, settings_row)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A data directory with the unit tree (districts and a few communes) and the test forms."""
    data_dir = tmp_path_factory.mktemp("indices_template")
    assert cli(data_dir, "units", "import", str(ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv")).exit_code == 0
    communes = data_dir / "communes.csv"
    communes.write_text("code,parent_code,level,name_vi,name_en\n" + "".join(
        f"{code},{parent},xa,{name},{name}\n" for code, parent, name in COMMUNES), encoding="utf-8")
    assert cli(data_dir, "units", "import", str(communes)).exit_code == 0
    for form_id, version in RULES:
        path = _xlsform(data_dir / f"{form_id}_{version}.xlsx", form_id, version)
        result = cli(data_dir, "forms", "publish", str(path))
        assert result.exit_code == 0, result.output
    return data_dir


class Site:
    """A copy of the template in its own directory, written through the receiver."""

    def __init__(self, template: Path, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(template / DB_FILENAME)
        target = sqlite3.connect(data_dir / DB_FILENAME)
        source.backup(target)
        source.close()
        target.close()
        self.db = storage.connect(data_dir)
        # every commit of a test database need not reach the disk
        self.db.execute("PRAGMA synchronous = OFF")
        self.blobs = BlobStore(data_dir / "blobs")
        self.xforms = {}

    def submit(self, form_id: str, version: str, values: dict, instance_id: str | None = None,
               deprecated_id: str | None = None):
        if (form_id, version) not in self.xforms:
            self.xforms[(form_id, version)] = forms.get_version(self.db, form_id, version)["xform"]
        xml = fill_instance(self.xforms[(form_id, version)], values, instance_id=instance_id,
                            deprecated_id=deprecated_id)
        return receive(self.db, self.blobs, xml=xml, uploads=[], submitter=None, device_id=None,
                       arrival_channel="interview")

    def add(self, values: dict, form_id: str = "khao_sat", version: str = "1", **kwargs) -> int:
        result = self.submit(form_id, version, values, **kwargs)
        assert result.outcome == "created", result
        return result.submission_id

    def reject(self, submission_id: int) -> None:
        assert reviews.add_review(self.db, submission_id, "rejected", None, "test")

    def delete(self, submission_id: int) -> None:
        # no deletion function exists yet (a later issue adds one); this is the state it will set
        with storage.write_transaction(self.db):
            self.db.execute("UPDATE submissions SET deleted_at = '2026-12-01T00:00:00.000Z' WHERE id = ?",
                            [submission_id])

    def cells(self, **query) -> dict[tuple, object]:
        query.setdefault("forms", ("khao_sat",))
        query.setdefault("min_n", 1)
        result = compute_indices(self.db, IndexQuery(**query))
        return {tuple(c.key.values()): c for c in result}


@pytest.fixture
def site(template, tmp_path) -> Site:
    return Site(template, tmp_path / "site")


def answers(start="2026-07-15T09:00:00.000+07:00", unit="474", **items) -> dict:
    return {"start": start, "unit": unit, **items}


# --- hand-computed cases ----------------------------------------------------------------------

def test_no_opinion_answers_and_a_respondent_missing_a_criterion(site):
    # r1: procedure 5 and 0 (no opinion) -> 1/1; staff 4,3,2 -> 1/3; result 0 -> no score
    site.add(answers(p1="5", p2="0", t1="4", t2="3", t3="2", r1="0"))
    # r2: procedure 3,2 -> 0/2; staff all no opinion -> no score; result 5 -> 1
    site.add(answers(p1="3", p2="2", t1="0", t2="0", t3="0", r1="5"))
    # r3: procedure 4,4 -> 1; staff 5,5,1 -> 2/3; result 4 -> 1
    site.add(answers(p1="4", p2="4", t1="5", t2="5", t3="1", r1="4"))
    cell = site.cells()[()]
    assert (cell.submissions, cell.n) == (3, 3)
    proc, staff, result = (cell.criteria[c] for c in CRITERIA)
    # procedure: scores 1, 0, 1
    assert proc.n == 3 and proc.index == Fraction(200, 3)
    # sample variance of (1, 0, 1) = ((1/3)^2 + (2/3)^2 + (1/3)^2) / 2 = 1/3
    assert proc.sd == pytest.approx(math.sqrt(1 / 3), abs=1e-12)
    half = 1.96 * math.sqrt(1 / 3) / math.sqrt(3) * 100          # 65.333...
    assert proc.ci == pytest.approx((200 / 3 - half, 100.0), abs=1e-9)   # clipped at 100
    # staff: scores 1/3 and 2/3 -> 50; variance 1/18
    assert staff.n == 2 and staff.index == 50
    assert staff.ci == pytest.approx((50 - 1.96 * math.sqrt(1 / 18) / math.sqrt(2) * 100,
                                      50 + 1.96 * math.sqrt(1 / 18) / math.sqrt(2) * 100), abs=1e-9)
    # result: 1 and 1; sd 0 so the interval is the point
    assert result.n == 2 and result.index == 100 and result.ci == (100.0, 100.0)
    # overall: (200/3 + 50 + 100) / 3 = 650/9
    assert cell.overall == Fraction(650, 9)
    assert rounded(cell.overall) == 72.22
    # mean scores over valid answers only: procedure 5,3,2,4,4; staff 4,3,2,5,5,1; result 5,4
    assert (proc.mean_score, staff.mean_score, result.mean_score) == (
        Fraction(18, 5), Fraction(20, 6), Fraction(9, 2))
    # dissatisfied answers (1 or 2) among valid answers
    assert (proc.dissatisfied, proc.answers) == (1, 5)
    assert (staff.dissatisfied, staff.answers) == (2, 6)
    assert (result.dissatisfied, result.answers) == (0, 2)
    assert cell.dissatisfied_share == Fraction(3, 13)


def test_a_respondent_with_only_no_opinion_answers_is_no_respondent(site):
    site.add(answers(p1="0", p2="0", t1="0", t2="0", t3="0", r1="0"))
    site.add(answers(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"))
    cell = site.cells()[()]
    assert (cell.submissions, cell.n) == (2, 1)
    assert all(cell.criteria[c].n == 1 and cell.criteria[c].index == 100 for c in CRITERIA)
    # one respondent: no standard deviation, so no interval
    assert all(cell.criteria[c].ci is None and cell.criteria[c].sd is None for c in CRITERIA)
    assert cell.overall_ci is None


def test_edits_count_once_and_rejected_or_deleted_never(site):
    first = site.add(answers(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"), instance_id="uuid:a")
    rejected = site.add(answers(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"))
    deleted = site.add(answers(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"))
    site.add(answers(p1="1", p2="1", t1="1", t2="1", t3="1", r1="1"))
    assert site.cells()[()].n == 4          # scored now: later changes go through the rollup
    site.reject(rejected)
    site.delete(deleted)
    # the first submission edited twice: only the last edit counts, with its answers
    site.add(answers(p1="2", p2="4", t1="5", t2="5", t3="5", r1="5"), instance_id="uuid:b",
             deprecated_id="uuid:a")
    site.add(answers(p1="4", p2="4", t1="1", t2="5", t3="5", r1="5"), instance_id="uuid:c",
             deprecated_id="uuid:b")
    cell = site.cells()[()]
    assert (cell.submissions, cell.n) == (2, 2)
    assert cell.criteria["procedure"].index == 50           # (1 + 0) / 2
    assert cell.criteria["staff"].index == Fraction(100, 3)  # (2/3 + 0) / 2
    assert cell.criteria["result"].index == 50
    assert first not in {r["submission_id"] for r in _dissatisfied(site)}
    # a rejection withdrawn counts again
    assert reviews.add_review(site.db, rejected, "approved", None, "test")
    assert site.cells()[()].n == 3
    assert scores.rollup_rows(site.db) == _rebuilt(site.db)


def _dissatisfied(site, **query) -> list[dict]:
    query.setdefault("forms", ("khao_sat",))
    page = list_dissatisfied(site.db, DissatisfiedQuery(**query))
    return [{"submission_id": e.submission_id, "comment": e.comment, "unit": e.unit_code,
             "low": [(a.path, a.value) for a in e.low_answers], "date": e.local_time.date()}
            for e in page.entries]


def _rebuilt(db) -> list[tuple]:
    with storage.write_transaction(db):
        scores.rebuild_rollup(db)
    return scores.rollup_rows(db)


def test_quarter_boundary_in_vietnam_time(site):
    high = dict(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5")
    low = dict(p1="1", p2="1", t1="1", t2="1", t3="1", r1="1")
    site.add(answers(start="2026-06-30T16:59:59.000Z", **low))     # 23:59:59 on 30 June in Huế
    site.add(answers(start="2026-06-30T17:30:00.000Z", **high))    # 00:30 on 1 July in Huế
    site.add(answers(start="2026-07-01T00:10:00.000+07:00", **high))
    site.add(answers(start="2026-12-31T17:00:00.000Z", **low))     # 1 January 2027 in Huế
    by_quarter = site.cells(by=("quarter",))
    assert set(by_quarter) == {("2026-Q2",), ("2026-Q3",), ("2027-Q1",)}
    assert by_quarter[("2026-Q2",)].n == 1 and by_quarter[("2026-Q2",)].overall == 0
    assert by_quarter[("2026-Q3",)].n == 2 and by_quarter[("2026-Q3",)].overall == 100
    assert set(site.cells(by=("month",))) == {("2026-06",), ("2026-07",), ("2027-01",)}
    assert set(site.cells(by=("half", "year"))) == {("2026-H1", "2026"), ("2026-H2", "2026"),
                                                  ("2027-H1", "2027")}
    # dates are local days, both ends included
    assert site.cells(date_to=date(2026, 6, 30))[()].n == 1
    assert site.cells(date_from=date(2026, 7, 1), date_to=date(2026, 7, 1))[()].n == 2
    assert site.cells(date_from=date(2026, 7, 1), date_to=date(2026, 12, 31))[()].n == 2
    assert site.cells(date_from=date(2027, 1, 1))[()].n == 1
    assert site.cells(date_from=date(2026, 7, 2), date_to=date(2026, 12, 30)) == {}


def test_min_n_flags_cells_and_criteria(site):
    for _ in range(3):
        site.add(answers(p1="5", p2="4", t1="5", t2="0", t3="0", r1="4"))
    site.add(answers(p1="5", p2="4", t1="0", t2="0", t3="0", r1="4"))
    cell = site.cells(min_n=4)[()]
    assert cell.n == 4 and cell.enough
    assert cell.criteria["procedure"].enough and not cell.criteria["staff"].enough   # staff: n = 3
    cell = site.cells(min_n=5)[()]
    assert not cell.enough and not cell.criteria["procedure"].enough
    assert cell.overall == 100           # computed, but flagged: never ranked or published
    assert compute_indices(site.db, IndexQuery(forms=("khao_sat",)))[0].enough is False   # default 30


def test_units_subtrees_levels_and_rollups(site):
    site.add(answers(unit="474", p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"))
    site.add(answers(unit="19753", p1="1", p2="1", t1="1", t2="1", t3="1", r1="1"))   # a commune of 474
    site.add(answers(unit="20100", p1="5", p2="1", t1="5", t2="5", t3="5", r1="5"))   # a commune of 481
    site.add(answers(unit="", p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"))        # no unit given
    assert set(site.cells(by=("unit",))) == {("474",), ("19753",), ("20100",), (None,)}
    huyen = site.cells(by=("huyen",))
    assert huyen[("474",)].n == 2 and huyen[("474",)].overall == 50
    assert huyen[("481",)].n == 1 and huyen[("481",)].criteria["procedure"].index == 50
    assert huyen[(None,)].n == 1
    assert {k: c.n for k, c in site.cells(by=("level",)).items()} == {("huyen",): 1, ("xa",): 2, (None,): 1}
    assert {k: c.n for k, c in site.cells(by=("tinh",)).items()} == {("46",): 3, (None,): 1}
    # a unit filter keeps its whole subtree
    assert set(site.cells(unit="474", by=("unit",))) == {("474",), ("19753",)}
    assert site.cells(unit="46")[()].n == 3
    # an account of unit 474 never sees 481's numbers, whatever it asks
    assert set(site.cells(scope="474", by=("unit",))) == {("474",), ("19753",)}
    assert set(site.cells(scope="474", by=("huyen",))) == {("474",)}
    with pytest.raises(QueryError) as refused:
        site.cells(scope="474", unit="481")
    assert refused.value.code == "forbidden_unit" and refused.value.status == 403


def test_channel_procedure_field_question_and_version_breakdowns(site):
    site.add({**answers(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"), "channel": "online",
              "procedure_field": "dat_dai", "gender": "female"})
    site.add({**answers(p1="4", p2="4", t1="4", t2="4", t3="4", r1="4"), "procedure_field": "xay_dung",
              "gender": "male"})
    # version 2 counts only 5 as satisfied: the same 4s give 0 there
    site.add({**answers(p1="4", p2="4", p3="5", t1="4", t2="4", t3="4", r1="4"), "gender": "male"},
             version="2")
    channel = site.cells(by=("channel",))
    assert set(channel) == {("online",), ("interview",)}     # no channel answer: how it arrived
    assert channel[("interview",)].n == 2
    assert set(site.cells(by=("procedure_field",))) == {("dat_dai",), ("xay_dung",), (None,)}
    gender = site.cells(by=("q:gender",))
    assert gender[("male",)].n == 2 and gender[("female",)].n == 1
    version = site.cells(by=("version",))
    assert version[("1",)].overall == 100
    assert version[("2",)].criteria["procedure"].index == Fraction(100, 3)   # 1 of 3 items is a 5
    assert version[("2",)].criteria["staff"].index == 0
    assert site.cells(versions=("2",))[()].n == 1
    assert site.cells(channel="online")[()].n == 1
    # all versions together, each scored by its own rules
    assert site.cells()[()].criteria["staff"].index == Fraction(200, 3)
    assert site.cells(by=("channel", "q:gender"))[("interview", "male")].n == 2


def test_combined_forms_map_different_items_to_the_same_criteria(site):
    site.add(answers(p1="5", p2="3", t1="5", t2="5", t3="5", r1="5"))                 # proc 1/2
    # a seven-point scale where 6 and 7 are satisfied: 5 is not
    site.add(answers(u_proc="6", u_staff1="5", u_staff2="7", u_result="1"), form_id="don_vi")
    both = site.cells(forms=("khao_sat", "don_vi"), by=("form",))
    assert set(both) == {("khao_sat",), ("don_vi",)}
    assert both[("don_vi",)].criteria["staff"].index == 50
    assert both[("don_vi",)].criteria["staff"].mean_score is None      # not a 1..5 scale
    assert both[("don_vi",)].criteria["result"].dissatisfied == 1
    total = site.cells(forms=("khao_sat", "don_vi"))[()]
    assert total.n == 2
    assert total.criteria["procedure"].index == 75                # (1/2 + 1) / 2
    assert total.criteria["staff"].index == 75                    # (1 + 1/2) / 2
    assert total.criteria["result"].index == 50                   # (1 + 0) / 2
    assert total.criteria["staff"].mean_score == 5                # only the 1..5 answers


def test_shares_that_do_not_fit_the_score_unit_stay_exact(site):
    thirteen = {f"l{i}": ("5" if i <= 7 else "3") for i in range(1, 14)}       # 7 of 13
    twelve = {f"l{i}": ("4" if i <= 6 else "2") for i in range(1, 13)}          # 6 of 12
    site.add(answers(**thirteen, l_staff="5", l_result="5"), form_id="dai")
    site.add(answers(**twelve, l13="0", l_staff="1", l_result="5"), form_id="dai")
    cell = site.cells(forms=("dai",))[()]
    assert cell.criteria["procedure"].index == Fraction(675, 13)    # 100 * (7/13 + 1/2) / 2
    mean = Fraction(27, 52)
    variance = ((Fraction(7, 13) - mean) ** 2 + (Fraction(1, 2) - mean) ** 2) / 1
    assert cell.criteria["procedure"].sd == pytest.approx(math.sqrt(variance), abs=1e-12)
    assert site.cells(forms=("dai",), by=("unit",))[("474",)].criteria["procedure"].index == Fraction(675, 13)


def test_item_indices(site):
    site.add(answers(p1="5", p2="0", t1="4", t2="3", t3="2", r1="0"))
    site.add(answers(p1="3", p2="2", t1="0", t2="0", t3="0", r1="5"))
    site.add(answers(p1="4", p2="4", p3="4", t1="5", t2="5", t3="1", r1="4"), version="2")
    cell = site.cells(items=True)[()]
    items = {i.path: i for i in cell.items}
    assert (items["p1"].answers, items["p1"].satisfied) == (3, 1)      # 5 and 4 (v2: only 5 counts)
    assert items["p1"].index == Fraction(100, 3)
    assert (items["p2"].answers, items["p2"].satisfied) == (2, 0)      # 0 is no answer
    assert (items["p3"].answers, items["p3"].satisfied) == (1, 0)
    assert (items["t1"].answers, items["t1"].satisfied) == (2, 2)
    assert items["r1"].criterion == "result" and items["r1"].index == 50


def test_dissatisfied_list(site):
    site.add({**answers(start="2026-07-01T08:00:00.000+07:00", p1="2", p2="5", t1="5", t2="5", t3="5",
                        r1="5"), "comment": "Phải đi lại ba lần", "dossier_code": "H46.99-260701-0001"})
    site.add(answers(start="2026-07-02T08:00:00.000+07:00", p1="5", p2="5", t1="5", t2="5", t3="5", r1="5"))
    gone = site.add(answers(start="2026-07-03T08:00:00.000+07:00", unit="481", p1="1", p2="1", t1="1",
                            t2="1", t3="1", r1="1"))
    site.add(answers(start="2026-07-04T08:00:00.000+07:00", unit="481", p1="3", p2="3", t1="1", t2="3",
                     t3="3", r1="3"))
    rows = _dissatisfied(site)
    assert [r["unit"] for r in rows] == ["481", "481", "474"]        # newest first
    assert rows[2]["comment"] == "Phải đi lại ba lần" and rows[2]["low"] == [("p1", "2")]
    assert rows[2]["date"] == date(2026, 7, 1)
    site.reject(gone)
    assert len(_dissatisfied(site)) == 2
    assert [r["unit"] for r in _dissatisfied(site, scope="474")] == ["474"]
    page = list_dissatisfied(site.db, DissatisfiedQuery(forms=("khao_sat",), limit=1, offset=1))
    assert page.total == 2 and [e.unit_code for e in page.entries] == ["474"]
    text = repr(page)
    assert "H46.99" not in text and "dossier" not in text


def test_rankings(site):
    q3 = "2026-08-10T09:00:00.000+07:00"
    q2 = "2026-05-10T09:00:00.000+07:00"
    perfect = dict(p1="5", p2="5", t1="5", t2="5", t3="5", r1="5")
    half = dict(p1="5", p2="1", t1="5", t2="5", t3="1", r1="5")
    for _ in range(3):
        site.add(answers(start=q3, unit="481", **perfect))
        site.add(answers(start=q3, unit="19753", **half))         # counts for district 474
        site.add(answers(start=q3, unit="478", **half))
        site.add(answers(start=q2, unit="474", **perfect))
    site.add(answers(start=q3, unit="476", **perfect))           # one respondent: under min_n
    ranking = rank_units(site.db, RankQuery(forms=("khao_sat",), level="huyen", period="2026-Q3", min_n=2))
    rows = {r.unit_code: r for r in ranking.rows}
    assert ranking.previous_period.key == "2026-Q2"
    assert rows["481"].rank == 1 and rows["481"].cell.overall == 100
    # 474 and 478 have the same index exactly: the same rank, and the next would be 4
    assert rows["474"].rank == rows["478"].rank == 2
    assert rows["474"].cell.overall == Fraction(650, 9)           # (1/2 + 2/3 + 1) / 3 * 100
    assert rows["476"].rank is None and rows["476"].cell.n == 1
    assert rows["477"].rank is None and rows["477"].cell is None
    assert [r.unit_code for r in ranking.rows][:3] == ["481", "474", "478"]
    assert rows["474"].previous_rank == 1 and rows["474"].change == Fraction(650, 9) - 100
    assert rows["481"].change is None                             # not ranked in Q2
    # equal indices and intervals overlap; 481's scores have no spread and do not meet them
    assert rows["474"].overlaps_below is True and rows["478"].overlaps_above is True
    assert rows["481"].overlaps_below is False and rows["474"].overlaps_above is False
    communes = rank_units(site.db, RankQuery(forms=("khao_sat",), level="xa", period="2026-Q3",
                                             unit="474", min_n=2))
    assert [(r.unit_code, r.rank) for r in communes.rows] == [("19753", 1), ("19754", None)]


@pytest.mark.parametrize("query, code", [
    (dict(forms=("khong_co",)), "unknown_form"),
    (dict(by=("unit", "unit")), "repeated_by"),
    (dict(by=("district",)), "bad_by"),
    (dict(by=("q:comment",)), "bad_question"),
    (dict(by=("q:dossier_code",)), "bad_question"),
    (dict(unit="999"), "unknown_unit"),
    (dict(channel="fax"), "bad_channel"),
    (dict(versions=("9",)), "unknown_version"),
    (dict(min_n=0), "bad_min_n"),
    (dict(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)), "bad_range"),
])
def test_refused_queries(site, query, code):
    with pytest.raises(QueryError) as refused:
        site.cells(**query)
    assert refused.value.code == code
    assert refused.value.message("vi") and refused.value.message("en")


def test_periods():
    assert periods.parse_period("2026-Q3") == periods.Period("quarter", 2026, 3)
    assert periods.parse_period("2026-q1").previous().key == "2025-Q4"
    assert periods.parse_period("2026-01").previous().key == "2025-12"
    assert periods.parse_period("2026-H1").previous().key == "2025-H2"
    assert periods.parse_period("2026").previous().key == "2025"
    p = periods.parse_period("2026-H2")
    assert (p.start, p.end, p.first_month, p.last_month) == (date(2026, 7, 1), date(2026, 12, 31), 202607, 202612)
    assert periods.parse_period("2026-Q1").label("vi") == "Quý I/2026"
    for bad in ("2026-Q5", "2026-13", "26-Q1", "2026-H3", "", "Q3-2026"):
        with pytest.raises(ValueError):
            periods.parse_period(bad)
    assert periods.local_month("2026-06-30T17:00:00.000Z") == 202607
    assert periods.utc_start(date(2026, 7, 1)) == "2026-06-30T17:00:00.000Z"
    assert periods.split_range(date(2026, 1, 15), date(2026, 3, 31)) == (
        (202602, 202603), [(date(2026, 1, 15), date(2026, 1, 31))])
    assert periods.split_range(date(2026, 1, 15), date(2026, 1, 20)) == (
        None, [(date(2026, 1, 15), date(2026, 1, 20))])
    assert periods.split_range(None, date(2026, 2, 27)) == (
        (None, 202601), [(date(2026, 2, 1), date(2026, 2, 27))])


def test_rounding_is_exact_half_away_from_zero():
    assert rounded(Fraction(82125, 1000)) == 82.13       # 82.125 exactly
    assert rounded(Fraction(-1, 200)) == -0.01
    assert rounded(Fraction(650, 9)) == 72.22
    assert rounded(None) is None


# --- the naive reference, from docs/index-definitions.md ---------------------------------------

UNITS = {"46": (None, "tinh"), "TTHCC": ("46", "tinh"), "474": ("46", "huyen"), "481": ("46", "huyen"),
         "476": ("46", "huyen"), "19753": ("474", "xa"), "19754": ("474", "xa"), "20100": ("481", "xa")}
VN = timezone(timedelta(hours=7))


@dataclass
class Sub:
    form_id: str
    version: str
    unit: str | None
    channel: str
    start: datetime
    values: dict[str, str]
    instance_id: str
    sid: int = 0
    current: bool = True
    rejected: bool = False
    deleted: bool = False


def _up(code, level):
    while code is not None and code in UNITS:
        if UNITS[code][1] == level:
            return code
        code = UNITS[code][0]
    return None


def _in_subtree(code, root):
    while code is not None:
        if code == root:
            return True
        code = UNITS.get(code, (None,))[0]
    return False


def _ref_key(sub: Sub, key: str):
    local = sub.start.astimezone(VN)
    quarter, half = (local.month - 1) // 3 + 1, (local.month - 1) // 6 + 1
    if key == "unit":
        return sub.unit
    if key == "level":
        return UNITS[sub.unit][1] if sub.unit in UNITS else None
    if key in ("tinh", "huyen", "xa"):
        return _up(sub.unit, key)
    return {"month": f"{local.year}-{local.month:02d}", "quarter": f"{local.year}-Q{quarter}",
            "half": f"{local.year}-H{half}", "year": str(local.year), "channel": sub.channel,
            "version": sub.version, "form": sub.form_id,
            "procedure_field": sub.values.get("procedure_field") or None,
            "q:gender": sub.values.get("gender") or None}[key]


def reference(subs: list[Sub], query: IndexQuery) -> dict[tuple, dict]:
    groups: dict[tuple, list[Sub]] = {}
    for sub in subs:
        local_day = sub.start.astimezone(VN).date()
        if not sub.current or sub.rejected or sub.deleted or sub.form_id not in query.forms:
            continue
        if query.versions and sub.version not in query.versions:
            continue
        if query.channel and sub.channel != query.channel:
            continue
        if query.unit and not _in_subtree(sub.unit, query.unit):
            continue
        if query.scope and not _in_subtree(sub.unit, query.scope):
            continue
        if (query.date_from and local_day < query.date_from) or (query.date_to and local_day > query.date_to):
            continue
        groups.setdefault(tuple(_ref_key(sub, k) for k in query.by), []).append(sub)
    return {key: _ref_cell(members, query.min_n) for key, members in groups.items()}


def _ref_cell(members: list[Sub], min_n: int) -> dict:
    result = {"submissions": len(members), "criteria": {}}
    respondent_means = []
    for sub in members:
        own = [s for s in (_ref_score(sub, c) for c in CRITERIA) if s is not None]
        if own:
            respondent_means.append(sum(own, Fraction(0)) / len(own))
    result["n"] = len(respondent_means)
    result["enough"] = result["n"] >= min_n
    defined = []
    for c in CRITERIA:
        values = [s for s in (_ref_score(sub, c) for sub in members) if s is not None]
        answers = [v for sub in members for item, crit in RULES[(sub.form_id, sub.version)]["items"].items()
                   if crit == c for v in [sub.values.get(item, "")] if v in RULES[(sub.form_id, sub.version)]["scale"]]
        five = [int(v) for sub in members for item, crit in RULES[(sub.form_id, sub.version)]["items"].items()
                if crit == c and len(RULES[(sub.form_id, sub.version)]["scale"]) == 5
                for v in [sub.values.get(item, "")] if v in RULES[(sub.form_id, sub.version)]["scale"]]
        entry = {"n": len(values), "answers": len(answers),
                 "dissatisfied": sum(v in ("1", "2") for v in answers),
                 "mean_score": Fraction(sum(five), len(five)) if five else None,
                 "enough": len(values) >= min_n, "index": None, "sd": None, "ci": None}
        if values:
            mean = sum(values, Fraction(0)) / len(values)
            entry["index"] = 100 * mean
            defined.append(100 * mean)
            if len(values) > 1:
                sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
                half = 1.96 * sd / math.sqrt(len(values)) * 100
                entry["sd"] = sd
                entry["ci"] = (max(0.0, float(100 * mean) - half), min(100.0, float(100 * mean) + half))
        result["criteria"][c] = entry
    result["overall"] = sum(defined, Fraction(0)) / len(defined) if defined else None
    result["overall_ci"] = None
    if result["overall"] is not None and len(respondent_means) > 1:
        half = 1.96 * statistics.stdev(float(m) for m in respondent_means) / math.sqrt(len(respondent_means)) * 100
        result["overall_ci"] = (max(0.0, float(result["overall"]) - half),
                                min(100.0, float(result["overall"]) + half))
    return result


def _ref_score(sub: Sub, criterion: str) -> Fraction | None:
    rules = RULES[(sub.form_id, sub.version)]
    valid = [sub.values.get(item, "") for item, c in rules["items"].items() if c == criterion]
    valid = [v for v in valid if v in rules["scale"]]
    if not valid:
        return None
    return Fraction(sum(v in rules["satisfied"] for v in valid), len(valid))


def _assert_same(engine: dict, expected: dict) -> None:
    assert set(engine) == set(expected)
    for key, ref in expected.items():
        cell = engine[key]
        assert (cell.submissions, cell.n, cell.enough) == (ref["submissions"], ref["n"], ref["enough"]), key
        assert cell.overall == ref["overall"], key
        if ref["overall_ci"] is None:
            assert cell.overall_ci is None
        else:
            # the overall interval uses respondents' mean scores stored to 1/166320: close, not exact
            assert cell.overall_ci == pytest.approx(ref["overall_ci"], abs=1e-4)
        for c in CRITERIA:
            got, want = cell.criteria[c], ref["criteria"][c]
            assert (got.n, got.answers, got.dissatisfied, got.enough) == (
                want["n"], want["answers"], want["dissatisfied"], want["enough"]), (key, c)
            assert got.index == want["index"] and got.mean_score == want["mean_score"], (key, c)
            for name in ("sd", "ci"):
                if want[name] is None:
                    assert getattr(got, name) is None, (key, c, name)
                else:
                    assert getattr(got, name) == pytest.approx(want[name], abs=1e-9), (key, c, name)


# --- random data --------------------------------------------------------------------------------

MOMENTS = [datetime(2025, 12, 31, 16, 59, tzinfo=timezone.utc), datetime(2025, 12, 31, 17, 0, tzinfo=timezone.utc),
           datetime(2026, 3, 31, 17, 30, tzinfo=timezone.utc), datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc),
           datetime(2026, 5, 15, 3, 0, tzinfo=timezone.utc), datetime(2026, 6, 30, 16, 30, tzinfo=timezone.utc),
           datetime(2026, 6, 30, 17, 30, tzinfo=timezone.utc), datetime(2026, 7, 14, 23, 0, tzinfo=timezone.utc),
           datetime(2026, 9, 30, 20, 0, tzinfo=timezone.utc)]
DAYS = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 5, 15),
        date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 15), date(2026, 9, 30)]
BY_KEYS = ["unit", "level", "tinh", "huyen", "xa", "month", "quarter", "half", "year", "channel",
           "procedure_field", "version", "form", "q:gender"]


@st.composite
def new_submission(draw):
    form_id, version = draw(st.sampled_from(sorted(RULES)))
    rules = RULES[(form_id, version)]
    values = {item: draw(st.sampled_from(list(rules["scale"]) + ["0", ""]))
              for item in rules["items"]}
    if form_id == "dai" and draw(st.booleans()):
        values.update({f"l{i}": "5" for i in range(1, 14)})        # 13 valid answers: irregular
    if form_id != "dai":
        values["gender"] = draw(st.sampled_from(["male", "female", ""]))
        values["procedure_field"] = draw(st.sampled_from(["dat_dai", "xay_dung", ""]))
    channel = draw(st.sampled_from(["", "online", "kiosk"]))
    return dict(form_id=form_id, version=version, values=values, channel=channel,
                unit=draw(st.sampled_from(["474", "19753", "19754", "481", "20100", "TTHCC", "", "999"])),
                start=draw(st.sampled_from(MOMENTS)))


@st.composite
def scenario(draw):
    first = draw(st.lists(new_submission(), min_size=1, max_size=14))
    operations = draw(st.lists(st.tuples(st.sampled_from(["edit", "reject", "approve", "delete"]),
                                         st.integers(0, 13), new_submission()), max_size=6))
    second = draw(st.lists(new_submission(), max_size=6))
    combined = draw(st.booleans())
    by = draw(st.lists(st.sampled_from(BY_KEYS), unique=True, max_size=3))
    date_from, date_to = draw(st.sampled_from([None] + DAYS)), draw(st.sampled_from([None] + DAYS))
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    query = IndexQuery(
        forms=("khao_sat", "don_vi", "dai") if combined else ("khao_sat",), by=tuple(by),
        date_from=date_from, date_to=date_to,
        unit=draw(st.sampled_from([None, None, "474", "481", "46"])),
        scope=draw(st.sampled_from([None, None, "474"])),
        channel=draw(st.sampled_from([None, None, "online", "interview"])),
        versions=draw(st.sampled_from([(), (), ("1",), ("2",)])),
        min_n=draw(st.integers(1, 3)))
    if query.unit and query.scope and not _in_subtree(query.unit, query.scope):
        query = IndexQuery(**{**query.__dict__, "unit": None})     # refused with 403 otherwise
    return first, operations, second, query


def _store(site: Site, model: list[Sub], spec: dict, deprecated: Sub | None = None) -> None:
    values = {**spec["values"], "start": spec["start"].isoformat(timespec="milliseconds"),
              "unit": spec["unit"], "channel": spec["channel"]}
    instance_id = f"uuid:t{len(model)}"
    result = site.submit(spec["form_id"], spec["version"], values, instance_id=instance_id,
                         deprecated_id=deprecated.instance_id if deprecated else None)
    if deprecated is not None and result.outcome != "created":
        return          # the submission it edits was deleted, so the edit is refused
    assert result.outcome == "created", result
    if deprecated is not None:
        deprecated.current = False
    model.append(Sub(spec["form_id"], spec["version"], spec["unit"] or None, spec["channel"] or "interview",
                     spec["start"], spec["values"], instance_id, result.submission_id))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=scenario())
def test_engine_equals_the_naive_reference(template, tmp_path_factory, data):
    first, operations, second, query = data
    site = Site(template, tmp_path_factory.mktemp("prop"))
    model: list[Sub] = []
    for spec in first:
        _store(site, model, spec)
    refresh(site.db)       # what follows reaches the scores through the triggers
    for action, index, spec in operations:
        target = model[index % len(model)]
        if action == "edit" and target.current:
            _store(site, model, {**spec, "form_id": target.form_id, "version": target.version,
                                 "values": {**spec["values"]} if (spec["form_id"], spec["version"]) ==
                                 (target.form_id, target.version) else target.values}, deprecated=target)
        elif action == "reject":
            site.reject(target.sid)
            target.rejected = True
        elif action == "approve":
            assert reviews.add_review(site.db, target.sid, "approved", None, "test")
            target.rejected = False
        elif action == "delete" and not target.deleted:
            site.delete(target.sid)
            target.deleted = True
    for spec in second:
        _store(site, model, spec)
    engine = {tuple(c.key.values()): c for c in compute_indices(site.db, query)}
    _assert_same(engine, reference(model, query))
    assert scores.rollup_rows(site.db) == _rebuilt(site.db)
    site.db.close()
