"""The weighted index (aggregate/weighting.py) against a hand computation from the raw answers
and the register written here from the README's definition, and its API, CLI and dashboard.

The standard form, filled with seeded random answers, goes in through the receiver as in
test_indices_engine.py; the register through storage.registers.import_dossiers.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest

import storage
from aggregate import IndexQuery, compute_indices, weighted_indices
from aggregate.render import rounded
from tests.harness.instances import STANDARD_ITEMS, standard_answers
from tests.harness.site import create_password_user
from conftest import PASSWORD, STANDARD_FORM, cli
from forms.compile import compile_file
from server import create_app
from actions.publish import publish_compiled
from storage import registers, units
from test_indices_engine import Site
from web_site import login

FORM = "tthc_hailong"
MIN_N = 3
VN = timezone(timedelta(hours=7))
Q3 = {"date_from": date(2026, 7, 1), "date_to": date(2026, 9, 30)}
YEAR = {"date_from": date(2026, 1, 1), "date_to": date(2026, 12, 31)}
UNITS = [("46", None, "tinh"), ("474", "46", "huyen"), ("481", "46", "huyen"),
         ("47401", "474", "xa"), ("47402", "474", "xa"), ("47403", "474", "xa"), ("47404", "474", "xa"),
         ("48101", "481", "xa"), ("48102", "481", "xa")]
SUBTREE = {"474": {"474", "47401", "47402", "47403", "47404"}, "481": {"481", "48101", "48102"}}

# (unit, local day of the interview, respondents); 48101's respondents after the first answer
# no result item (all "0"), so it has 3 respondents on procedure and staff but 1 on result
PLAN = [("474", "2026-07-20", 3), ("47401", "2026-07-10", 4), ("47402", "2026-09-02", 3),
        ("47403", "2026-08-12", 3), ("47404", "2026-08-20", 2), ("48101", "2026-07-25", 3),
        ("47401", "2026-10-05", 3), ("47402", "2026-11-11", 3),
        # enough for the dashboard's min_n of 30, in a quarter of its own
        ("47401", "2025-05-10", 30), ("47402", "2025-05-12", 30), ("474", "2025-05-14", 5)]
NO_RESULT = {("48101", 1), ("48101", 2)}
# dossiers returned (unit, local day, how many): 47403 has none; 48102 has dossiers, no answers;
# 47401's June dossiers lie outside Q3
REGISTER = [("474", "2026-07-03", 50), ("47401", "2026-07-08", 200), ("47401", "2026-08-30", 100),
            ("47401", "2026-06-30", 999), ("47402", "2026-09-15", 100), ("47404", "2026-08-01", 80),
            ("48101", "2026-07-31", 60), ("48102", "2026-09-30", 40),
            ("47401", "2026-10-20", 10), ("47402", "2026-11-01", 150), ("47402", "2026-12-31", 50),
            ("47401", "2025-05-20", 500), ("47402", "2025-06-02", 100), ("474", "2025-04-01", 20)]


@dataclass
class Answered:
    unit: str
    day: str
    values: dict


# --- the hand computation (docs/index-definitions.md, README "Weighted index") -------------------

def respondent_score(values: dict, criterion: str) -> Fraction | None:
    given = [values[f"main/{criterion}/{item}"] for item in STANDARD_ITEMS[criterion]]
    valid = [v for v in given if v in ("1", "2", "3", "4", "5")]
    return Fraction(sum(v in ("4", "5") for v in valid), len(valid)) if valid else None


def unit_index(answered: list[Answered], criterion: str) -> tuple[Fraction | None, int]:
    scores = [s for s in (respondent_score(a.values, criterion) for a in answered) if s is not None]
    return (100 * sum(scores, Fraction(0)) / len(scores) if scores else None), len(scores)


def volumes(first: str, last: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for unit, day, count in REGISTER:
        if first <= day <= last:
            found[unit] = found.get(unit, 0) + count
    return found


def expected(answered: list[Answered], group: set[str], first: str, last: str, min_n: int = MIN_N) -> dict:
    """The weighted figures of the units in `group` over the local days first..last."""
    weights = {u: w for u, w in volumes(first, last).items() if u in group}
    members = [a for a in answered if a.unit in group and first <= a.day <= last]
    result = {"volume": sum(weights.values()), "criteria": {}}
    for criterion in STANDARD_ITEMS:
        taken = {}
        for unit in sorted({a.unit for a in members}):
            index, n = unit_index([a for a in members if a.unit == unit], criterion)
            if weights.get(unit) and n >= min_n:
                taken[unit] = index
        total = sum(weights[u] for u in taken)
        result["criteria"][criterion] = {
            "index": sum((weights[u] * i for u, i in taken.items()), Fraction(0)) / total if total else None,
            "units": tuple(sorted(taken)), "share": Fraction(total, result["volume"])}
    defined = [c["index"] for c in result["criteria"].values() if c["index"] is not None]
    result["overall"] = sum(defined, Fraction(0)) / len(defined) if defined else None
    return result


def respondent_mean(answered: list[Answered], group: set[str], first: str, last: str, criterion: str):
    return unit_index([a for a in answered if a.unit in group and first <= a.day <= last], criterion)[0]


# --- the site ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Units and the standard form, built directly in storage."""
    data_dir = tmp_path_factory.mktemp("weighting_template")
    db = storage.connect(data_dir)
    units.upsert_units(db, [{"code": code, "parent_code": parent, "level": level, "name_vi": f"Đơn vị {code}"}
                            for code, parent, level in UNITS])
    publish_compiled(db, compile_file(STANDARD_FORM), actor="test")
    db.close()
    return data_dir


