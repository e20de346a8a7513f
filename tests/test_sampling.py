"""Sample plans: sizes, reproducible draws, reserves, coverage from real submissions, the pages,
invitations and the report sheet.

Expected samples are recomputed here from the published rule (SHA-256 of seed and code, first n
per unit), not read back from the code under test.
"""
from __future__ import annotations

import csv
import hashlib
import io
import random
import uuid
from datetime import date, timedelta

import openpyxl
import pytest

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import cli
from sampling import draw as sample_draw
from sampling import plans, status
from storage import audit, forms, registers, sampling, units, users
from web_site import UNIT_A, UNIT_B, login, post

PERIOD = "2026-Q4"
SEED = "quy4-2026"


def register_rows(unit: str, count: int, *, start: int = 0, fields=("Đất đai", "Hộ tịch")) -> list[dict]:
    rng = random.Random(f"{unit}-{start}")
    rows = []
    for i in range(start, start + count):
        returned = date(2026, 10, 1) + timedelta(days=rng.randrange(92))
        rows.append({"code": f"000.00.{unit}.H57-{i:05d}", "unit_code": unit, "procedure_name": "Đăng ký khai sinh",
                     "procedure_field": fields[i % len(fields)], "received_on": None, "due_on": None,
                     "returned_on": returned.isoformat(), "applicant_name": f"Nguyễn Văn {i}",
                     "phone": f"0905{i:06d}"})
    return rows


def load_register(db, rows: list[dict]) -> None:
    registers.import_dossiers(db, rows, filename="so-theo-doi.csv", sha256="0" * 64, rows_total=len(rows),
                              rows_skipped=0, actor="test")


def expected_sample(rows: list[dict], seed: str, n_of) -> dict[str, list[str]]:
    """Per unit, the codes a person with a SHA-256 tool would pick: sort by the key, take n."""
    by_unit: dict[str, list[str]] = {}
    for row in rows:
        by_unit.setdefault(row["unit_code"], []).append(row["code"])
    return {unit: sorted(codes, key=lambda c: hashlib.sha256(f"{seed}\n{c}".encode()).hexdigest())[:n_of(len(codes))]
            for unit, codes in by_unit.items()}


