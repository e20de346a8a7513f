"""Who may open which web page: every route × every role × unit scope, CSRF and the login limit.

Unit 474 (Huế) and 481 (A Lưới) hold submissions; accounts bound to 474 must never reach 481's
data, whether through the list, a detail page, an attachment or a download.
"""
from __future__ import annotations

import re
import time

import pytest

import storage
from tests.harness.site import PASSWORD
from storage import audit, browse, reviews
from web_site import UNIT_A, UNIT_B, csrf_token, login, post, signed_in
from xlsforms import STANDARD_VERSION

# role column -> account (see web_site.ACCOUNTS)
ACCOUNTS = {
    "viewer_a": "xem_hue", "viewer_b": "xem_aluoi", "reporter_a": "reporter_hue", "reporter": "reporter",
    "designer": "designer", "designer_a": "designer_hue", "admin": "admin", "admin_a": "admin_hue",
}
ROLES = ["anonymous", "collector", *ACCOUNTS]
ADMINS = {"admin", "admin_a"}
EDITORS = ADMINS | {"designer", "designer_a"}
SEES_A = set(ACCOUNTS) - {"viewer_b"}                        # province-wide or bound to 474
SEES_B = {"viewer_b", "reporter", "designer", "admin"}      # province-wide or bound to 481


def every_web_role(status):
    return lambda role: status


def only(allowed, status=200, otherwise=403):
    return lambda role: status if role in allowed else otherwise


def scoped(visible):
    return lambda role: 200 if role in visible else 404


def sensitive(visible):
    # scope is checked first (404), then the right to see identifiers (admins only, else 403)
    return lambda role: 404 if role not in visible else (200 if role in ADMINS else 403)


FORM_FILES = f"/questionnaires/tthc_hailong/versions/{STANDARD_VERSION}"
# (path with {a}/{b}/{a_photo}/{b_photo} placeholders, expected status for a logged-in web role)
ROUTES = [
    ("/submissions/", every_web_role(200)),
    ("/submissions/{a}", scoped(SEES_A)),
    ("/submissions/{b}", scoped(SEES_B)),
    ("/submissions/{a_photo}/attachments/anh-474.jpg", scoped(SEES_A)),
    ("/submissions/{b_photo}/attachments/anh-481.jpg", scoped(SEES_B)),
    ("/submissions/{a}?sensitive=1", sensitive(SEES_A)),
    ("/submissions/{b}?sensitive=1", sensitive(SEES_B)),
    ("/submissions/{edited}", scoped(SEES_A)),
    ("/questionnaires/", every_web_role(200)),
    ("/questionnaires/tthc_hailong", every_web_role(200)),
    ("/questionnaires/anh", every_web_role(200)),
    (FORM_FILES + "/xlsform", every_web_role(200)),
    (FORM_FILES + "/xform", every_web_role(200)),
    ("/questionnaires/upload", only(EDITORS)),
    ("/admin/", only(ADMINS, 302)),
    ("/admin/users", only(ADMINS)),
    ("/admin/collectors", only(ADMINS)),
    ("/admin/units", only(ADMINS)),
    ("/admin/audit", only(ADMINS)),
]


@pytest.fixture(scope="module")
def app(web_site):
    return web_site.app()


@pytest.fixture(scope="module")
def clients(app):
    """One logged-in browser per account, kept for the module (logging in costs a scrypt)."""
    return {role: signed_in(app, name) for role, name in ACCOUNTS.items()}


def _fill(path: str, site) -> str:
    return path.format(a=site.by_unit[UNIT_A][0], b=site.by_unit[UNIT_B][0],
                       a_photo=site.photo_submission[UNIT_A], b_photo=site.photo_submission[UNIT_B],
                       edited=site.edited)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path,expected", ROUTES, ids=[r[0] for r in ROUTES])
def test_route_role_matrix(app, clients, web_site, role, path, expected):
    url = _fill(path, web_site)
    if role == "anonymous":
        response = app.test_client().get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        return
    if role == "collector":
        # surveyors only have Collect; with their (valid) password they are still refused here
        response = app.test_client().get(url, auth=("thu_ky", PASSWORD))
        assert response.status_code == 403
        assert "ODK Collect" in response.get_data(as_text=True)
        return
    response = clients[role].get(url)
    assert response.status_code == expected(role), (role, url)
    if response.status_code == 200 and "attachments" not in url and "/versions/" not in url:
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["Cache-Control"] == "no-store"



