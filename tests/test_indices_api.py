"""The indices API and the `indices` command, through a real server process (gunicorn, 2 workers):
who may read, what each account sees, the JSON shape, and every refusal."""
from __future__ import annotations

import random

import pytest
import requests

from tests.harness.instances import fill_instance, rate_all, standard_answers
from tests.harness.collect_client import CollectClient
from conftest import PASSWORD, LiveServer, cli, seed

FORM = "tthc_hailong"


def _answers(unit: str, value: str, start: str, comment: str = "", dossier: str = "") -> dict:
    values = standard_answers(random.Random(0), unit, "huyen")
    values.update({"start": start, "today": start[:10], "main/comment": comment,
                   "main/dossier_code": dossier})
    return rate_all(values, value)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """A site with the standard form and, sent by Collect-like clients:
    unit 474 in Q3 2026: three times all 5 and once all 2 (with a comment and a dossier code);
    unit 481 in Q3 2026: twice all 4; unit 474 in Q2 2026: once all 5."""
    data_dir = tmp_path_factory.mktemp("indices_api")
    tokens = seed(data_dir)
    for name, role, unit in [("bao_cao_aluoi", "reporter", "481"), ("bao_cao_tinh", "reporter", None),
                             ("thiet_ke", "designer", None)]:
        args = ["users", "create", name, "--role", role, "--password-stdin"] + (["--unit", unit] if unit else [])
        assert cli(data_dir, *args, input=PASSWORD + "\n").exit_code == 0
    server = LiveServer(data_dir).start()
    hue = CollectClient(f"{server.url}/key/{tokens['dtv_hue']}")
    aluoi = CollectClient(f"{server.url}/key/{tokens['dtv_aluoi']}")
    xform = hue.download_form(hue.form_list(FORM)[0])
    sent = [(hue, _answers("474", "5", "2026-07-10T09:00:00.000+07:00")) for _ in range(3)]
    sent.append((hue, _answers("474", "2", "2026-07-11T09:00:00.000+07:00", comment="Chờ quá lâu",
                               dossier="H46.99-260711-0042")))
    sent += [(aluoi, _answers("481", "4", "2026-08-10T09:00:00.000+07:00")) for _ in range(2)]
    sent.append((hue, _answers("474", "5", "2026-05-10T09:00:00.000+07:00")))
    for client, values in sent:
        responses = client.submit(fill_instance(xform, values))
        assert responses[-1].status_code == 201, responses[-1].text
    yield server
    server.stop()


def get(server, path: str, user: str | None = "admin", password: str = PASSWORD, **params):
    auth = (user, password) if user else None
    return requests.get(server.url + "/api/v1" + path, params=params, auth=auth, timeout=30)


def cells_by(body: dict, *names: str) -> dict:
    return {tuple(c["key"][n] for n in names): c for c in body["cells"]}


# --- access ---------------------------------------------------------------------------------

