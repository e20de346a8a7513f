"""Officers' pages as a provincial office uses them (issue 17): surveyors, the public address,
feedback where the user looks, refused filters."""
from __future__ import annotations

import base64
import html
import re

import pytest

import storage
from storage import audit
from web_site import UNIT_A, UNIT_B, logged_in, post


def text(response) -> str:
    return response.get_data(as_text=True)


def token_url(page: str) -> str:
    return re.search(r'id="server-url" class="mono" value="([^"]+)"', page).group(1)


# --- 1. one way to create a surveyor -----------------------------------------------------

def test_surveyor_from_either_tab_ends_on_its_token_url_and_qr_code(web_copy):
    admin = logged_in(web_copy, "admin")
    # the Accounts tab offers no surveyor role with a password, and points to the Surveyors tab
    accounts = text(admin.get("/admin/users"))
    assert 'value="collector"' not in accounts and "/admin/collectors#new-collector" in accounts
    # an old bookmark or a hand-made POST to the Accounts tab still ends on the token page
    collect = web_copy.app().test_client()
    for path, name in (("/admin/users", "dtv_tab_tk"), ("/admin/collectors", "dtv_tab_dtv")):
        response = post(admin, path, {"name": name, "role": "collector", "unit": UNIT_A,
                                      "password": "", "password_again": ""})
        page = text(response)
        assert response.status_code == 200, page
        assert f"Đã tạo điều tra viên: {name}" in page
        url = token_url(page)
        qr = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page).group(1)
        assert base64.b64decode(qr)[:8] == b"\x89PNG\r\n\x1a\n"
        token = url.rsplit("/", 1)[1]
        assert collect.get(f"/key/{token}/formList").status_code == 200
        # listed among the surveyors, not hidden from both lists
        assert name in text(admin.get("/admin/collectors"))
    db = storage.connect(web_copy.data_dir)
    rows = {r["name"]: r for r in db.query(
        "SELECT name, role, password_hash, token_sha256 FROM users WHERE name LIKE 'dtv_tab_%'")}
    assert set(rows) == {"dtv_tab_tk", "dtv_tab_dtv"}
    assert all(r["role"] == "collector" and r["password_hash"] is None and r["token_sha256"] for r in rows.values())


def test_a_revoked_surveyors_name_can_be_reused_and_the_old_token_stays_dead(web_copy):
    admin = logged_in(web_copy, "admin")
    collect = web_copy.app().test_client()
    old = token_url(text(post(admin, "/admin/collectors", {"name": "dtv_lai", "unit": UNIT_A}))).rsplit("/", 1)[1]
    # an active name is still refused
    again = post(admin, "/admin/collectors", {"name": "dtv_lai", "unit": UNIT_A})
    assert again.status_code == 400 and "đã có" in text(again)
    assert post(admin, "/admin/users/dtv_lai/revoke", {"confirm": "yes", "from": "collectors"}).status_code == 302
    response = post(admin, "/admin/collectors", {"name": "dtv_lai", "unit": UNIT_A})
    assert response.status_code == 200, text(response)
    new = token_url(text(response)).rsplit("/", 1)[1]
    assert new != old
    assert collect.get(f"/key/{old}/formList").status_code == 401
    assert collect.get(f"/key/{new}/formList").status_code == 200
    db = storage.connect(web_copy.data_dir)
    rows = list(db.query("SELECT id, name, revoked_at FROM users WHERE name LIKE 'dtv_lai%' ORDER BY id"))
    assert len(rows) == 2
    assert rows[0]["name"] == f"dtv_lai~{rows[0]['id']}" and rows[0]["revoked_at"] is not None
    assert rows[1]["name"] == "dtv_lai" and rows[1]["revoked_at"] is None
    creates = [r for r in audit.recent(db, 50) if r["action"] == "user.create" and r["target"] == "dtv_lai"]
    assert len(creates) == 2 and str(rows[0]["id"]) in creates[0]["details_json"]
    # both rows stay listed: the revoked one under its retired name
    page = text(admin.get("/admin/collectors"))
    assert page.count("dtv_lai") >= 2


# --- 2. the public address ---------------------------------------------------------------