REVIEWERS = {"reporter_a", "reporter", "admin", "admin_a"}
NO_STAGED = "0" * 64
# POST routes with a payload that passes the access checks but is refused on its content, so
# that the matrix changes nothing: (path, data, expected status for a logged-in web role)
POST_ROUTES = [
    ("/submissions/{a}/review", {"state": "bogus"},
     lambda r: 302 if r in REVIEWERS else 403),
    ("/submissions/{b}/review", {"state": "bogus"},
     lambda r: (302 if r in SEES_B else 404) if r in REVIEWERS else 403),
    ("/questionnaires/upload", {}, only(EDITORS, 400)),
    ("/questionnaires/tthc_hailong/state", {"state": "bogus"}, only({"designer", "admin"}, 400)),
    (f"/questionnaires/staged/{NO_STAGED}/publish", {}, only(EDITORS, 404)),
    ("/admin/users", {}, only(ADMINS, 400)),
    ("/admin/users/xem_aluoi/password", {"password": "ngan", "password_again": "ngan"},
     lambda r: {"admin": 400, "admin_a": 404}.get(r, 403)),
    ("/admin/users/xem_aluoi/revoke", {}, lambda r: {"admin": 302, "admin_a": 404}.get(r, 403)),
    ("/admin/collectors", {}, only(ADMINS, 400)),
    ("/admin/units", {}, lambda r: {"admin": 302}.get(r, 403)),
    ("/admin/units/preview", {}, lambda r: {"admin": 302}.get(r, 403)),
]


def test_post_route_role_matrix(web_copy):
    app = web_copy.app()
    clients = {}
    for role, name in ACCOUNTS.items():
        clients[role] = app.test_client()
        login(clients[role], name)
    db = storage.connect(web_copy.data_dir)
    snapshot = ("SELECT (SELECT group_concat(name || coalesce(revoked_at, '') || password_hash) FROM users),"
                " (SELECT count(*) FROM reviews), (SELECT group_concat(state) FROM forms),"
                " (SELECT count(*) FROM units), (SELECT count(*) FROM form_versions)")
    before = db.execute(snapshot).fetchone()
    for path, data, expected in POST_ROUTES:
        url = _fill(path, web_copy)
        anonymous = app.test_client()
        response = anonymous.post(url, data={**data, "csrf_token": csrf_token(anonymous)})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
        collector = app.test_client()
        response = collector.post(url, data={**data, "csrf_token": csrf_token(collector)},
                                  auth=("thu_ky", PASSWORD))
        assert response.status_code == 403, url
        for role, client in clients.items():
            assert post(client, url, data).status_code == expected(role), (role, url)
    assert db.execute(snapshot).fetchone() == before

def test_home_sends_each_to_the_right_place(app, clients):
    assert app.test_client().get("/").headers["Location"] == "/login"
    assert clients["viewer_a"].get("/").headers["Location"] == "/submissions/"


def _listed_ids(client, url="/submissions/") -> set[int]:
    text = client.get(url).get_data(as_text=True)
    return {int(n) for n in re.findall(r'href="/submissions/(\d+)"', text)}


def test_lists_hold_only_the_scope(clients, web_site):
    a, b = set(web_site.by_unit[UNIT_A]), set(web_site.by_unit[UNIT_B])
    for role in ("viewer_a", "reporter_a", "designer_a", "admin_a"):
        assert _listed_ids(clients[role]) == a, role
        # asking for the other unit's subtree gives nothing, not an error
        assert _listed_ids(clients[role], f"/submissions/?unit={UNIT_B}") == set()
    assert _listed_ids(clients["viewer_b"]) == b
    for role in ("reporter", "designer", "admin"):
        assert _listed_ids(clients[role]) == a | b
        assert _listed_ids(clients[role], f"/submissions/?unit={UNIT_B}") == b


def test_detail_and_attachment_of_another_unit_say_nothing(clients, web_site):
    viewer = clients["viewer_a"]
    b = web_site.by_unit[UNIT_B][0]
    page = viewer.get(f"/submissions/{b}")
    assert page.status_code == 404
    assert web_site.instance_ids[b] not in page.get_data(as_text=True)
    # the attachment name and id are right, the scope is not
    assert viewer.get(f"/submissions/{web_site.photo_submission[UNIT_B]}/attachments/anh-481.jpg").status_code == 404
    # and the unit filter of the form does not offer units outside the scope
    listing = viewer.get("/submissions/").get_data(as_text=True)
    assert 'value="481"' not in listing and 'value="474"' in listing


