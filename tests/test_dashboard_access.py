"""Who may open and change what on the dashboard and the public page: every route × every role ×
unit scope. Accounts bound to 474 (Huế) never reach 481 (A Lưới): not in the figures, not in the
dissatisfied list, not in the follow-up or publish actions; the public page needs no account.
"""
from __future__ import annotations

import json
import re

import pytest

import storage
from tests.harness.site import PASSWORD
from dashboard_site import COMMUNE_A1, build
from test_web_access import ACCOUNTS, ROLES, SEES_A, SEES_B
from web_site import UNIT_A, UNIT_B, csrf_token, login, post, signed_in
from xlsforms import STANDARD_VERSION

EDITORS = {"reporter", "reporter_a", "admin", "admin_a"}       # follow up, publish, withdraw
FORM = "/dashboard/tthc_hailong"


def every_web_role(status):
    return lambda role: status


def scoped(visible):
    return lambda role: 200 if role in visible else 404


# (path, expected status for a logged-in web role)
ROUTES = [
    ("/dashboard/", every_web_role(200)),
    (FORM, every_web_role(200)),
    (FORM + f"?period=2026-Q3&channel=online&version={STANDARD_VERSION}&q=main/gender&level=xa",
     every_web_role(200)),
    (FORM + f"/followups?period=2026-Q3&channel=online&version={STANDARD_VERSION}&criterion=staff&status=open&offset=20",
     every_web_role(200)),
    (FORM + "/followups?status=maybe", every_web_role(400)),
    (FORM + "?period=khong-phai-ky", every_web_role(400)),        # a bad period is explained and refused
    (FORM + f"?unit={UNIT_A}", scoped(SEES_A)),
    (FORM + f"?unit={COMMUNE_A1}&period=2026-Q3", scoped(SEES_A)),
    (FORM + f"?unit={UNIT_B}", scoped(SEES_B)),
    (FORM + "?unit=khong-co", every_web_role(404)),
    ("/dashboard/anh", every_web_role(200)),
    ("/dashboard/khong_co", every_web_role(404)),
]
# open to anyone, logged in or not
PUBLIC_ROUTES = [
    ("/ket-qua", 200),
    ("/ket-qua?lang=en", 200),
    ("/ket-qua/tthc_hailong", 404),            # nothing published on this site
    ("/ket-qua/khong_co", 404),
    ("/static/vendor/chart.umd.min.js", 200),
    ("/static/vendor/chart.js", 404),          # only the named file of node_modules is served
    ("/static/vendor/package.json", 404),
]


@pytest.fixture(scope="module")
def dash(web_site, tmp_path_factory):
    return build(web_site, tmp_path_factory.mktemp("dash-access") / "site")


@pytest.fixture(scope="module")
def app(dash):
    return dash.app()


@pytest.fixture(scope="module")
def clients(app):
    return {role: signed_in(app, name) for role, name in ACCOUNTS.items()}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path,expected", ROUTES, ids=[r[0] for r in ROUTES])
def test_route_role_matrix(app, clients, role, path, expected):
    if role == "anonymous":
        response = app.test_client().get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        return
    if role == "collector":
        response = app.test_client().get(path, auth=("thu_ky", PASSWORD))
        assert response.status_code == 403
        return
    response = clients[role].get(path)
    assert response.status_code == expected(role), (role, path)
    if response.status_code == 200:
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        page = text(response)
        assert "<script>" not in page and " on" + "click=" not in page and "style=" not in page


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path,expected", PUBLIC_ROUTES, ids=[r[0] for r in PUBLIC_ROUTES])
def test_public_routes_for_everyone(app, clients, role, path, expected):
    if role == "anonymous":
        response = app.test_client().get(path)
    elif role == "collector":
        response = app.test_client().get(path, auth=("thu_ky", PASSWORD))
    else:
        response = clients[role].get(path)
    assert response.status_code == expected, (role, path)
    if role == "anonymous":
        # the public pages and the chart library never need a cookie
        assert "Set-Cookie" not in response.headers


def _dissatisfied_ids(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'<tr id="dissatisfied-(\d+)"', page)}


def _subtree_ids(dash, unit) -> set[int]:
    db = storage.connect(dash.data_dir)
    rows = db.execute(
        """WITH RECURSIVE tree(code) AS (SELECT ? UNION SELECT u.code FROM units u JOIN tree ON u.parent_code = tree.code)
           SELECT id FROM submissions WHERE current = 1 AND unit_code IN (SELECT code FROM tree)""", [unit]).fetchall()
    return {r[0] for r in rows}


def test_a_viewer_of_474_sees_only_its_subtree(clients, dash):
    a_ids, b_ids = _subtree_ids(dash, UNIT_A), _subtree_ids(dash, UNIT_B)
    for role in ("viewer_a", "reporter_a", "designer_a", "admin_a"):
        # the whole list, page by page: every row is inside 474's subtree
        seen, offset = set(), 0
        while True:
            page = text(clients[role].get(f"{FORM}/followups?offset={offset}"))
            rows = _dissatisfied_ids(page)
            if not rows:
                break
            seen |= rows
            offset += 20
        assert seen and seen <= a_ids, role
        for level in ("tinh", "huyen", "xa"):
            page = text(clients[role].get(f"{FORM}?period=2026-Q3&level={level}"))
            assert "A Lưới" not in page and f'value="{UNIT_B}"' not in page and "(481)" not in page, (role, level)
        # the charts' figures, embedded in the page, hold no other unit
        page = text(clients[role].get(FORM))
        figures = re.findall(r'<script type="application/json" id="chart-[a-z]+">(.*?)</script>', page, re.S)
        assert len(figures) >= 4, role
        for body in figures:
            data = json.loads(body)
            assert data["cells" if "cells" in data else "units"], body
            flat = json.dumps(data, ensure_ascii=False)
            assert f'"{UNIT_B}"' not in flat and "A Lưới" not in flat, flat
    seen = _dissatisfied_ids(text(clients["viewer_b"].get(FORM + "/followups")))
    assert seen and seen <= b_ids
    both = _dissatisfied_ids(text(clients["reporter"].get(f"{FORM}/followups?period=2026-Q3")))
    assert both & a_ids and both & b_ids


