"""Hostile input: what an attacker, a broken device or a crafted file sends, and what it gets.

Each kind of attack gets a clean 4xx, changes nothing, leaks nothing and never reaches a 5xx:
entity bombs and external entities (in submissions and in XLSForm/XForm uploads), oversized,
lying and cut-off uploads, odd attachment names, SQL injection through every query parameter of
every page and API route, script in labels and answers, CSRF on every state-changing page, open
redirects, forged and revoked token URLs, and property-based fuzzing of the parser and receiver.

Checks that earlier test files already make (tests/test_openrosa.py: small entity bombs, path
traversal in names, a truncated body; tests/test_web_access.py: CSRF on review and account
creation, `next=//evil.example`) are not repeated here; these extend them.
"""
from __future__ import annotations

import hashlib
import io
import random
import re
import socket
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, ROOT, LiveServer, cli
from tests.harness.collect_client import CollectClient, message_of
from forms.problems import FormProblems
from actions.publish import compile_bytes
from actions.receive.accept import build_submission
from actions.receive.parse import InstanceError, parse_instance
from storage import forms
from web_site import UNIT_A, UNIT_B, csrf_token, login, post, signed_in
from xlsforms import STANDARD_VERSION, small_form, write_xlsform

SCRIPT = "<script>alert(1)</script>"
# what must never appear raw in a page: each is the start of a script or a handler that runs
RAW_MARKERS = ("<script>alert(", "<img src=x onerror", "<svg onload", "href=\"javascript:")
# log and derived tables change on reads (login counters, sessions, lazily computed scores); the rest is data
NOT_DATA = {"audit_log", "login_failures", "web_sessions", "submission_scores", "score_rollup",
            "submission_choices", "choice_rollup", "choice_dims", "choice_progress"}


def data_snapshot(data_dir) -> dict:
    """Every row of every data table, and the schema: what no hostile request may change."""
    db = storage.connect(data_dir, migrate=False)
    try:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        snap = {"schema": db.execute("SELECT group_concat(sql, ';') FROM sqlite_master").fetchone()[0]}
        for table in tables:
            if table not in NOT_DATA and not table.startswith("sqlite_"):
                snap[table] = sorted(map(repr, db.execute(f"SELECT * FROM [{table}]")))
        return snap
    finally:
        db.close()


def fetch(client, url, **kwargs):
    """GET read to the end and closed, as a browser does: a streamed download holds its request
    context open until then."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs").glob("**/*") if p.is_file()}


# --- a site with hostile content of its own ---------------------------------------------------

class Hostile:
    """web_site's accounts and submissions, plus a form and answers full of markup."""

    def __init__(self, site, tmp: Path):
        self.site = site
        self.data_dir = site.data_dir
        self.tokens = site.tokens
        path = write_xlsform(
            tmp / "xss.xlsx",
            [["type", "name", "label", "hint", "criterion"],
             ["text", "unit", f"Đơn vị {SCRIPT}", '"><img src=x onerror=alert(2)>', ""],
             ["select_one s5", "q_proc", "<svg onload=alert(3)>", "", "procedure"],
             ["text", "ghi_chu", "<a href=\"javascript:alert(4)\">ghi chú</a>", "", ""],
             ["image", "photo", "Ảnh", "", ""]],
            [["list_name", "name", "label"]] + [["s5", str(v), f"<script>alert('{v}')</script>"] for v in (5, 4, 3, 2, 1)],
            {"form_id": "xss", "version": "1", "form_title": f"Khảo sát {SCRIPT}"})
        result = cli(self.data_dir, "forms", "publish", str(path))
        assert result.exit_code == 0, result.output
        app = site.app()
        collector = app.test_client()
        db = storage.connect(self.data_dir)
        xform = forms.latest_version(db, "xss")["xform"]
        self.photo_name = 'x"><svg onload=alert(5)>.jpg'
        xml = fill_instance(xform, {"unit": UNIT_A, "q_proc": "2", "photo": self.photo_name,
                                    "ghi_chu": '<script>alert(6)</script>"><img src=x onerror=alert(7)>'})
        response = collector.post(f"/key/{self.tokens['dtv_hue']}/submission", content_type="multipart/form-data",
                                  data={"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml"),
                                        "photo": (io.BytesIO(b"\xff\xd8hostile"), self.photo_name, "image/jpeg")})
        assert response.status_code == 201, response.data
        standard = forms.latest_version(db, "tthc_hailong")["xform"]
        answers = standard_answers(random.Random(1), UNIT_A, "huyen")
        answers.update({"main/comment": "</textarea><script>alert(8)</script>",
                        **{f"main/staff/{i}": "1" for i in ("staff_polite", "staff_overall")}})
        response = collector.post(f"/key/{self.tokens['dtv_hue']}/submission", content_type="multipart/form-data",
                                  data={"xml_submission_file": (io.BytesIO(fill_instance(standard, answers)),
                                                                "submission.xml", "text/xml")})
        assert response.status_code == 201
        rows = db.execute("SELECT id, form_id FROM submissions ORDER BY id DESC LIMIT 2").fetchall()
        self.xss_submission = next(r[0] for r in rows if r[1] == "xss")
        self.xss_instance = db.execute("SELECT instance_id FROM submissions WHERE id = ?",
                                       [self.xss_submission]).fetchone()[0]
        self.comment_submission = next(r[0] for r in rows if r[1] == "tthc_hailong")
        self.standard_version = forms.latest_version(db, "tthc_hailong")["version"]
        db.close()
        self.app = site.app()
        self.clients = {name: signed_in(self.app, name) for name in ("admin", "xem_hue", "designer", "reporter_hue")}


