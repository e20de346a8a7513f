"""The download API (/api/v1/forms/<id>/export.xlsx, export.csv.zip, report.xlsx) through a real
server process (gunicorn, 2 workers), with submissions sent by Collect-like clients: who may
download what, identifiers, refusals as JSON before any byte, the audit log, and the report's
numbers against the indices API's JSON for the same period and unit."""
from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
import requests

import storage
from tests.harness.instances import fill_instance, rate_all, standard_answers
from tests.harness.collect_client import CollectClient
from conftest import PASSWORD, LiveServer, cli, seed

FORM = "tthc_hailong"
DOSSIER = "H46.99-260711-0042"
VN = timezone(timedelta(hours=7))


def _answers(unit: str, value: str, start: str, channel: str | None = None, comment: str = "",
             dossier: str = "") -> dict:
    values = standard_answers(random.Random(0), unit, "huyen", channel=channel)
    values.update({"start": start, "today": start[:10], "main/comment": comment, "main/dossier_code": dossier})
    return rate_all(values, value)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """Unit 474 in Q3 2026: three all-5 (one online) and one all-2 with a comment and a dossier
    code; unit 481 in Q3: two all-4; 474 in Q2: one all-5."""
    data_dir = tmp_path_factory.mktemp("exports_api")
    tokens = seed(data_dir)
    for name, role, unit in [("bao_cao_aluoi", "reporter", "481"), ("bao_cao_tinh", "reporter", None),
                             ("quan_tri_hue", "admin", "474")]:
        args = ["users", "create", name, "--role", role, "--password-stdin"] + (["--unit", unit] if unit else [])
        assert cli(data_dir, *args, input=PASSWORD + "\n").exit_code == 0
    server = LiveServer(data_dir).start()
    hue = CollectClient(f"{server.url}/key/{tokens['dtv_hue']}")
    aluoi = CollectClient(f"{server.url}/key/{tokens['dtv_aluoi']}")
    xform = hue.download_form(hue.form_list(FORM)[0])
    sent = [(hue, _answers("474", "5", "2026-07-10T09:00:00.000+07:00", channel=c)) for c in (None, None, "online")]
    sent.append((hue, _answers("474", "2", "2026-07-11T09:00:00.000+07:00", comment="Chờ quá lâu", dossier=DOSSIER)))
    sent += [(aluoi, _answers("481", "4", "2026-08-10T09:00:00.000+07:00")) for _ in range(2)]
    sent.append((hue, _answers("474", "5", "2026-05-10T09:00:00.000+07:00")))
    for client, values in sent:
        responses = client.submit(fill_instance(xform, values))
        assert responses[-1].status_code == 201, responses[-1].text
    yield server
    server.stop()


def get(server, path: str, user: str | None = "admin", **params) -> requests.Response:
    auth = (user, PASSWORD) if user else None
    return requests.get(server.url + "/api/v1" + path, params=params, auth=auth, timeout=60)


def xlsx_rows(response: requests.Response, sheet: str = FORM) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def csv_rows(response: requests.Response, name: str = f"{FORM}.csv") -> list[dict]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"), newline="")))


def audit(server, action_prefix: str = "export.") -> list[tuple]:
    db = storage.connect(server.data_dir, migrate=False)
    try:
        return db.execute("SELECT actor, action, target, details_json FROM audit_log WHERE action LIKE ? ORDER BY id",
                          [action_prefix + "%"]).fetchall()
    finally:
        db.close()


# --- downloads and unit scope ---------------------------------------------------------------------

def test_xlsx_download_holds_the_accounts_rows_only(api):
    everyone = get(api, f"/forms/{FORM}/export.xlsx", headers="names")
    assert everyone.status_code == 200
    assert everyone.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'attachment; filename=tthc_hailong_toan-tinh_tat-ca.xlsx' in everyone.headers["Content-Disposition"].replace('"', "")
    assert int(everyone.headers["Content-Length"]) == len(everyone.content)
    assert sorted(r["_unit"] for r in xlsx_rows(everyone)) == ["474"] * 5 + ["481"] * 2
    viewer = xlsx_rows(get(api, f"/forms/{FORM}/export.xlsx", user="xem_hue", headers="names"))
    assert [r["_unit"] for r in viewer] == ["474"] * 5 and {r["main/unit"] for r in viewer} == {"474"}
    reporter = xlsx_rows(get(api, f"/forms/{FORM}/export.xlsx", user="bao_cao_aluoi", headers="names"))
    assert [r["_unit"] for r in reporter] == ["481", "481"]
    # the filters of the indices, on the interview date in Vietnam's time
    q3 = xlsx_rows(get(api, f"/forms/{FORM}/export.xlsx", user="xem_hue", headers="names", period="2026-Q3"))
    assert len(q3) == 4 and all(r["start"].month in (7, 8, 9) for r in q3)
    labelled = openpyxl.load_workbook(io.BytesIO(get(api, f"/forms/{FORM}/export.xlsx", user="xem_hue",
                                                     lang="en").content))
    header = [c.value for c in labelled[FORM][1]]
    assert "Gender" in header and "Gender/Male" not in header and "Unit code" in header