def stored_sample(db, plan_id: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in sampling.plan_members(db, plan_id):
        if not m["reserve"]:
            out.setdefault(m["unit_code"], []).append(m["code"])
    return out


@pytest.fixture
def db(web_copy):
    conn = storage.connect(web_copy.data_dir)
    yield conn
    conn.close()


# --- sizes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("margin,p,q", [("0.05", 1, 20), ("0.1", 1, 10), ("0.07", 7, 100)])
def test_formula_size_is_the_rounded_up_sipas_formula(margin, p, q):
    rule = plans.parse_rule(method="formula", margin=margin, fixed_size=None, by_field=False,
                            reserve_percent=None, seed="x")
    for population in (1, 2, 10, 30, 99, 100, 400, 1000, 12345):
        # n = ceil(N / (1 + N p²/q²)) = ceil(N q² / (q² + N p²)), in integers
        expected = -(-population * q * q // (q * q + population * p * p))
        assert sample_draw.unit_size(population, rule) == expected
    assert sample_draw.formula_size(0, rule.margin) == 0


def test_fields_share_a_units_sample_by_largest_remainders():
    assert sample_draw.share(10, {"a": 50, "b": 30, "c": 20}) == {"a": 5, "b": 3, "c": 2}
    # exact shares 3.5, 3.5, 3: one more to the larger remainder, the tie to the field named first
    assert sample_draw.share(10, {"b": 7, "a": 7, "c": 6}) == {"a": 4, "b": 3, "c": 3}
    assert sum(sample_draw.share(37, {"x": 13, "y": 11, "z": 9}).values()) == 37


# --- drawing ----------------------------------------------------------------------------------

def test_the_sample_is_the_first_n_by_sha256_of_seed_and_code_and_is_reproducible(db, tmp_path):
    rows = register_rows(UNIT_A, 120) + register_rows(UNIT_B, 45, start=500)
    load_register(db, rows)
    rule = plans.parse_rule(method="formula", margin="0.05", fixed_size=None, by_field=False,
                            reserve_percent="20", seed=SEED)
    plan_id = plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=None, rule=rule, actor="t")
    sizes = {UNIT_A: -(-120 * 400 // (400 + 120)), UNIT_B: -(-45 * 400 // (400 + 45))}
    expected = expected_sample(rows, SEED, lambda n: sizes[UNIT_A] if n == 120 else sizes[UNIT_B])
    got = stored_sample(db, plan_id)
    assert sampling.get_plan(db, plan_id)["margin"] == "0.05"      # as people write it, read back exactly
    assert {u: sorted(c) for u, c in got.items()} == {u: sorted(c) for u, c in expected.items()}
    reserves = [m for m in sampling.plan_members(db, plan_id) if m["reserve"]]
    assert len([m for m in reserves if m["unit_code"] == UNIT_A]) == min(120 - sizes[UNIT_A], -(-sizes[UNIT_A] * 20 // 100))

    # another database, the register imported in another order: the same sample
    other = storage.connect(tmp_path / "other")
    units.upsert_units(other, units.all_units(db))
    forms_row = forms.latest_version(db, "tthc_hailong")
    other.execute("INSERT INTO forms (form_id, title, created_at) VALUES ('tthc_hailong', 't', 'now')")
    other.conn.commit()
    load_register(other, list(reversed(rows)))
    again = plans.create(other, form_id="tthc_hailong", period=PERIOD, unit_code=None,
                         rule=plans.rule_of(sampling.get_plan(db, plan_id)), actor="t")
    assert stored_sample(other, again) == got
    assert forms_row is not None

    # a different seed: a different sample of the same sizes
    sampling.withdraw_plan(db, plan_id, "t")
    rule2 = plans.parse_rule(method="formula", margin="0.05", fixed_size=None, by_field=False,
                             reserve_percent="20", seed="another")
    third = stored_sample(db, plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=None,
                                           rule=rule2, actor="t"))
    assert {u: len(c) for u, c in third.items()} == {u: len(c) for u, c in got.items()}
    assert third != got


def test_only_dossiers_returned_in_the_period_and_inside_the_unit_are_drawn(db):
    rows = register_rows(UNIT_A, 30) + register_rows(UNIT_B, 30, start=100)
    late = {**rows[0], "code": "LATE-1", "returned_on": "2027-01-01"}
    open_one = {**rows[1], "code": "OPEN-1", "returned_on": None}
    load_register(db, rows + [late, open_one])
    rule = plans.parse_rule(method="fixed", margin=None, fixed_size="100", by_field=True,
                            reserve_percent="0", seed=SEED)
    plan_id = plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=UNIT_A, rule=rule, actor="t")
    codes = {m["code"] for m in sampling.plan_members(db, plan_id)}
    assert codes == {r["code"] for r in rows if r["unit_code"] == UNIT_A}     # fixed 100 > N: everyone
    strata = {(s["unit_code"], s["procedure_field"]): s["population"] for s in sampling.plan_strata(db, plan_id)}
    assert strata == {(UNIT_A, "Hộ tịch"): 15, (UNIT_A, "Đất đai"): 15}


@pytest.mark.parametrize("args,fragment", [
    ({"method": "formula", "margin": "0"}, "Sai số e"),
    ({"method": "formula", "margin": "năm phần trăm"}, "Sai số e"),
    ({"method": "fixed", "fixed_size": "0"}, "Cỡ mẫu cố định"),
    ({"method": "fixed", "fixed_size": "abc"}, "Cỡ mẫu cố định"),
    ({"method": "random"}, "Cách tính cỡ mẫu"),
    ({"method": "formula", "reserve_percent": "150"}, "Tỷ lệ dự phòng"),
])
def test_bad_rules_are_refused_in_vietnamese(args, fragment):
    values = {"margin": None, "fixed_size": None, "by_field": False, "reserve_percent": None, "seed": "s", **args}
    with pytest.raises(plans.PlanError) as caught:
        plans.parse_rule(**values)
    assert fragment in caught.value.vi and caught.value.en


def test_no_register_no_plan_and_one_live_plan_per_form_period_and_unit(db):
    rule = plans.parse_rule(method="formula", margin=None, fixed_size=None, by_field=False, reserve_percent=None, seed="s")
    with pytest.raises(plans.PlanError, match="Import the dossier register"):
        plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=None, rule=rule, actor="t")
    with pytest.raises(plans.PlanError, match="Invalid period"):
        plans.create(db, form_id="tthc_hailong", period="Q4", unit_code=None, rule=rule, actor="t")
    load_register(db, register_rows(UNIT_A, 10))
    first = plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=None, rule=rule, actor="t")
    with pytest.raises(plans.PlanError, match=f"Plan {first} already covers"):
        plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=None, rule=rule, actor="t")
    assert len(sampling.list_plans(db)) == 1