def test_public_address_setting_is_used_by_every_qr_code_and_link_and_warned_about(web_copy):
    from server import public_address
    from storage import settings

    admin = logged_in(web_copy, "admin")
    # browsing from the server itself (the test client is "localhost"): every QR page warns
    page = text(post(admin, "/admin/collectors", {"name": "dtv_dc1", "unit": UNIT_A}))
    assert token_url(page).startswith("http://localhost/key/")
    assert "chỉ dùng được trên chính máy chủ" in page and "/admin/settings" in page
    link = text(admin.get("/channels/?form=anh"))
    assert "chỉ dùng được trên chính máy chủ" in link
    assert "chỉ dùng được trên chính máy chủ" in text(admin.get("/channels/poster?form=anh"))
    kiosk = text(post(admin, "/channels/kiosks", {"name": "kiosk_1", "unit": UNIT_A, "form": "anh"}))
    assert 'id="kiosk-url"' in kiosk and "chỉ dùng được trên chính máy chủ" in kiosk
    # bad addresses are explained and nothing is stored
    db = storage.connect(web_copy.data_dir)
    for bad, message in (("ftp://may.chu", "http:// hoặc https://"), ("khaosat.hue.gov.vn", "http:// hoặc https://"),
                         ("https://a:b@khaosat.hue.gov.vn", "tên đăng nhập"), ("https://x.vn/?a=1", "dấu ?"),
                         ("https://x.vn:99999", "Cổng")):
        response = post(admin, "/admin/settings", {"public_url": bad})
        assert response.status_code == 400 and message in text(response), bad
        assert settings.get_setting(db, "public_url") is None
    # a private LAN address is stored, with the LAN warning
    assert post(admin, "/admin/settings", {"public_url": "http://192.168.1.20:8000/"}).status_code == 302
    assert settings.get_setting(db, "public_url") == "http://192.168.1.20:8000"
    page = text(admin.get("/admin/settings"))
    assert "Đã lưu địa chỉ công khai http://192.168.1.20:8000" in page and "mạng LAN" in page
    # a public address: used by the surveyor's URL, the citizens' link and poster, Collect's
    # download URLs; no warning
    public = "https://khaosat.hue.gov.vn"
    assert post(admin, "/admin/settings", {"public_url": public}).status_code == 302
    page = text(post(admin, "/admin/collectors", {"name": "dtv_dc2", "unit": UNIT_A}))
    url = token_url(page)
    assert url.startswith(public + "/key/") and "address-warning" not in page
    link = text(admin.get("/channels/?form=anh&unit=" + UNIT_A))
    assert f'value="{public}/f/anh' in link and "address-warning" not in link
    kiosk = text(post(admin, "/channels/kiosks", {"name": "kiosk_2", "unit": UNIT_A, "form": "anh"}))
    assert f'id="kiosk-url" class="mono" value="{public}/kiosk/{UNIT_A}"' in kiosk and "address-warning" not in kiosk
    token = url.rsplit("/", 1)[1]
    form_list = web_copy.app().test_client().get(f"/key/{token}/formList").get_data(as_text=True)
    assert f"<downloadUrl>{public}/key/{token}/" in form_list
    # the command line reads the same function outside any request
    app = web_copy.app()
    with app.app_context():
        assert public_address.public_base(storage.connect(web_copy.data_dir)) == public
    # the change is audited; a unit-bound administrator cannot change it
    assert any(r["action"] == "settings.change" and public in (r["details_json"] or "")
               for r in audit.recent(db, 20))
    assert post(logged_in(web_copy, "admin_hue"), "/admin/settings", {"public_url": "http://127.0.0.1"}).status_code == 403
    assert settings.get_setting(db, "public_url") == public
    # clearing it goes back to the browsed address
    assert post(admin, "/admin/settings", {"public_url": ""}).status_code == 302
    assert settings.get_setting(db, "public_url") is None


def test_address_warning_kinds():
    from server.public_address import address_warning
    for loopback in ("http://127.0.0.1:5000", "http://localhost", "http://[::1]:8000", "http://0.0.0.0"):
        assert "chính máy chủ" in address_warning(loopback)[0], loopback
    for private in ("http://192.168.1.5", "http://10.0.0.2:5000", "http://172.16.4.1", "http://100.64.1.1",
                    "http://169.254.3.3", "http://mayc hu".replace(" ", ""), "http://server.local"):
        assert "nội bộ" in address_warning(private)[0], private
    for public in ("https://khaosat.hue.gov.vn", "http://203.113.131.5:8080"):
        assert address_warning(public) is None, public