def test_csv_zip_is_streamed_in_centrals_layout(api):
    response = get(api, f"/forms/{FORM}/export.csv.zip", user="xem_hue")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    assert "Content-Length" not in response.headers            # streamed as it is made
    assert response.headers["Content-Disposition"] == 'attachment; filename="tthc_hailong_474_tat-ca.csv.zip"'
    rows = csv_rows(response)
    header = list(rows[0])
    assert header[0] == "SubmissionDate" and header[-11:] == [
        "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
        "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    assert "main-procedure-proc_posted" in header and "main-dossier_code" not in header
    assert {r["main-unit"] for r in rows} == {"474"} and len(rows) == 5
    assert {r["SubmitterName"] for r in rows} == {"dtv_hue"} and all(r["KEY"] == r["meta-instanceID"] for r in rows)
    aluoi = csv_rows(get(api, f"/forms/{FORM}/export.csv.zip", user="bao_cao_aluoi"))
    assert {r["main-unit"] for r in aluoi} == {"481"}


# --- identifiers ---------------------------------------------------------------------------------

def test_identifiers_only_for_an_administrator_who_asks(api):
    before = len(audit(api))
    assert DOSSIER.encode() not in get(api, f"/forms/{FORM}/export.csv.zip").content
    for user in ("xem_hue", "bao_cao_tinh", "bao_cao_aluoi"):
        refused = get(api, f"/forms/{FORM}/export.csv.zip", user=user, identifiers="1")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_identifiers"
        assert "Content-Disposition" not in refused.headers
    given = get(api, f"/forms/{FORM}/export.csv.zip", identifiers="1")
    rows = csv_rows(given)
    assert [r["main-dossier_code"] for r in rows if r["main-dossier_code"]] == [DOSSIER]
    # an administrator of one unit may ask too, for the rows of that unit
    hue = xlsx_rows(get(api, f"/forms/{FORM}/export.xlsx", user="quan_tri_hue", identifiers="1", headers="names"))
    assert DOSSIER in {r["main/dossier_code"] for r in hue} and {r["_unit"] for r in hue} == {"474"}
    entries = audit(api)[before:]
    assert [(actor, action) for actor, action, _, _ in entries] == [
        ("admin", "export.csvzip"), ("admin", "export.csvzip"), ("quan_tri_hue", "export.xlsx")]
    assert [json.loads(details)["identifiers"] for _, _, _, details in entries] == [False, True, True]
    assert json.loads(entries[2][3])["scope"] == "474"


# --- refusals --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, params, user, status, code", [
    ("/forms/khong_co/export.xlsx", {}, "admin", 404, "unknown_form"),
    ("/forms/khong_co/report.xlsx", {"period": "2026-Q3"}, "admin", 404, "unknown_form"),
    (f"/forms/{FORM}/report.xlsx", {"period": "2026-Q5"}, "admin", 400, "bad_period"),
    (f"/forms/{FORM}/report.xlsx", {"period": "2026-Q3", "unit": "481"}, "xem_hue", 403, "forbidden_unit"),
    (f"/forms/{FORM}/report.xlsx", {"period": "2026-Q3", "min_n": "0"}, "admin", 400, "bad_min_n"),
    (f"/forms/{FORM}/export.xlsx", {"from": "2026-13-01"}, "admin", 400, "bad_date"),
    (f"/forms/{FORM}/export.xlsx", {"period": "2026-Q3", "to": "2026-09-01"}, "admin", 400, "period_and_dates"),
    (f"/forms/{FORM}/export.xlsx", {"untit": "474"}, "admin", 400, "unknown_parameter"),
    (f"/forms/{FORM}/export.xlsx", {"media": "1"}, "admin", 400, "unknown_parameter"),
    (f"/forms/{FORM}/export.xlsx", {"lang": "fr"}, "admin", 400, "bad_choice"),
    (f"/forms/{FORM}/export.xlsx", {"unit": "481"}, "xem_hue", 403, "forbidden_unit"),
    (f"/forms/{FORM}/export.csv.zip", {"unit": "999"}, "admin", 400, "unknown_unit"),
    (f"/forms/{FORM}/export.csv.zip", {"review_state": "done"}, "admin", 400, "bad_choice"),
    (f"/forms/{FORM}/export.csv.zip", {"version": "1"}, "admin", 400, "unknown_version"),
    (f"/forms/{FORM}/export.csv.zip", {}, None, 401, "unauthorized"),
    (f"/forms/{FORM}/export.csv.zip", {}, "thu_ky", 403, "forbidden_role"),
])
def test_bad_requests_get_a_json_error_and_no_file(api, path, params, user, status, code):
    before = len(audit(api))
    response = get(api, path, user=user, **params)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Content-Disposition" not in response.headers
    error = response.json()["error"]
    assert error["code"] == code and error["message_vi"] and error["message_en"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert len(audit(api)) == before                          # nothing was exported


# --- the report --------------------------------------------------------------------------------------

def _summary(book) -> dict[str, tuple]:
    return {row[1]: row for row in book["Tổng hợp"].iter_rows(values_only=True) if row[1]}


def test_report_equals_the_indices_api(api):
    response = get(api, f"/forms/{FORM}/report.xlsx", period="2026-Q3", min_n="2")
    assert response.status_code == 200
    assert "bao-cao-tthc_hailong-2026-Q3.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng hợp", "Theo tiêu chí", "Theo kênh", "Theo đối tượng", "Không hài lòng", "Biểu đồ"]
    assert len(book["Biểu đồ"]._charts) == 5
    summary = _summary(book)
    ranking = get(api, f"/forms/{FORM}/rankings", level="huyen", period="2026-Q3", min_n="2").json()
    for unit in ranking["units"]:
        row = summary[unit["unit"]]
        if unit["n"] == 0:
            assert row[17] == "chưa có phiếu"
            continue
        ci = unit["ci"] or [None, None]
        previous = unit["previous"]["index"] if unit["previous"] else None
        assert (row[4], row[5], row[6], row[7], row[8], row[9], row[10]) == (
            unit["n"], unit["index"], ci[0], ci[1], unit["rank"], previous, unit["change"])
        assert (row[11], row[13], row[15]) == tuple(unit["criteria"][c] for c in ("procedure", "staff", "result"))
    # 474 in Q3: three all-5 and one all-2: 75; 481: two all-4: 100
    assert summary["481"][5] == 100.0 and summary["474"][5] == 75.0 and summary["474"][8] == 2
    total = get(api, f"/forms/{FORM}/indices", min_n="2", **{"from": "2026-07-01", "to": "2026-09-30"}).json()
    (cell,) = total["cells"]
    row = next(r for r in book["Tổng hợp"].iter_rows(values_only=True) if r[2] == "Toàn tỉnh")
    assert (row[3], row[4], row[5], row[6], row[7]) == (cell["submissions"], cell["n"], cell["overall"]["index"],
                                                        *cell["overall"]["ci"])
    assert (row[12], row[14], row[16]) == tuple(cell["criteria"][c]["n"] for c in ("procedure", "staff", "result"))
    # the channel table
    channels = get(api, f"/forms/{FORM}/indices", by="channel", min_n="2",
                   **{"from": "2026-07-01", "to": "2026-09-30"}).json()["cells"]
    table = {r[0]: r for r in book["Theo kênh"].iter_rows(values_only=True) if r[0] and isinstance(r[1], int)}
    for cell in channels:
        row = table[cell["label"]["channel"]["vi"]]
        shown = cell["overall"]["index"] if cell["enough"] else "không đủ số phiếu"
        assert (row[1], row[2], row[3], row[9], row[10]) == (
            cell["submissions"], cell["n"], shown, cell["mean_score"], cell["dissatisfied_pct"])
    assert {cell["enough"] for cell in channels} == {True, False}
    # the items of each criterion
    items = get(api, f"/forms/{FORM}/indices", items="1", min_n="2",
                **{"from": "2026-07-01", "to": "2026-09-30"}).json()["cells"][0]["items"]
    rows = [r for r in book["Theo tiêu chí"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert [(r[2], r[3], r[4]) for r in rows] == [(i["answers"], i["satisfied"], i["index"]) for i in items]
    # the dissatisfied comment, without the dossier code
    texts = [str(v) for r in book["Không hài lòng"].iter_rows(values_only=True) for v in r if v is not None]
    assert "Chờ quá lâu" in texts and not any(DOSSIER in t for t in texts)


def test_report_for_a_viewer_stays_in_its_unit(api):
    response = get(api, f"/forms/{FORM}/report.xlsx", user="xem_hue", period="2026-Q3", min_n="2")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    summary = _summary(book)
    assert "481" not in summary and summary["474"][4] == 4
    assert "Thành phố Huế" in book["Tổng hợp"]["A7"].value          # the unit line under the title
    texts = " ".join(str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r if v)
    assert "A Lưới" not in texts


def test_report_defaults_to_the_running_quarter(api):
    response = get(api, f"/forms/{FORM}/report.xlsx", user="bao_cao_tinh")
    now = datetime.now(VN)
    assert response.status_code == 200
    assert f"{now.year}-Q{(now.month - 1) // 3 + 1}" in response.headers["Content-Disposition"]
    assert audit(api)[-1][:2] == ("bao_cao_tinh", "export.report")
