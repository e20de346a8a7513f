"""Officers' pages as a provincial office uses them (issue 17): surveyors, the public address,
feedback where the user looks, refused filters."""
from __future__ import annotations

import base64
import re

import storage
from storage import audit
from web_site import UNIT_A, logged_in, post


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