# --- 4. unknown filter values are refused ------------------------------------------------

def test_unknown_dashboard_filters_are_refused_with_a_visible_message(web_site):
    viewer = logged_in(web_site, "reporter")
    assert viewer.get("/dashboard/anh").status_code == 200
    for query, message, kept in (("channel=fax", 'Kênh "fax" không hợp lệ', ""),
                                 ("version=1999&channel=online", 'không có phiên bản "1999"', "channel=online"),
                                 ("period=2026-Q9", 'Kỳ "2026-Q9" không hợp lệ', ""),
                                 ("level=thon", 'Cấp "thon" không hợp lệ', ""),
                                 ("q=khong_co", '"khong_co" không phải câu hỏi', ""),
                                 ("chanel=online", 'Không có tham số "chanel"', "")):
        response = viewer.get(f"/dashboard/anh?{query}")
        page = html.unescape(text(response))
        assert response.status_code == 400, query
        assert message in page and 'role="alert"' in page, query
        assert "big-figure" not in page and "<canvas" not in page, query        # no figures of the whole scope
        link = re.search(r'<a class="button" href="([^"]+)">Xem khi bỏ', page).group(1)
        assert link == "/dashboard/anh" + (f"?{kept}" if kept else ""), query
    # several mistakes are all named, in English too
    post(viewer, "/language", {"lang": "en"})
    page = html.unescape(text(viewer.get("/dashboard/anh?channel=fax&version=1999")))
    assert 'Invalid channel "fax"' in page and 'has no version "1999"' in page
    # valid choices still work
    assert viewer.get("/dashboard/anh?channel=online&level=huyen").status_code == 200   # a level of this tree


def test_unknown_export_filters_are_refused_as_the_api_does(web_site):
    reporter = logged_in(web_site, "reporter")
    for query, code in (("channel=fax", "unknown_parameter"), ("version=1999", "unknown_version"),
                        ("review_state=maybe", "bad_choice"), ("period=2026-Q9", "bad_period")):
        for fmt in ("export.xlsx", "export.csv.zip"):
            response = reporter.get(f"/api/v1/forms/anh/{fmt}?{query}")
            assert response.status_code == 400, (fmt, query)
            assert response.get_json()["error"]["code"] == code, (fmt, query)
    response = reporter.get("/api/v1/forms/anh/report.xlsx?period=2026-Q3&channel=fax")
    assert response.status_code == 400 and response.get_json()["error"]["message_vi"]


# --- 8. the follow-up list on its own page -----------------------------------------------

@pytest.fixture(scope="module")
def dash(web_site, tmp_path_factory):
    from dashboard_site import build
    return build(web_site, tmp_path_factory.mktemp("officer-dash") / "site")


def test_follow_up_list_pages_by_20_with_criterion_unit_and_status_filters(dash):
    from storage import followups
    reporter = logged_in(dash, "reporter")
    form = "/dashboard/tthc_hailong"
    # what the list should hold, from the indices API's dissatisfied list (JSON)
    every = reporter.get("/api/v1/forms/tthc_hailong/dissatisfied?limit=1000").get_json()["submissions"]
    assert len(every) > 20
    ids = [e["submission_id"] for e in every]

    def listed(query: str) -> list[int]:
        found, offset = [], 0
        while True:
            response = reporter.get(f"{form}/followups?{query}&offset={offset}")
            assert response.status_code == 200, query
            page_ids = [int(n) for n in re.findall(r'<tr id="dissatisfied-(\d+)"', text(response))]
            assert len(page_ids) <= 20
            if not page_ids:
                return found
            found += page_ids
            offset += 20

    assert listed("") == ids                              # every page, newest first, once
    first_page = text(reporter.get(f"{form}/followups"))
    assert len(re.findall(r'<tr id="dissatisfied-', first_page)) == 20 and 'rel="next"' in first_page
    # by criterion: those with a 1 or 2 on a staff item
    staff = [e["submission_id"] for e in every if any(a["criterion"] == "staff" for a in e["low_answers"])]
    assert 0 < len(staff) < len(ids) and listed("criterion=staff") == staff
    # by unit: the subtree of 481
    aluoi = [e["submission_id"] for e in every if e["unit"] == UNIT_B]
    assert 0 < len(aluoi) < len(ids) and listed(f"unit={UNIT_B}") == aluoi
    # by status: handle two, then open and handled split the list
    handled = ids[:2]
    for sid in handled:
        assert post(reporter, f"{form}/followups/{sid}", {"status": "handled", "note": "Đã gọi lại",
                                                          "next": f"{form}/followups"}).status_code == 302
    assert listed("status=handled") == handled
    assert listed("status=open") == ids[2:]
    assert listed(f"status=open&criterion=staff") == [s for s in staff if s not in handled]
    # the summary counts the open cases of its filters
    db = storage.connect(dash.data_dir)
    states = followups.of_submissions(db, ids)
    summary = text(reporter.get(form))
    assert re.search(r'id="open-count">([\d.]+)<', summary).group(1).replace(".", "") == \
        str(sum(states[i]["status"] == "open" for i in ids))
    assert 'id="dissatisfied-table"' not in summary                    # the list is not on the summary
    # unknown values are refused there too
    for query, message in (("status=xong", 'Trạng thái "xong"'), ("criterion=gia", 'Tiêu chí "gia"'),
                           ("offset=-1", "offset")):
        response = reporter.get(f"{form}/followups?{query}")
        assert response.status_code == 400 and message in html.unescape(text(response)), query