@pytest.fixture(scope="module")
def hostile(web_site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    return Hostile(web_site.copy(tmp / "site"), tmp)


# --- every route, with sample values for its path ---------------------------------------------

def path_samples(h: Hostile) -> dict[str, str]:
    """A value for each URL variable of the app's routes; a route with a variable missing here
    fails `test_every_route_has_samples`, so new routes get crawled too."""
    return {"form_id": "xss", "submission_id": str(h.xss_submission), "name": h.photo_name,
            "version": "1", "sha256": "0" * 64, "token": h.tokens["dtv_tinh"], "filename": "units.csv",
            "filename_static": "app.css", "publication_id": "1", "unit_code": UNIT_A, "sheet_no": "1",
            "print_id": "1", "conflict_id": "1", "plan_id": "1", "project_id": "1",
            "instance_id": h.xss_instance, "table": "Submissions", "weight": "400", "kind": "xlsx",
            "job_id": "0" * 32}


def get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            yield rule


def fill(rule, samples: dict[str, str]) -> str:
    from urllib.parse import quote
    path = rule.rule
    for arg in rule.arguments:
        value = samples["filename_static"] if rule.endpoint == "static" else samples[arg]
        path = re.sub(r"<(?:[^:>]+:)?" + arg + ">", quote(value, safe=""), path)
    return path


def test_every_route_has_samples(hostile):
    samples = path_samples(hostile)
    missing = {(rule.rule, arg) for rule in hostile.app.url_map.iter_rules() for arg in rule.arguments
               if arg not in samples}
    assert not missing, f"add a sample value to path_samples() for {sorted(missing)}"


# --- SQL injection through every query parameter --------------------------------------------

INJECTIONS = ["474' OR 1=1--", "unit;DROP TABLE submissions", 'q:main/gender") --',
              "1); DELETE FROM submissions; --", "' UNION SELECT name, password_hash FROM users --",
              "]; DROP TABLE [data:tthc_hailong]; --", "%' OR '%'='", "1 OR 1=1", "\x00'--"]


def query_parameters() -> set[str]:
    """Every query parameter a view reads, found in the source, plus the API's declared lists."""
    from aggregate import params
    names = set(params.INDEX_PARAMS + params.RANK_PARAMS + params.DISSATISFIED_PARAMS + ("forms",))
    pattern = re.compile(r"""(?:args|values|request\.form|form)\.get\(\s*["']([A-Za-z_][\w-]*)["']""")
    for path in (ROOT / "server").rglob("*.py"):
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names - {"csrf_token"}


def test_injection_through_every_parameter_of_every_page_and_api(hostile):
    before = data_snapshot(hostile.data_dir)
    samples = path_samples(hostile)
    names = sorted(query_parameters())
    assert {"unit", "by", "from", "to", "channel", "version", "state", "form", "after", "before", "level",
            "period", "limit", "offset", "min_n", "forms"} <= set(names)
    checked = 0
    for rule in get_routes(hostile.app):
        url = fill(rule, samples)
        for i, name in enumerate(names):
            payload = INJECTIONS[(i + checked) % len(INJECTIONS)]
            for who in ("admin", "xem_hue"):
                response = fetch(hostile.clients[who], url, query_string={name: payload})
                assert response.status_code < 500, (who, url, name, payload)
            checked += 1
        # and in the path itself
        for arg in rule.arguments:
            evil = fill(rule, {**samples, arg: INJECTIONS[checked % len(INJECTIONS)],
                               "filename_static": "../../server/auth.py"})
            assert fetch(hostile.clients["admin"], evil).status_code < 500, evil
            checked += 1
    assert checked > 200
    assert data_snapshot(hostile.data_dir) == before


@pytest.mark.parametrize("path, params, code", [
    ("/forms/tthc_hailong/indices", {"unit": "474' OR 1=1--"}, "unknown_unit"),
    ("/forms/tthc_hailong/indices", {"by": "unit;DROP"}, "bad_by"),
    ("/forms/tthc_hailong/indices", {"by": 'q:main/gender") --'}, "bad_question"),
    ("/forms/tthc_hailong/indices", {"by": "q:main/gender]; DROP TABLE users; --"}, "bad_question"),
    ("/forms/tthc_hailong/indices", {"channel": "interview' OR '1'='1"}, "bad_channel"),
    ("/forms/tthc_hailong/indices", {"from": "2026-01-01' OR 1=1--"}, "bad_date"),
    ("/forms/tthc_hailong/indices", {"min_n": "1 OR 1=1"}, "bad_min_n"),
    ("/forms/tthc_hailong/indices", {"items": "1; DROP TABLE users"}, "bad_flag"),
    ("/forms/tthc_hailong/indices", {"unit;DROP": "474"}, "unknown_parameter"),
    ("/forms/tthc_hailong/rankings", {"level": "huyen' --", "period": "2026-Q3"}, "bad_level"),
    ("/forms/tthc_hailong/rankings", {"level": "huyen", "period": "2026-Q3' OR 1=1"}, "bad_period"),
    ("/forms/tthc_hailong/dissatisfied", {"limit": "1; DROP TABLE submissions"}, "bad_number"),
    ("/forms/tthc_hailong/dissatisfied", {"offset": "0 OR 1=1"}, "bad_number"),
    ("/forms/tthc_hailong' OR 1=1--/indices", {}, "unknown_form"),
    ("/indices", {"forms": "tthc_hailong,x' UNION SELECT 1--"}, "unknown_form"),
])
def test_api_injection_is_a_clean_400(hostile, path, params, code):
    before = data_snapshot(hostile.data_dir)
    response = hostile.clients["admin"].get("/api/v1" + path, query_string=params)
    assert response.status_code in (400, 404)
    assert response.json["error"]["code"] == code
    assert data_snapshot(hostile.data_dir) == before


def _listed(client, query) -> set[int]:
    text = client.get("/submissions/", query_string=query).get_data(as_text=True)
    return {int(n) for n in re.findall(r'href="/submissions/(\d+)"', text)}


@pytest.mark.parametrize("who", ["admin", "xem_hue"])
def test_filters_with_injection_find_nothing_rather_than_everything(hostile, who):
    client = hostile.clients[who]
    assert _listed(client, {})                          # there is something to leak
    for key in ("unit", "form", "channel", "state"):
        for payload in ("474' OR 1=1--", "x' OR '1'='1", "') OR ('a'='a"):
            assert _listed(client, {key: payload}) == set() or key in ("channel", "state"), (key, payload)
    # channel and state outside their lists are ignored, never passed on: the scope still holds
    assert _listed(hostile.clients["xem_hue"], {"channel": "' OR 1=1--"}) == _listed(hostile.clients["xem_hue"], {})
    b_ids = set(hostile.site.by_unit[UNIT_B])
    assert not _listed(hostile.clients["xem_hue"], {"unit": f"{UNIT_A}' OR unit_code='{UNIT_B}"}) & b_ids


# --- script in labels and answers --------------------------------------------------------------

def _assert_no_raw_markup(response, where):
    if "html" not in response.headers.get("Content-Type", ""):
        return
    body = response.get_data(as_text=True)
    for marker in RAW_MARKERS:
        assert marker not in body, (where, marker)


def test_script_in_labels_and_answers_is_escaped_on_every_page(hostile):
    admin = hostile.clients["admin"]
    page = admin.get(f"/submissions/{hostile.xss_submission}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Đơn vị &lt;script&gt;alert(1)&lt;/script&gt;" in text                  # the label
    assert "&lt;script&gt;alert(6)&lt;/script&gt;" in text                           # the answer
    assert "alert(5)" in text and "<svg onload=alert(5)>" not in text               # the attachment name
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    samples = path_samples(hostile)
    crawled = 0
    for rule in get_routes(hostile.app):
        for values in (samples, {**samples, "form_id": "tthc_hailong", "version": hostile.standard_version,
                                 "submission_id": str(hostile.comment_submission)}):
            for who in ("admin", "designer", "xem_hue"):
                url = fill(rule, values)
                response = fetch(hostile.clients[who], url)
                assert response.status_code < 500, url
                _assert_no_raw_markup(response, (who, url))
                crawled += 1
    assert crawled > 50


def test_script_in_an_uploaded_form_is_escaped_in_its_preview(hostile, tmp_path):
    designer = hostile.app.test_client()
    login(designer, "designer")
    path = write_xlsform(tmp_path / "xss2.xlsx",
                         [["type", "name", "label", "criterion"], ["text", "unit", "Đơn vị", ""],
                          ["select_one s5", "q_proc", SCRIPT, "procedure"]],
                         [["list_name", "name", "label"]] + [["s5", str(v), SCRIPT] for v in (5, 4, 3, 2, 1)],
                         {"form_id": "xss2", "version": "1", "form_title": SCRIPT})
    response = designer.post("/questionnaires/upload", content_type="multipart/form-data",
                             data={"file": (io.BytesIO(path.read_bytes()), "xss2.xlsx"),
                                   "csrf_token": csrf_token(designer)})
    assert response.status_code == 302, response.get_data(as_text=True)
    preview = designer.get(response.headers["Location"])
    assert preview.status_code == 200
    _assert_no_raw_markup(preview, "preview")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.get_data(as_text=True)
    post(designer, response.headers["Location"] + "/discard")


# --- CSRF on every state-changing page ----------------------------------------------------------

# POST routes outside the CSRF-token pages, each with how a forged cross-site request is stopped:
# "auth" (every request authenticates itself, no cookie to abuse), "public" (anyone may post; no
# account or cookie is involved), "origin" (a request from another Origin is refused), "header" (a
# custom header that a cross-site form cannot send is required)
OTHER_DEFENCES = {
    "openrosa.submission": ("auth", "ODK Collect sends Basic credentials; it has no cookie"),
    "openrosa_key.submission": ("auth", "the token is in the URL; no cookie"),
    "citizen_link.submission": ("public", "a public link anyone may answer; rate-limited, once per dossier"),
    "kiosk.activate": ("origin", "activation is refused for another Origin"),
    "kiosk.submission": ("header", "needs X-Hailong-Kiosk: 1, and the kiosk cookie is SameSite=Strict"),
    "central.create_session": ("auth", "the name and password are in the body; the web cookie opens nothing under /v1"),
    "central.create_submission": ("auth", "a Bearer token or Basic credentials in a header; no cookie"),
    "central.upload_attachment": ("auth", "a Bearer token or Basic credentials in a header; no cookie"),
}


def _csrf_protected(app, rule) -> bool:
    from server import csrf
    blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
    return csrf.check in app.before_request_funcs.get(blueprint, [])


def test_every_post_route_refuses_a_forged_cross_site_request(hostile):
    samples = {**path_samples(hostile), "form_id": "tthc_hailong", "name": "xem_aluoi"}
    before = data_snapshot(hostile.data_dir)
    other = hostile.clients["designer"]
    posts = [rule for rule in hostile.app.url_map.iter_rules() if "POST" in rule.methods]
    assert len(posts) > 10
    unknown = [r.endpoint for r in posts if not _csrf_protected(hostile.app, r) and r.endpoint not in OTHER_DEFENCES]
    assert not unknown, f"POST routes with no CSRF token check and no entry in OTHER_DEFENCES: {unknown}"
    data = {"state": "approved", "name": "ke_gian", "role": "admin", "password": PASSWORD,
            "password_again": PASSWORD, "confirm": "yes", "status": "handled", "period": "2026-Q3",
            "token": "x", "count": "5"}
    for rule in posts:
        url = fill(rule, samples)
        if _csrf_protected(hostile.app, rule):
            for token in (None, "gia-mao-" + "x" * 40, csrf_token(other)):
                sent = {**data, "csrf_token": token} if token else data
                response = hostile.clients["admin"].post(url, data=sent)
                assert response.status_code == 400, (url, token, response.status_code)
            continue
        defence, _reason = OTHER_DEFENCES[rule.endpoint]
        if defence == "origin":
            response = hostile.app.test_client().post(url, data=data, headers={"Origin": "https://evil.example"})
            assert response.status_code == 403, (url, response.status_code)
        elif defence == "header":
            response = hostile.app.test_client().post(url, data=data, headers={"Origin": "https://evil.example"})
            assert 400 <= response.status_code < 500, (url, response.status_code)
    assert data_snapshot(hostile.data_dir) == before


# --- open redirects ----------------------------------------------------------------------------

EVIL_NEXT = ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
             "/\t/evil.example", "/%2F%2Fevil.example", "javascript:alert(1)", " //evil.example",
             "///evil.example", "/.//evil.example".replace("/.", ""), "http:evil.example", "\r\n//evil.example"]


def _local(location: str) -> bool:
    from urllib.parse import urlsplit
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/")
            and not location.startswith("//") and "\\" not in location
            and not any(c in location for c in "\t\r\n"))


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_no_open_redirect_after_login_or_language_switch(hostile, target):
    app = hostile.app
    client = app.test_client()
    response = client.post("/login", data={"name": "xem_hue", "password": PASSWORD, "next": target,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and _local(response.headers["Location"]), response.headers["Location"]
    # already logged in: GET /login?next= goes straight on
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302 and _local(response.headers["Location"])
    response = post(client, "/language", {"lang": "en", "next": target})
    assert response.status_code == 302 and _local(response.headers["Location"])
    # the login page never carries it on: its `next` field holds a local path or nothing
    import html
    page = app.test_client().get("/login", query_string={"next": target}).get_data(as_text=True)
    for value in re.findall(r'name="next" value="([^"]*)"', page):
        assert _local(html.unescape(value)), value
    assert not re.search(r'(?:href|action)="[^"]*//evil', page)


# --- forged and revoked token URLs ---------------------------------------------------------------

def test_forged_tokens_of_every_shape_are_401(hostile):
    client = hostile.app.test_client()
    real = hostile.tokens["dtv_hue"]
    digest = hashlib.sha256(real.encode()).hexdigest()
    forged = [real[:-1] + ("A" if real[-1] != "A" else "B"), real.upper(), real + "x", "x" * 5000, digest,
              "%00", real + "%00", "..%2F..%2Fsubmission", "admin", "' OR '1'='1", "ảnh", real[:16]]
    before = data_snapshot(hostile.data_dir)
    for token in forged:
        for method, path in (("GET", "/formList"), ("HEAD", "/submission"), ("POST", "/submission"),
                             ("GET", "/forms/tthc_hailong/versions/1/form.xml")):
            response = client.open(f"/key/{token}{path}", method=method, data={"xml_submission_file": (
                io.BytesIO(b"<data id='tthc_hailong'/>"), "s.xml")} if method == "POST" else None)
            assert response.status_code in (401, 404), (token, path, response.status_code)
            if response.status_code == 401:
                assert "WWW-Authenticate" not in response.headers
    assert data_snapshot(hostile.data_dir) == before


def test_revoked_collector_is_refused_everywhere(web_copy):
    app = web_copy.app()
    token = web_copy.tokens["dtv_aluoi"]
    assert app.test_client().get(f"/key/{token}/formList").status_code == 200
    assert cli(web_copy.data_dir, "users", "revoke", "dtv_aluoi").exit_code == 0
    client = app.test_client()
    before = data_snapshot(web_copy.data_dir)
    db = storage.connect(web_copy.data_dir)
    version = forms.latest_version(db, "tthc_hailong")
    xml = fill_instance(version["xform"], standard_answers(random.Random(2), UNIT_B, "huyen"))
    for method, path in (("GET", "/formList"), ("HEAD", "/submission"), ("GET", "/submission"),
                         ("GET", f"/forms/tthc_hailong/versions/{version['version']}/form.xml"),
                         ("GET", f"/forms/tthc_hailong/versions/{version['version']}/manifest"),
                         ("GET", f"/forms/tthc_hailong/versions/{version['version']}/media/units.csv"),
                         ("POST", "/submission")):
        data = {"xml_submission_file": (io.BytesIO(xml), "s.xml", "text/xml")} if method == "POST" else None
        response = client.open(f"/key/{token}{path}", method=method, data=data)
        assert response.status_code == 401, (path, response.status_code)
    assert data_snapshot(web_copy.data_dir) == before


# --- entity bombs, external entities and DTDs --------------------------------------------------

def _lol(levels: int) -> str:
    entities = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels)]
    return f"<!DOCTYPE data [{''.join(entities)}]>"


