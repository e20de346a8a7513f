"""Today's map and unit history: the bundled lists, dated imports, successors, units in force.

Expected trees are read straight from the bundled CSV files with the csv module, not from the
code under test.
"""
from __future__ import annotations

import csv

import storage
from conftest import ROOT, cli
from storage import units

SEED = ROOT / "server" / "seed"
LIST_2021 = SEED / "units_thua_thien_hue_2021.csv"
LIST_2025_01 = SEED / "units_hue_2025-01-01.csv"
NATIONAL = SEED / "units_vn_2025-07-01.csv"
SUCCESSORS = SEED / "hue_successors_2025-07-01.csv"


def rows(path):
    return list(csv.DictReader(path.open(encoding="utf-8")))


def hue_2025_07():
    """Huế of 1/7/2025 as the national list has it (the city and its communes)."""
    return [r for r in rows(NATIONAL) if r["code"] == "46" or r["parent_code"] == "46"]


def write_hue_2025_07(path):
    """The whole tree of 1/7/2025 for an install that has the provincial centre TTHCC."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["code", "parent_code", "level", "name_vi", "name_en"])
        writer.writeheader()
        data = hue_2025_07()
        writer.writerow(data[0])
        writer.writerow({"code": "TTHCC", "parent_code": "46", "level": "tinh",
                         "name_vi": "Trung tâm Phục vụ hành chính công thành phố Huế",
                         "name_en": "Hue City Public Administrative Service Centre"})
        writer.writerows(data[1:])
    return path


def write_hue_2025_01(path):
    """The 1/1/2025 list with the provincial centre the 2021 install had."""
    with path.open("w", encoding="utf-8", newline="") as f:
        data = rows(LIST_2025_01)
        writer = csv.DictWriter(f, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerow(data[0])
        writer.writerow({"code": "TTHCC", "parent_code": "46", "level": "tinh",
                         "name_vi": "Trung tâm Phục vụ hành chính công thành phố Huế",
                         "name_en": "Hue City Public Administrative Service Centre"})
        writer.writerows(data[1:])
    return path


# --- 1. current by default --------------------------------------------------------------------

def test_a_new_install_is_hue_of_today(tmp_path):
    out = cli(tmp_path, "setup", "--forms-dir", str(tmp_path / "no-forms"))
    assert out.exit_code == 0, out.output
    assert "Thành phố Huế" in out.output
    db = storage.connect(tmp_path)
    stored = {u["code"]: u for u in units.all_units(db)}
    expected = {r["code"]: r for r in hue_2025_07()}
    assert len(expected) == 41
    communes = {c for c, u in stored.items() if u["level"] == "xa"}
    assert communes == {c for c, r in expected.items() if r["level"] == "xa"} and len(communes) == 40
    for code, row in expected.items():
        assert stored[code]["name_vi"] == row["name_vi"] and stored[code]["level"] == row["level"]
        assert (stored[code]["parent_code"] or "") == row["parent_code"]
    assert stored["46"]["name_vi"] == "Thành phố Huế"
    centre = stored["TTHCC"]
    assert centre["parent_code"] == "46" and "hành chính công" in centre["name_vi"]
    assert not any(u["level"] == "huyen" for u in stored.values())
    assert {u["valid_from"] for u in stored.values()} == {"2025-07-01"}
    # the devices' unit list is the same 42 units
    listed = list(csv.DictReader(units.units_csv(db).decode().splitlines()))
    assert {r["name"] for r in listed} == set(stored)


def test_any_province_from_the_national_list(tmp_path):
    national = rows(NATIONAL)
    for province in ("01", "79"):
        data_dir = tmp_path / province
        out = cli(data_dir, "units", "seed", "--province", province)
        assert out.exit_code == 0, out.output
        stored = {u["code"]: u for u in units.all_units(storage.connect(data_dir))}
        head = next(r for r in national if r["code"] == province)
        communes = {r["code"] for r in national if r["parent_code"] == province}
        assert len(communes) > 100
        assert set(stored) == communes | {province, "TTHCC"}
        assert stored[province]["name_vi"] == head["name_vi"]
    # a tree already there is replaced only from a stated day
    again = cli(tmp_path / "01", "units", "seed", "--province", "79")
    assert again.exit_code == 1 and "--from" in again.output
    assert {u["code"] for u in units.all_units(storage.connect(tmp_path / "01"), in_force=True)} == \
        {r["code"] for r in national if r["parent_code"] == "01"} | {"01", "TTHCC"}
    bad = cli(tmp_path / "x", "units", "seed", "--province", "99")
    assert bad.exit_code == 1 and "Không có tỉnh" in bad.output and "No province" in bad.output
    assert "Traceback" not in bad.output
    assert units.count_units(storage.connect(tmp_path / "x")) == 0


# --- 2. unit history ----------------------------------------------------------------------------

def versions(db) -> dict[str, dict]:
    return {v["key"]: v for v in units.all_versions(db)}


def two_eras(data_dir):
    """A 2021 install taken through the lists of 1/1/2025 and 1/7/2025 and the successors."""
    for args in (("units", "import", str(LIST_2021)),
                 ("units", "import", str(write_hue_2025_01(data_dir.parent / f"{data_dir.name}-2025-01.csv")),
                  "--from", "2025-01-01"),
                 ("units", "import", str(write_hue_2025_07(data_dir.parent / f"{data_dir.name}-2025-07.csv")),
                  "--from", "2025-07-01"),
                 ("units", "successors", str(SUCCESSORS))):
        out = cli(data_dir, *args)
        assert out.exit_code == 0, out.output


def test_dated_lists_retire_units_and_version_reused_codes(tmp_path):
    data_dir = tmp_path / "site"
    two_eras(data_dir)
    db = storage.connect(data_dir)
    old, mid, new = ({r["code"]: r for r in rows(LIST_2021)}, {r["code"]: r for r in rows(LIST_2025_01)},
                     {r["code"]: r for r in hue_2025_07()})
    mid["TTHCC"] = new["TTHCC"] = old["TTHCC"]
    stored = versions(db)
    # every code of every list has a version; codes whose meaning changed have one per meaning
    changed_2025_01 = {c for c in old if c in mid and c != "TTHCC" and old[c]["name_vi"] != mid[c]["name_vi"]}
    assert "474" in changed_2025_01 and "46" in changed_2025_01
    for code in changed_2025_01:
        first, second = stored[code], stored[f"{code}@2025-01-01"]
        assert first["name_vi"] == old[code]["name_vi"] and first["retired_on"] == "2025-01-01"
        assert second["name_vi"] == mid[code]["name_vi"] and second["valid_from"] == "2025-01-01"
        assert first["successor_key"] == second["key"]
    # Nam Đông left the list on 1/1/2025: retired, not deleted, no successor of its own
    assert stored["483"]["retired_on"] == "2025-01-01" and stored["483"]["successor_key"] is None
    # on 1/7/2025 every unit of the January list that is not in July's list retired
    in_force = {u["code"] for u in units.all_units(db, in_force=True)}
    assert in_force == set(new)
    # the successors of the file, one per old commune; the district level has none
    expected = {r["old_code"]: r["new_code"] for r in rows(SUCCESSORS)}
    assert len(expected) == 133
    for code in mid:
        latest = units.version_at(db, code, "2025-06-30")
        assert latest["retired_on"] == ("2025-07-01" if code not in ("46", "TTHCC") else None), code
        if mid[code]["level"] == "xa":
            # the version of the new code in force on 1/7/2025 (some codes came back with
            # another meaning that day: 19768 was Phường Đông Ba, it is now Phường Phú Xuân)
            want = expected.get(code) and units.version_at(db, expected[code], "2025-07-01")
            assert latest["successor_key"] == (want["key"] if want else None), code
            if want:
                assert want["valid_from"] == "2025-07-01" and want["retired_on"] is None
        elif mid[code]["level"] == "huyen":
            assert latest["successor_key"] is None
    assert units.latest_version(db, "20176")["successor_key"] is None
    # the unit of a submission on a day is the version in force that day
    assert units.version_at(db, "474", "2024-12-31")["name_vi"] == "Thành phố Huế"
    assert units.version_at(db, "474", "2025-03-01")["name_vi"] == "Quận Thuận Hóa"
    assert units.version_at(db, "474", "2025-09-01")["retired_on"] == "2025-07-01"
    # the devices' list and the accounts offer only units in force
    listed = {r["name"] for r in csv.DictReader(units.units_csv(db).decode().splitlines())}
    assert listed == set(new)
    refused = cli(data_dir, "users", "create", "dtv_x", "--role", "collector", "--unit", "474")
    assert refused.exit_code == 1
    # nothing was deleted: every code ever listed is still a unit
    assert {u["code"] for u in units.all_units(db)} == set(old) | set(mid) | set(new)
    actions = [r["action"] for r in db.query("SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("units.import") == 3 and actions.count("units.successors") == 1


def test_bad_dates_and_bad_successor_files_change_nothing(tmp_path):
    data_dir = tmp_path / "site"
    two_eras(data_dir)
    db = storage.connect(data_dir)
    before = versions(db)
    again = write_hue_2025_07(tmp_path / "again.csv")
    for day, words in (("2025-07-15", "ngày đầu tháng"), ("2024-01-01", "không thể ghi lại lịch sử"),
                       ("2999-01-01", "chưa đến"), ("1/7/2025", "không hợp lệ")):
        out = cli(data_dir, "units", "import", str(again), "--from", day)
        assert out.exit_code == 1 and words in out.output and "Traceback" not in out.output, out.output
    wrong_name = tmp_path / "wrong.csv"
    wrong_name.write_text("old_code,old_name_vi,old_parent_code,new_code,new_name_vi,how\n"
                          "19750,Phường Tây Lộc,475,19777,Phường Vỹ Dạ,whole\n"
                          "19753,Phường Sai Tên,475,19768,Phường Phú Xuân,whole\n", encoding="utf-8")
    twice = tmp_path / "twice.csv"
    twice.write_text("old_code,new_code\n19750,19777\n19750,19768\n", encoding="utf-8")
    not_retired = tmp_path / "alive.csv"
    # (every code of July's list had another meaning in January, so none is "never retired")
    not_retired.write_text("old_code,new_code\n99999,19777\n", encoding="utf-8")
    for path, words in ((wrong_name, "Dòng 3"), (twice, "một đơn vị kế thừa"), (not_retired, "chưa giải thể")):
        out = cli(data_dir, "units", "successors", str(path))
        assert out.exit_code == 1 and words in out.output, out.output
    assert versions(db) == before
    # a whole list must carry every parent it names
    partial = tmp_path / "partial.csv"
    partial.write_text("code,parent_code,level,name_vi,name_en\n19768,46,xa,Phường Phú Xuân,\n", encoding="utf-8")
    out = cli(data_dir, "units", "import", str(partial), "--from", "2025-08-01")
    assert out.exit_code == 1 and "đủ cả cây" in out.output
    assert versions(db) == before


def test_a_retired_unit_is_refused_after_its_retirement_only(fresh_site, tmp_path):
    import random
    from datetime import datetime, timedelta, timezone

    import requests

    from tests.harness.instances import fill_instance, standard_answers
    from tests.harness.collect_client import CollectClient, message_of

    client = CollectClient(fresh_site.token_url("dtv_tinh"))
    entry = client.form_list("tthc_hailong")[0]
    xform = client.download_form(entry)
    before = requests.get(f"{fresh_site.url}/f/tthc_hailong?unit=474")
    assert before.status_code == 200
    data_dir = fresh_site.data_dir
    for args in (("units", "import", str(write_hue_2025_01(tmp_path / "2025-01.csv")), "--from", "2025-01-01"),
                 ("units", "import", str(write_hue_2025_07(tmp_path / "2025-07.csv")), "--from", "2025-07-01"),
                 ("units", "successors", str(SUCCESSORS))):
        out = cli(data_dir, *args)
        assert out.exit_code == 0, out.output
    rng = random.Random(15)
    vn = timezone(timedelta(hours=7))

    def send(unit, level, when):
        xml = fill_instance(xform, standard_answers(rng, unit, level, start=when))
        return client.submit(xml)[-1]

    # Collect still holding the old list: an interview of 2/7/2025 for Quận Thuận Hóa is refused
    late = send("474", "huyen", datetime(2025, 7, 2, 9, tzinfo=vn))
    assert late.status_code == 409
    assert "giải thể" in message_of(late) and "retired" in message_of(late)
    # the last day it was in force, and a unit in force today, are received
    assert send("474", "huyen", datetime(2025, 6, 30, 16, tzinfo=vn)).status_code == 201
    assert send("19768", "xa", datetime(2025, 7, 2, 9, tzinfo=vn)).status_code == 201
    db = storage.connect(data_dir)
    assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == 2
    # the public link of a retired unit is gone; the device list has today's units
    assert requests.get(f"{fresh_site.url}/f/tthc_hailong?unit=474").status_code == 404
    assert requests.get(f"{fresh_site.url}/f/tthc_hailong?unit=19768").status_code == 200
    media = {m["filename"]: m for m in client.manifest(entry)}
    listed = {r["name"] for r in csv.DictReader(client.download_media(media["units.csv"]).decode().splitlines())}
    assert listed == {r["code"] for r in hue_2025_07()} | {"TTHCC"}


# --- 5. the administrators' page ------------------------------------------------------------------

def test_administrators_preview_and_apply_a_dated_list_and_successors(web_copy, tmp_path):
    import html
    import io
    import re

    from web_site import csrf_token, logged_in

    admin = logged_in(web_copy, "admin")
    db = storage.connect(web_copy.data_dir)
    january = write_hue_2025_01(tmp_path / "2025-01.csv").read_bytes()

    def preview(data, kind="list", valid_from=""):
        return admin.post("/admin/units/preview", data={
            "file": (io.BytesIO(data), "units.csv"), "kind": kind, "valid_from": valid_from,
            "csrf_token": csrf_token(admin)}, content_type="multipart/form-data")

    before = versions(db)
    shown = preview(january, valid_from="2025-01-01")
    page = html.unescape(shown.get_data(as_text=True))
    assert shown.status_code == 200
    old, mid = {r["code"] for r in rows(LIST_2021)}, {r["code"] for r in rows(LIST_2025_01)} | {"TTHCC"}
    assert f"thêm {len(mid - old)}" in page and f"giải thể {len(old - mid)}" in page
    assert "Huyện Nam Đông" in page                       # the one that retires
    assert versions(db) == before                          # a preview changes nothing
    # a bad date is refused on the preview, in the user's language, nothing changed
    refused = preview(january, valid_from="2025-01-15")
    assert refused.status_code == 400 and "ngày đầu tháng" in html.unescape(refused.get_data(as_text=True))
    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    applied = admin.post("/admin/units", data={"kind": "list", "valid_from": "2025-01-01", "content": content,
                                               "csrf_token": csrf_token(admin)})
    assert applied.status_code == 302
    assert units.version_at(db, "474", "2025-02-01")["name_vi"] == "Quận Thuận Hóa"
    assert units.get_unit(db, "483")["retired_on"] == "2025-01-01"
    # then July and the successors, both previewed first
    july = write_hue_2025_07(tmp_path / "2025-07.csv").read_bytes()
    page = html.unescape(preview(july, valid_from="2025-07-01").get_data(as_text=True))
    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    assert admin.post("/admin/units", data={"kind": "list", "valid_from": "2025-07-01", "content": content,
                                            "csrf_token": csrf_token(admin)}).status_code == 302
    shown = preview(SUCCESSORS.read_bytes(), kind="successors")
    page = html.unescape(shown.get_data(as_text=True))
    assert shown.status_code == 200 and "133" in page and "Phường Tây Lộc" in page
    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    assert admin.post("/admin/units", data={"kind": "successors", "content": content,
                                            "csrf_token": csrf_token(admin)}).status_code == 302
    assert units.version_at(db, "19750", "2025-06-01")["successor_key"] == "19768@2025-07-01"
    # the page: today's tree, and the history with retirement dates and successors
    page = html.unescape(admin.get("/admin/units").get_data(as_text=True))
    assert "Lịch sử" not in page.split("</title>")[0]
    tree = page.split('id="tree-heading"')[1].split('id="history-heading"')[0]
    assert "Phường Phú Xuân" in tree and "Huyện Nam Đông" not in tree
    history = page.split('id="history-heading"')[1]
    assert re.search(r"Phường Tây Lộc.*?01/07/2025.*?19768</code> Phường Phú Xuân", history, re.S)
    assert re.search(r"Xã Hương Hòa.*?01/07/2025.*?đơn vị đã giải thể", history, re.S)
    actions = [r["action"] for r in db.query("SELECT action, actor FROM audit_log WHERE action LIKE 'units.%'"
                                             " AND actor = 'admin'")]
    assert actions == ["units.import", "units.import", "units.successors"]
    # a unit-bound administrator may not change the tree
    scoped = logged_in(web_copy, "admin_hue")
    assert scoped.post("/admin/units/preview", data={"csrf_token": csrf_token(scoped)}).status_code == 403


def test_setup_on_a_2021_tree_says_how_to_upgrade(tmp_path):
    assert cli(tmp_path, "units", "import", str(LIST_2021)).exit_code == 0
    out = cli(tmp_path, "setup", "--forms-dir", str(tmp_path / "no-forms"))
    assert out.exit_code == 0 and "units upgrade-2025" in out.output
    assert cli(tmp_path, "units", "upgrade-2025").exit_code == 0
    assert "upgrade-2025" not in cli(tmp_path, "setup", "--forms-dir", str(tmp_path / "no-forms")).output


def test_new_accounts_links_and_kiosks_offer_only_units_in_force(web_copy, tmp_path):
    import html

    from web_site import logged_in

    assert cli(web_copy.data_dir, "units", "import", str(write_hue_2025_01(tmp_path / "2025-01.csv")),
               "--from", "2025-01-01").exit_code == 0
    admin = logged_in(web_copy, "admin")
    for page in ("/admin/users", "/channels/", "/channels/kiosks"):
        response = admin.get(page)
        assert response.status_code == 200, page
        text = html.unescape(response.get_data(as_text=True))
        assert "Quận Thuận Hóa" in text and "Huyện Nam Đông" not in text, page
    # the dashboard's filter still reaches the past
    assert "Huyện Nam Đông" in html.unescape(admin.get("/dashboard/tthc_hailong").get_data(as_text=True))
    assert admin.get("/channels/?form=tthc_hailong&unit=483").status_code == 404
    assert admin.get("/channels/?form=tthc_hailong&unit=474").status_code == 200


def test_a_second_list_of_the_same_day_corrects_the_first(tmp_path):
    data_dir = tmp_path / "site"
    two_eras(data_dir)
    db = storage.connect(data_dir)
    before = versions(db)
    fixed = tmp_path / "fixed.csv"
    text = write_hue_2025_07(tmp_path / "july.csv").read_text(encoding="utf-8")
    fixed.write_text(text.replace("Phường Phú Xuân,Phu Xuan Ward", "Phường Phú Xuân (sửa),Phu Xuan Ward"),
                     encoding="utf-8")
    out = cli(data_dir, "units", "import", str(fixed), "--from", "2025-07-01")
    assert out.exit_code == 0, out.output
    after = versions(db)
    assert set(after) == set(before)                  # no new version: the same day's list corrected
    assert after["19768@2025-07-01"]["name_vi"] == "Phường Phú Xuân (sửa)"
    assert after["19768"]["successor_key"] == "19768@2025-07-01"
    assert {k: v for k, v in after.items() if k != "19768@2025-07-01"} == \
        {k: v for k, v in before.items() if k != "19768@2025-07-01"}
