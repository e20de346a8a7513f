"""What the web pages do: administration, forms from upload to publication, submissions and reviews."""
from __future__ import annotations

import hashlib
import re

import pytest

import storage
from tests.harness.site import PASSWORD
from storage import audit, browse, forms, reviews, staging
from web_site import PHOTO, UNIT_A, UNIT_B, logged_in, login, post
from xlsforms import small_form, write_xlsform


def text(response) -> str:
    return response.get_data(as_text=True)


# --- language and formats ------------------------------------------------------------------

def test_vietnamese_by_default_english_by_the_switch(web_site):
    client = logged_in(web_site, "xem_hue")
    page = text(client.get("/submissions/"))
    assert '<html lang="vi">' in page and "Phiếu khảo sát đã nhận" in page and "Ngày khảo sát" in page
    switched = post(client, "/language", {"lang": "en", "next": "/submissions/?channel=interview"})
    assert switched.headers["Location"] == "/submissions/?channel=interview"
    page = text(client.get("/submissions/"))
    assert '<html lang="en">' in page and "Submissions received" in page and "Interview date" in page
    # the choice outlives logging out and in again
    post(client, "/logout")
    assert "Log in" in text(client.get("/login"))
    login(client, "xem_hue")
    assert "Submissions received" in text(client.get("/submissions/"))


def test_number_and_date_formats(web_site):
    from aggregate import periods
    from server.web import i18n
    app = web_site.app()
    with app.test_request_context():
        assert i18n.format_number(1234.5, 1) == "1.234,5"
        assert i18n.format_number(1234567) == "1.234.567"
        # 17:30 UTC on 31 March is already 1 April in Vietnam
        assert i18n.format_date("2026-03-31T17:30:00.000Z") == "01/04/2026"
        assert i18n.format_datetime("2026-03-31T17:30:00.000Z") == "01/04/2026 00:30"
        assert i18n.format_answer("2026-09-18", "date") == "18/09/2026"
        assert i18n.format_answer("2.50", "decimal") == "2,50"
        assert periods.parse_date("05/02/2026").isoformat() == "2026-02-05"
        assert periods.parse_date("2026-02-05").isoformat() == "2026-02-05"
        assert periods.parse_date("31/02/2026") is None and periods.parse_date("hôm qua") is None
        assert i18n.day_start_utc(periods.parse_date("01/04/2026")) == "2026-03-31T17:00:00.000Z"
    with app.test_request_context():
        from flask import session
        session["lang"] = "en"
        assert i18n.format_number(1234.5, 1) == "1,234.5"


# --- administration ------------------------------------------------------------------------

def test_admin_creates_resets_and_revokes_accounts(web_copy):
    admin = logged_in(web_copy, "admin")
    created = post(admin, "/admin/users", {"name": "bao_cao_aluoi", "role": "reporter", "unit": UNIT_B,
                                           "password": PASSWORD, "password_again": PASSWORD})
    assert created.status_code == 302
    assert "bao_cao_aluoi" in text(admin.get("/admin/users"))
    newcomer = logged_in(web_copy, "bao_cao_aluoi")
    assert text(newcomer.get("/submissions/")).count("Huyện A Lưới") >= 5
    # mistakes are explained, nothing is created
    for name, password, again, message in (("x", "ngan", "ngan", "ít nhất 10"),
                                           ("co dau cách", PASSWORD, PASSWORD, "Tên tài khoản"),
                                           ("bao_cao_aluoi", PASSWORD, PASSWORD, "đã có"),
                                           ("y", PASSWORD, PASSWORD + "x", "không khớp")):
        data = {"name": name, "role": "viewer", "password": password, "password_again": again}
        response = post(admin, "/admin/users", data)
        assert response.status_code == 400 and message in text(response)
    # revoking needs the box ticked, and nobody revokes themselves
    post(admin, "/admin/users/bao_cao_aluoi/revoke", {})
    assert "Hoạt động" in text(admin.get("/admin/users"))
    post(admin, "/admin/users/admin/revoke", {"confirm": "yes"})
    assert post(admin, "/admin/users/bao_cao_aluoi/revoke", {"confirm": "yes"}).status_code == 302
    assert newcomer.get("/submissions/").status_code == 302
    db = storage.connect(web_copy.data_dir)
    assert db.execute("SELECT revoked_at IS NULL FROM users WHERE name = 'admin'").fetchone()[0] == 1
    actions = [(r["action"], r["actor"], r["target"]) for r in audit.recent(db, 100)]
    assert ("user.create", "admin", "bao_cao_aluoi") in actions and ("user.revoke", "admin", "bao_cao_aluoi") in actions