BOMBS = {
    "billion laughs": f"<?xml version='1.0'?>{_lol(10)}<data id='tthc_hailong'><q>&l9;</q></data>".encode(),
    "quadratic blow-up": ("<?xml version='1.0'?><!DOCTYPE data [<!ENTITY a '" + "A" * 50_000 + "'>]>"
                          "<data id='tthc_hailong'><q>" + "&a;" * 20_000 + "</q></data>").encode(),
    "external file": b"<?xml version='1.0'?><!DOCTYPE data [<!ENTITY x SYSTEM 'file:///etc/hostname'>]>"
                     b"<data id='tthc_hailong'><q>&x;</q></data>",
    "external dtd": b"<?xml version='1.0'?><!DOCTYPE data SYSTEM 'http://127.0.0.1:9/evil.dtd'>"
                    b"<data id='tthc_hailong'/>",
    "parameter entity": b"<?xml version='1.0'?><!DOCTYPE data [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]>"
                        b"<data id='tthc_hailong'/>",
    "undeclared entity": b"<data id='tthc_hailong'><q>&lol9;</q></data>",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_entity_bombs_and_external_entities_get_a_quick_400(site, name):
    before = data_snapshot(site.data_dir)
    started = time.monotonic()
    response = requests.post(site.token_url("dtv_tinh") + "/submission", timeout=30,
                             files={"xml_submission_file": ("s.xml", BOMBS[name], "text/xml")})
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.text
    assert message_of(response) and "root:" not in response.text
    assert elapsed < 5, f"{name} took {elapsed:.1f} s"
    assert data_snapshot(site.data_dir) == before


def test_xinclude_is_never_processed(site):
    client = CollectClient(site.token_url("dtv_tinh"))
    xform = client.download_form(client.form_list("tthc_hailong")[0])
    xml = fill_instance(xform, standard_answers(random.Random(6), UNIT_A, "huyen")).replace(
        b"<meta>", b"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='file:///etc/passwd' "
                   b"parse='text'/><meta>", 1)
    response = client.submit(xml)[-1]
    assert response.status_code == 201
    db = storage.connect(site.data_dir, migrate=False)
    try:
        iid = parse_instance(xml).instance_id
        sid, stored = db.execute("SELECT s.id, x.xml FROM submissions s JOIN submission_xml x "
                                 "ON x.submission_id = s.id WHERE s.instance_id = ?", [iid]).fetchone()
        assert stored == xml
        answers = db.execute("SELECT * FROM [data:tthc_hailong] WHERE _submission_id = ?", [sid]).fetchone()
        assert "root:" not in repr(answers)
    finally:
        db.close()


def test_huge_dtd_less_documents_within_the_limit_are_handled_in_linear_time(site):
    """Without a DTD there is nothing to expand: big text, many attributes, many elements."""
    client = CollectClient(site.token_url("dtv_tinh"))
    xform = client.download_form(client.form_list("tthc_hailong")[0])

    def base():
        return fill_instance(xform, standard_answers(random.Random(3), UNIT_A, "huyen")).split(b"<meta>", 1)

    variants = {}
    head, tail = base()
    variants["big text"] = head + b"<padding>" + b"x" * 5_000_000 + b"</padding><meta>" + tail
    head, tail = base()
    variants["many attributes"] = head.replace(b"<main>", b"<main " + b" ".join(
        f"a{i}='{i}'".encode() for i in range(50_000)) + b">", 1) + b"<meta>" + tail
    head, tail = base()
    variants["many elements"] = head + b"<e/>" * 300_000 + b"<meta>" + tail
    head, tail = base()
    variants["many character references"] = head + b"<q>" + b"&#x1EA1;" * 500_000 + b"</q><meta>" + tail
    for name, xml in variants.items():
        started = time.monotonic()
        response = requests.post(site.token_url("dtv_tinh") + "/submission", timeout=60,
                                 files={"xml_submission_file": ("s.xml", xml, "text/xml")})
        elapsed = time.monotonic() - started
        assert response.status_code in (201, 400), (name, response.status_code)
        assert elapsed < 15, f"{name} took {elapsed:.1f} s"


# --- crafted spreadsheets and XForms (form uploads) -------------------------------------------

def _craft_xlsx(source: bytes, member: str, transform) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, transform(data) if item.filename == member else data)
    return out.getvalue()


