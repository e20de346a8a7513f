"""Three eras of Huế's map in one database, counted in both views of the past.

An install of the 2021 list (Tỉnh Thừa Thiên Huế, nine districts) receives answers in 2024 and
early 2025, is upgraded (`units upgrade-2025`: the lists of 1/1/2025 and 1/7/2025 and the
communes' successors), then receives answers of early 2025 (entered late) and of after July
2025. Code 474 is Thành phố Huế in 2024 and Quận Thuận Hóa in early 2025.

The expected indices are computed here from the answers sent, with the definitions of DOMAIN.md
(share of satisfied answers per respondent and criterion, mean x 100, overall = mean of the
criterion indices), and the expected unit of each answer in each view is written out by hand
from the bundled lists (server/seed/README.md), never read from the code under test.
"""
from __future__ import annotations

import json
import random
from datetime import date
from fractions import Fraction

import pytest

import storage
from aggregate import IndexQuery, QueryError, compute_indices
from aggregate.rankings import RankQuery, rank_units
from conftest import ROOT, cli
from test_indices_engine import RULES, Site, _xlsform

ITEMS = RULES[("khao_sat", "1")]["items"]
SATISFIED = {"4", "5"}
VALID = {"1", "2", "3", "4", "5"}
GONE = "dissolved:"

# (code sent, local interview time, how many answers,
#  the unit as recorded, the unit on today's units, the province as recorded)
PLAN = [
    # 2024: the 2021 list
    # Thành phố Huế, divided on 1/1/2025 into Quận Phú Xuân and Quận Thuận Hóa (which kept 474)
    ("474", "2024-03-10T09:00", 3, "474", GONE + "474", "46"),
    ("481", "2024-05-02T09:00", 2, "481", GONE + "481", "46"),                # Huyện A Lưới: a district
    ("483", "2024-11-20T09:00", 2, "483", GONE + "483", "46"),                # Nam Đông: gone on 1/1/2025
    ("TTHCC", "2024-08-01T09:00", 1, "TTHCC", "TTHCC", "TTHCC"),     # a centre is a unit of level tinh
    ("46", "2024-12-31T23:30", 1, "46", "46", "46"),                           # the last half hour of 2024
    # first half of 2025, received before the upgrade: code 474 now means Quận Thuận Hóa
    ("474", "2025-03-05T10:00", 2, "474@2025-01-01", GONE + "474@2025-01-01", "46@2025-01-01"),
]
LATE = [
    # first half of 2025, entered after the upgrade
    ("19750", "2025-02-01T08:00", 2, "19750", "19768", "46@2025-01-01"),       # Tây Lộc -> Phú Xuân
    ("19768", "2025-06-30T16:00", 1, "19768", "19768", "46@2025-01-01"),       # Đông Ba -> Phú Xuân
    ("20176", "2025-04-01T08:00", 1, "20176", GONE + "20176", "46@2025-01-01"),  # Hương Hòa: no successor
    ("481", "2025-05-15T08:00", 1, "481", GONE + "481", "46@2025-01-01"),
    ("19777", "2025-03-03T08:00", 1, "19777", "19777", "46@2025-01-01"),       # Vỹ Dạ under Thuận Hóa
    # after 1/7/2025: communes only
    ("19768", "2025-07-01T00:30", 2, "19768@2025-07-01", "19768", "46@2025-01-01"),  # Phú Xuân
    ("19777", "2025-09-09T08:00", 1, "19777@2025-07-01", "19777", "46@2025-01-01"),
    ("20179", "2026-01-10T08:00", 1, "20179@2025-07-01", "20179", "46@2025-01-01"),  # Xã Nam Đông
    ("TTHCC", "2025-08-08T08:00", 1, "TTHCC", "TTHCC", "TTHCC"),
]