def test_unit_bound_admin_manages_only_its_subtree(web_copy):
    admin_a = logged_in(web_copy, "admin_hue")
    outside = post(admin_a, "/admin/users", {"name": "lan_ra", "role": "viewer", "unit": UNIT_B,
                                             "password": PASSWORD, "password_again": PASSWORD})
    assert outside.status_code == 400 and "ngoài phạm vi" in text(outside)
    province = post(admin_a, "/admin/users", {"name": "toan_tinh", "role": "admin", "unit": "",
                                              "password": PASSWORD, "password_again": PASSWORD})
    assert province.status_code == 400
    inside = post(admin_a, "/admin/users", {"name": "xem_hue_2", "role": "viewer", "unit": UNIT_A,
                                            "password": PASSWORD, "password_again": PASSWORD})
    assert inside.status_code == 302
    assert post(admin_a, "/admin/users/xem_aluoi/password",
                {"password": PASSWORD + "1", "password_again": PASSWORD + "1"}).status_code == 404
    assert post(admin_a, "/admin/users/xem_aluoi/revoke", {"confirm": "yes"}).status_code == 404
    assert post(admin_a, "/admin/users/admin/revoke", {"confirm": "yes"}).status_code == 404
    assert post(admin_a, "/admin/units", {}).status_code == 403
    db = storage.connect(web_copy.data_dir)
    made = {r["name"] for r in db.query("SELECT name FROM users WHERE name IN ('lan_ra', 'toan_tinh', 'xem_hue_2')")}
    assert made == {"xem_hue_2"}


def test_collector_gets_a_token_url_and_qr_code_once(web_copy):
    admin = logged_in(web_copy, "admin")
    response = post(admin, "/admin/collectors", {"name": "dtv_moi", "unit": UNIT_A})
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    url = re.search(r'id="server-url" class="mono" value="([^"]+)"', page).group(1)
    assert url.startswith("http://localhost/key/")
    qr = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page).group(1)
    import base64
    assert base64.b64decode(qr)[:8] == b"\x89PNG\r\n\x1a\n"
    token = url.rsplit("/", 1)[1]
    assert token not in text(admin.get("/admin/collectors"))       # shown once only
    collect = web_copy.app().test_client()
    assert collect.get(f"/key/{token}/formList").status_code == 200
    assert post(admin, "/admin/users/dtv_moi/revoke", {"confirm": "yes", "from": "collectors"}).headers[
        "Location"] == "/admin/collectors"
    assert collect.get(f"/key/{token}/formList").status_code == 401