def test_no_credentials_get_a_basic_challenge(api):
    response = get(api, f"/forms/{FORM}/indices", user=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.json()["error"]["code"] == "unauthorized"
    assert get(api, f"/forms/{FORM}/indices", password="sai-mat-khau-000").status_code == 401


def test_collectors_may_not_read(api):
    response = get(api, f"/forms/{FORM}/indices", user="thu_ky")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_role"


@pytest.mark.parametrize("user", ["admin", "thiet_ke", "bao_cao_tinh", "bao_cao_aluoi", "xem_hue"])
def test_readers_may_read(api, user):
    assert get(api, f"/forms/{FORM}/indices", user=user).status_code == 200


def test_a_viewer_of_474_never_sees_481(api):
    body = get(api, f"/forms/{FORM}/indices", user="xem_hue", by="unit", min_n="1").json()
    assert set(cells_by(body, "unit")) == {("474",)} and body["scope"] == "474"
    assert get(api, f"/forms/{FORM}/indices", user="xem_hue", by="huyen", min_n="1").json()["cells"][0]["n"] == 5
    # province-level grouping still holds only what the account may see
    tinh = get(api, f"/forms/{FORM}/indices", user="xem_hue", by="tinh", min_n="1").json()
    assert [c["n"] for c in tinh["cells"]] == [5]
    refused = get(api, f"/forms/{FORM}/indices", user="xem_hue", unit="481")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_unit"
    assert get(api, f"/forms/{FORM}/indices", user="xem_hue", unit="474").status_code == 200
    ranks = get(api, f"/forms/{FORM}/rankings", user="xem_hue", level="huyen", period="2026-Q3",
                min_n="1").json()
    assert [u["unit"] for u in ranks["units"]] == ["474"]
    listed = get(api, f"/forms/{FORM}/dissatisfied", user="xem_hue").json()
    assert {s["unit"] for s in listed["submissions"]} == {"474"}
    assert get(api, f"/forms/{FORM}/dissatisfied", user="xem_hue", unit="481").status_code == 403
    # and the reporter of 481 sees 481 only
    other = get(api, f"/forms/{FORM}/indices", user="bao_cao_aluoi", by="unit", min_n="1").json()
    assert set(cells_by(other, "unit")) == {("481",)}


# --- the numbers and the shape ---------------------------------------------------------------

def test_indices_by_unit_and_quarter(api):
    body = get(api, f"/forms/{FORM}/indices", by="unit,quarter", min_n="2").json()
    assert body["forms"] == [FORM] and body["by"] == ["unit", "quarter"] and body["min_n"] == 2
    assert [c["code"] for c in body["criteria"]] == ["procedure", "staff", "result"]
    cells = cells_by(body, "unit", "quarter")
    assert set(cells) == {("474", "2026-Q3"), ("481", "2026-Q3"), ("474", "2026-Q2")}
    hue = cells[("474", "2026-Q3")]
    assert hue["label"]["unit"] == {"vi": "Thành phố Huế", "en": "Hue City"}
    assert hue["label"]["quarter"] == {"vi": "Quý III/2026", "en": "Q3 2026"}
    assert (hue["submissions"], hue["n"], hue["enough"]) == (4, 4, True)
    assert hue["overall"]["index"] == 75.0
    # scores 1, 1, 1, 0: sd = 1/2, half width = 1.96 * 0.5 / 2 * 100 = 49
    assert hue["overall"]["ci"] == [26.0, 100.0]
    procedure = hue["criteria"]["procedure"]
    assert procedure == {"n": 4, "enough": True, "index": 75.0, "ci": [26.0, 100.0],
                         "mean_score": 4.25, "answers": 20, "dissatisfied": 5,
                         "dissatisfied_pct": 25.0}
    assert hue["mean_score"] == 4.25 and hue["dissatisfied_pct"] == 25.0
    aluoi = cells[("481", "2026-Q3")]
    assert aluoi["overall"]["index"] == 100.0 and aluoi["criteria"]["staff"]["mean_score"] == 4.0
    # one respondent is under min_n = 2: counts are shown, rates withheld
    small = cells[("474", "2026-Q2")]
    assert (small["n"], small["enough"]) == (1, False)
    assert small["overall"] == {"index": None, "ci": None}
    assert small["criteria"]["result"]["index"] is None and small["mean_score"] is None


def test_default_min_n_withholds_every_small_cell(api):
    body = get(api, f"/forms/{FORM}/indices").json()
    assert body["min_n"] == 30
    (cell,) = body["cells"]
    assert cell["key"] == {} and cell["n"] == 7 and cell["enough"] is False
    assert cell["overall"]["index"] is None


def test_filters_and_items(api):
    july = get(api, f"/forms/{FORM}/indices", min_n="1", **{"from": "2026-07-01", "to": "2026-07-31"}).json()
    assert july["filters"]["from"] == "2026-07-01" and july["cells"][0]["n"] == 4
    assert get(api, f"/forms/{FORM}/indices", min_n="1", channel="online").json()["cells"] == []
    items = get(api, f"/forms/{FORM}/indices", min_n="1", unit="481", items="1").json()["cells"][0]["items"]
    assert len(items) == 15
    posted = next(i for i in items if i["path"] == "main/procedure/proc_posted")
    assert (posted["criterion"], posted["answers"], posted["satisfied"], posted["index"]) == (
        "procedure", 2, 2, 100.0)
    assert posted["label"]["vi"].startswith("Thủ tục hành chính được niêm yết")


def test_combined_forms_endpoint(api):
    body = get(api, "/indices", forms=FORM, by="form", min_n="1").json()
    assert body["forms"] == [FORM] and body["cells"][0]["key"] == {"form": FORM}
    assert get(api, "/indices", by="form").json()["error"]["code"] == "no_forms"


def test_rankings(api):
    body = get(api, f"/forms/{FORM}/rankings", level="huyen", period="2026-Q3", min_n="2").json()
    assert body["period"]["key"] == "2026-Q3" and body["previous_period"]["key"] == "2026-Q2"
    units = body["units"]
    assert [(u["unit"], u["rank"]) for u in units[:2]] == [("481", 1), ("474", 2)]
    # 481: [100, 100]; 474: scores 1, 1, 1, 0 give [26, 100]: they meet, the order is not significant
    assert units[0]["overlaps_below"] is True and units[1]["overlaps_above"] is True
    assert all(u["ranked"] is False and u["index"] is None for u in units[2:])
    assert len(units) == 9
    hue = units[1]
    assert hue["index"] == 75.0 and hue["previous"] == {"rank": None, "n": 1, "enough": False, "index": None}
    assert hue["change"] is None


def test_dissatisfied_list_has_the_comment_and_no_identifier(api):
    response = get(api, f"/forms/{FORM}/dissatisfied")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    (entry,) = body["submissions"]
    assert (entry["unit"], entry["date"], entry["comment"]) == ("474", "2026-07-11", "Chờ quá lâu")
    assert len(entry["low_answers"]) == 15 and entry["low_answers"][0]["answer_label"]["vi"] == "Không hài lòng"
    assert "H46.99" not in response.text


@pytest.mark.parametrize("path, params, status, code", [
    (f"/forms/{FORM}/indices", {"by": "district"}, 400, "bad_by"),
    (f"/forms/{FORM}/indices", {"by": "q:main/comment"}, 400, "bad_question"),
    (f"/forms/{FORM}/indices", {"from": "2026-13-01"}, 400, "bad_date"),
    (f"/forms/{FORM}/indices", {"to": "01/07/2026"}, 400, "bad_date"),
    (f"/forms/{FORM}/indices", {"min_n": "0"}, 400, "bad_min_n"),
    (f"/forms/{FORM}/indices", {"min_n": "abc"}, 400, "bad_min_n"),
    (f"/forms/{FORM}/indices", {"untit": "474"}, 400, "unknown_parameter"),
    (f"/forms/{FORM}/indices", {"unit": "999"}, 400, "unknown_unit"),
    (f"/forms/{FORM}/indices", {"channel": "fax"}, 400, "bad_channel"),
    (f"/forms/{FORM}/indices", {"items": "maybe"}, 400, "bad_flag"),
    (f"/forms/{FORM}/rankings", {"level": "huyen", "period": "2026-Q5"}, 400, "bad_period"),
    (f"/forms/{FORM}/rankings", {"level": "thon", "period": "2026-Q3"}, 400, "bad_level"),
    (f"/forms/{FORM}/rankings", {"level": "huyen"}, 400, "missing_parameter"),
    (f"/forms/{FORM}/dissatisfied", {"limit": "0"}, 400, "bad_number"),
    ("/forms/khong_co/indices", {}, 404, "unknown_form"),
    ("/indices", {"forms": f"{FORM},khong_co"}, 404, "unknown_form"),
])
def test_bad_parameters_are_clear_errors(api, path, params, status, code):
    response = get(api, path, **params)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message_vi"] and error["message_en"]


# --- the command line ---------------------------------------------------------------------------

def test_indices_command(api):
    result = cli(api.data_dir, "indices", FORM, "--by", "unit,quarter", "--min-n", "2")
    assert result.exit_code == 0, result.output
    assert "Đơn vị / Unit" in result.output and "Quý / Quarter" in result.output
    assert "474 Thành phố Huế" in result.output and "75.00 (26.00–100.00)" in result.output
    assert "không đủ số phiếu / not enough answers" in result.output       # 474 in Q2
    as_json = cli(api.data_dir, "indices", FORM, "--by", "unit", "--json")
    assert as_json.exit_code == 0 and '"min_n": 30' in as_json.output
    bad = cli(api.data_dir, "indices", FORM, "--by", "district")
    assert bad.exit_code == 1 and "district" in bad.output