def test_cli_draw_refuses_without_traceback_and_stores_nothing(web_copy):
    result = cli(web_copy.data_dir, "sample", "draw", "tthc_hailong", "--period", PERIOD, "--margin", "2")
    assert result.exit_code == 1 and "Sai số e" in result.output and "Traceback" not in result.output
    db = storage.connect(web_copy.data_dir)
    assert sampling.list_plans(db, include_withdrawn=True) == []


# --- reserves ---------------------------------------------------------------------------------

def test_each_failure_releases_the_next_reserve_of_its_stratum():
    def member(rank, reserve, code):
        return {"plan_id": 1, "unit_code": "474", "stratum_field": "", "rank": rank, "reserve": reserve,
                "code": code, "collector_id": None}
    members = [member(r, int(r > 3), f"c{r}") for r in range(1, 7)]
    outcomes = {"c1": "refused", "c2": "reached", "c4": "unreachable"}
    got = {m["code"]: (m["active"], m["status"]) for m in status.with_status(members, outcomes)}
    # c1 fails -> c4 released; c4 fails -> c5 released; 3 members still hold: c2, c3, c5
    assert got == {"c1": (True, "refused"), "c2": (True, "reached"), "c3": (True, "pending"),
                   "c4": (True, "unreachable"), "c5": (True, "pending"), "c6": (False, "pending")}


def test_outcomes_reached_wins_and_declined_consent_is_a_refusal():
    rows = [("a", "unreachable", None), ("a", None, "yes"), ("b", "interviewed", "no"), ("c", "refused", None),
            ("d", None, None)]
    assert status.outcomes_by_code(rows) == {"a": "reached", "b": "refused", "c": "refused", "d": "reached"}


# --- coverage from submissions ------------------------------------------------------------------

