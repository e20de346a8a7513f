"""Dossier registers: reading CSV/XLSX exports, row problems by row and column, the import command
and the /registers pages (nothing imported while there are problems unless the user skips them)."""
from __future__ import annotations

import csv
import html
import io
import sqlite3
import stat
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

from conftest import ROOT, cli
from sampling import register_file
from sampling.register_file import RegisterFileError, read_register
from test_xform_schema import _xlsx as xlsx_bytes   # {sheet title: rows} -> .xlsx bytes
from web_site import csrf_token, logged_in

SEED_UNITS = ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv"
UNITS = {row["code"]: row for row in csv.DictReader(SEED_UNITS.open(encoding="utf-8"))}

HEADER = ["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Mã đơn vị", "Ngày tiếp nhận", "Ngày hẹn trả",
          "Ngày trả kết quả", "Họ tên", "Số điện thoại"]
# (code, procedure, field, unit, received, due, returned, name, phone)
GOOD = ["H-474-001", "Cấp giấy phép xây dựng", "Xây dựng", "474", "01/03/2024", "10/03/2024", "08/03/2024",
        "Nguyễn Văn An", "0905 123 456"]


def legacy(text: str) -> bytes:
    """Text as Windows-1258 (Vietnamese Windows): letters like ô, ơ, â are one byte, tone marks another."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            out += unicodedata.normalize("NFC", parts[:-1]).encode("cp1258") + parts[-1].encode("cp1258")
    return out


def csv_bytes(rows: list[list], header=HEADER, delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def row(**changes) -> list:
    """GOOD with some columns changed, by header position."""
    names = ["code", "procedure", "field", "unit", "received", "due", "returned", "name", "phone"]
    values = list(GOOD)
    for key, value in changes.items():
        values[names.index(key)] = value
    return values


def only_problem(check):
    assert len(check.problems) == 1, [p.describe("en") for p in check.problems]
    return check.problems[0]


# --- reading a file ----------------------------------------------------------------------------

def test_a_good_csv_row_becomes_a_dossier_row():
    check = read_register("so.csv", csv_bytes([GOOD]), UNITS)
    assert check.problems == [] and check.rows_total == 1 and check.rows_skipped == 0
    assert check.rows == [{
        "code": "H-474-001", "unit_code": "474", "procedure_name": "Cấp giấy phép xây dựng",
        "procedure_field": "Xây dựng", "received_on": "2024-03-01", "due_on": "2024-03-10",
        "returned_on": "2024-03-08", "applicant_name": "Nguyễn Văn An", "phone": "0905123456"}]


@pytest.mark.parametrize("changes, column, words", [
    ({"code": ""}, "Mã hồ sơ", "dossier code is empty"),
    ({"code": "HS 01"}, "Mã hồ sơ", "Invalid dossier code"),
    ({"code": "-HS01"}, "Mã hồ sơ", "Invalid dossier code"),
    ({"unit": "999"}, "Mã đơn vị", 'No unit "999"'),
    ({"unit": ""}, "Mã đơn vị", "unit is empty"),
    ({"received": "31/02/2024"}, "Ngày tiếp nhận", 'Cannot read the date "31/02/2024"'),
    ({"due": "mai"}, "Ngày hẹn trả", "Cannot read the date"),
    ({"returned": "2024-13-01"}, "Ngày trả kết quả", "Cannot read the date"),
    ({"returned": "08/03/2024 25:00"}, "Ngày trả kết quả", "Cannot read the date"),
    ({"returned": ""}, "Ngày trả kết quả", "return date is empty"),
    ({"returned": "29/02/2024"}, "Ngày trả kết quả", "before the date received"),
    ({"due": "2024-02-28"}, "Ngày hẹn trả", "before the date received"),
    ({"phone": "0905 12"}, "Số điện thoại", "Invalid phone number"),
    ({"phone": "090512345678"}, "Số điện thoại", "Invalid phone number"),
    ({"phone": "gọi sau"}, "Số điện thoại", "Invalid phone number"),
    ({"phone": "84905123456"}, "Số điện thoại", "Invalid phone number"),
])
def test_each_row_problem_names_its_row_and_column(changes, column, words):
    rows = [GOOD, row(code="H-474-002", **{k: v for k, v in changes.items() if k != "code"}),
            row(code="H-474-003")]
    if "code" in changes:
        rows[1][0] = changes["code"]
    check = read_register("so.csv", csv_bytes(rows), UNITS)
    problem = only_problem(check)
    assert (problem.row, problem.column) == (3, column)   # header = row 1, GOOD = row 2
    assert words in problem.message_en and problem.message_vi
    assert [r["code"] for r in check.rows] == ["H-474-001", "H-474-003"]
    assert (check.rows_total, check.rows_skipped) == (3, 1)


def test_a_row_with_several_faults_reports_each():
    check = read_register("so.csv", csv_bytes([row(unit="999", returned="", phone="12")]), UNITS)
    assert sorted(p.column for p in check.problems) == ["Mã đơn vị", "Ngày trả kết quả", "Số điện thoại"]
    assert {p.row for p in check.problems} == {2} and check.problem_rows == 1 and check.rows == []


def test_identifiers_are_not_repeated_in_messages():
    check = read_register("so.csv", csv_bytes([row(code="HS 77", phone="0905-12")]), UNITS)
    texts = " ".join(p.message_vi + p.message_en for p in check.problems)
    assert len(check.problems) == 2 and "HS 77" not in texts and "0905" not in texts


def test_duplicate_codes_report_the_later_row_naming_the_first():
    rows = [GOOD, row(code="H-2"), row(code="H-3"), row(), row(code="H-2")]
    check = read_register("so.csv", csv_bytes(rows), UNITS)
    found = sorted((p.row, p.message_en) for p in check.problems)
    assert found == [(5, "The dossier code repeats row 2."), (6, "The dossier code repeats row 3.")]
    assert [r["code"] for r in check.rows] == ["H-474-001", "H-2", "H-3"]


def test_semicolon_delimiter_bom_and_untidy_headers():
    header = ["  MÃ HỒ SƠ ", "don vi", "Ngày_trả", "SĐT", "Ghi chú"]
    data = [["A1", "481", "2/3/2024", "+84 905.123.456", "x"], ["A2", "474", "02-03-2024 07:45", "", ""]]
    check = read_register("so.csv", csv_bytes(data, header=header, delimiter=";", bom=True), UNITS)
    assert check.problems == []
    assert [(r["code"], r["unit_code"], r["returned_on"], r["phone"]) for r in check.rows] == [
        ("A1", "481", "2024-03-02", "0905123456"), ("A2", "474", "2024-03-02", None)]
    assert [(w.row, w.column) for w in check.warnings] == [(1, "Ghi chú")]


def test_a_title_line_above_a_semicolon_header():
    content = "SỔ THEO DÕI HỒ SƠ, QUÝ I\n\nMã hồ sơ;Đơn vị;Ngày trả\nC1;481;05/01/2024\n".encode()
    check = read_register("so.csv", content, UNITS)
    assert check.problems == [] and [(r["code"], r["returned_on"]) for r in check.rows] == [("C1", "2024-01-05")]


@pytest.mark.parametrize("written, stored", [
    ("0905123456", "0905123456"), ("+84 905 123 456", "0905123456"), ("(+84) 905-123-456", "0905123456"),
    ("905123456", "0905123456"), ("0234.3822.123", "02343822123"), ("2343822123", "02343822123"),
    ("", None),
])
def test_phones_are_stored_as_digits_from_0(written, stored):
    check = read_register("so.csv", csv_bytes([row(phone=written)]), UNITS)
    assert check.problems == [] and check.rows[0]["phone"] == stored


def test_text_is_trimmed_and_nfc():
    decomposed = unicodedata.normalize("NFD", "Thành phố Huế")
    data = [[" B1 ", f"  {decomposed.upper()} ", " 2024-03-05 ", unicodedata.normalize("NFD", " Lê Thị Hoà ")]]
    header = ["Số hồ sơ", "Đơn vị", "returned", "Chủ hồ sơ"]
    check = read_register("so.csv", csv_bytes(data, header=header), UNITS)
    assert check.problems == []
    assert check.rows[0]["code"] == "B1" and check.rows[0]["unit_code"] == "474"
    assert check.rows[0]["applicant_name"] == unicodedata.normalize("NFC", "Lê Thị Hoà")


def test_empty_rows_are_skipped_silently():
    data = [GOOD, ["", "", "", "  ", "", "", "", "", ""], row(code="H-9")]
    check = read_register("so.csv", csv_bytes(data), UNITS)
    assert check.problems == [] and check.rows_total == 2 and len(check.rows) == 2


def test_unit_by_name_must_match_exactly_one_unit():
    units = {**UNITS, "999": {"code": "999", "name_vi": "Thành phố  HUẾ", "level": "xa"}}
    data = [row(unit="Huyện A Lưới"), row(code="H-2", unit="thành phố huế"), row(code="H-3", unit="A Lưới")]
    check = read_register("so.csv", csv_bytes(data), units)
    assert check.rows[0]["unit_code"] == "481"
    assert sorted((p.row, p.message_en.split(";")[0]) for p in check.problems) == [
        (3, 'The unit name "thành phố huế" fits several units'),
        (4, 'No unit "A Lưới" (code or Vietnamese name) on the server.')]


def test_units_outside_the_scope_are_row_problems():
    data = [GOOD, row(code="H-2", unit="481"), row(code="H-3", unit="Huyện A Lưới")]
    check = read_register("so.csv", csv_bytes(data), UNITS, scope={"474"})
    assert [(p.row, p.column) for p in check.problems] == [(3, "Mã đơn vị"), (4, "Mã đơn vị")]
    assert all("ngoài phạm vi" in p.message_vi for p in check.problems)
    assert [r["code"] for r in check.rows] == ["H-474-001"]


@pytest.mark.parametrize("text, expected", [
    ("2024-03-05", date(2024, 3, 5)), ("05/03/2024", date(2024, 3, 5)), ("5/3/2024", date(2024, 3, 5)),
    ("05-03-2024", date(2024, 3, 5)), ("05/03/2024 14:30", date(2024, 3, 5)),
    ("2024-03-05 14:30:59", date(2024, 3, 5)), ("2024-03-05T08:00", date(2024, 3, 5)),
    ("05/03/24", None), ("2024/03/05", None), ("05/03/2024 14", None), ("05/03/2024 14:60", None),
    ("tháng 3", None), ("", None),
])
def test_date_formats(text, expected):
    assert register_file.parse_register_date(text) == expected


def test_xlsx_with_date_cells_a_title_and_numbers():
    sheet = [["SỔ THEO DÕI HỒ SƠ QUÝ I/2024"], [],
             HEADER,
             [1001, "Đăng ký kết hôn", "Hộ tịch", 474, datetime(2024, 1, 2, 8, 15), date(2024, 1, 5),
              datetime(2024, 1, 4), "Trần Bình", 905123456],
             [1002, "Đăng ký khai sinh", "Hộ tịch", "481", "03/01/2024", None, date(2023, 12, 31), None, None]]
    check = read_register("so.xlsx", xlsx_bytes({"Quý I": sheet}), UNITS)
    assert check.kind == "xlsx" and check.sheet == "Quý I" and check.rows_total == 2
    assert check.rows[0] == {"code": "1001", "unit_code": "474", "procedure_name": "Đăng ký kết hôn",
                             "procedure_field": "Hộ tịch", "received_on": "2024-01-02", "due_on": "2024-01-05",
                             "returned_on": "2024-01-04", "applicant_name": "Trần Bình", "phone": "0905123456"}
    problem = only_problem(check)
    assert (problem.sheet, problem.row, problem.column) == ("Quý I", 5, "Ngày trả kết quả")


def test_xlsx_reads_the_sheet_whose_header_matches():
    book = xlsx_bytes({"Hướng dẫn": [["Danh sách xuất từ hệ thống một cửa"], ["Ngày xuất", "01/04/2024"]],
                       "Dữ liệu": [HEADER, GOOD]})
    check = read_register("so.xlsx", book, UNITS)
    assert check.sheet == "Dữ liệu" and [r["code"] for r in check.rows] == ["H-474-001"]


@pytest.mark.parametrize("filename, content, words", [
    ("so.csv", b"", "empty"),
    ("so.csv", b"\n  \n", "empty"),
    ("so.pdf", b"%PDF-1.4", "Only CSV or Excel"),
    ("so.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Old Excel files"),
    ("so.xlsx", b"not a zip", "not a valid Excel"),
    ("so.xlsx", b"PK\x03\x04broken", "cannot be read"),
    ("so.csv", "Mã hồ sơ,Đơn vị,Ngày trả\nA,474,01/01/2024\n".encode("utf-16"), "not UTF-8"),
    ("so.csv", legacy("Mã hồ sơ,Đơn vị\nA,474\n"), "not UTF-8"),
    ("so.csv", "Mã hồ sơ,Đơn vị,Ngày nhận\nA,474,01/01/2024\n".encode(), '"Ngày trả kết quả" (returned_on)'),
    ("so.csv", "Mã hồ sơ,Đơn vị,Ngày trả\n\n".encode(), "no dossier rows"),
])
def test_file_level_errors(filename, content, words):
    with pytest.raises(RegisterFileError) as caught:
        read_register(filename, content, UNITS)
    assert words in caught.value.message_en and caught.value.message_vi


def test_utf8_error_says_how_to_save():
    with pytest.raises(RegisterFileError) as caught:
        read_register("so.csv", legacy("Mã hồ sơ;Đơn vị\n"), UNITS)
    assert "Hãy lưu tệp CSV với mã hoá UTF-8" in caught.value.message_vi


def test_too_many_rows_and_too_large(monkeypatch):
    monkeypatch.setattr(register_file, "MAX_ROWS", 3)
    content = csv_bytes([row(code=f"H-{n}") for n in range(4)])
    with pytest.raises(RegisterFileError, match="more than 3 rows"):
        read_register("so.csv", content, UNITS)
    assert len(read_register("so.csv", csv_bytes([row(code=f"H-{n}") for n in range(3)]), UNITS).rows) == 3
    monkeypatch.setattr(register_file, "MAX_BYTES", len(content) - 1)
    with pytest.raises(RegisterFileError, match="larger than"):
        read_register("so.csv", content, UNITS)


# --- the command -------------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path):
    out = cli(tmp_path, "units", "import", str(SEED_UNITS))
    assert out.exit_code == 0, out.output
    return tmp_path


def query(data_dir: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(data_dir / "hailong.sqlite") as db:
        return db.execute(sql, args).fetchall()


def dossier_count(data_dir: Path) -> int:
    return query(data_dir, "SELECT count(*) FROM dossiers")[0][0]


def write(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    return str(path)


def test_cli_imports_nothing_from_a_file_with_errors_unless_told(data_dir, tmp_path):
    assert cli(data_dir, "register", "import", write(tmp_path / "dau.csv", csv_bytes([row(code="X-0")]))).exit_code == 0
    rows = [GOOD, row(code="H-2", unit="999"), row(code="H-3"), row(code="H-4", returned=""), row(code="H-5")]
    good = [r[0] for i, r in enumerate(rows) if i not in (1, 3)]
    path = write(tmp_path / "so.csv", csv_bytes(rows))
    result = cli(data_dir, "register", "import", path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "dòng 3" in result.output and "Row 3" in result.output and "dòng 5" in result.output
    assert "--skip-errors" in result.output
    assert dossier_count(data_dir) == 1   # only the earlier import

    result = cli(data_dir, "register", "import", path, "--skip-errors", "--actor", "thu_ky")
    assert result.exit_code == 0, result.output
    assert f"Imported {len(good)} dossiers ({len(good)} new, 0 updated), skipped 2 rows" in result.output
    assert sorted(c for (c,) in query(data_dir, "SELECT code FROM dossiers")) == sorted(good + ["X-0"])
    assert query(data_dir, "SELECT rows_total, rows_imported, rows_skipped, imported_by FROM register_imports "
                           "ORDER BY id DESC LIMIT 1") == [(5, 3, 2, "thu_ky")]


def test_cli_reimport_updates_and_keeps_contacts(data_dir, tmp_path):
    first = [GOOD, row(code="H-2", name="", phone="")]
    assert cli(data_dir, "register", "import", write(tmp_path / "a.csv", csv_bytes(first))).exit_code == 0
    # the later export has no contact columns and a corrected return date
    header = ["Mã hồ sơ", "Mã đơn vị", "Ngày tiếp nhận", "Ngày trả kết quả"]
    again = [["H-474-001", "474", "01/03/2024", "09/03/2024"], ["H-2", "481", "01/03/2024", "02/03/2024"],
             ["H-3", "474", "", "02/03/2024"]]
    result = cli(data_dir, "register", "import", write(tmp_path / "b.xlsx", xlsx_bytes({"S": [header, *again]})))
    assert result.exit_code == 0, result.output
    assert "(1 new, 2 updated)" in result.output
    assert query(data_dir, "SELECT code, unit_code, returned_on FROM dossiers ORDER BY code") == [
        ("H-2", "481", "2024-03-02"), ("H-3", "474", "2024-03-02"), ("H-474-001", "474", "2024-03-09")]
    assert query(data_dir, """SELECT d.code, c.applicant_name, c.phone FROM dossier_contacts c
                              JOIN dossiers d ON d.id = c.dossier_id""") == [("H-474-001", "Nguyễn Văn An", "0905123456")]


def test_cli_file_errors_and_list(data_dir, tmp_path):
    result = cli(data_dir, "register", "import", write(tmp_path / "so.csv", legacy("Mã;Đơn vị\n")))
    assert result.exit_code == 1 and "UTF-8" in result.output and "Traceback" not in result.output
    all_bad = write(tmp_path / "hong.csv", csv_bytes([row(unit="999")]))
    result = cli(data_dir, "register", "import", all_bad, "--skip-errors")
    assert result.exit_code == 1 and "no good row" in result.output
    assert query(data_dir, "SELECT count(*) FROM register_imports") == [(0,)]
    assert cli(data_dir, "register", "import", write(tmp_path / "tot.csv", csv_bytes([GOOD]))).exit_code == 0
    listed = cli(data_dir, "register", "list")
    assert listed.exit_code == 0 and "tot.csv" in listed.output and "Dossiers: 1." in listed.output


# --- the pages ---------------------------------------------------------------------------------

def upload(client, content: bytes, filename: str = "so.csv"):
    return client.post("/registers/upload", data={"file": (io.BytesIO(content), filename),
                                                  "csrf_token": csrf_token(client)},
                       content_type="multipart/form-data")


def confirm_url(page: str) -> str:
    import re
    match = re.search(r'action="(/registers/confirm/[0-9a-f]{64})"', page)
    assert match, "no confirm form"
    return match.group(1)


NAMES = ["Nguyễn Văn Bí Mật", "Trần Thị Riêng Tư", "Lê Văn Kín"]
PHONES = ["0905111222", "0914333444", "0987555666"]


def test_upload_with_errors_shows_rows_imports_nothing_then_confirm_imports_the_good(web_copy):
    client = logged_in(web_copy, "reporter")
    rows = [row(code="W-1", name=NAMES[0], phone=PHONES[0]),
            row(code="W-2", unit="999", name=NAMES[1], phone=PHONES[1]),
            row(code="W-3", name=NAMES[2], phone=PHONES[2]),
            row(code="W-1")]
    before = dossier_count(web_copy.data_dir)
    response = upload(client, csv_bytes(rows))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert dossier_count(web_copy.data_dir) == before
    assert 'No unit "999"' not in page and 'Không có đơn vị "999"' in page
    assert "Mã hồ sơ trùng với dòng 2." in page
    assert '<td class="num">3</td>' in page and '<td class="num">5</td>' in page
    assert "Bỏ qua các dòng lỗi và nhập" in page and "2 dòng hợp lệ" in page
    url = confirm_url(page)
    staged = web_copy.data_dir / "registers-staging" / (url.rsplit("/", 1)[1] + ".csv")
    assert stat.S_IMODE(staged.stat().st_mode) == 0o600

    done = client.post(url, data={"csrf_token": csrf_token(client), "filename": "so.csv"}, follow_redirects=True)
    assert done.status_code == 200
    assert "Đã nhập 2 hồ sơ (2 mới, 0 cập nhật), bỏ qua 2 dòng lỗi." in done.get_data(as_text=True)
    assert sorted(c for (c,) in query(web_copy.data_dir, "SELECT code FROM dossiers")) == ["W-1", "W-3"]
    assert not staged.exists() and list(staged.parent.iterdir()) == []
    assert client.post(url, data={"csrf_token": csrf_token(client)}).status_code == 404   # not twice
    for shown in (page, done.get_data(as_text=True), client.get("/registers/").get_data(as_text=True)):
        assert not any(secret in shown for secret in NAMES + PHONES)


def test_a_clean_upload_imports_at_once_and_never_shows_contacts(web_copy):
    client = logged_in(web_copy, "admin")
    content = xlsx_bytes({"S": [HEADER + ["Ghi chú"], row(code="K-1", name=NAMES[0], phone=PHONES[0]) + ["x"]]})
    done = upload(client, content, "so.xlsx")
    assert done.status_code == 302
    assert query(web_copy.data_dir, "SELECT code FROM dossiers") == [("K-1",)]
    pages = []
    for language in ("vi", "en"):
        client.post("/language", data={"lang": language, "csrf_token": csrf_token(client)})
        pages.append(client.get("/registers/").get_data(as_text=True))
    assert "Đã nhập 1 hồ sơ (1 mới, 0 cập nhật)." in pages[0] and "Ghi chú" in pages[0]
    assert "so.xlsx" in pages[1] and "Dossier registers" in pages[1]
    # every page the admin reaches from the menu, too
    for path in ("/submissions/", "/dashboard/", "/questionnaires/", "/sampling/", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages.append(response.get_data(as_text=True))
    assert not any(secret in page for page in pages for secret in (NAMES[0], PHONES[0], "0905 123 456"))


def test_roles_that_may_not_import(web_copy):
    content = csv_bytes([GOOD])
    for name in ("xem_hue", "designer", "designer_hue"):
        client = logged_in(web_copy, name)
        assert client.get("/registers/").status_code == 403
        assert upload(client, content).status_code == 403
        assert client.post("/registers/confirm/" + "a" * 64,
                           data={"csrf_token": csrf_token(client)}).status_code == 403
    assert dossier_count(web_copy.data_dir) == 0
    anonymous = web_copy.app().test_client()
    assert anonymous.get("/registers/").status_code == 302


def test_unit_bound_reporter_imports_only_its_subtree(web_copy):
    client = logged_in(web_copy, "reporter_hue")
    response = upload(client, csv_bytes([GOOD, row(code="AL-1", unit="481")]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Đơn vị ngoài phạm vi tài khoản" in page
    assert dossier_count(web_copy.data_dir) == 0
    client.post(confirm_url(page), data={"csrf_token": csrf_token(client)})
    assert query(web_copy.data_dir, "SELECT code, unit_code FROM dossiers") == [("H-474-001", "474")]
    only_outside = upload(client, csv_bytes([row(code="AL-2", unit="481")])).get_data(as_text=True)
    assert "Không có dòng hợp lệ nào để nhập." in only_outside and "/registers/confirm/" not in only_outside


def test_upload_refusals(web_copy):
    client = logged_in(web_copy, "admin")
    bad = upload(client, legacy("Mã;Đơn vị\n"))
    assert bad.status_code == 400 and "Hãy lưu tệp CSV với mã hoá UTF-8" in bad.get_data(as_text=True)
    assert client.post("/registers/upload", data={"csrf_token": csrf_token(client)}).status_code == 400
    no_token = client.post("/registers/upload", data={"file": (io.BytesIO(csv_bytes([GOOD])), "so.csv")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400 and dossier_count(web_copy.data_dir) == 0
    for sha in ("0" * 64, "../" + "0" * 61, "A" * 64):
        assert client.post(f"/registers/confirm/{sha}", data={"csrf_token": csrf_token(client)}).status_code == 404


def test_a_staged_file_changed_on_disk_is_not_imported(web_copy):
    client = logged_in(web_copy, "admin")
    page = upload(client, csv_bytes([GOOD, row(code="Z-2", unit="999")])).get_data(as_text=True)
    url = confirm_url(page)
    staged = web_copy.data_dir / "registers-staging" / (url.rsplit("/", 1)[1] + ".csv")
    staged.write_bytes(csv_bytes([row(code="Z-9")]))
    assert client.post(url, data={"csrf_token": csrf_token(client)}).status_code == 404
    assert dossier_count(web_copy.data_dir) == 0
