"""Exports (exports/) through the real path: forms published with the `forms publish` command,
submissions through the receiver into storage, files opened with openpyxl, zipfile and csv.

Expected values are written out here from the submitted XML, not taken from the exporter.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

import storage
from aggregate import IndexQuery, compute_indices, render
from tests.harness.instances import primary_instance
from conftest import FIXTURES, ROOT, cli
from exports import (ExportQuery, ReportQuery, prepare, prepare_report, record_export, stream_csv_zip,
                     write_report, write_xlsx)
from aggregate.problems import QueryError
from actions.receive.accept import Upload, receive
from storage import forms, reviews
from storage.blobs import BlobStore
from xlsforms import write_xlsform

VN = timezone(timedelta(hours=7))
FORM = "ho_so"
SECRET_NAME = "Nguyễn Văn Bí Mật"
SECRET_PHONE = "0905123456"
SECRET_DOSSIER = "H46.99-260710-0001"
COMMUNES = [("474-01", "474", "Phường Phú Hội"), ("481-01", "481", "Thị trấn A Lưới")]


def _survey(version: str) -> list[list]:
    """Two versions of a small questionnaire: v2 renames a question, adds one, drops one, and
    changes the choices of the select_multiple."""
    header = ["type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "criterion", "sensitive"]
    rows = [["start", "start", "", "", "", ""],
            ["text", "unit", "Đơn vị", "Unit", "", ""],
            ["select_one s5", "q_proc", "Thủ tục" if version == "1" else "Giải quyết thủ tục",
             "Procedure" if version == "1" else "Handling of the procedure", "procedure", ""],
            ["select_one s5", "q_staff", "Công chức", "Staff", "staff", ""],
            ["select_one s5", "q_result", "Kết quả", "Result", "result", ""]]
    if version == "2":
        rows.append(["text", "moi_v2", "Câu mới", "New question", "", ""])
    rows += [["select_multiple kenh", "kenh_biet", "Biết qua kênh nào", "Heard through", "", ""],
             ["text", "dossier_code", "Mã hồ sơ", "Dossier code", "", ""],
             ["text", "ho_ten", "Họ tên", "Name", "", "yes"],
             ["integer", "so_lan", "Số lần đi lại", "Visits", "", ""],
             ["decimal", "phi", "Phí", "Fee", "", ""],
             ["date", "ngay_nop", "Ngày nộp", "Date filed", "", ""],
             ["dateTime", "luc_nhan", "Lúc nhận kết quả", "Result received at", "", ""],
             ["geopoint", "vi_tri", "Vị trí", "Location", "", ""]]
    if version == "1":
        rows.append(["text", "cu_v1", "Câu cũ", "Old question", "", ""])
    rows += [["begin_group", "nhom", "Nhóm", "Group", "", ""],
             ["text", "ghi_chu", "Ghi chú", "Note", "", ""],
             ["end_group", "", "", "", "", ""],
             ["begin_repeat", "thanh_vien", "Thành viên", "Member", "", ""],
             ["text", "ten_tv", "Tên", "Name", "", ""],
             ["text", "dien_thoai", "Điện thoại", "Phone", "", "yes"],
             ["begin_repeat", "giay_to", "Giấy tờ", "Document", "", ""],
             ["text", "loai", "Loại", "Kind", "", ""],
             ["end_repeat", "", "", "", "", ""],
             ["end_repeat", "", "", "", "", ""],
             ["image", "anh", "Ảnh", "Photo", "", ""]]
    return [header] + rows


def _choices(version: str) -> list[list]:
    rows = [["list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)"]]
    rows += [["s5", v, v, v] for v in "543210"]
    rows += [["kenh", "bao", "Báo chí", "Newspaper"], ["kenh", "loa", "Loa phát thanh", "Loudspeaker"]]
    rows.append(["kenh", "mang", "Mạng xã hội", "Social media"] if version == "1"
                else ["kenh", "web", "Cổng thông tin", "Web portal"])
    return rows


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Units (the seed tree and two communes) and the forms, published with the command."""
    data_dir = tmp_path_factory.mktemp("exports_template")
    assert cli(data_dir, "units", "import", str(ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv")).exit_code == 0
    communes = data_dir / "communes.csv"
    communes.write_text("code,parent_code,level,name_vi,name_en\n" + "".join(
        f"{code},{parent},xa,{name},{name}\n" for code, parent, name in COMMUNES), encoding="utf-8")
    assert cli(data_dir, "units", "import", str(communes)).exit_code == 0
    for version in ("1", "2"):
        path = write_xlsform(data_dir / f"{FORM}_v{version}.xlsx", _survey(version), _choices(version),
                             {"form_id": FORM, "version": version, "form_title": "Hồ sơ thử",
                              "default_language": "Tiếng Việt (vi)"})
        result = cli(data_dir, "forms", "publish", str(path))
        assert result.exit_code == 0, result.output
    for name in ("central-withrepeat.form.xml", "central-doubleRepeat.form.xml"):
        result = cli(data_dir, "forms", "publish", str(FIXTURES / "xform" / name))
        assert result.exit_code == 0, result.output
    return data_dir


class Site:
    def __init__(self, template: Path, data_dir: Path):
        import shutil
        shutil.copytree(template, data_dir)
        self.data_dir = data_dir
        self.db = storage.connect(data_dir)
        self.db.execute("PRAGMA synchronous = OFF")
        self.blobs = BlobStore(data_dir / "blobs")

    def receive(self, xml: bytes, uploads: list[Upload] = ()) -> int:
        result = receive(self.db, self.blobs, xml=xml, uploads=list(uploads), submitter=None,
                         device_id="collect:test", arrival_channel="interview")
        assert result.outcome == "created", result
        return result.submission_id

    def xform(self, form_id: str, version: str) -> bytes:
        return forms.get_version(self.db, form_id, version)["xform"]


@pytest.fixture
def site(template, tmp_path) -> Site:
    return Site(template, tmp_path / "site")


def ho_so_xml(site: Site, version: str, iid: str, *, unit="474", start="2026-07-10T09:00:00.000+07:00",
              members=(), extra="", deprecated: str | None = None) -> bytes:
    """An instance of ho_so; members: [(name, phone, [kind, ...]), ...]."""
    root = primary_instance(site.xform(FORM, version))
    name, version_attr = root.tag.rsplit("}", 1)[-1], root.get("version")
    people = "".join(
        f"<thanh_vien><ten_tv>{n}</ten_tv><dien_thoai>{p}</dien_thoai>"
        + "".join(f"<giay_to><loai>{k}</loai></giay_to>" for k in kinds) + "</thanh_vien>"
        for n, p, kinds in members)
    meta = f"<instanceID>{iid}</instanceID>" + (f"<deprecatedID>{deprecated}</deprecatedID>" if deprecated else "")
    return (f'<{name} id="{FORM}" version="{version_attr}"><start>{start}</start><unit>{unit}</unit>'
            f"<q_proc>5</q_proc><q_staff>4</q_staff><q_result>2</q_result>{extra}{people}"
            f"<meta>{meta}</meta></{name}>").encode("utf-8")


def full_xml(site: Site, iid: str, **kw) -> bytes:
    extra = (f"<kenh_biet>bao web</kenh_biet><dossier_code>{SECRET_DOSSIER}</dossier_code>"
             f"<ho_ten>{SECRET_NAME}</ho_ten><so_lan>3</so_lan><phi>12.5</phi><ngay_nop>2026-07-01</ngay_nop>"
             "<luc_nhan>2026-07-10T02:30:00.000Z</luc_nhan><vi_tri>16.4637 107.5909 12.5 4.0</vi_tri>"
             "<moi_v2>mới</moi_v2><nhom><ghi_chu>=1+1</ghi_chu></nhom><anh>anh.jpg</anh>")
    return ho_so_xml(site, "2", iid, extra=extra, **kw)


def sheet_rows(path_or_bytes, name: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes)
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]


def as_dicts(rows: list[tuple]) -> list[dict]:
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def export_xlsx(site: Site, tmp_path: Path, **query) -> Path:
    plan = prepare(site.db, ExportQuery(**query))
    path = tmp_path / f"{query['form_id']}-{len(list(tmp_path.iterdir()))}.xlsx"
    write_xlsx(site.db, plan, path, tmpdir=str(tmp_path))
    return path


def export_zip(site: Site, **query) -> zipfile.ZipFile:
    plan = prepare(site.db, ExportQuery(**query))
    return zipfile.ZipFile(io.BytesIO(b"".join(stream_csv_zip(site.db, plan, blobs=site.blobs, chunk=512))))


def read_csv(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(name).decode("utf-8"), newline="")))