def test_unit_import_lists_errors_by_row_and_imports_nothing(web_copy):
    admin = logged_in(web_copy, "admin")
    db = storage.connect(web_copy.data_dir)
    before = db.execute("SELECT count(*) FROM units").fetchone()[0]
    bad = ("code,parent_code,level,name_vi,name_en\n"
           "19999,474,xa,Phường Mới,New ward\n"
           "19998,474,phuong,Phường Sai,\n"
           "19997,9999,xa,Xã Lạc,\n").encode("utf-8")
    import io
    response = admin.post("/admin/units", data={"file": (io.BytesIO(bad), "units.csv"),
                                                "csrf_token": _token(admin)}, content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 400
    assert re.search(r'<td class="num">3</td><td>Cấp &#34;phuong&#34; không hợp lệ', page)
    assert re.search(r'<td class="num">4</td><td>Đơn vị cấp trên &#34;9999&#34;', page)
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == before
    good = "code,parent_code,level,name_vi,name_en\n19999,474,xa,Phường Mới,New ward\n".encode("utf-8")
    response = admin.post("/admin/units", data={"file": (io.BytesIO(good), "units.csv"),
                                                "csrf_token": _token(admin)}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Phường Mới" in text(admin.get("/admin/units"))
    # the new ward belongs to Huế's subtree at once
    assert "19999" in text(logged_in(web_copy, "xem_hue").get("/submissions/"))


def _token(client) -> str:
    from web_site import csrf_token
    return csrf_token(client)


def test_audit_log_pages_by_keyset(web_copy):
    db = storage.connect(web_copy.data_dir)
    with storage.write_transaction(db):
        for n in range(120):
            audit.record(db, "cli", "units.import", f"muc-{n:03d}")
    admin = logged_in(web_copy, "admin")
    first = text(admin.get("/admin/audit"))
    older = re.search(r'href="/admin/audit\?before=(\d+)"', first).group(1)
    second = text(admin.get(f"/admin/audit?before={older}"))
    assert "muc-119" in first and "muc-119" not in second and "muc-069" in second
    assert first.count("<tr>") == second.count("<tr>") == 51     # header + 50 rows


# --- forms ---------------------------------------------------------------------------------

def _bad_form(path):
    return write_xlsform(path, [["type", "name", "label", "criterion"], ["text", "unit", "Đơn vị", ""],
                                ["select_one s5", "q_proc", "Thủ tục", "thu_tuc"],
                                ["select_one khong_co", "q_staff", "Công chức", "staff"]],
                         [["list_name", "name", "label"], ["s5", "5", "5"], ["s5", "4", "4"]],
                         {"form_id": "loi", "version": "1"})


def _upload(client, path, unit=""):
    import io
    return client.post("/questionnaires/upload", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(path.read_bytes()), path.name), "unit": unit,
                             "csrf_token": _token(client)})


def test_upload_with_errors_shows_them_by_cell_and_publishes_nothing(web_copy, tmp_path):
    designer = logged_in(web_copy, "designer")
    response = _upload(designer, _bad_form(tmp_path / "loi.xlsx"))
    page = text(response)
    assert response.status_code == 422
    cell = r'<td>survey</td>\s*<td class="num">{row}</td>\s*<td>{column}</td>\s*<td>{start}'
    assert re.search(cell.format(row=3, column="criterion", start="Giá trị &#34;thu_tuc&#34;"), page)
    assert re.search(cell.format(row=4, column="type", start="Danh sách lựa chọn"), page)
    post(designer, "/language", {"lang": "en"})
    page = text(_upload(designer, _bad_form(tmp_path / "loi.xlsx")))
    assert "Unknown criterion &#34;thu_tuc&#34;" in page and "Severity" in page
    db = storage.connect(web_copy.data_dir)
    assert forms.get_form(db, "loi") is None
    assert db.execute("SELECT count(*) FROM staged_forms").fetchone()[0] == 0