def _with_doctype(doctype: str, reference: str | None = None):
    def transform(data: bytes) -> bytes:
        text = data.decode("utf-8")
        decl_end = text.index("?>") + 2 if text.startswith("<?xml") else 0
        text = text[:decl_end] + doctype + text[decl_end:]
        if reference:
            text = text.replace("Thủ tục", reference, 1)
        return text.encode("utf-8")
    return transform


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text("BI-MAT-KHONG-DUOC-LO-RA-7f3c")
    return path


def crafted_spreadsheets(tmp: Path, secret: Path, dtd_url: str = "http://127.0.0.1:9/evil.dtd") -> dict[str, bytes]:
    plain = small_form(tmp / "plain.xlsx", "plain", "1").read_bytes()
    with zipfile.ZipFile(io.BytesIO(plain)) as z:
        names = z.namelist()
    strings = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else "xl/worksheets/sheet1.xml"
    return {
        "external entity in the strings": _craft_xlsx(plain, strings, _with_doctype(
            f'<!DOCTYPE sst [<!ENTITY x SYSTEM "file://{secret}">]>', "&x;")),
        "billion laughs in the strings": _craft_xlsx(plain, strings, _with_doctype(_lol(10), "&l9;")),
        "quadratic blow-up in the sheet": _craft_xlsx(plain, "xl/worksheets/sheet1.xml", _with_doctype(
            "<!DOCTYPE worksheet [<!ENTITY a '" + "A" * 50_000 + "'>]>")),
        "external dtd in the workbook": _craft_xlsx(plain, "xl/workbook.xml", _with_doctype(
            f'<!DOCTYPE workbook SYSTEM "{dtd_url}">')),
        "parameter entity in the content types": _craft_xlsx(plain, "[Content_Types].xml", _with_doctype(
            f'<!DOCTYPE Types [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>')),
    }