# --- Central's fixture forms: repeats and nested repeats ----------------------------------------

def test_withrepeat_fixture_in_both_formats(site, tmp_path):
    site.receive((FIXTURES / "submissions" / "central-withrepeat.two.submission.xml").read_bytes())
    site.receive(b'<data id="withrepeat" version="1.0"><orx:meta xmlns:orx="http://openrosa.org/xforms">'
                 b"<orx:instanceID>rthree</orx:instanceID></orx:meta><name>Chelsea</name><age>38</age>"
                 b"<children><child><name>Candace</name><age>2</age></child></children></data>")
    path = export_xlsx(site, tmp_path, form_id="withrepeat", lang="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["About", "withrepeat", "child"]
    top = as_dicts(sheet_rows(path, "withrepeat"))
    assert [(r["What is your name?"], r["What is your age?"], r["KEY"], r["_index"]) for r in top] == [
        ("Bob", 34, "rtwo", 1), ("Chelsea", 38, "rthree", 2)]
    assert top[0]["Form version"] == "1.0" and top[0]["Review state"] == "Received"
    assert top[0]["Channel"] == "Interview"
    children = as_dicts(sheet_rows(path, "child"))
    assert [(c["What is the child's name?"], c["What is the child's age?"], c["_index"], c["_parent_index"],
             c["_parent_table_name"], c["KEY"], c["PARENT_KEY"]) for c in children] == [
        ("Billy", 4, 1, 1, "withrepeat", "rtwo/children/child[1]", "rtwo"),
        ("Blaine", 6, 2, 1, "withrepeat", "rtwo/children/child[2]", "rtwo"),
        ("Candace", 2, 3, 2, "withrepeat", "rthree/children/child[1]", "rthree")]

    archive = export_zip(site, form_id="withrepeat")
    assert sorted(archive.namelist()) == ["withrepeat-child.csv", "withrepeat.csv"]
    root = read_csv(archive, "withrepeat.csv")
    assert root[0] == ["SubmissionDate", "meta-instanceID", "name", "age", "KEY", "SubmitterID", "SubmitterName",
                       "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID",
                       "Edits", "FormVersion"]
    assert [row[1:5] for row in root[1:]] == [["rtwo", "Bob", "34", "rtwo"], ["rthree", "Chelsea", "38", "rthree"]]
    assert root[1][5:] == ["", "", "0", "0", "", "", "collect:test", "0", "1.0"]
    assert read_csv(archive, "withrepeat-child.csv") == [
        ["name", "age", "PARENT_KEY", "KEY"],
        ["Billy", "4", "rtwo", "rtwo/children/child[1]"],
        ["Blaine", "6", "rtwo", "rtwo/children/child[2]"],
        ["Candace", "2", "rthree", "rthree/children/child[1]"]]
    # Central writes UTF-8 without a byte order mark and \n line ends
    raw = archive.read("withrepeat.csv")
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw


def test_nested_repeats_link_to_their_parents(site, tmp_path):
    xml = (FIXTURES / "submissions" / "central-doubleRepeat.double.submission.xml").read_bytes()
    site.receive(xml)
    # the expected links, read from the XML itself
    expected = []
    text = xml.decode().replace("orx:", "")
    for c, child in enumerate(ElementTree.fromstring(text).find("children").findall("child"), start=1):
        for t, toy in enumerate(child.findall("toys/toy"), start=1):
            expected.append((toy.findtext("name"), f"double/children/child[{c}]/toys/toy[{t}]",
                             f"double/children/child[{c}]", child.findtext("name")))
    path = export_xlsx(site, tmp_path, form_id="doubleRepeat", headers="names")
    children = {row["_index"]: row for row in as_dicts(sheet_rows(path, "child"))}
    toys = as_dicts(sheet_rows(path, "toy"))
    assert [(t["children/child/toys/toy/name"], t["KEY"], t["PARENT_KEY"],
             children[t["_parent_index"]]["children/child/name"]) for t in toys] == expected
    assert all(children[t["_parent_index"]]["KEY"] == t["PARENT_KEY"] for t in toys)
    assert {t["_parent_table_name"] for t in toys} == {"child"}
    archive = export_zip(site, form_id="doubleRepeat")
    toy_csv = read_csv(archive, "doubleRepeat-toy.csv")
    assert toy_csv[0] == ["name", "PARENT_KEY", "KEY"]
    assert [tuple(row) for row in toy_csv[1:]] == [(name, parent, key) for name, key, parent, _ in expected]


# --- the merged versions, types, select_multiple, geopoints, dates ---------------------------------

def test_versions_merge_into_one_table(site, tmp_path):
    site.receive(ho_so_xml(site, "1", "uuid:v1", extra="<cu_v1>cũ</cu_v1><kenh_biet>mang bao</kenh_biet>"))
    site.receive(ho_so_xml(site, "2", "uuid:v2", extra="<moi_v2>mới</moi_v2><kenh_biet>web</kenh_biet>"))
    rows = sheet_rows(export_xlsx(site, tmp_path, form_id=FORM, headers="names"), FORM)
    header = list(rows[0])
    # v2's order, then what only v1 had, then the metadata
    fields = header[:header.index("_received")]
    assert fields == ["start", "unit", "q_proc", "q_staff", "q_result", "moi_v2", "kenh_biet",
                      "kenh_biet/bao", "kenh_biet/loa", "kenh_biet/web", "kenh_biet/mang", "so_lan", "phi",
                      "ngay_nop", "luc_nhan", "vi_tri-Latitude", "vi_tri-Longitude", "vi_tri-Altitude",
                      "vi_tri-Accuracy", "nhom/ghi_chu", "anh", "meta/instanceID", "cu_v1"]
    by_key = {row["KEY"]: row for row in as_dicts(rows)}
    assert (by_key["uuid:v1"]["cu_v1"], by_key["uuid:v1"]["moi_v2"], by_key["uuid:v1"]["_version"]) == ("cũ", None, "1")
    assert (by_key["uuid:v2"]["cu_v1"], by_key["uuid:v2"]["moi_v2"], by_key["uuid:v2"]["_version"]) == (None, "mới", "2")
    # one column per choice of every version, 0/1
    assert [by_key["uuid:v1"][f"kenh_biet/{c}"] for c in ("bao", "loa", "web", "mang")] == [1, 0, 0, 1]
    assert [by_key["uuid:v2"][f"kenh_biet/{c}"] for c in ("bao", "loa", "web", "mang")] == [0, 0, 1, 0]
    # labels: the newest version's, in the language asked for
    vi = sheet_rows(export_xlsx(site, tmp_path, form_id=FORM, lang="vi"), FORM)[0]
    en = sheet_rows(export_xlsx(site, tmp_path, form_id=FORM, lang="en"), FORM)[0]
    assert vi[2:6] == ("Giải quyết thủ tục", "Công chức", "Kết quả", "Câu mới")
    assert en[2] == "Handling of the procedure" and en[-10] == "Old question"
    assert "Biết qua kênh nào/Mạng xã hội" in vi and "Heard through/Web portal" in en
    assert vi[vi.index("Thời điểm nhận"):] == ("Thời điểm nhận", "Người gửi", "Mã đơn vị", "Tên đơn vị",
                                              "Kênh khảo sát", "Trạng thái duyệt", "Phiên bản biểu mẫu",
                                              "KEY", "_index")


def test_values_keep_their_types_and_dates_are_vietnam_time(site, tmp_path):
    site.receive(full_xml(site, "uuid:full"))
    (row,) = as_dicts(sheet_rows(export_xlsx(site, tmp_path, form_id=FORM, headers="names"), FORM))
    assert row["start"] == datetime(2026, 7, 10, 9, 0)               # already +07:00
    assert row["luc_nhan"] == datetime(2026, 7, 10, 9, 30)           # 02:30Z is 09:30 in Huế
    assert row["ngay_nop"] == datetime(2026, 7, 1)
    assert (row["so_lan"], row["phi"], row["q_proc"]) == (3, 12.5, 5)
    assert (row["vi_tri-Latitude"], row["vi_tri-Longitude"], row["vi_tri-Altitude"], row["vi_tri-Accuracy"]) == (
        16.4637, 107.5909, 12.5, 4.0)
    assert row["nhom/ghi_chu"] == "=1+1"                              # text, never a formula
    received = row["_received"]
    assert abs(received - datetime.now(VN).replace(tzinfo=None)) < timedelta(minutes=5)
    assert (row["_unit"], row["_unit_name"], row["_channel"], row["_review_state"]) == (
        "474", "Thành phố Huế", "interview", "received")
    # the CSV keeps what the device sent
    archive = export_zip(site, form_id=FORM, split_select=True)
    table = read_csv(archive, f"{FORM}.csv")
    got = dict(zip(table[0], table[1]))
    assert (got["luc_nhan"], got["ngay_nop"], got["phi"], got["kenh_biet"]) == (
        "2026-07-10T02:30:00.000Z", "2026-07-01", "12.5", "bao web")
    assert (got["kenh_biet/bao"], got["kenh_biet/loa"], got["kenh_biet/web"]) == ("1", "0", "1")
    # a text a spreadsheet would run is quoted (exports/csvcells.py); raw cells keep it as sent
    assert (got["vi_tri-Latitude"], got["vi_tri-Accuracy"], got["nhom-ghi_chu"]) == ("16.4637", "4.0", "'=1+1")
    raw = read_csv(export_zip(site, form_id=FORM, raw_cells=True), f"{FORM}.csv")
    assert dict(zip(raw[0], raw[1]))["nhom-ghi_chu"] == "=1+1"
    assert "vi_tri" not in got and got["AttachmentsExpected"] == "1" and got["AttachmentsPresent"] == "0"
    # without split_select, Central's default: the answer only
    plain = read_csv(export_zip(site, form_id=FORM), f"{FORM}.csv")[0]
    assert "kenh_biet" in plain and not any(h.startswith("kenh_biet/") for h in plain)


# --- identifiers ----------------------------------------------------------------------------------

def _all_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row)