def test_upload_preview_publish_close_reopen_and_download(web_copy, tmp_path):
    designer = logged_in(web_copy, "designer")
    path = small_form(tmp_path / "khao_sat_moi.xlsx", "khao_sat_moi", "2026120101")
    response = _upload(designer, path, unit=UNIT_B)
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert preview_url == f"/questionnaires/staged/{sha}"
    preview = text(designer.get(preview_url))
    assert "Bản đồ tiêu chí" in preview and "q_proc" in preview and "Giải quyết thủ tục hành chính" in preview
    db = storage.connect(web_copy.data_dir)
    assert forms.get_form(db, "khao_sat_moi") is None                  # a preview publishes nothing
    # the staged bytes belong to their uploader
    assert post(logged_in(web_copy, "admin"), f"/questionnaires/staged/{sha}/publish").status_code == 404
    published = post(designer, f"/questionnaires/staged/{sha}/publish")
    assert published.headers["Location"] == "/questionnaires/khao_sat_moi"
    form = forms.get_form(db, "khao_sat_moi")
    assert form["unit_code"] == UNIT_B and form["state"] == "open"
    assert forms.get_version(db, "khao_sat_moi", "2026120101")["xlsform"] == path.read_bytes()
    assert staging.get_staged(db, sha, "designer") is None
    detail = text(designer.get("/questionnaires/khao_sat_moi"))
    assert "2026120101" in detail and "Đóng biểu mẫu" in detail
    post(designer, "/questionnaires/khao_sat_moi/state", {"state": "closed"})
    assert forms.get_form(db, "khao_sat_moi")["state"] == "closed"
    post(designer, "/questionnaires/khao_sat_moi/state", {"state": "open"})
    assert forms.get_form(db, "khao_sat_moi")["state"] == "open"
    # a second version; both stay downloadable
    (tmp_path / "v2").mkdir()
    path2 = small_form(tmp_path / "v2" / "khao_sat_moi.xlsx", "khao_sat_moi", "2026120102", extra_question=True)
    sha2 = hashlib.sha256(path2.read_bytes()).hexdigest()
    assert _upload(designer, path2).status_code == 302
    assert "phiên bản mới" in text(designer.get(f"/questionnaires/staged/{sha2}"))
    post(designer, f"/questionnaires/staged/{sha2}/publish")
    reporter = logged_in(web_copy, "reporter")
    for version, source in (("2026120101", path), ("2026120102", path2)):
        xlsx = reporter.get(f"/questionnaires/khao_sat_moi/versions/{version}/xlsform")
        assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
        xform = reporter.get(f"/questionnaires/khao_sat_moi/versions/{version}/xform")
        assert xform.data.startswith(b"<?xml") and f'version="{version}"'.encode() in xform.data
    assert forms.get_version(db, "khao_sat_moi", "2026120101")["xlsform"] == path.read_bytes()
    audit_actions = [(r["action"], r["target"]) for r in audit.recent(db, 50)]
    assert ("form.close", "khao_sat_moi") in audit_actions and ("form.publish", "khao_sat_moi") in audit_actions


def test_same_version_with_other_content_cannot_be_published(web_copy, tmp_path):
    designer = logged_in(web_copy, "designer")
    path = small_form(tmp_path / "anh.xlsx", "anh", "1", extra_question=True)     # "anh" 1 exists
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert _upload(designer, path).status_code == 302
    preview = text(designer.get(f"/questionnaires/staged/{sha}"))
    assert "đã được xuất bản với nội dung khác" in preview and "Xuất bản phiên bản" not in preview
    response = post(designer, f"/questionnaires/staged/{sha}/publish", follow_redirects=True)
    assert "tăng giá trị" in text(response)
    db = storage.connect(web_copy.data_dir)
    assert len(browse.form_versions(db, "anh")) == 1


def test_unit_bound_designer_and_read_only_roles(web_copy, tmp_path):
    designer_a = logged_in(web_copy, "designer_hue")
    # the province's standard form is not theirs to change
    assert post(designer_a, "/questionnaires/tthc_hailong/state", {"state": "closed"}).status_code == 403
    assert "Đóng biểu mẫu" not in text(designer_a.get("/questionnaires/tthc_hailong"))
    import shutil
    std = tmp_path / "tthc_hailong.xlsx"
    shutil.copy(forms_path(), std)
    assert _upload(designer_a, std, unit=UNIT_A).status_code == 403
    # a form for their own unit is
    own = small_form(tmp_path / "rieng_hue.xlsx", "rieng_hue", "1")
    assert _upload(designer_a, own, unit=UNIT_B).status_code == 400
    response = _upload(designer_a, own, unit=UNIT_A)
    assert response.status_code == 302
    post(designer_a, response.headers["Location"] + "/publish")
    assert forms.get_form(storage.connect(web_copy.data_dir), "rieng_hue")["unit_code"] == UNIT_A
    for name in ("reporter_hue", "xem_hue"):
        reader = logged_in(web_copy, name)
        assert _upload(reader, own).status_code == 403
        assert post(reader, "/questionnaires/rieng_hue/state", {"state": "closed"}).status_code == 403
        assert "Tải lên XLSForm" not in text(reader.get("/questionnaires/"))


def forms_path():
    from tests.harness.site import ROOT
    return ROOT / "forms" / "tthc_hailong.xlsx"


# --- submissions ---------------------------------------------------------------------------

def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td><a href="/submissions/(\d+)">', page)]