@pytest.fixture(scope="module")
def surveyed(template, tmp_path_factory) -> tuple[Site, list[Answered]]:
    """The PLAN's submissions; no register yet."""
    site = Site(template, tmp_path_factory.mktemp("weighting") / "surveyed")
    version = storage.forms.latest_version(site.db, FORM)["version"]
    rng = random.Random(7)
    answered = []
    for unit, day, count in PLAN:
        level = next(lvl for code, _, lvl in UNITS if code == unit)
        for i in range(count):
            start = datetime.fromisoformat(day).replace(hour=8, tzinfo=VN) + timedelta(minutes=10 * i)
            values = standard_answers(rng, unit, level, start=start)
            if (unit, i) in NO_RESULT:
                values.update({f"main/result/{item}": "0" for item in STANDARD_ITEMS["result"]})
            site.add(values, form_id=FORM, version=version)
            answered.append(Answered(unit, day, values))
    return site, answered


def import_register(site: Site, plan=REGISTER) -> None:
    rows = [{"code": f"H46-{unit}-{day}-{i}", "unit_code": unit, "procedure_name": "Thủ tục",
             "procedure_field": "dat_dai", "received_on": day, "due_on": day, "returned_on": day,
             "applicant_name": None, "phone": None}
            for unit, day, count in plan for i in range(count)]
    registers.import_dossiers(site.db, rows, filename="so_ho_so.csv", sha256="0" * 64,
                              rows_total=len(rows), rows_skipped=0, actor="test")


def _dir_of(site: Site) -> Path:
    return Path(site.db.execute("PRAGMA database_list").fetchone()[2]).parent


def _copy_with_admin(site: Site, target: Path) -> Site:
    copy = Site(_dir_of(site), target)
    create_password_user(target, "admin", "admin")
    return copy


@pytest.fixture(scope="module")
def registered(surveyed, tmp_path_factory) -> tuple[Site, list[Answered]]:
    """The same answers, the REGISTER imported, and an administrator for the web and the API."""
    site, answered = surveyed
    copy = _copy_with_admin(site, tmp_path_factory.mktemp("weighting") / "registered")
    import_register(copy)
    return copy, answered


@pytest.fixture
def bare(surveyed, tmp_path) -> Site:
    """The same answers, no register, and an administrator."""
    return _copy_with_admin(surveyed[0], tmp_path / "bare")


def weighted(site: Site, by=(), **query) -> dict:
    query = {**Q3, **query}
    return weighted_indices(site.db, IndexQuery(forms=(FORM,), by=by, min_n=MIN_N, **query))


def assert_matches(got, want: dict) -> None:
    assert got is not None and got.volume == want["volume"]
    for criterion, figures in want["criteria"].items():
        crit = got.criteria[criterion]
        assert (crit.index, crit.units, crit.share) == (figures["index"], figures["units"], figures["share"])
    assert got.overall == want["overall"]


# --- the figures ------------------------------------------------------------------------------

def test_communes_of_a_district_are_weighted_by_their_dossiers(registered):
    site, answered = registered
    got = weighted(site, by=("huyen",))[("474",)]
    want = expected(answered, SUBTREE["474"], "2026-07-01", "2026-09-30")
    assert_matches(got, want)
    # the district's own desk and the two communes with enough answers and dossiers
    assert got.criteria["procedure"].units == ("474", "47401", "47402")
    # 474: 50, 47401: 300 (its June dossiers are outside Q3), 47402: 100, 47404: 80 of 530
    assert got.volume == 530 and got.criteria["staff"].share == Fraction(450, 530)
    # the weights change the figure: it is not the respondents' mean
    plain = respondent_mean(answered, SUBTREE["474"], "2026-07-01", "2026-09-30", "procedure")
    cell = {tuple(c.key.values()): c for c in compute_indices(
        site.db, IndexQuery(forms=(FORM,), by=("huyen",), min_n=MIN_N, **Q3))}[("474",)]
    assert cell.criteria["procedure"].index == plain != got.criteria["procedure"].index