@pytest.fixture(scope="module")
def template_2021(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("eras_template")
    assert cli(data_dir, "units", "import", str(ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv")).exit_code == 0
    path = _xlsform(data_dir / "khao_sat_1.xlsx", "khao_sat", "1")
    assert cli(data_dir, "forms", "publish", str(path)).exit_code == 0
    return data_dir


def _answers(rng) -> dict[str, str]:
    return {item: rng.choice("5544321000") for item in ITEMS}


def _send(site, plan, rng, sent):
    for code, local, count, recorded, current, province in plan:
        for _ in range(count):
            values = _answers(rng)
            site.add({"start": f"{local}:00.000+07:00", "unit": code, **values})
            sent.append({"values": values, "recorded": recorded, "current": current,
                         "tinh_recorded": province, "year": local[:4], "month": local[:7]})


def reference(answers: list[dict]) -> dict:
    """n, and the criterion and overall indices as exact Fractions, from the answers alone."""
    shares: dict[str, list[Fraction]] = {c: [] for c in ("procedure", "staff", "result")}
    respondents = 0
    for values in answers:
        valid_any = False
        for criterion in shares:
            given = [v for item, v in values.items() if ITEMS[item] == criterion and v in VALID]
            if given:
                valid_any = True
                shares[criterion].append(Fraction(sum(v in SATISFIED for v in given), len(given)))
        respondents += valid_any
    indices = {c: 100 * sum(s, Fraction(0)) / len(s) for c, s in shares.items() if s}
    overall = sum(indices.values(), Fraction(0)) / len(indices) if indices else None
    return {"submissions": len(answers), "n": respondents, "criteria": indices, "overall": overall}


def grouped(sent, key) -> dict:
    groups: dict = {}
    for entry in sent:
        groups.setdefault(key(entry), []).append(entry["values"])
    return {k: reference(v) for k, v in groups.items()}


def assert_cells(cells, expected):
    got = {tuple(c.key.values()): c for c in cells}
    assert set(got) == set(expected)
    for key, want in expected.items():
        cell = got[key]
        assert cell.submissions == want["submissions"] and cell.n == want["n"], key
        assert cell.overall == want["overall"], key
        for criterion, index in want["criteria"].items():
            assert cell.criteria[criterion].index == index, (key, criterion)


@pytest.fixture
def eras(template_2021, tmp_path):
    site = Site(template_2021, tmp_path / "site")
    rng, sent = random.Random(2025), []
    _send(site, PLAN, rng, sent)
    before = {by: compute_indices(site.db, IndexQuery(forms=("khao_sat",), by=by, min_n=1))
              for by in ((), ("year",), ("unit",))}
    out = cli(tmp_path / "site", "units", "upgrade-2025")
    assert out.exit_code == 0, out.output
    after = {by: compute_indices(site.db, IndexQuery(forms=("khao_sat",), by=by, min_n=1))
             for by in ((), ("year",), ("unit",))}
    _send(site, LATE, rng, sent)
    return site, sent, before, after


def test_the_upgrade_counts_every_answer_as_before(eras):
    site, sent, before, after = eras
    # the whole and every year: the same cells, to the last digit
    for by in ((), ("year",)):
        assert [(c.key, c.submissions, c.n, c.overall) for c in after[by]] == \
               [(c.key, c.submissions, c.n, c.overall) for c in before[by]]
    # by unit: 2024's units keep their key; 474's answers of 2025 now stand apart as Thuận Hóa
    old = {c.key["unit"]: c for c in before[("unit",)]}
    new = {c.key["unit"]: c for c in after[("unit",)]}
    assert set(new) == set(old) | {"474@2025-01-01"}
    assert new["474"].submissions + new["474@2025-01-01"].submissions == old["474"].submissions
    for code in set(old) - {"474"}:
        assert (new[code].submissions, new[code].overall) == (old[code].submissions, old[code].overall)
    db = site.db
    assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == sum(p[2] for p in PLAN) + sum(
        p[2] for p in LATE)


def test_both_views_over_three_eras_match_the_reference(eras):
    site, sent, _, _ = eras
    db = site.db

    def cells(**query):
        return compute_indices(db, IndexQuery(forms=("khao_sat",), min_n=1, **query))

    assert_cells(cells(by=("unit",)), {(k,): v for k, v in grouped(sent, lambda e: e["recorded"]).items()})
    assert_cells(cells(by=("unit",), units="current"),
                 {(k,): v for k, v in grouped(sent, lambda e: e["current"]).items()})
    assert_cells(cells(by=("tinh", "year")),
                 {k: v for k, v in grouped(sent, lambda e: (e["tinh_recorded"], e["year"])).items()})
    # on today's units the province is one, whatever it was called
    assert_cells(cells(by=("tinh",), units="current"),
                 {(k,): v for k, v in grouped(sent, lambda e: "TTHCC" if e["current"] == "TTHCC" else "46").items()})
    # a commune of today holds the answers of the communes merged into it, of any year
    assert_cells(cells(unit="19768", units="current"),
                 {(): reference([e["values"] for e in sent if e["current"] == "19768"])})
    # as recorded, today's 19768 is only Phú Xuân; January's 19768 (Đông Ba) lay under 475
    assert_cells(cells(unit="19768"),
                 {(): reference([e["values"] for e in sent if e["recorded"].startswith("19768")])})
    # the former district 474's subtree as recorded: Thành phố Huế, Thuận Hóa and Vỹ Dạ of January
    assert_cells(cells(unit="474"), {(): reference([e["values"] for e in sent if e["recorded"] in (
        "474", "474@2025-01-01", "19777")])})


def test_levels_that_no_longer_exist_are_refused_and_rankings_use_communes(eras):
    site, sent, _, _ = eras
    with pytest.raises(QueryError) as refused:
        compute_indices(site.db, IndexQuery(forms=("khao_sat",), by=("huyen",)))
    assert refused.value.code == "no_level" and "huyện" in refused.value.message("vi")
    ranking = rank_units(site.db, RankQuery(forms=("khao_sat",), level="", period="2025-H2", min_n=1,
                                            units="current"))
    assert ranking.level == "xa"
    shown = {r.unit_code: r for r in ranking.rows}
    # every commune of today is listed, and those with answers carry the reference's figures
    assert len([c for c in shown if not c.startswith(GONE)]) == 40
    second_half = [e for e in sent if "2025-07" <= e["month"] <= "2025-12" and e["current"] != "TTHCC"]
    expected = grouped(second_half, lambda e: e["current"])
    assert expected and {c for c, r in shown.items() if r.cell is not None} == set(expected)
    for code, want in expected.items():
        assert shown[code].cell.overall == want["overall"] and shown[code].rank is not None


def test_the_command_line_reads_either_view(eras, tmp_path):
    site, sent, _, _ = eras
    out = cli(tmp_path / "site", "indices", "khao_sat", "--by", "unit", "--units", "current", "--min-n", "1",
              "--json")
    assert out.exit_code == 0, out.output
    cells = {c["key"]["unit"]["value"] if isinstance(c["key"]["unit"], dict) else c["key"]["unit"]: c
             for c in json.loads(out.output)["cells"]}
    assert set(cells) == {e["current"] for e in sent}
    gone = json.dumps(cells[GONE + "483"], ensure_ascii=False)
    assert "Huyện Nam Đông" in gone and "đơn vị đã giải thể" in gone and "unit no longer exists" in gone
    bad = cli(tmp_path / "site", "indices", "khao_sat", "--units", "today")
    assert bad.exit_code == 1 and "recorded" in bad.output and "Traceback" not in bad.output
    huyen = cli(tmp_path / "site", "indices", "khao_sat", "--by", "huyen")
    assert huyen.exit_code == 1 and "cấp huyện" in huyen.output


def test_the_dashboard_and_the_api_switch_views(eras, tmp_path):
    import base64

    from tests.harness.site import PASSWORD, create_password_user
    from server import create_app
    from web_site import signed_in

    site, sent, _, _ = eras
    data_dir = tmp_path / "site"
    create_password_user(data_dir, "admin", "admin")
    app = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None})
    client = signed_in(app, "admin")
    recorded = client.get("/dashboard/khao_sat?period=2025")
    current = client.get("/dashboard/khao_sat?period=2025&units=current")
    assert recorded.status_code == 200 and current.status_code == 200
    recorded_page, current_page = recorded.get_data(as_text=True), current.get_data(as_text=True)
    # the ranking is of communes (no district level any more); Hương Hòa has no successor
    assert "Xã Hương Hòa" in recorded_page and "Xã Hương Hòa (đơn vị đã giải thể)" not in recorded_page
    assert "Xã Hương Hòa (đơn vị đã giải thể)" in current_page
    assert 'value="current" selected' in current_page and "units=current" in current_page
    auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    api = app.test_client()
    huyen = api.get("/api/v1/forms/khao_sat/indices?by=huyen", headers=auth)
    assert huyen.status_code == 400 and "huyện" in huyen.get_json()["error"]["message_vi"]
    bad = api.get("/api/v1/forms/khao_sat/indices?units=hom_nay", headers=auth)
    assert bad.status_code == 400
    good = api.get("/api/v1/forms/khao_sat/indices?by=unit&units=current&min_n=1", headers=auth)
    assert good.status_code == 200
    expected = grouped(sent, lambda e: e["current"])
    got = {c["key"]["unit"]: c for c in good.get_json()["cells"]}
    assert set(got) == set(expected)
    for code, want in expected.items():
        assert got[code]["n"] == want["n"] and got[code]["submissions"] == want["submissions"]
    ranking = api.get("/api/v1/forms/khao_sat/rankings?period=2025&units=current&min_n=1", headers=auth)
    assert ranking.status_code == 200 and ranking.get_json()["level"] == "xa"


NAMES = {"474": "Thành phố Huế", "474@2025-01-01": "Quận Thuận Hóa", "19768": "Phường Đông Ba",
         "19768@2025-07-01": "Phường Phú Xuân", "19777": "Phường Vỹ Dạ", "19777@2025-07-01": "Phường Vỹ Dạ",
         "483": "Huyện Nam Đông", "20179@2025-07-01": "Xã Nam Đông", "46": "Tỉnh Thừa Thiên Huế",
         "TTHCC": "Trung tâm Hành chính công tỉnh"}


def test_exports_name_each_answer_s_unit_as_recorded_and_never_leave_a_scope(eras):
    from aggregate import DissatisfiedQuery, list_dissatisfied
    from exports.query import ExportQuery, prepare
    from storage.export_queries import ROOT_META, root_rows

    site, sent, _, _ = eras
    db = site.db
    plan = prepare(db, ExportQuery("khao_sat"))
    rows = [dict(zip(ROOT_META, r)) for r in root_rows(db, plan.selection, [])]
    assert len(rows) == len(sent)
    by_order = sorted(rows, key=lambda r: r["submission_id"])
    for row, entry in zip(by_order, sent):          # sent in submission order
        if entry["recorded"] in NAMES:
            assert row["unit_name_vi"] == NAMES[entry["recorded"]], (entry["recorded"], row)
    # an account still bound to the former district 474 sees Thành phố Huế and Thuận Hóa, and
    # never today's Phường Vỹ Dạ (19777 lay under 474 only until 30/6/2025)
    scoped = prepare(db, ExportQuery("khao_sat", scope="474"))
    assert "474" in scoped.selection.unit_codes and "19777" not in scoped.selection.unit_codes
    listed = list_dissatisfied(db, DissatisfiedQuery(forms=("khao_sat",), scope="474", limit=500))
    assert {e.unit_code for e in listed.entries} <= set(scoped.selection.unit_codes)


def test_the_report_workbook_ranks_today_s_level_in_either_view(eras, tmp_path):
    from openpyxl import load_workbook

    site, sent, _, _ = eras
    for view in ("recorded", "current"):
        out = tmp_path / f"report-{view}.xlsx"
        result = cli(tmp_path / "site", "export", "khao_sat", "--format", "report", "--period", "2025",
                     "--min-n", "1", "--units", view, "--out", str(out))
        assert result.exit_code == 0, result.output
        text = " ".join(str(c.value) for ws in load_workbook(out) for row in ws.iter_rows() for c in row
                        if c.value is not None)
        assert "Xã Hương Hòa" in text
        assert ("Xã Hương Hòa (đơn vị đã giải thể)" in text) == (view == "current")


# dossiers of a register: (code, day returned, how many, the unit as recorded, on today's units)
REGISTER = [("19750", "2025-02-10", 7, "19750", "19768"),
            ("19768", "2025-06-10", 3, "19768", "19768"),
            ("19768", "2025-07-10", 10, "19768@2025-07-01", "19768"),
            ("19777", "2025-09-10", 5, "19777@2025-07-01", "19777"),
            ("20176", "2025-04-10", 4, "20176", GONE + "20176"),
            ("474", "2025-03-10", 6, "474@2025-01-01", GONE + "474@2025-01-01")]


def test_the_weighted_index_weighs_the_units_of_the_view(eras):
    """Each stratum's weight is the dossiers of its unit in the view: on today's units Phú
    Xuân's weight holds the dossiers of Tây Lộc and Đông Ba."""
    from aggregate import weighted_indices
    from storage import registers

    site, sent, _, _ = eras
    rows = [{"code": f"HS-{code}-{day}-{i}", "unit_code": code, "procedure_name": "Thủ tục",
             "procedure_field": "dat_dai", "received_on": day, "due_on": day, "returned_on": day,
             "applicant_name": None, "phone": None}
            for code, day, count, _, _ in REGISTER for i in range(count)]
    registers.import_dossiers(site.db, rows, filename="so.csv", sha256="0" * 64, rows_total=len(rows),
                              rows_skipped=0, actor="test")
    for view, column in (("recorded", 3), ("current", 4)):
        volume: dict[str, int] = {}
        for entry in REGISTER:
            volume[entry[column]] = volume.get(entry[column], 0) + entry[2]
        answers = grouped([e for e in sent if e["year"] == "2025"], lambda e: e[view])
        strata = {u: (volume[u], ref) for u, ref in answers.items() if u in volume and ref["n"]}
        expected = {}
        for criterion in ("procedure", "staff", "result"):
            chosen = {u: (w, ref["criteria"][criterion]) for u, (w, ref) in strata.items()
                      if criterion in ref["criteria"]}
            if chosen:
                expected[criterion] = (sum(w * i for w, i in chosen.values())
                                       / sum(w for w, _ in chosen.values()))
        weighted = weighted_indices(site.db, IndexQuery(forms=("khao_sat",), by=("year",), min_n=1,
                                                        date_from=date(2025, 1, 1), date_to=date(2025, 12, 31),
                                                        units=view))[("2025",)]
        assert weighted.volume == sum(volume.values())
        assert set(weighted.units) == set(strata)
        assert {c: w.index for c, w in weighted.criteria.items() if w.index is not None} == expected


def test_the_dissatisfied_list_names_the_unit_of_the_interview_day(eras):
    from aggregate import DissatisfiedQuery, list_dissatisfied, render

    site, sent, _, _ = eras
    query = DissatisfiedQuery(forms=("khao_sat",), limit=500)
    listed = render.dissatisfied_json(site.db, query, list_dissatisfied(site.db, query))["submissions"]
    seen = {(e["unit"], e["date"][:4]): e["unit_label"]["vi"] for e in listed}
    assert {("474", "2024"), ("474", "2025")} <= set(seen), seen     # the plan's seed gives both
    for (code, year), label in seen.items():
        if code == "474":
            assert label == ("Thành phố Huế" if year == "2024" else "Quận Thuận Hóa")
        if code == "19768":
            assert label in ("Phường Đông Ba", "Phường Phú Xuân")


def test_a_list_in_force_from_within_a_quarter_splits_the_quarter(template_2021, tmp_path):
    """A list may take effect on any month's first day: the months of one quarter then fall
    under different units, and the rollups read by quarter (storage/choices.py, score_rollup's
    by_quarter) must not merge them."""
    site = Site(template_2021, tmp_path / "site")
    rng, sent = random.Random(19), []
    # (code, local time, answers, the unit as recorded, on today's units)
    plan = [("481", "2026-01-15T09:00", 2, "481", "481"), ("481", "2026-02-15T09:00", 2, "481@2026-02-01", "481"),
            ("481", "2026-03-15T09:00", 1, "481@2026-02-01", "481"), ("474", "2026-01-20T09:00", 1, "474", "474"),
            ("474", "2026-02-20T09:00", 1, "474", "474")]
    for code, local, count, recorded, current in plan:
        for _ in range(count):
            values = {**_answers(rng), "procedure_field": rng.choice(["dat_dai", "xay_dung"])}
            site.add({"start": f"{local}:00.000+07:00", "unit": code, **values})
            sent.append({"values": {k: v for k, v in values.items() if k in ITEMS}, "recorded": recorded,
                         "current": current, "field": values["procedure_field"]})
    compute_indices(site.db, IndexQuery(forms=("khao_sat",), min_n=1))        # scored and rolled up
    seed_list = (ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv").read_text(encoding="utf-8")
    assert "481,46,huyen,Huyện A Lưới," in seed_list
    changed = tmp_path / "units_2026_02.csv"
    changed.write_text(seed_list.replace("481,46,huyen,Huyện A Lưới,", "481,46,huyen,Huyện A Lưới (mới),"),
                       encoding="utf-8")
    out = cli(tmp_path / "site", "units", "import", str(changed), "--from", "2026-02-01")
    assert out.exit_code == 0, out.output
    for window in ({}, {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 31)}):
        for view in ("recorded", "current"):
            for by, key in ((("unit",), lambda e: (e[view],)),
                            (("unit", "procedure_field"), lambda e: (e[view], e["field"])),
                            (("unit", "quarter"), lambda e: (e[view], "2026-Q1"))):
                cells = compute_indices(site.db, IndexQuery(forms=("khao_sat",), by=by, min_n=1, units=view,
                                                            **window))
                assert_cells(cells, grouped(sent, key))


def test_declined_counts_keep_to_the_unit_filter_month_by_month(template_2021, tmp_path):
    """Vỹ Dạ (19777) lay under Thuận Hóa (474) in early 2025 and directly under the province
    from 1/7/2025: the declined consents it received after July are no part of 474's figures."""
    from xlsforms import write_xlsform
    site = Site(template_2021, tmp_path / "site")
    survey = [["type", "name", "label", "criterion"], ["start", "start", "", ""], ["text", "unit", "Đơn vị", ""],
              ["select_one yes_no", "consent", "Đồng ý", ""]]
    survey += [["select_one s5", item, item, criterion] for item, criterion in ITEMS.items()]
    choices = [["list_name", "name", "label"], ["yes_no", "yes", "Có"], ["yes_no", "no", "Không"]]
    choices += [["s5", v, v] for v in "543210"]
    form = write_xlsform(tmp_path / "dong_y.xlsx", survey, choices,
                         {"form_id": "dong_y", "version": "1", "form_title": "Thử đồng ý"})
    assert cli(tmp_path / "site", "forms", "publish", str(form)).exit_code == 0
    assert cli(tmp_path / "site", "units", "upgrade-2025").exit_code == 0
    rng, inside = random.Random(17), []
    for local, consent in (("2025-03-03T08:00", "yes"), ("2025-03-04T08:00", "no"),
                           ("2025-09-09T08:00", "no"), ("2025-09-10T08:00", "no"), ("2025-09-11T08:00", "yes")):
        values = _answers(rng)
        site.add({"start": f"{local}:00.000+07:00", "unit": "19777", "consent": consent, **values}, form_id="dong_y")
        if local < "2025-07":
            inside.append(values if consent == "yes" else {})      # a declined answer rates nothing
    for by in ((), ("year",)):
        cells = compute_indices(site.db, IndexQuery(forms=("dong_y",), by=by, unit="474", min_n=1))
        assert [(c.submissions, c.declined) for c in cells] == [(2, 1)]
        assert_cells(cells, {tuple(["2025"][:len(by)]): reference(inside)})