def test_filters(web_site):
    client = logged_in(web_site, "admin")
    everything = set(web_site.by_unit[UNIT_A]) | set(web_site.by_unit[UNIT_B])
    assert set(_ids(text(client.get("/submissions/")))) == everything
    assert set(_ids(text(client.get("/submissions/?form=anh")))) == set(web_site.photo_submission.values())
    assert set(_ids(text(client.get(f"/submissions/?unit={UNIT_A}&form=anh")))) == {web_site.photo_submission[UNIT_A]}
    assert _ids(text(client.get("/submissions/?channel=kiosk"))) == []
    assert set(_ids(text(client.get("/submissions/?channel=interview")))) == everything
    assert set(_ids(text(client.get("/submissions/?state=received")))) == everything
    assert _ids(text(client.get("/submissions/?state=approved"))) == []
    assert _ids(text(client.get("/submissions/?from=01/01/2020&to=31/12/2020"))) == []
    assert set(_ids(text(client.get("/submissions/?from=01/01/2020&to=31/12/2030")))) == everything
    bad = text(client.get("/submissions/?from=32/13/2026"))
    assert "không hợp lệ" in bad and set(_ids(bad)) == everything


def test_interview_date_boundaries_are_vietnam_days(web_site):
    db = storage.connect(web_site.data_dir)
    sid = web_site.by_unit[UNIT_A][0]
    started = db.execute("SELECT started_at FROM submissions WHERE id = ?", [sid]).fetchone()[0]
    from datetime import datetime, timedelta
    day = (datetime.fromisoformat(started.replace("Z", "+00:00")) + timedelta(hours=7)).strftime("%d/%m/%Y")
    client = logged_in(web_site, "admin")
    page = text(client.get(f"/submissions/?from={day}&to={day}"))
    assert sid in _ids(page) and day in page


