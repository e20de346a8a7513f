"""The raw XLSX for analysis (issue 17, point 5): numbers as numbers, ratings as numbers, select_one
as labels by default (codes or both on request), notes left out, the review state worded as on
screen, a file name saying form, unit and period. Through the real path: `forms publish`, the
receiver, the API's download, openpyxl."""
from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

import storage
from tests.harness.instances import primary_instance
from conftest import ROOT, cli
from actions.receive.accept import receive
from storage import forms, reviews
from storage.blobs import BlobStore
from web_site import signed_in
from xlsforms import write_xlsform

FORM = "phan_tich"
SURVEY = [["type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "criterion"],
          ["start", "start", "", "", ""],
          ["text", "unit", "Đơn vị", "Unit", ""],
          ["note", "gioi_thieu", "Xin cảm ơn Ông/Bà đã tham gia", "Thank you for taking part", ""],
          ["select_one gt", "gioi_tinh", "Giới tính", "Gender", ""],
          ["select_one s5", "q_proc", "Thủ tục", "Procedure", "procedure"],
          ["select_one s5", "q_staff", "Công chức", "Staff", "staff"],
          ["select_one s5", "q_result", "Kết quả", "Result", "result"],
          ["integer", "so_lan", "Số lần đi lại", "Visits", ""],
          ["date", "ngay_nop", "Ngày nộp", "Date filed", ""]]
CHOICES = [["list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)"],
           ["gt", "nam", "Nam", "Male"], ["gt", "nu", "Nữ", "Female"],
           *[["s5", v, f"Mức {v}", f"Level {v}"] for v in "54321"]]
# (instance, unit, gender, procedure, staff, result, visits, date filed, review)
ANSWERS = [("uuid:a1", "474", "nam", "5", "4", "2", "3", "2026-07-01", "approved"),
           ("uuid:a2", "474", "nu", "3", "5", "4", "1", "2026-08-15", None),
           ("uuid:a3", "481", "nu", "1", "2", "5", "7", "2026-09-30", "rejected")]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from tests.harness.site import seed
    data_dir = tmp_path_factory.mktemp("officer-exports")
    seed(data_dir)
    path = write_xlsform(data_dir / f"{FORM}.xlsx", SURVEY, CHOICES,
                         {"form_id": FORM, "version": "1", "form_title": "Phân tích",
                          "default_language": "Tiếng Việt (vi)"})
    result = cli(data_dir, "forms", "publish", str(path))
    assert result.exit_code == 0, result.output
    db = storage.connect(data_dir)
    root = primary_instance(forms.get_version(db, FORM, "1")["xform"])
    name, version = root.tag.rsplit("}", 1)[-1], root.get("version")
    for iid, unit, gender, proc, staff, res, visits, filed, review in ANSWERS:
        xml = (f'<{name} id="{FORM}" version="{version}"><start>2026-07-10T09:00:00.000+07:00</start>'
               f"<unit>{unit}</unit><gioi_thieu/><gioi_tinh>{gender}</gioi_tinh><q_proc>{proc}</q_proc>"
               f"<q_staff>{staff}</q_staff><q_result>{res}</q_result><so_lan>{visits}</so_lan>"
               f"<ngay_nop>{filed}</ngay_nop><meta><instanceID>{iid}</instanceID></meta></{name}>").encode()
        outcome = receive(db, BlobStore(data_dir / "blobs"), xml=xml, uploads=[], submitter=None,
                          device_id="collect:test", arrival_channel="interview")
        assert outcome.outcome == "created", outcome
        if review:
            reviews.add_review(db, outcome.submission_id, review, None, "admin")
    return data_dir


def download(data_dir, **params):
    from server import create_app
    client = signed_in(create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None}), "admin")
    return client.get(f"/api/v1/forms/{FORM}/export.xlsx", query_string=params)


def rows_of(response) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(book[FORM].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_labels_by_default_ratings_and_integers_as_numbers_dates_as_dates_no_notes(data_dir):
    response = download(data_dir)
    assert response.status_code == 200
    rows = {r["KEY"]: r for r in rows_of(response)}
    assert set(rows) == {a[0] for a in ANSWERS}
    gender_vi = {"nam": "Nam", "nu": "Nữ"}
    for iid, unit, gender, proc, staff, res, visits, filed, review in ANSWERS:
        row = rows[iid]
        assert row["Giới tính"] == gender_vi[gender]
        assert (row["Thủ tục"], row["Công chức"], row["Kết quả"]) == (int(proc), int(staff), int(res))
        assert row["Số lần đi lại"] == int(visits) and isinstance(row["Số lần đi lại"], int)
        assert row["Ngày nộp"] == datetime.fromisoformat(filed)
        assert row["Trạng thái duyệt"] == {"approved": "Đã duyệt", "rejected": "Bị loại", None: "Mới nhận"}[review]
    header = list(rows["uuid:a1"])
    assert not any("cảm ơn" in h or "gioi_thieu" in h for h in header)        # the note is left out
    # Excel's AVERAGE works: the ratings are numbers, whose mean is the answers' mean
    mean = sum(int(a[3]) for a in ANSWERS) / len(ANSWERS)
    assert sum(r["Thủ tục"] for r in rows.values()) / len(rows) == pytest.approx(mean)
    # the words of the review state are those the submission pages show
    from server.web.i18n import TERMS
    assert {r["Trạng thái duyệt"] for r in rows.values()} == {TERMS["review"][s][0] for s in ("approved", "rejected", "received")}


def test_codes_or_both_on_request_and_a_bad_choice_is_refused(data_dir):
    codes = {r["KEY"]: r for r in rows_of(download(data_dir, values="codes"))}
    assert codes["uuid:a1"]["Giới tính"] == "nam" and codes["uuid:a1"]["Thủ tục"] == 5
    both = {r["KEY"]: r for r in rows_of(download(data_dir, values="both", lang="en"))}
    row = both["uuid:a2"]
    assert (row["Gender (code)"], row["Gender (label)"]) == ("nu", "Female")
    assert (row["Procedure"], row["Procedure (label)"]) == (3, "Level 3")
    refused = download(data_dir, values="nhan")
    assert refused.status_code == 400 and refused.get_json()["error"]["message_vi"]


def test_file_name_says_form_unit_and_period(data_dir):
    def name(response):
        return response.headers["Content-Disposition"].split("filename=")[1].strip('"')
    assert name(download(data_dir, unit="474", period="2026-q3")) == f"{FORM}_474_2026-Q3.xlsx"
    assert name(download(data_dir)) == f"{FORM}_toan-tinh_tat-ca.xlsx"
    assert name(download(data_dir, **{"from": "2026-07-01", "to": "2026-07-31"})) == \
        f"{FORM}_toan-tinh_2026-07-01_2026-07-31.xlsx"
    assert len(rows_of(download(data_dir, unit="481", period="2026-Q3"))) == 1