def test_openpyxl_reads_through_defusedxml():
    import openpyxl.xml
    assert openpyxl.xml.DEFUSEDXML is True, "defusedxml must be installed: openpyxl then refuses DTD entities"


@pytest.fixture
def listener():
    """A local port that records whether anything connects to it (an external DTD fetch would)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/evil.dtd", server
    server.close()


def _connected(server) -> bool:
    try:
        server.accept()[0].close()
        return True
    except (socket.timeout, BlockingIOError):
        return False


def test_crafted_spreadsheets_are_refused_without_reading_files(tmp_path, secret_file, listener):
    import openpyxl
    from defusedxml import DefusedXmlException

    dtd_url, server = listener
    for name, data in crafted_spreadsheets(tmp_path, secret_file, dtd_url).items():
        started = time.monotonic()
        if "external dtd" in name:
            # a DTD with no entities is harmless as long as it is never fetched
            compiled = compile_bytes(data, "plain.xlsx", validate=False)
            assert b"BI-MAT" not in compiled.xform
            assert not _connected(server), "the spreadsheet reader fetched an external DTD"
            continue
        with pytest.raises(FormProblems) as caught:
            compile_bytes(data, "plain.xlsx", validate=False)
        assert time.monotonic() - started < 10, name
        described = caught.value.describe("vi") + caught.value.describe("en")
        assert "BI-MAT" not in described and "Traceback" not in described, name
        # refused because defusedxml forbids the entities, not by luck of a malformed file
        with pytest.raises(ValueError) as raw:
            openpyxl.load_workbook(io.BytesIO(data))
        cause = raw.value
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        assert isinstance(cause, DefusedXmlException), (name, repr(cause))
        path = tmp_path / "crafted.xlsx"
        path.write_bytes(data)
        result = cli(tmp_path / "data", "forms", "publish", str(path))
        assert result.exit_code == 1, name
        assert "Traceback" not in result.output and "BI-MAT" not in result.output
    assert not _connected(server)


def test_crafted_spreadsheet_uploads_get_a_clear_page(hostile, tmp_path, secret_file):
    designer = hostile.app.test_client()
    login(designer, "designer")
    before = data_snapshot(hostile.data_dir)
    for name, data in crafted_spreadsheets(tmp_path, secret_file).items():
        if "external dtd" in name:
            continue
        response = designer.post("/questionnaires/upload", content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(data), "plain.xlsx"), "csrf_token": csrf_token(designer)})
        assert response.status_code == 422, (name, response.status_code)
        assert "BI-MAT" not in response.get_data(as_text=True)
    assert data_snapshot(hostile.data_dir) == before


@pytest.mark.parametrize("doctype", [
    _lol(10), '<!DOCTYPE h:html [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE h:html SYSTEM "http://127.0.0.1:9/x.dtd">'])
def test_crafted_xform_uploads_are_refused(doctype):
    xform = (ROOT / "tests" / "fixtures" / "odk" / "xform" / "central-simple.form.xml").read_bytes()
    text = xform.decode("utf-8")
    decl_end = text.index("?>") + 2 if text.startswith("<?xml") else 0
    crafted = (text[:decl_end] + doctype + text[decl_end:]).encode("utf-8")
    with pytest.raises(FormProblems) as caught:
        compile_bytes(crafted, "f.xml")
    assert "root:" not in caught.value.describe("en")


# --- oversized, lying and cut-off uploads ------------------------------------------------------

@pytest.fixture(scope="module")
def small_limit(tmp_path_factory):
    """A server that accepts 50 kB per POST, for size tests that stay small."""
    from tests.harness.site import seed
    data_dir = tmp_path_factory.mktemp("limit")
    tokens = seed(data_dir)
    server = LiveServer(data_dir, env={"SUBMISSION_MAX_BYTES": "50000"}).start()
    yield server, tokens
    server.stop()


def _raw_request(port: int, head: bytes, body_parts, read=True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        if not read:
            return b""
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def _multipart(xml: bytes, files: dict[str, bytes] | None = None, boundary="XyZ") -> bytes:
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
            f'filename="s.xml"\r\nContent-Type: text/xml\r\n\r\n').encode() + xml + b"\r\n"
    for name, content in (files or {}).items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="{name}"\r\n'
                 f'Content-Type: image/jpeg\r\n\r\n').encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def _instance(server, token, unit=UNIT_A):
    client = CollectClient(f"{server.url}/key/{token}")
    xform = client.download_form(client.form_list("tthc_hailong")[0])
    iid = f"uuid:{uuid.uuid4()}"
    return iid, fill_instance(xform, standard_answers(random.Random(4), unit, "huyen"), iid)


def test_oversized_lying_chunked_and_cut_off_uploads(small_limit):
    server, tokens = small_limit
    path = f"/key/{tokens['dtv_tinh']}/submission"
    before, blobs = data_snapshot(server.data_dir), blob_files(server.data_dir)
    iid, xml = _instance(server, tokens["dtv_tinh"])
    big = _multipart(xml, {"a.jpg": b"\xff" * 120_000})
    headers = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
               f"X-OpenRosa-Version: 1.0\r\n")
    # declared too large: refused from the header alone, before any of the body is read
    answer = _raw_request(server.port, (headers + "Content-Length: 10000000000\r\nConnection: close\r\n\r\n").encode(),
                          [b"--XyZ\r\n"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # no length, chunked: the limit holds while reading
    chunks = [f"{len(big[i:i + 8192]):x}\r\n".encode() + big[i:i + 8192] + b"\r\n" for i in range(0, len(big), 8192)]
    answer = _raw_request(server.port, (headers + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode(),
                          chunks + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # a body shorter than it said, then the connection drops: nothing half-stored
    small = _multipart(xml, {"b.jpg": b"\xfe" * 20_000})
    cut = small[: len(small) * 2 // 3]
    _raw_request(server.port, (headers + f"Content-Length: {len(small)}\r\n\r\n").encode(), [cut], read=False)
    # the same, when the client says it is done sending
    answer = _raw_request(server.port, (headers + f"Content-Length: {len(small)}\r\nConnection: close\r\n\r\n").encode(),
                          [cut])
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]
    # a multipart body without its closing boundary
    unterminated = small[: small.rindex(b"--XyZ--")]
    response = requests.post(server.url + path, data=unterminated, timeout=30,
                             headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 400
    # a boundary the body never uses, and none at all
    for content_type in ("multipart/form-data; boundary=Other", "multipart/form-data"):
        response = requests.post(server.url + path, data=small, headers={"Content-Type": content_type}, timeout=30)
        assert response.status_code == 400, content_type
    time.sleep(0.5)
    assert data_snapshot(server.data_dir) == before
    assert blob_files(server.data_dir) == blobs
    # and the server still takes a proper one
    response = requests.post(server.url + path, data=small, timeout=30,
                             headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 201
    log = "".join(p.read_text(errors="replace") for p in server.data_dir.glob("server-*.log"))
    assert "Traceback" not in log


# --- odd attachment names ------------------------------------------------------------------------

@pytest.mark.parametrize("name, accepted", [
    ("ảnh chân dung.jpg", True),
    ("照片.jpg", True),
    ("a" * 251 + ".jpg", True),
    ("a" * 252 + ".jpg", False),
    ("x\x00.jpg", False),
    ("x\x7f.jpg", False),
    ("C:\\Windows\\x.jpg", False),
    ("/etc/passwd", False),
    ("...", True),
    ("\u202egpj.exe", True),
    (" ", True),
])
def test_odd_attachment_names(site, name, accepted):
    iid, xml = _instance(site.server, site.tokens["dtv_tinh"])
    content = hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest() * 100
    body = _multipart(xml, {}).replace(b"--XyZ--\r\n", b"")
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')       # a quoted-string, as clients send it
    body += (b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="' + quoted.encode("utf-8")
             + b'"\r\nContent-Type: image/jpeg\r\n\r\n' + content + b"\r\n--XyZ--\r\n")
    before = blob_files(site.data_dir)
    response = requests.post(site.token_url("dtv_tinh") + "/submission", data=body, timeout=30,
                             headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    db = storage.connect(site.data_dir, migrate=False)
    try:
        row = db.execute("SELECT id FROM submissions WHERE instance_id = ?", [iid]).fetchone()
        if accepted:
            assert response.status_code == 201, response.text
            stored = db.execute("SELECT name, sha256 FROM attachments WHERE submission_id = ?", [row[0]]).fetchall()
            assert stored == [(name, hashlib.sha256(content).hexdigest())]
            admin = requests.get(f"{site.url}/submissions/{row[0]}/attachments/{requests.utils.quote(name)}",
                                 auth=("admin", PASSWORD), timeout=30)
            assert admin.status_code == 200 and admin.content == content
        else:
            assert response.status_code == 400, response.text
            assert row is None and blob_files(site.data_dir) == before
    finally:
        db.close()


# --- property-based fuzzing: the parser, and the receiver end to end --------------------------

_names = st.sampled_from(["meta", "instanceID", "deprecatedID", "main", "unit", "comment", "consent", "start",
                          "today", "deviceid", "orx:meta", "jr:x", "level", "procedure", "staff", "photo"]) | \
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)
# values as Collect would send them (escaped), with now and then something no XML may hold
_clean = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
                 max_size=30) | st.sampled_from(["", "474", "481", "9999", "yes", "no", "0001-01-01",
                                                 "9999-12-31T23:59:59-12:00", "2026-07-01T08:00:00.000+07:00"])
_texts = st.one_of(*[_clean] * 8, st.text(max_size=30))
_raw = st.sampled_from(["&amp;", "&#0;", "&#x110000;", "]]>", "<![CDATA[x]]>", "&lt;", "<!-- x -->", "<?pi x?>"])


def _escape_some(text: str, raw: bool) -> str:
    from xml.sax.saxutils import escape
    return text if raw else escape(text)


@st.composite
def _element(draw, depth=0):
    name = draw(_names)
    attrs = draw(st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), _texts, max_size=2))
    attr_text = "".join(f' {k}="{_escape_some(v, False).replace(chr(34), "&quot;")}"' for k, v in attrs.items())
    if depth >= 4 or draw(st.booleans()):
        body = draw(_raw) if draw(st.integers(0, 9)) == 0 else _escape_some(draw(_texts), False)
    else:
        body = "".join(draw(st.lists(_element(depth + 1), max_size=4)))
    return f"<{name}{attr_text}>{body}</{name}>"


@st.composite
def structured_instances(draw) -> bytes:
    # mostly forms and versions that exist, so that many examples get as far as being stored
    form_id, version = draw(st.sampled_from(
        [("tthc_hailong", STANDARD_VERSION)] * 4 + [("anh", "1")] * 3
        + [("khong_co", "1"), ("", None), ("tthc_hailong", "9999"), ("anh", None), ("x' OR 1=1", "")]))
    instance_id = draw(st.sampled_from([f"uuid:{uuid.uuid4()}"] * 4 + ["", "uuid:" + "9" * 300, "uuid:\x01",
                                                                       "uuid:trung-lap", None]))
    deprecated = draw(st.sampled_from([None, None, "uuid:khong-co", "uuid:trung-lap"]))
    children = "".join(draw(st.lists(_element(), max_size=6)))
    meta = ""
    if instance_id is not None or deprecated:
        meta = "<meta>" + (f"<instanceID>{_escape_some(instance_id or '', False)}</instanceID>"
                           if instance_id is not None else "") + (
                   f"<deprecatedID>{deprecated}</deprecatedID>" if deprecated else "") + "</meta>"
    ordered = [children, meta] if draw(st.booleans()) else [meta, children]
    version_attr = f' version="{version}"' if version is not None else ""
    prolog = draw(st.sampled_from(["", "<?xml version='1.0' ?>", "<?xml version='1.0' encoding='UTF-8'?>"]))
    return f'{prolog}<data id="{form_id}"{version_attr}>{"".join(ordered)}</data>'.encode("utf-8", "surrogatepass")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structured_instances())
def test_parser_and_flattening_fail_only_with_instance_error(data):
    try:
        inst = parse_instance(data)
    except InstanceError:
        return
    version = {"id": 1, "fields": [{"path": "unit", "type": "string"}, {"path": "main", "type": "group"},
                                   {"path": "main/comment", "type": "string"},
                                   {"path": "rep", "type": "repeat"}, {"path": "rep/x", "type": "string", "repeat": "rep"},
                                   {"path": "photo", "type": "binary"},
                                   {"path": "consent", "type": "string", "sensitive": True}],
               "conventions": {"roles": {"unit": "unit", "start": "start", "today": "today", "deviceid": "deviceid"}}}
    build_submission(version, inst, data, instance_id=inst.instance_id or "uuid:x", received_at="2026-01-01T00:00:00.000Z",
                     arrival_channel="interview")


@pytest.fixture(scope="module")
def fuzz_site(web_site, tmp_path_factory):
    site = web_site.copy(tmp_path_factory.mktemp("fuzz") / "site")
    return site, site.app().test_client()


def _consistent(data_dir) -> None:
    """No partial record: every submission has its XML and its answer row, every attachment row
    its file, and no file is left half-written."""
    db = storage.connect(data_dir, migrate=False)
    try:
        assert db.execute("SELECT count(*) FROM submissions s LEFT JOIN submission_xml x "
                          "ON x.submission_id = s.id WHERE x.submission_id IS NULL").fetchone()[0] == 0
        for (form_id,) in db.execute("SELECT DISTINCT form_id FROM submissions WHERE encrypted = 0").fetchall():
            missing = db.execute(f"SELECT count(*) FROM submissions s LEFT JOIN [data:{form_id}] d "
                                 "ON d._submission_id = s.id WHERE s.form_id = ? AND s.encrypted = 0 "
                                 "AND d._submission_id IS NULL", [form_id]).fetchone()[0]
            assert missing == 0, form_id
        for (sha,) in db.execute("SELECT DISTINCT sha256 FROM attachments"):
            assert (data_dir / "blobs" / sha[:2] / sha).is_file()
    finally:
        db.close()
    assert not list((data_dir / "blobs" / "tmp").iterdir())


def _count(data_dir) -> int:
    db = storage.connect(data_dir, migrate=False)
    try:
        return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    finally:
        db.close()


def _fuzz_post(fuzz_site, body: bytes, files: dict[str, bytes], raw: bool = False):
    site, client = fuzz_site
    url = f"/key/{site.tokens['dtv_tinh']}/submission"
    before = _count(site.data_dir)
    if raw:
        response = client.post(url, data=body, content_type="multipart/form-data; boundary=XyZ")
    else:
        data = {"xml_submission_file": (io.BytesIO(body), "submission.xml", "text/xml")}
        for name, content in files.items():
            data[name] = (io.BytesIO(content), name, "image/jpeg")
        response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code < 500, response.data
    event(f"HTTP {response.status_code}")
    after = _count(site.data_dir)
    if response.status_code == 201:
        assert after - before in (0, 1)          # new, or an identical resend
    else:
        assert after == before
    _consistent(site.data_dir)
    return response


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(body=structured_instances(),
       files=st.dictionaries(st.text(min_size=1, max_size=20), st.binary(max_size=200), max_size=2))
def test_receiver_fuzz_with_structured_instances(fuzz_site, body, files):
    response = _fuzz_post(fuzz_site, body, files)
    if response.status_code == 201:
        site, _ = fuzz_site
        db = storage.connect(site.data_dir, migrate=False)
        try:
            iid = parse_instance(body).instance_id
            if iid:
                xml = db.execute("SELECT x.xml FROM submissions s JOIN submission_xml x ON x.submission_id = s.id "
                                 "WHERE s.instance_id = ?", [iid]).fetchone()[0]
                assert xml == body
        finally:
            db.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(body=st.binary(max_size=3000), raw=st.booleans())
def test_receiver_fuzz_with_random_bytes(fuzz_site, body, raw):
    _fuzz_post(fuzz_site, body, {}, raw=raw)