def test_keyset_pages_walk_every_row_once(web_site):
    client = logged_in(web_site, "admin", WEB_PAGE_SIZE=3)
    everything = sorted(set(web_site.by_unit[UNIT_A]) | set(web_site.by_unit[UNIT_B]), reverse=True)
    seen, url, pages = [], "/submissions/?channel=interview", 0
    while url:
        page = text(client.get(url))
        seen += _ids(page)
        pages += 1
        match = re.search(r'href="(/submissions/\?[^"]*after=\d+[^"]*)" rel="next"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
        assert "channel=interview" in (url or "channel=interview")
    assert seen == everything and pages == 4
    # and back again from the last page
    last = text(client.get(f"/submissions/?after={everything[-2]}"))
    back = re.search(r'href="(/submissions/\?before=\d+)" rel="prev"', last).group(1)
    assert _ids(text(client.get(back))) == everything[-4:-1]


def test_submission_page_labels_history_and_hidden_identifiers(web_site):
    sid = web_site.edited
    for name in ("xem_hue", "reporter_hue", "designer", "admin"):
        page = text(logged_in(web_site, name).get(f"/submissions/{sid}"))
        assert "Giới tính" in page and "Thủ tục hành chính được niêm yết công khai, đầy đủ" in page
        assert "Đã sửa &amp; bổ sung &lt;góp ý&gt;" in page          # escaped, never raw
        assert "thông tin định danh, đã ẩn" in page
        assert "HS-" not in page
        assert page.count('href="/submissions/') >= 2 and "bản gốc" in page and "bản hiện hành" in page
    old = text(logged_in(web_site, "xem_hue").get(f"/submissions/{web_site.edited_root}"))
    assert "Đây là một bản cũ" in old
    listing = text(logged_in(web_site, "xem_hue").get("/submissions/"))
    row = re.search(rf'<a href="/submissions/{sid}">.*?</tr>', listing, re.S).group(0)
    assert '<td class="num">1</td>' in row                          # one edit


def test_admin_sees_identifiers_on_request_and_it_is_logged(web_copy):
    sid = web_copy.by_unit[UNIT_A][2]
    db = storage.connect(web_copy.data_dir)

    def looks():
        return [r for r in audit.recent(db, 1000) if r["action"] == "submission.sensitive_view"
                and r["target"] == web_copy.instance_ids[sid]]

    before = len(looks())
    admin = logged_in(web_copy, "admin")
    assert "HS-474-BI-MAT" not in text(admin.get(f"/submissions/{sid}"))
    assert len(looks()) == before
    page = text(admin.get(f"/submissions/{sid}?sensitive=1"))
    assert "HS-474-BI-MAT" in page
    entry = looks()[0]
    assert len(looks()) == before + 1 and entry["actor"] == "admin"
    assert "HS-474" not in (entry["details_json"] or "")


def test_attachment_download_checks_the_hash(web_copy):
    sid = web_copy.photo_submission[UNIT_A]
    viewer = logged_in(web_copy, "xem_hue")
    page = text(viewer.get(f"/submissions/{sid}"))
    assert f'href="/submissions/{sid}/attachments/anh-474.jpg"' in page
    response = viewer.get(f"/submissions/{sid}/attachments/anh-474.jpg")
    assert response.status_code == 200 and response.data == PHOTO
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert viewer.get(f"/submissions/{sid}/attachments/khong-co.jpg").status_code == 404
    sha = hashlib.sha256(PHOTO).hexdigest()
    (web_copy.data_dir / "blobs" / sha[:2] / sha).write_bytes(b"hong")
    broken = viewer.get(f"/submissions/{sid}/attachments/anh-474.jpg")
    assert broken.status_code == 500 and "SHA-256" in text(broken) and b"hong" not in broken.data


def test_reviews_are_kept_with_notes_and_audited(web_copy):
    sid = web_copy.by_unit[UNIT_A][1]
    reporter = logged_in(web_copy, "reporter_hue")
    db = storage.connect(web_copy.data_dir)
    # issues and rejections need a reason
    post(reporter, f"/submissions/{sid}/review", {"state": "hasIssues"})
    assert browse.submission_in_scope(db, sid, None)["review_state"] == "received"
    assert post(reporter, f"/submissions/{sid}/review", {"state": "bogus"}).status_code == 302
    post(reporter, f"/submissions/{sid}/review", {"state": "hasIssues", "note": "Thiếu ngày <phỏng vấn>"})
    post(logged_in(web_copy, "admin"), f"/submissions/{sid}/review", {"state": "approved"})
    assert browse.submission_in_scope(db, sid, None)["review_state"] == "approved"
    assert [(r["state"], r["actor"], r["note"]) for r in reviews.reviews_of(db, sid)] == [
        ("hasIssues", "reporter_hue", "Thiếu ngày <phỏng vấn>"), ("approved", "admin", None)]
    page = text(reporter.get(f"/submissions/{sid}"))
    assert "Thiếu ngày &lt;phỏng vấn&gt;" in page
    assert sid in _ids(text(reporter.get("/submissions/?state=approved")))
    logged = [(r["action"], r["actor"]) for r in audit.recent(db, 50) if r["action"] == "submission.review"]
    assert logged == [("submission.review", "admin"), ("submission.review", "reporter_hue")]
    # viewers and designers read only; a reporter of 474 cannot touch 481
    for name in ("xem_hue", "designer"):
        reader = logged_in(web_copy, name)
        assert post(reader, f"/submissions/{sid}/review", {"state": "rejected", "note": "x"}).status_code == 403
    other = web_copy.by_unit[UNIT_B][0]
    assert post(reporter, f"/submissions/{other}/review", {"state": "rejected", "note": "x"}).status_code == 404
    assert browse.submission_in_scope(db, other, None)["review_state"] == "received"
    assert "Lưu kết quả xem xét" not in text(logged_in(web_copy, "xem_hue").get(f"/submissions/{sid}"))


@pytest.mark.parametrize("path", ["/submissions/", "/questionnaires/", "/admin/users", "/admin/collectors",
                                  "/admin/units", "/admin/audit", "/questionnaires/upload", "/login"])
def test_every_input_has_a_label(web_site, path):
    client = web_site.app().test_client()
    if path != "/login":
        login(client, "admin")
    page = text(client.get(path))
    # visible fields (hidden inputs aside; checkboxes and radios sit inside their label)
    field = r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|checkbox|radio)")(?![^>]*\shidden[\s>])[^>]*'
    ids = re.findall(field + r'\sid="([^"]+)"', page)
    inputs = re.findall(field + ">", page)
    assert len(ids) == len(inputs), "an input without an id cannot have a label"
    for element_id in ids:
        assert f'<label for="{element_id}"' in page, element_id