# --- 9. exports as background jobs ---------------------------------------------------------

def wait_for(client, job: str) -> dict:
    import time
    for _ in range(400):
        state = client.get(job + ".json").get_json()
        if state["state"] != "running":
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job} still running")


def test_export_jobs_keep_their_state_in_data_dir_for_every_worker(web_copy):
    import io
    import os
    import time
    import zipfile
    import openpyxl
    reporter = logged_in(web_copy, "reporter")
    started = post(reporter, "/exports/anh/xlsx", {"lang": "vi"})
    assert started.status_code == 302
    job = started.headers["Location"]
    assert job.startswith("/exports/jobs/")
    # another worker (another app, no shared memory) answers about the same job
    other_worker = logged_in(web_copy, "reporter")
    state = wait_for(other_worker, job)
    db = storage.connect(web_copy.data_dir)
    stored = db.execute("SELECT count(*) FROM submissions WHERE form_id = 'anh' AND current = 1 "
                        "AND deleted_at IS NULL").fetchone()[0]
    assert state == {"state": "done", "done": stored, "total": stored, "error": None,
                     "filename": "anh_toan-tinh_tat-ca.xlsx"}
    page = text(other_worker.get(job))
    assert f'value="{stored}" max="{stored}"' in page and "Tải tệp" in page
    response = other_worker.get(job + "/file")
    assert response.status_code == 200 and "anh_toan-tinh_tat-ca.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book["anh"].max_row - 1 == stored
    assert any(r["action"] == "export.xlsx" and r["actor"] == "reporter" for r in audit.recent(db, 20))
    # the CSV zip and the report, from the same buttons
    archive = post(reporter, "/exports/anh/csvzip", {})
    assert wait_for(reporter, archive.headers["Location"])["state"] == "done"
    assert zipfile.ZipFile(io.BytesIO(reporter.get(archive.headers["Location"] + "/file").data)).namelist()
    # nobody else sees the job, not even an administrator
    admin = logged_in(web_copy, "admin")
    for suffix in ("", ".json", "/file"):
        assert admin.get(job + suffix).status_code == 404
    # a refused filter says why, and starts nothing
    jobs_dir = web_copy.data_dir / "exports" / "jobs"
    before = sorted(p.name for p in jobs_dir.iterdir())
    refused = post(reporter, "/exports/anh/xlsx", {"version": "1999"})
    assert refused.status_code == 400 and "1999" in html.unescape(text(refused))
    assert post(reporter, "/exports/anh/xlsx", {"channel": "fax"}).status_code == 400
    assert post(reporter, "/exports/anh/pdf", {}).status_code == 404
    assert sorted(p.name for p in jobs_dir.iterdir()) == before
    # files are kept a day: a new job sweeps older ones away
    old = time.time() - 25 * 3600
    job_id = job.rsplit("/", 1)[1]
    for path in jobs_dir.glob(f"{job_id}.*"):
        os.utime(path, (old, old))
    post(reporter, "/exports/anh/xlsx", {})
    assert not list(jobs_dir.glob(f"{job_id}.*"))
    assert reporter.get(job + ".json").status_code == 404
    assert list(jobs_dir.glob(f"{archive.headers['Location'].rsplit('/', 1)[1]}.*"))     # a recent one stays
    # the API keeps its direct download for scripts
    direct = reporter.get("/api/v1/forms/anh/export.xlsx")
    assert direct.status_code == 200 and direct.data[:2] == b"PK"