def test_identifiers_are_left_out_unless_asked_for(site, tmp_path):
    site.receive(full_xml(site, "uuid:secret", members=[("Lan", SECRET_PHONE, ["CMND"]), ("Huệ", "0912000111", [])]))
    secrets = (SECRET_NAME, SECRET_PHONE, SECRET_DOSSIER)
    plain = export_xlsx(site, tmp_path, form_id=FORM, headers="names")
    text = _all_text(plain)
    assert not any(secret in text for secret in secrets)
    assert "ho_ten" not in sheet_rows(plain, FORM)[0] and "dossier_code" not in sheet_rows(plain, FORM)[0]
    assert "thanh_vien/dien_thoai" not in sheet_rows(plain, "thanh_vien")[0]
    archive = export_zip(site, form_id=FORM)
    assert not any(secret in archive.read(name).decode() for name in archive.namelist() for secret in secrets)

    asked = prepare(site.db, ExportQuery(FORM, include_identifiers=True, headers="names"))
    path = tmp_path / "with-identifiers.xlsx"
    write_xlsx(site.db, asked, path)
    record_export(site.db, "admin", "xlsx", asked)
    (row,) = as_dicts(sheet_rows(path, FORM))
    assert (row["ho_ten"], row["dossier_code"]) == (SECRET_NAME, SECRET_DOSSIER)
    members = as_dicts(sheet_rows(path, "thanh_vien"))
    assert [(m["thanh_vien/ten_tv"], m["thanh_vien/dien_thoai"]) for m in members] == [
        ("Lan", SECRET_PHONE), ("Huệ", "0912000111")]
    assert "Thông tin định danh" in _all_text(path) and "CÓ" in _all_text(path)
    entry = site.db.execute("SELECT actor, action, target, details_json FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert entry[:3] == ("admin", "export.xlsx", FORM) and json.loads(entry[3])["identifiers"] is True
    # and in Central's layout, inside the repeat too
    archive = zipfile.ZipFile(io.BytesIO(b"".join(stream_csv_zip(site.db, asked))))
    members_csv = read_csv(archive, f"{FORM}-thanh_vien.csv")
    assert members_csv[0] == ["ten_tv", "dien_thoai", "PARENT_KEY", "KEY"]
    assert members_csv[1] == ["Lan", SECRET_PHONE, "uuid:secret", "uuid:secret/thanh_vien[1]"]
    assert read_csv(archive, f"{FORM}-giay_to.csv")[1] == [
        "CMND", "uuid:secret/thanh_vien[1]", "uuid:secret/thanh_vien[1]/giay_to[1]"]


# --- filters, edits, reviews, the row limit ---------------------------------------------------------

def test_filters_narrow_the_rows(site, tmp_path):
    site.receive(ho_so_xml(site, "1", "uuid:a", unit="474-01", start="2026-07-01T00:30:00.000+07:00"))
    site.receive(ho_so_xml(site, "2", "uuid:b", unit="474", start="2026-06-30T23:30:00.000+07:00"))
    site.receive(ho_so_xml(site, "2", "uuid:c", unit="481", start="2026-08-15T10:00:00.000+07:00"))
    rejected = site.receive(ho_so_xml(site, "2", "uuid:d", unit="481-01", start="2026-09-30T23:59:00.000+07:00"))
    assert reviews.add_review(site.db, rejected, "rejected", None, "test")

    def keys(**query) -> list[str]:
        plan = prepare(site.db, ExportQuery(FORM, **query))
        archive = zipfile.ZipFile(io.BytesIO(b"".join(stream_csv_zip(site.db, plan))))
        table = read_csv(archive, f"{FORM}.csv")
        return [row[table[0].index("KEY")] for row in table[1:]]

    assert keys() == ["uuid:a", "uuid:b", "uuid:c", "uuid:d"]
    # local days of the interview start: 00:30 on 1 July in Huế is still 30 June in UTC
    assert keys(date_from=date(2026, 7, 1), date_to=date(2026, 9, 30)) == ["uuid:a", "uuid:c", "uuid:d"]
    assert keys(date_to=date(2026, 6, 30)) == ["uuid:b"]
    assert keys(unit="474") == ["uuid:a", "uuid:b"]
    assert keys(unit="481") == ["uuid:c", "uuid:d"]
    assert keys(review_states=("rejected",)) == ["uuid:d"]
    assert keys(review_states=("received", "approved")) == ["uuid:a", "uuid:b", "uuid:c"]
    assert keys(versions=("1",)) == ["uuid:a"]
    # an account of 474 never leaves its subtree, and may not ask for another unit
    assert keys(scope="474") == ["uuid:a", "uuid:b"]
    with pytest.raises(QueryError) as refused:
        prepare(site.db, ExportQuery(FORM, scope="474", unit="481"))
    assert refused.value.code == "forbidden_unit" and refused.value.status == 403


@pytest.mark.parametrize("query, code", [
    ({"form_id": "khong_co"}, "unknown_form"),
    ({"form_id": FORM, "unit": "999"}, "unknown_unit"),
    ({"form_id": FORM, "versions": ("9",)}, "unknown_version"),
    ({"form_id": FORM, "lang": "fr"}, "bad_choice"),
    ({"form_id": FORM, "headers": "xml"}, "bad_choice"),
    ({"form_id": FORM, "review_states": ("done",)}, "bad_choice"),
    ({"form_id": FORM, "date_from": date(2026, 8, 1), "date_to": date(2026, 7, 1)}, "bad_range"),
])
def test_bad_queries_are_refused_before_writing(site, query, code):
    with pytest.raises(QueryError) as refused:
        prepare(site.db, ExportQuery(**query))
    assert refused.value.code == code
    assert refused.value.message("vi") and refused.value.message("en")


def test_only_the_latest_edit_is_exported_and_counted(site, tmp_path):
    site.receive(ho_so_xml(site, "2", "uuid:first", extra="<moi_v2>trước</moi_v2>"))
    site.receive(ho_so_xml(site, "2", "uuid:second", extra="<moi_v2>sau</moi_v2>", deprecated="uuid:first"))
    approved = site.receive(ho_so_xml(site, "2", "uuid:other"))
    assert reviews.add_review(site.db, approved, "approved", None, "test")
    table = read_csv(export_zip(site, form_id=FORM), f"{FORM}.csv")
    rows = [dict(zip(table[0], row)) for row in table[1:]]
    assert [(r["KEY"], r["moi_v2"], r["Edits"], r["ReviewState"]) for r in rows] == [
        ("uuid:second", "sau", "1", "edited"), ("uuid:other", "", "0", "approved")]


def test_a_table_longer_than_a_sheet_continues_on_the_next(site, tmp_path):
    for number in range(5):
        site.receive(ho_so_xml(site, "2", f"uuid:row{number}", members=[(f"tv{number}", "", [])]))
    plan = prepare(site.db, ExportQuery(FORM, headers="names"))
    path = tmp_path / "split.xlsx"
    result = write_xlsx(site.db, plan, path, max_rows=3)        # a header and 2 rows per sheet
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Thông tin", FORM, f"{FORM} (2)", f"{FORM} (3)", "thanh_vien",
                               "thanh_vien (2)", "thanh_vien (3)", "giay_to"]
    keys = []
    for name in (FORM, f"{FORM} (2)", f"{FORM} (3)"):
        rows = sheet_rows(path, name)
        assert rows[0][0] == "start"                             # the header again
        keys += [dict(zip(rows[0], row))["KEY"] for row in rows[1:]]
    assert keys == [f"uuid:row{n}" for n in range(5)]
    assert [row["_index"] for row in as_dicts(sheet_rows(path, f"{FORM} (3)"))] == [5]
    about = "\n".join(str(v) for row in book["Thông tin"].iter_rows(values_only=True) for v in row)
    assert f"tiếp tục ở {FORM} (2), {FORM} (3)" in about and f"tiếp theo của {FORM} (2)" in about
    assert result.tables[0].rows == 5 and result.tables[0].sheets == [FORM, f"{FORM} (2)", f"{FORM} (3)"]