def test_forms_of_another_unit_are_hidden_with_their_files(web_copy, tmp_path):
    from xlsforms import small_form
    from tests.harness.site import cli

    path = small_form(tmp_path / "rieng_aluoi.xlsx", "rieng_aluoi", "1")
    assert cli(web_copy.data_dir, "forms", "publish", str(path), "--unit", UNIT_B).exit_code == 0
    app = web_copy.app()
    viewer_a, viewer_b = app.test_client(), app.test_client()
    login(viewer_a, "xem_hue")
    login(viewer_b, "xem_aluoi")
    assert "rieng_aluoi" not in viewer_a.get("/questionnaires/").get_data(as_text=True)
    assert "rieng_aluoi" in viewer_b.get("/questionnaires/").get_data(as_text=True)
    for suffix in ("", "/versions/1/xlsform", "/versions/1/xform"):
        assert viewer_a.get(f"/questionnaires/rieng_aluoi{suffix}").status_code == 404
        assert viewer_b.get(f"/questionnaires/rieng_aluoi{suffix}").status_code == 200


def test_unit_bound_admin_sees_only_its_subtree(clients):
    users_page = clients["admin_a"].get("/admin/users").get_data(as_text=True)
    assert "reporter_hue" in users_page and "xem_aluoi" not in users_page and ">reporter<" not in users_page
    # the unit tree import moves any unit: province-wide administrators only
    assert 'name="file"' not in clients["admin_a"].get("/admin/units").get_data(as_text=True)
    audit_page = clients["admin_a"].get("/admin/audit").get_data(as_text=True)
    assert "reporter_hue" in audit_page          # logged in above
    assert ">xem_aluoi<" not in audit_page


# --- CSRF ----------------------------------------------------------------------------------

def test_posts_without_the_right_token_are_refused_and_change_nothing(web_copy):
    app = web_copy.app()
    reporter, admin = app.test_client(), app.test_client()
    login(reporter, "reporter_hue")
    login(admin, "admin")
    sid = web_copy.by_unit[UNIT_A][0]
    db = storage.connect(web_copy.data_dir)
    forged = "sai-" + "x" * 40
    # missing, forged, and a real token of another session
    for client, token in ((reporter, None), (reporter, forged), (reporter, csrf_token(admin)),
                          (admin, None), (admin, forged), (admin, csrf_token(reporter))):
        extra = {"csrf_token": token} if token else {}
        response = client.post(f"/submissions/{sid}/review", data={"state": "rejected", "note": "sai", **extra})
        assert response.status_code == 400
        assert "không có gì được thay đổi" in response.get_data(as_text=True)
        response = client.post("/admin/users", data={"name": "ke_gian", "role": "admin", "password": PASSWORD,
                                                     "password_again": PASSWORD, **extra})
        assert response.status_code == 400
    assert browse.submission_in_scope(db, sid, None)["review_state"] == "received"
    assert reviews.reviews_of(db, sid) == []
    assert db.execute("SELECT count(*) FROM users WHERE name = 'ke_gian'").fetchone()[0] == 0
    # logging out and the language switch are POSTs too
    assert reporter.post("/logout").status_code == 400
    assert reporter.get("/submissions/").status_code == 200
    assert app.test_client().post("/login", data={"name": "admin", "password": PASSWORD}).status_code == 400
    # a header works for scripts
    ok = reporter.post(f"/submissions/{sid}/review", data={"state": "approved"},
                       headers={"X-CSRF-Token": csrf_token(reporter)})
    assert ok.status_code == 302


def test_openrosa_needs_no_csrf(web_site):
    # the receiver authenticates every request itself; web_site was filled through it
    assert sum(len(v) for v in web_site.by_unit.values()) == 11


# --- login, session, logout ----------------------------------------------------------------

def _audit_actions(data_dir) -> list[tuple]:
    db = storage.connect(data_dir)
    return [(r["action"], r["actor"], r["target"]) for r in audit.recent(db, 500)]


def test_login_logout_are_audited_without_passwords(web_copy):
    app = web_copy.app()
    client = app.test_client()
    assert login(client, "xem_hue", "sai-mat-khau-000").status_code == 200
    response = login(client, "xem_hue")
    assert response.status_code == 302
    assert post(client, "/logout").status_code == 302
    assert client.get("/submissions/").status_code == 302
    actions = _audit_actions(web_copy.data_dir)
    assert ("login.failed", None, "xem_hue") in actions
    assert ("login", "xem_hue", "xem_hue") in actions
    assert ("logout", "xem_hue", "xem_hue") in actions
    db = storage.connect(web_copy.data_dir)
    dump = " ".join(str(r) for r in db.query("SELECT * FROM audit_log"))
    assert PASSWORD not in dump and "sai-mat-khau-000" not in dump