def _submit(client, token: str, xform: bytes, answers: dict) -> None:
    xml = fill_instance(xform, answers, f"uuid:{uuid.uuid4()}")
    response = client.post(f"/key/{token}/submission",
                           data={"xml_submission_file": (io.BytesIO(xml), "x.xml", "text/xml")},
                           content_type="multipart/form-data", headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 201, response.data


@pytest.fixture
def surveyed(web_copy, db):
    """A plan of 4 per unit with 50% reserve in 474 and 481, assigned, and some answers in 474:
    one reached, one refused (declined consent), one unreachable (recorded by the surveyor)."""
    rows = register_rows(UNIT_A, 20) + register_rows(UNIT_B, 20, start=100)
    load_register(db, rows)
    rule = plans.parse_rule(method="fixed", margin=None, fixed_size="4", by_field=False, reserve_percent="50", seed=SEED)
    plan_id = plans.create(db, form_id="tthc_hailong", period=PERIOD, unit_code=None, rule=rule, actor="t")
    hue = users.get_user_by_name(db, "dtv_hue")["id"]
    aluoi = users.get_user_by_name(db, "dtv_aluoi")["id"]
    sampling.assign(db, plan_id, [hue], "t", unit_codes={UNIT_A})
    sampling.assign(db, plan_id, [aluoi], "t", unit_codes={UNIT_B})
    main_a = [m["code"] for m in sampling.plan_members(db, plan_id) if m["unit_code"] == UNIT_A and not m["reserve"]]
    xform = forms.latest_version(db, "tthc_hailong")["xform"]
    client = web_copy.app().test_client()
    rng = random.Random(5)
    answers = standard_answers(rng, UNIT_A, "huyen")
    # shaped as Collect sends them: what is not relevant is left empty
    _submit(client, web_copy.tokens["dtv_hue"], xform, {**answers, "respondent": main_a[0],
                                                         "contact_outcome": "interviewed", "main/dossier_code": main_a[0]})
    _submit(client, web_copy.tokens["dtv_hue"], xform, {"respondent": main_a[1], "contact_outcome": "interviewed",
                                                         "consent": "no"})
    _submit(client, web_copy.tokens["dtv_hue"], xform, {"respondent": main_a[2], "contact_outcome": "unreachable"})
    return plan_id, main_a


def test_coverage_counts_reached_refused_unreachable_and_released_reserves(db, surveyed):
    plan_id, main_a = surveyed
    from sampling.coverage import plan_coverage
    result = plan_coverage(db, sampling.get_plan(db, plan_id))
    by_unit = dict(result["by_unit"])
    a, b = by_unit[UNIT_A], by_unit[UNIT_B]
    # 474: 4 planned, two failures release two of its two reserves
    assert (a.planned, a.reached, a.refused, a.unreachable, a.reserves_used, a.pending) == (4, 1, 1, 1, 2, 3)
    assert a.response_rate == pytest.approx(1 / 3) and a.completion == pytest.approx(1 / 4)
    assert (b.planned, b.reached, b.reserves_used, b.pending, b.response_rate) == (4, 0, 0, 4, None)
    by_collector = dict(result["by_collector"])
    assert by_collector["dtv_hue"].reached == 1 and by_collector["dtv_aluoi"].planned == 4
    # the submission is linked back to its dossier through the dossier code
    reached = [m for m in result["members"] if m["status"] == "reached"]
    assert [m["code"] for m in reached] == [main_a[0]]


def test_a_rejected_submission_no_longer_counts(db, surveyed, web_copy):
    plan_id, main_a = surveyed
    row = db.execute("""SELECT s.id FROM submissions s JOIN identifiers i ON i.submission_id = s.id
                        WHERE i.path = 'main/dossier_code' AND i.value = ? AND s.current = 1""", [main_a[0]]).fetchone()
    from storage import reviews
    reviews.add_review(db, row[0], "rejected", "trùng", "admin")
    result = status.plan_status(db, sampling.get_plan(db, plan_id))
    assert {m["code"]: m["status"] for m in result}[main_a[0]] == "pending"


def test_coverage_sheet_in_the_report_workbook(web_copy, surveyed, tmp_path):
    out = tmp_path / "bao-cao.xlsx"
    result = cli(web_copy.data_dir, "export", "tthc_hailong", "--format", "report", "--period", PERIOD, "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Độ bao phủ mẫu"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0]]
    unit_row = next(r for r in rows if str(r[0]).endswith(f"({UNIT_A})"))
    assert unit_row[1:7] == (4, 2, 1, 1, 1, 3)
    assert unit_row[7] == pytest.approx(100 / 3, abs=0.01) and unit_row[8] == 25


# --- pages ------------------------------------------------------------------------------------

def test_pages_show_coverage_within_the_accounts_scope(web_copy, surveyed):
    plan_id, _ = surveyed
    app = web_copy.app()
    for name, status_code in (("reporter", 200), ("admin", 200), ("reporter_hue", 200), ("designer", 403),
                              ("xem_hue", 403)):
        client = app.test_client()
        login(client, name)
        page = client.get(f"/sampling/plans/{plan_id}")
        assert page.status_code == status_code, name
        if status_code == 200:
            text = page.get_data(as_text=True)
            assert "(474)" in text
            assert ("(481)" in text) == (name != "reporter_hue")
            assert "Nguyễn Văn" not in text and "0905" not in text      # no identifier on the page


def test_drawing_from_the_page_with_a_bad_margin_changes_nothing(web_copy, db):
    load_register(db, register_rows(UNIT_A, 10))
    client = web_copy.app().test_client()
    login(client, "reporter")
    page = post(client, "/sampling/plans", {"form_id": "tthc_hailong", "period": PERIOD, "method": "formula",
                                            "margin": "5", "reserve_percent": "20"})
    assert page.status_code == 400 and "Sai số e" in page.get_data(as_text=True)
    assert sampling.list_plans(db, include_withdrawn=True) == []
    missing_csrf = client.post("/sampling/plans", data={"form_id": "tthc_hailong", "period": PERIOD, "method": "formula"})
    assert missing_csrf.status_code in (400, 403)
    good = post(client, "/sampling/plans", {"form_id": "tthc_hailong", "period": PERIOD, "method": "formula",
                                            "margin": "0.05", "reserve_percent": "20", "seed": "abc"})
    assert good.status_code == 302
    assert [p["seed"] for p in sampling.list_plans(db)] == ["abc"]