def test_media_folder_in_the_zip(site, tmp_path):
    photo = b"\xff\xd8photo bytes\xff\xd9"
    site.receive(full_xml(site, "uuid:photo"), [Upload("anh.jpg", io.BytesIO(photo), "image/jpeg")])
    other = b"\xff\xd8another photo\xff\xd9"
    broken = site.receive(full_xml(site, "uuid:photo2"), [Upload("anh.jpg", io.BytesIO(other), "image/jpeg")])
    archive = export_zip(site, form_id=FORM, media=True)
    assert archive.read("media/anh.jpg") in (photo, other)
    same_name = [n for n in archive.namelist() if n.startswith("media/uuid_") and n.endswith("/anh.jpg")]
    assert len(same_name) == 1 and {archive.read("media/anh.jpg"), archive.read(same_name[0])} == {photo, other}
    assert read_csv(archive, f"{FORM}.csv")[1][read_csv(archive, f"{FORM}.csv")[0].index("AttachmentsPresent")] == "1"
    # a file gone from the disk is listed, not silently dropped
    sha = site.db.execute("SELECT sha256 FROM attachments WHERE submission_id = ?", [broken]).fetchone()[0]
    site.blobs.path(sha).unlink()
    archive = export_zip(site, form_id=FORM, media=True)
    note = archive.read("media/THIEU-TEP_MISSING-FILES.txt").decode()
    assert "uuid:photo2" in note and sha in note
    assert "media/" not in "".join(export_zip(site, form_id=FORM).namelist())