def test_session_cookie_flags(web_site):
    app = web_site.app()
    plain = login(app.test_client(), "xem_hue").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure_client = app.test_client()
    token = secure_client.get("/login", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in token
    https = secure_client.post("/login", base_url="https://localhost",
                               data={"name": "xem_hue", "password": PASSWORD, "csrf_token": csrf_token(secure_client)})
    assert https.status_code == 302 and "Secure" in https.headers["Set-Cookie"]
    forced = web_site.app(SESSION_COOKIE_SECURE=True)
    assert "Secure" in login(forced.test_client(), "xem_hue").headers["Set-Cookie"]
    assert "Expires=" in plain   # a permanent session, ended by PERMANENT_SESSION_LIFETIME


def test_next_goes_back_on_this_site_only(web_site):
    app = web_site.app()
    client = app.test_client()
    token = csrf_token(client)
    ok = client.post("/login", data={"name": "xem_hue", "password": PASSWORD, "csrf_token": token,
                                     "next": "/questionnaires/"})
    assert ok.headers["Location"] == "/questionnaires/"
    other = app.test_client()
    token = csrf_token(other)
    evil = other.post("/login", data={"name": "xem_hue", "password": PASSWORD, "csrf_token": token,
                                      "next": "//evil.example/phish"})
    assert evil.headers["Location"] == "/"


def test_collectors_cannot_log_in_to_the_web(web_site):
    client = web_site.app().test_client()
    response = login(client, "thu_ky")
    assert response.status_code == 403
    assert "ODK Collect" in response.get_data(as_text=True)
    assert client.get("/submissions/").status_code == 302


def test_password_reset_and_revocation_end_open_sessions(web_copy):
    app = web_copy.app()
    viewer, reporter, admin = app.test_client(), app.test_client(), app.test_client()
    login(viewer, "xem_hue")
    login(reporter, "reporter_hue")
    login(admin, "admin")
    new_password = "mat-khau-moi-456789"
    assert post(admin, "/admin/users/xem_hue/password",
                {"password": new_password, "password_again": new_password}).status_code == 302
    assert viewer.get("/submissions/").status_code == 302
    assert login(app.test_client(), "xem_hue", new_password).status_code == 302
    assert post(admin, "/admin/users/reporter_hue/revoke", {"confirm": "yes"}).status_code == 302
    assert reporter.get("/submissions/").status_code == 302
    assert login(app.test_client(), "reporter_hue").status_code == 200   # refused: shown the form again


def test_login_limit_per_account_holds_across_processes(web_copy):
    first, second = web_copy.app(), web_copy.app()       # two server processes on one database
    for _ in range(5):
        response = login(first.test_client(), "reporter_hue", "sai-mat-khau-000", REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 200
    # the right password from another address, through the other process: still locked
    locked = login(second.test_client(), "reporter_hue", REMOTE_ADDR="10.0.0.2")
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    assert "Đăng nhập sai quá nhiều lần" in text and "phút" in text
    # other accounts are not held back by it
    assert login(second.test_client(), "xem_hue", REMOTE_ADDR="10.0.0.1").status_code == 302
    assert ("login.locked", None, "reporter_hue") in _audit_actions(web_copy.data_dir)


def test_login_limit_per_address_and_its_window(web_copy):
    # a small limit and window keep the test short; the rule is the one of the defaults (20 in 15 minutes)
    app = web_copy.app(LOGIN_WINDOW_SECONDS=2, LOGIN_MAX_FAILURES_PER_IP=3)
    for n in range(3):
        login(app.test_client(), f"doan-ten-{n}", "sai-mat-khau-000", REMOTE_ADDR="10.9.9.9")
    assert login(app.test_client(), "xem_hue", REMOTE_ADDR="10.9.9.9").status_code == 429
    assert login(app.test_client(), "xem_hue", REMOTE_ADDR="10.9.9.8").status_code == 302
    time.sleep(2.1)
    assert login(app.test_client(), "xem_hue", REMOTE_ADDR="10.9.9.9").status_code == 302


def test_basic_auth_counts_toward_the_limit(web_copy):
    app = web_copy.app()
    for _ in range(5):
        assert app.test_client().get("/submissions/", auth=("xem_hue", "sai-mat-khau-000")).status_code == 302
    assert app.test_client().get("/submissions/", auth=("xem_hue", PASSWORD)).status_code == 302
    assert login(app.test_client(), "xem_hue").status_code == 429


def test_basic_auth_reads_pages_for_api_clients(web_site):
    response = web_site.app().test_client().get("/submissions/", auth=("xem_hue", PASSWORD))
    assert response.status_code == 200
    assert "Thành phố Huế" in response.get_data(as_text=True)


def test_a_session_ends_after_its_lifetime_however_busy(web_site):
    from datetime import timedelta
    app = web_site.app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=2))
    client = app.test_client()
    login(client, "xem_hue")
    for _ in range(3):
        assert client.get("/submissions/").status_code == 200
        time.sleep(0.5)
    time.sleep(1.0)
    assert client.get("/submissions/").status_code == 302