def test_a_unit_without_dossiers_is_not_weighted_and_is_reported(registered):
    site, answered = registered
    got = weighted(site, by=("huyen",))[("474",)]
    assert got.unregistered == ("47403",)
    assert all("47403" not in crit.units for crit in got.criteria.values())
    # the whole province: same, and 481's units are in
    province = weighted(site)[()]
    assert province.unregistered == ("47403",)
    assert_matches(province, expected(answered, {code for code, _, _ in UNITS}, "2026-07-01", "2026-09-30"))


def test_a_unit_below_min_n_is_left_out_per_criterion(registered):
    site, answered = registered
    got = weighted(site, by=("huyen",))
    # 47404 (2 respondents) is out of every criterion, its dossiers still count in the share
    assert "47404" in got[("474",)].below_min_n
    assert all("47404" not in crit.units for crit in got[("474",)].criteria.values())
    # 48101: 3 respondents on procedure and staff, 1 on result
    aluoi = got[("481",)]
    assert_matches(aluoi, expected(answered, SUBTREE["481"], "2026-07-01", "2026-09-30"))
    assert aluoi.criteria["procedure"].units == ("48101",) and aluoi.criteria["result"].units == ()
    assert aluoi.criteria["result"].index is None and not aluoi.criteria["result"].enough
    assert aluoi.below_min_n == ("48101",)
    # 48102 has 40 dossiers and no answer: the 60 of 48101 are 60% of the district's
    assert aluoi.criteria["procedure"].share == Fraction(60, 100)
    # the overall is the mean of the criteria that are defined
    assert aluoi.overall == (aluoi.criteria["procedure"].index + aluoi.criteria["staff"].index) / 2


def test_a_unit_filter_or_scope_keeps_the_register_to_its_subtree(registered):
    site, answered = registered
    want = expected(answered, SUBTREE["474"], "2026-07-01", "2026-09-30")
    assert_matches(weighted(site, unit="474")[()], want)
    assert_matches(weighted(site, scope="474")[()], want)
    # by level inside 474: its communes apart from its own desk
    levels = weighted(site, by=("level",), unit="474")
    assert_matches(levels[("xa",)], expected(answered, SUBTREE["474"] - {"474"}, "2026-07-01", "2026-09-30"))


def test_quarters_are_weighted_by_their_own_months(registered):
    site, answered = registered
    got = weighted(site, by=("quarter",), **YEAR)
    everyone = {code for code, _, _ in UNITS}
    assert_matches(got[("2026-Q3",)], expected(answered, everyone, "2026-07-01", "2026-09-30"))
    assert_matches(got[("2026-Q4",)], expected(answered, everyone, "2026-10-01", "2026-12-31"))
    # Q4: 47401 weighs 10 (October), 47402 200 (November and December)
    assert got[("2026-Q4",)].volume == 210
    # a window ending mid-month cuts the register by day as it cuts the answers
    cut = weighted(site, by=("quarter",), date_from=YEAR["date_from"], date_to=date(2026, 12, 30))
    assert_matches(cut[("2026-Q4",)], expected(answered, everyone, "2026-10-01", "2026-12-30"))
    assert cut[("2026-Q4",)].volume == 160


def test_without_a_register_there_is_no_weighted_cell(surveyed):
    site, _ = surveyed
    assert set(weighted(site, by=("huyen",)).values()) == {None}


# --- API, command line, dashboard ---------------------------------------------------------------

def _client(site: Site):
    return create_app({"DATA_DIR": str(_dir_of(site)), "PUBLIC_URL": None}).test_client()


def _get(site: Site, **params):
    params = {"from": "2026-07-01", "to": "2026-09-30", "min_n": str(MIN_N), **params}
    return _client(site).get(f"/api/v1/forms/{FORM}/indices", query_string=params, auth=("admin", PASSWORD))