def test_only_reporters_and_admins_get_the_actions(clients):
    for role in ACCOUNTS:
        page = text(clients[role].get(f"{FORM}/followups?period=2026-Q3"))
        has_actions = "Lưu theo dõi" in page and 'id="publish-form"' in text(clients[role].get(f"{FORM}?period=2026-Q3"))
        assert has_actions == (role in EDITORS), role
        # everyone reads the follow-up status
        assert "Chưa xử lý" in page or "Đã xử lý" in page
    # the whole province is offered to province-wide publishers only
    assert "Toàn tỉnh" in text(clients["reporter"].get(FORM))
    assert "Toàn tỉnh" not in text(clients["reporter_a"].get(FORM))


# POST routes with a payload that passes the access checks but is refused on its content, so the
# matrix changes nothing: (path, data, expected status for a logged-in web role)
def _post_routes(a: int, b: int):
    def editors_in(visible, status=302):
        return lambda r: (status if r in visible else 404) if r in EDITORS else 403
    return [
        (f"{FORM}/followups/{a}", {"status": "bogus"}, editors_in(SEES_A)),
        (f"{FORM}/followups/{b}", {"status": "bogus"}, editors_in(SEES_B)),
        (f"{FORM}/followups/{a}", {"status": "handled", "note": ""}, editors_in(SEES_A)),   # a note is needed
        (f"/dashboard/anh/followups/{a}", {"status": "bogus"}, editors_in(set())),          # not that form's
        (f"{FORM}/publish", {"period": "bogus", "unit": UNIT_A}, editors_in(SEES_A)),
        (f"{FORM}/publish", {"period": "bogus", "unit": UNIT_B}, editors_in(SEES_B)),
        (f"{FORM}/publish", {"period": "2026-Q3", "unit": UNIT_B, "level": "bogus"}, editors_in(SEES_B)),
        (f"{FORM}/publications/999999/withdraw", {}, editors_in(set())),
    ]


def test_post_route_role_matrix(dash, tmp_path):
    site = dash.copy(tmp_path / "site")
    app = site.app()
    clients = {}
    for role, name in ACCOUNTS.items():
        clients[role] = app.test_client()
        login(clients[role], name)
    db = storage.connect(site.data_dir)
    snapshot = "SELECT (SELECT count(*) FROM followups), (SELECT count(*) FROM publications)"
    before = db.execute(snapshot).fetchone()
    for path, data, expected in _post_routes(site.by_unit[UNIT_A][0], site.by_unit[UNIT_B][0]):
        anonymous = app.test_client()
        response = anonymous.post(path, data={**data, "csrf_token": csrf_token(anonymous)})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
        collector = app.test_client()
        response = collector.post(path, data={**data, "csrf_token": csrf_token(collector)}, auth=("thu_ky", PASSWORD))
        assert response.status_code == 403, path
        for role, client in clients.items():
            assert post(client, path, data).status_code == expected(role), (role, path, data)
            # and without the CSRF token nothing is even looked at
            assert client.post(path, data=data).status_code == 400, (role, path)
    assert db.execute(snapshot).fetchone() == before == (0, 0)


def test_withdrawing_another_units_publication_is_not_found(dash, tmp_path):
    site = dash.copy(tmp_path / "site")
    app = site.app()
    reporter, reporter_a, viewer_b = app.test_client(), app.test_client(), app.test_client()
    login(reporter, "reporter")
    login(reporter_a, "reporter_hue")
    login(viewer_b, "xem_aluoi")
    assert post(reporter, f"{FORM}/publish", {"period": "2026-Q3", "unit": UNIT_B}).status_code == 302
    db = storage.connect(site.data_dir)
    pub_id = db.execute("SELECT id FROM publications WHERE unit_code = ?", [UNIT_B]).fetchone()[0]
    # the 474 accounts do not see it listed, cannot withdraw it; the 481 viewer sees it, cannot withdraw
    assert f"/publications/{pub_id}/withdraw" not in text(reporter_a.get(FORM))
    assert post(reporter_a, f"{FORM}/publications/{pub_id}/withdraw").status_code == 404
    assert "Huyện A Lưới" in text(viewer_b.get(f"{FORM}#publish"))
    assert post(viewer_b, f"{FORM}/publications/{pub_id}/withdraw").status_code == 403
    assert db.execute("SELECT withdrawn_at FROM publications WHERE id = ?", [pub_id]).fetchone()[0] is None
    assert post(reporter, f"{FORM}/publications/{pub_id}/withdraw").status_code == 302
    assert db.execute("SELECT withdrawn_at FROM publications WHERE id = ?", [pub_id]).fetchone()[0] is not None


def test_a_unit_bound_reporter_publishes_within_its_unit_only(dash, tmp_path):
    site = dash.copy(tmp_path / "site")
    app = site.app()
    reporter_a = app.test_client()
    login(reporter_a, "reporter_hue")
    # no unit given is its own unit, never the province
    assert post(reporter_a, f"{FORM}/publish", {"period": "2026-Q3", "unit": "", "level": "huyen"}).status_code == 302
    db = storage.connect(site.data_dir)
    rows = db.execute("SELECT unit_code, level, snapshot_json FROM publications").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(UNIT_A, "huyen")]
    assert "A Lưới" not in rows[0][2]