def test_a_unit_reporter_cannot_draw_or_assign_outside_their_unit(web_copy, db, surveyed):
    plan_id, _ = surveyed
    client = web_copy.app().test_client()
    login(client, "reporter_hue")
    page = post(client, "/sampling/plans", {"form_id": "tthc_hailong", "period": "2026-10", "method": "fixed",
                                            "fixed_size": "2", "unit": UNIT_B})
    assert page.status_code == 400
    before = [(m["dossier_id"], m["collector_id"]) for m in sampling.plan_members(db, plan_id)]
    post(client, f"/sampling/plans/{plan_id}/assign", {"unit": UNIT_B, "collector": "thu_ky"})
    assert [(m["dossier_id"], m["collector_id"]) for m in sampling.plan_members(db, plan_id)] == before
    assert post(client, f"/sampling/plans/{plan_id}/withdraw", {"confirm": "yes"}).status_code == 404
    assert sampling.get_plan(db, plan_id)["withdrawn_at"] is None


def test_letters_carry_each_dossiers_link_and_names_only_for_admins(web_copy, db, surveyed):
    plan_id, main_a = surveyed
    pending = [m for m in status.plan_status(db, sampling.get_plan(db, plan_id))
               if m["unit_code"] == UNIT_A and m["active"] and m["status"] == "pending"]
    reporter = web_copy.app().test_client()
    login(reporter, "reporter")
    page = reporter.get(f"/sampling/plans/{plan_id}/letters?unit={UNIT_A}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('class="letter"') == len(pending) == 3
    for m in pending:
        assert f"/f/tthc_hailong?unit={UNIT_A}&amp;dossier={m['code']}" in text
    assert main_a[0] not in text                       # reached: no letter
    assert "Nguyễn Văn" not in text
    assert reporter.get(f"/sampling/plans/{plan_id}/letters?names=1").status_code == 403
    assert reporter.get(f"/sampling/plans/{plan_id}/sms.csv").status_code == 403

    admin = web_copy.app().test_client()
    login(admin, "admin")
    named = admin.get(f"/sampling/plans/{plan_id}/letters?unit={UNIT_A}&names=1").get_data(as_text=True)
    contacts = registers.contacts(db, [m["dossier_id"] for m in pending])
    for m in pending:
        assert contacts[m["dossier_id"]]["applicant_name"] in named
    sms = admin.get(f"/sampling/plans/{plan_id}/sms.csv?unit={UNIT_A}")
    rows = list(csv.DictReader(io.StringIO(sms.get_data(as_text=True))))
    assert {r["dossier_code"] for r in rows} == {m["code"] for m in pending}
    for r in rows:
        assert r["phone"] == contacts[next(m["dossier_id"] for m in pending if m["code"] == r["dossier_code"])]["phone"]
        assert r["message"].isascii() and r["link"] in r["message"]
    actions = [e["action"] for e in audit.recent(db, 20)]
    assert "sample.letters_with_names" in actions and "sample.sms_export" in actions


def test_the_report_summary_shows_the_total_weighted_by_dossier_volume(web_copy, surveyed, tmp_path, db):
    from aggregate import IndexQuery, periods, render, weighted_indices
    quarter = periods.parse_period(PERIOD)
    query = IndexQuery(forms=("tthc_hailong",), date_from=quarter.start, date_to=quarter.end, min_n=1)
    expected = render.weighted_json(weighted_indices(db, query).get(()))
    assert expected is not None and expected["overall"]["index"] is not None
    out = tmp_path / "bao-cao.xlsx"
    result = cli(web_copy.data_dir, "export", "tthc_hailong", "--format", "report", "--period", PERIOD,
                 "--min-n", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out)["Tổng hợp"].iter_rows(values_only=True))
    row = next(r for r in rows if str(r[2] or "").startswith("Có trọng số theo số hồ sơ"))
    assert row[5] == expected["overall"]["index"]
    assert [row[11], row[13], row[15]] == [expected["criteria"][c]["index"] for c in ("procedure", "staff", "result")]
    assert f"{expected['units']} đơn vị" in row[2]