def test_api_gives_the_weighted_figures_rounded(registered):
    site, answered = registered
    response = _get(site, by="huyen", weighted="1")
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["weighted_note"] is None
    cells = {c["key"]["huyen"]: c for c in body["cells"]}
    want = expected(answered, SUBTREE["474"], "2026-07-01", "2026-09-30")
    shown = cells["474"]["weighted"]
    assert shown["overall"]["index"] == rounded(want["overall"])
    for criterion, figures in want["criteria"].items():
        assert shown["criteria"][criterion]["index"] == rounded(figures["index"])
        assert shown["criteria"][criterion]["units"] == len(figures["units"])
        assert shown["criteria"][criterion]["volume_share"] == rounded(100 * figures["share"])
    assert (shown["volume"], shown["unregistered"]) == (want["volume"], ["47403"])
    assert cells["481"]["weighted"]["criteria"]["result"]["index"] is None


def test_api_refuses_weighting_a_channel_breakdown_in_both_languages(registered):
    site, _ = registered
    for by in ("channel", "huyen,procedure_field", "unit"):
        response = _get(site, by=by, weighted="1")
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "weighted_by"
        assert by.split(",")[-1] in error["message_vi"] and by.split(",")[-1] in error["message_en"]
        assert "trọng số" in error["message_vi"] and "weighted" in error["message_en"]
    # the same breakdown without weighting is answered
    assert _get(site, by="channel").status_code == 200


def test_api_without_weighted_is_unchanged(registered):
    site, _ = registered
    plain = _get(site, by="huyen").get_json()
    assert "weighted_note" not in plain and all("weighted" not in c for c in plain["cells"])
    asked = _get(site, by="huyen", weighted="1").get_json()
    asked.pop("weighted_note")
    for cell in asked["cells"]:
        cell.pop("weighted")
    assert asked == plain
    assert _get(site, by="huyen", weighted="0").get_json() == plain
    assert _get(site, weighted="peut-être").status_code == 400


def test_api_without_a_register_answers_with_nulls_and_a_note(bare):
    response = _get(bare, by="huyen", weighted="1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["cells"] and all(c["weighted"] is None for c in body["cells"])
    assert "sổ hồ sơ" in body["weighted_note"]["vi"] and "register" in body["weighted_note"]["en"]


def test_cli_prints_weighted_columns(registered):
    site, answered = registered
    args = ["indices", FORM, "--by", "huyen", "--from", "2026-07-01", "--to", "2026-09-30", "--min-n", str(MIN_N)]
    plain = cli(_dir_of(site), *args)
    result = cli(_dir_of(site), *args, "--weighted")
    assert result.exit_code == 0, result.output
    want = expected(answered, SUBTREE["474"], "2026-07-01", "2026-09-30")
    row = next(line for line in result.output.splitlines() if line.startswith("474 "))
    assert f"{rounded(want['overall']):.2f}" in row and f"{rounded(100 * want['criteria']['staff']['share']):.2f}" in row
    assert "W Overall" in result.output and "W Overall" not in plain.output
    refused = cli(_dir_of(site), "indices", FORM, "--by", "channel", "--weighted")
    assert refused.exit_code == 1 and "weighted" in refused.output


def test_dashboard_shows_the_weighted_index_only_with_dossiers(registered, bare):
    site, answered = registered
    client = _client(site)
    assert login(client, "admin").status_code == 302
    # the dashboard's min_n is the default 30: only 47401 and 47402 of 2025-Q2 qualify
    page = client.get(f"/dashboard/{FORM}?period=2025-Q2&level=huyen").get_data(as_text=True)
    want = expected(answered, {code for code, _, _ in UNITS}, "2025-04-01", "2025-06-30", min_n=30)
    assert want["criteria"]["staff"]["units"] == ("47401", "47402")
    assert "Chỉ số có trọng số (theo số hồ sơ)" in page
    figure = page.split('id="weighted-overall"')[1].split("</p>")[0]
    assert f"{rounded(want['overall']):.2f}%".replace(".", ",") in figure
    assert f"{rounded(100 * want['criteria']['staff']['share']):.2f}%".replace(".", ",") in figure
    criteria = page.split('id="criteria-table"')[1].split("</table>")[0]
    for figures in want["criteria"].values():
        assert f"{rounded(figures['index']):.2f}".replace(".", ",") in criteria
    # the ranking of districts: 474's weighted overall in its row
    ranking = page.split('id="ranking-table"')[1].split("</table>")[0]
    row = next(r for r in ranking.split("<tr")[1:] if "(474)" in r)
    assert f"{rounded(want['overall']):.2f}".replace(".", ",") in row
    # the same answers without a register: the page as it was
    client = _client(bare)
    assert login(client, "admin").status_code == 302
    page = client.get(f"/dashboard/{FORM}?period=2025-Q2&level=huyen").get_data(as_text=True)
    assert "Chỉ số có trọng số" not in page and 'id="ranking-table"' in page and 'id="criteria-table"' in page