def test_a_job_whose_worker_is_gone_is_shown_failed(web_copy):
    import json
    import os
    import time
    reporter = logged_in(web_copy, "reporter")
    jobs_dir = web_copy.data_dir / "exports" / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    user_id = storage.connect(web_copy.data_dir).execute("SELECT id FROM users WHERE name = 'reporter'").fetchone()[0]
    path = jobs_dir / "mo-coi-lau.json"
    path.write_text(json.dumps({"id": "mo-coi-lau", "user_id": user_id, "form_id": "anh", "kind": "xlsx",
                                "state": "running", "done": 10, "total": 100, "filename": "anh.xlsx",
                                "error": None, "started_at": 0, "finished_at": None}))
    assert reporter.get("/exports/jobs/mo-coi-lau.json").get_json()["state"] == "running"
    stale = time.time() - 20 * 60
    os.utime(path, (stale, stale))
    assert reporter.get("/exports/jobs/mo-coi-lau.json").get_json()["state"] == "failed"
    assert '<span class="job-failed">Không tạo được tệp' in text(reporter.get("/exports/jobs/mo-coi-lau"))


# --- 10. designer niceties ---------------------------------------------------------------

def test_a_lower_version_than_the_published_one_is_refused_with_an_explanation(web_copy, tmp_path):
    import hashlib
    import io
    from storage import browse
    from xlsforms import small_form
    designer = logged_in(web_copy, "designer")

    def upload(version: str):
        path = small_form(tmp_path / f"anh_{version}.xlsx", "anh", version, extra_question=True)
        response = designer.post("/questionnaires/upload", content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(path.read_bytes()), "anh.xlsx"), "unit": "",
                                       "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                               text(designer.get("/questionnaires/upload"))).group(1)})
        assert response.status_code == 302
        return hashlib.sha256(path.read_bytes()).hexdigest()

    db = storage.connect(web_copy.data_dir)
    assert [v["version"] for v in browse.form_versions(db, "anh")] == ["1"]
    # 10 comes after 9 and after 1: numbers compare by value
    sha = upload("10")
    assert post(designer, f"/questionnaires/staged/{sha}/publish").status_code == 302
    # 9 < 10: the preview explains and offers no publish button; publishing anyway is refused
    sha = upload("9")
    preview = html.unescape(text(designer.get(f"/questionnaires/staged/{sha}")))
    assert 'Phiên bản "9" thấp hơn phiên bản đang xuất bản "10"' in preview and "Xuất bản phiên bản" not in preview
    response = post(designer, f"/questionnaires/staged/{sha}/publish", follow_redirects=True)
    assert "thấp hơn phiên bản đang xuất bản" in html.unescape(text(response))
    assert sorted(v["version"] for v in browse.form_versions(db, "anh")) == ["1", "10"]
    # the command line refuses it too
    from conftest import cli
    path = small_form(tmp_path / "anh_cli.xlsx", "anh", "2", extra_question=True)
    result = cli(web_copy.data_dir, "forms", "publish", str(path))
    assert result.exit_code != 0 and "thấp hơn" in result.output


def test_the_designers_guide_is_a_page_linked_from_the_upload_page(web_site):
    designer = logged_in(web_site, "designer")
    upload = text(designer.get("/questionnaires/upload"))
    assert "forms/README.md" not in upload
    link = re.search(r'<a href="([^"]+)">hướng dẫn viết biểu mẫu</a>', upload).group(1)
    guide = designer.get(link)
    assert guide.status_code == 200
    page = text(guide)
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "forms" / "README.md").read_text(encoding="utf-8")
    title = readme.splitlines()[0].lstrip("# ").strip()
    assert f"<h1>{html.escape(title, quote=False)}</h1>" in page
    assert "<table>" in page and "<code>criterion</code>" in page
    assert guide.headers["Content-Security-Policy"].startswith("default-src 'self'")