# --- the command ---------------------------------------------------------------------------------

def test_export_command(site, tmp_path):
    site.receive(full_xml(site, "uuid:cli", members=[("Lan", SECRET_PHONE, ["CMND"])]))
    out = tmp_path / "out" / "du-lieu.xlsx"
    result = cli(site.data_dir, "export", FORM, "--format", "xlsx", "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "Exporting" in result.output      # the progress bar
    assert openpyxl.load_workbook(out).sheetnames == ["About", FORM, "thanh_vien", "giay_to"]
    zipped = tmp_path / "out" / "du-lieu.csv.zip"
    result = cli(site.data_dir, "export", FORM, "--format", "csvzip", "--out", str(zipped),
                 "--include-identifiers", "--period", "2026-Q3")
    assert result.exit_code == 0, result.output
    assert SECRET_PHONE in zipfile.ZipFile(zipped).read(f"{FORM}-thanh_vien.csv").decode()
    entry = site.db.execute("SELECT actor, details_json FROM audit_log WHERE action = 'export.csvzip'").fetchone()
    assert entry[0] == "cli" and json.loads(entry[1])["identifiers"] is True
    report = tmp_path / "out" / "bao-cao.xlsx"
    result = cli(site.data_dir, "export", FORM, "--format", "report", "--period", "2026-Q3", "--out", str(report),
                 "--min-n", "1")
    assert result.exit_code == 0, result.output
    assert "Tổng hợp" in openpyxl.load_workbook(report).sheetnames
    # refusals: a message in both languages, exit 1, no traceback and no file
    for args in (["--format", "report", "--period", "2026-Q5"], ["--format", "xlsx", "--unit", "999"],
                 ["--format", "xlsx", "--period", "2026-Q3", "--from", "2026-07-01"]):
        bad = tmp_path / "out" / "hong.xlsx"
        result = cli(site.data_dir, "export", FORM, *args, "--out", str(bad))
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "LỖI" in result.output and "ERROR" in result.output and not bad.exists()
    result = cli(site.data_dir, "export", "khong_co", "--format", "csvzip", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 1 and "khong_co" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bao-cao.xlsx", "du-lieu.csv.zip", "du-lieu.xlsx"]


# --- the report workbook ---------------------------------------------------------------------------

def test_report_workbook(site, tmp_path):
    answers = [("474-01", "5", "5", "5"), ("474-01", "4", "2", "5"), ("474", "2", "2", "1"),
               ("481", "5", "4", "4"), ("481-01", "3", "5", "5"), ("481-01", "5", "5", "4")]
    for number, (unit, proc, staff, result) in enumerate(answers):
        root = primary_instance(site.xform(FORM, "2")).tag.rsplit("}", 1)[-1]
        site.receive(
            f'<{root} id="{FORM}" version="2"><start>2026-08-0{number + 1}T09:00:00.000+07:00</start>'
            f"<unit>{unit}</unit><q_proc>{proc}</q_proc><q_staff>{staff}</q_staff><q_result>{result}</q_result>"
            f"<meta><instanceID>uuid:r{number}</instanceID></meta></{root}>".encode())
    plan = prepare_report(site.db, ReportQuery(FORM, "2026-Q3", min_n=2))
    path = tmp_path / "bao-cao.xlsx"
    write_report(site.db, plan, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Theo tiêu chí", "Theo kênh", "Theo đối tượng", "Không hài lòng",
                               "Biểu đồ"]
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9      # A4
        assert ws["A1"].value == "UBND THÀNH PHỐ HUẾ"                  # the issuing body (settings' default)
        assert ws["A5"].value.startswith("BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG")
    charts = book["Biểu đồ"]._charts                               # by unit, over time, one per criterion
    assert len(charts) == 5 and {type(c).__name__ for c in charts} == {"BarChart", "LineChart"}
    summary = [row for row in book["Tổng hợp"].iter_rows(values_only=True)]
    by_code = {row[1]: row for row in summary if row[1] in ("474", "481", "476", "TTHCC")}
    # 474: three respondents, scores (1,1,1), (1,0,1), (0,0,0): procedure 2/3, staff 1/3, result 2/3
    expected_474 = round(100 * (2 / 3 + 1 / 3 + 2 / 3) / 3, 2)
    assert by_code["474"][3:6] == (3, 3, expected_474)
    assert by_code["474"][8] == 2 and by_code["481"][8] == 1                     # ranks
    # 481: (1,1,1), (0,1,1), (1,1,1): procedure 2/3, staff 1, result 1
    assert by_code["481"][5] == round(100 * (2 / 3 + 1 + 1) / 3, 2)
    assert by_code["476"][17] == "chưa có phiếu"
    assert by_code["TTHCC"][17] == "chưa có phiếu"                                # not ranked: same level
    # the numbers are the engine's
    cell = compute_indices(site.db, IndexQuery(forms=(FORM,), date_from=date(2026, 7, 1), date_to=date(2026, 9, 30),
                                               min_n=2))[0]
    total = next(row for row in summary if row[2] == "Toàn tỉnh")
    assert total[5] == render.rounded(cell.overall)
    dissatisfied = [row for row in book["Không hài lòng"].iter_rows(values_only=True) if isinstance(row[0], int)]
    assert len(dissatisfied) == 2 and dissatisfied[0][1] == "03/08/2026" and dissatisfied[1][1] == "02/08/2026"


def test_a_large_table_is_written_as_zip64(site, monkeypatch):
    import exports.csvzip
    site.receive((FIXTURES / "submissions" / "central-withrepeat.two.submission.xml").read_bytes())
    monkeypatch.setattr(exports.csvzip, "ZIP64_FROM", 0)          # every table counts as large
    archive = export_zip(site, form_id="withrepeat")
    assert archive.testzip() is None
    assert read_csv(archive, "withrepeat-child.csv")[2] == ["Blaine", "6", "rtwo", "rtwo/children/child[2]"]
