"""The command-line tools: clear bilingual messages, non-zero exits, nothing half done."""
from __future__ import annotations


import storage
from conftest import ROOT, cli
from server.collect_settings import decode_payload, settings_payload
from storage import forms, units, users
from xlsforms import write_xlsform


def test_setup_on_an_empty_data_dir(tmp_path):
    result = cli(tmp_path, "setup", "--forms-dir", str(ROOT / "forms"))
    assert result.exit_code == 0, result.output
    assert "users create admin --role admin --password-stdin" in result.output
    db = storage.connect(tmp_path)
    national = (ROOT / "server" / "seed" / "units_vn_2025-07-01.csv").read_text(encoding="utf-8").splitlines()
    hue_communes = [line for line in national if line.split(",")[1] == "46"]
    assert units.count_units(db) == len(hue_communes) + 2        # the city and its centre
    assert [f["form_id"] for f in forms.list_forms(db)] == ["tthc_hailong"]
    # a second run changes nothing and says so
    again = cli(tmp_path, "setup", "--forms-dir", str(ROOT / "forms"))
    assert again.exit_code == 0 and "unchanged" in again.output
    assert forms.list_forms(db)[0]["versions"] == 1


def test_broken_xlsform_names_sheet_row_and_column(tmp_path):
    path = write_xlsform(tmp_path / "hong.xlsx",
                         [["type", "name", "label"], ["text", "a", "A"], ["select_one khong_co", "b", "B"]],
                         [["list_name", "name", "label"], ["yn", "yes", "Có"]],
                         {"form_id": "hong", "version": "1"})
    result = cli(tmp_path, "forms", "publish", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "LỖI" in result.output and "dòng 3" in result.output
    assert forms.get_form(storage.connect(tmp_path), "hong") is None


def test_not_a_spreadsheet(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("không phải bảng tính")
    result = cli(tmp_path, "forms", "publish", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_unit_file_with_errors_imports_nothing(tmp_path):
    bad = tmp_path / "units.csv"
    bad.write_text("code,parent_code,level,name_vi,name_en\n"
                   "46,,tinh,Tỉnh Thừa Thiên Huế,\n"
                   "474,46,huyen,Thành phố Huế,\n"
                   "474,46,huyen,Trùng mã,\n"
                   "19999,999,xa,Xã không có cha,\n"
                   "20000,474,thon,Cấp sai,\n", encoding="utf-8")
    result = cli(tmp_path, "units", "import", str(bad))
    assert result.exit_code == 1
    assert "Dòng 4" in result.output and "Dòng 5" in result.output and "Dòng 6" in result.output
    assert units.count_units(storage.connect(tmp_path)) == 0


def test_password_rules_and_duplicate_names(tmp_path):
    cli(tmp_path, "units", "import", str(ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv"))
    short = cli(tmp_path, "users", "create", "a", "--role", "admin", "--password-stdin", input="ngan\n")
    assert short.exit_code == 1
    ok = cli(tmp_path, "users", "create", "a", "--role", "admin", "--password-stdin", input="mat-khau-du-dai\n")
    assert ok.exit_code == 0
    stored = users.get_user_by_name(storage.connect(tmp_path), "a")
    assert stored["password_hash"].startswith("scrypt:") and "mat-khau-du-dai" not in stored["password_hash"]
    assert cli(tmp_path, "users", "create", "a", "--role", "viewer", "--password-stdin",
               input="mat-khau-du-dai\n").exit_code == 1
    assert cli(tmp_path, "users", "create", "b", "--role", "viewer", "--unit", "999",
               "--password-stdin", input="mat-khau-du-dai\n").exit_code == 1


def test_collector_gets_a_token_url_and_a_qr_code(tmp_path):
    cli(tmp_path, "units", "import", str(ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv"))
    qr = tmp_path / "dtv.png"
    result = cli(tmp_path, "users", "create", "dtv", "--role", "collector", "--unit", "474",
                 "--server-url", "https://khaosat.example.vn", "--qr", str(qr))
    assert result.exit_code == 0, result.output
    assert "https://khaosat.example.vn/key/" in result.output
    assert qr.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    token = result.output.split("/key/")[1].split()[0]
    db = storage.connect(tmp_path)
    row = users.get_user_by_name(db, "dtv")
    assert row["token_sha256"] != token and token not in str(row)     # only the digest is kept
    settings = decode_payload(settings_payload(f"https://khaosat.example.vn/key/{token}"))
    assert settings["general"]["server_url"].endswith(token)
