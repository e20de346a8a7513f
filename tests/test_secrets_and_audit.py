"""Secrets never reach a log, and every action that matters reaches the audit log.

The server log is gunicorn's, as `make run` and production write it (gunicorn.conf.py: access log
on, with the redacting logger class): collector tokens travel in URL paths, so a plain access log
would keep every surveyor's credential.
"""
from __future__ import annotations

import base64
import io
import json
import random
import re
from datetime import timedelta
from types import SimpleNamespace

import requests

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, cli
from tests.harness.collect_client import CollectClient
from server.access_log import REDACTED, RedactingLogger, redact
from storage import audit, browse, deletion, forms
from web_site import UNIT_A, login, post
from xlsforms import small_form

WRONG = "sai-mat-khau-rat-bi-mat-789"


def _web_login(url: str, name: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    session.post(url + "/login", data={"name": name, "password": password, "csrf_token": token}, timeout=30)
    return session


def test_passwords_and_tokens_never_reach_the_server_log(fresh_site):
    url, token = fresh_site.url, fresh_site.tokens["dtv_hue"]
    # a web login, a failed one, and a page through the session
    session = _web_login(url, "admin", PASSWORD)
    assert session.get(url + "/submissions/", timeout=30).status_code == 200
    _web_login(url, "admin", WRONG)
    # Collect with its token URL: list, probe, submit; the token also percent-encoded (the client
    # normalises that away; the logger's own test covers it) and in a 404
    client = CollectClient(f"{url}/key/{token}")
    xform = client.download_form(client.form_list("tthc_hailong")[0])
    assert client.submit(fill_instance(xform, standard_answers(random.Random(1), UNIT_A, "huyen")))[-1].status_code == 201
    assert requests.get(f"{url}/%6Bey/{token}/formList", timeout=30).status_code == 200
    assert requests.get(f"{url}/key/{token}/khong-co?deviceID=collect:x", timeout=30).status_code == 404
    # Basic authentication, right and wrong, on Collect's routes and on the API
    assert requests.get(url + "/formList", auth=("admin", PASSWORD), timeout=30).status_code == 200
    assert requests.get(url + "/formList", auth=("admin", WRONG), timeout=30).status_code == 401
    assert requests.get(url + "/api/v1/indices", params={"forms": "tthc_hailong"}, auth=("admin", PASSWORD),
                        timeout=30).status_code == 200
    assert requests.get(url + "/api/v1/indices", params={"forms": "tthc_hailong"}, auth=("xem_hue", WRONG),
                        timeout=30).status_code == 401

    log = "".join(p.read_text(errors="replace") for p in fresh_site.data_dir.glob("server-*.log"))
    assert '"GET /key/[redacted]/formList' in log and '"POST /key/[redacted]/submission' in log  # the access log is on
    secrets = {PASSWORD, WRONG, token, base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
               base64.b64encode(f"admin:{WRONG}".encode()).decode()}
    for secret in secrets:
        assert secret not in log
    # nor in the database, where only digests and hashes are kept
    raw = b"".join(p.read_bytes() for p in fresh_site.data_dir.glob("hailong.sqlite*"))
    for secret in secrets:
        assert secret.encode() not in raw
    db = storage.connect(fresh_site.data_dir)
    actions = [(r["action"], r["actor"], r["target"]) for r in audit.recent(db, 100)]
    assert ("login", "admin", "admin") in actions and ("login.failed", None, "admin") in actions
    assert ("login.failed", None, "xem_hue") in actions          # Basic on the API counts too
    assert any(json.loads(r["details_json"] or "{}").get("via") == "basic" for r in audit.recent(db, 100)
               if r["action"] == "login.failed")


def test_the_logger_redacts_whatever_the_format_asks_for():
    token = "AbC_d-123" * 4
    basic = "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode()
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/key/{token}/formList?deviceID=x",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": f"/key/{token}/formList", "QUERY_STRING": "deviceID=x",
               "HTTP_AUTHORIZATION": basic, "HTTP_COOKIE": "session=bi-mat", "HTTP_REFERER": f"https://x/KEY/{token}/"}
    resp = SimpleNamespace(status="200 OK", headers=[("Set-Cookie", "session=bi-mat")], sent=10)
    req = SimpleNamespace(headers=[("AUTHORIZATION", basic), ("COOKIE", "session=bi-mat")])
    atoms = _Bare().atoms(resp, req, environ, timedelta(microseconds=5))
    text = repr(atoms)
    assert token not in text and PASSWORD not in text and "bi-mat" not in text and basic not in text
    assert atoms["r"] == "GET /key/[redacted]/formList?deviceID=x HTTP/1.1"
    assert atoms["u"] == "admin"                                  # the user name may stay
    assert redact("/key/abc") == f"/key/{REDACTED}" and redact("/keys/abc") == "/keys/abc"


class _Bare(RedactingLogger):
    """Only what atoms() needs, without gunicorn's logging set-up."""

    def __init__(self):
        pass

    def now(self):
        return "[now]"


# --- the audit log -------------------------------------------------------------------------------

def _actions(data_dir) -> list[tuple]:
    db = storage.connect(data_dir)
    try:
        return [(r["action"], r["actor"], r["target"], json.loads(r["details_json"] or "{}"))
                for r in audit.recent(db, 1000)]
    finally:
        db.close()


def test_publishes_are_audited_with_who_did_them(web_copy, tmp_path):
    path = small_form(tmp_path / "ghi_so.xlsx", "ghi_so", "1")
    assert cli(web_copy.data_dir, "forms", "publish", str(path)).exit_code == 0
    assert ("form.publish", "cli", "ghi_so", {"version": "1"}) in _actions(web_copy.data_dir)
    designer = web_copy.app().test_client()
    login(designer, "designer")
    path = small_form(tmp_path / "ghi_so_2.xlsx", "ghi_so", "2", extra_question=True)
    import hashlib
    response = designer.post("/questionnaires/upload", content_type="multipart/form-data",
                             data={"file": (io.BytesIO(path.read_bytes()), "ghi_so.xlsx"),
                                   "csrf_token": __import__("web_site").csrf_token(designer)})
    assert response.status_code == 302
    post(designer, f"/questionnaires/staged/{hashlib.sha256(path.read_bytes()).hexdigest()}/publish")
    assert ("form.publish", "designer", "ghi_so", {"version": "2"}) in _actions(web_copy.data_dir)
    post(designer, "/questionnaires/ghi_so/state", {"state": "closed"})
    assert ("form.close", "designer", "ghi_so", {}) in _actions(web_copy.data_dir)


def test_reviews_are_audited(web_copy):
    reporter = web_copy.app().test_client()
    login(reporter, "reporter_hue")
    sid = web_copy.by_unit[UNIT_A][0]
    post(reporter, f"/submissions/{sid}/review", {"state": "approved"})
    entry = next(a for a in _actions(web_copy.data_dir) if a[0] == "submission.review")
    assert entry[1:3] == ("reporter_hue", web_copy.instance_ids[sid]) and entry[3]["state"] == "approved"


def test_exports_are_audited(web_copy):
    app = web_copy.app()
    if not any(rule.endpoint.startswith("api_exports.") for rule in app.url_map.iter_rules()):
        import pytest
        pytest.skip("no export routes in this tree yet")
    reporter = app.test_client()
    login(reporter, "reporter")
    response = reporter.get("/api/v1/forms/tthc_hailong/export.csv.zip")
    assert response.status_code == 200
    response.get_data()          # a streamed download is audited once it is asked for, whatever its size
    exports = [a for a in _actions(web_copy.data_dir) if a[0].startswith("export")]
    assert exports and exports[0][1] == "reporter", _actions(web_copy.data_dir)[:5]


def test_deletion_hides_keeps_and_audits(web_copy):
    db = storage.connect(web_copy.data_dir)
    root, current = web_copy.edited_root, web_copy.edited
    instance_id = web_copy.instance_ids[current]
    viewer = web_copy.app().test_client()
    login(viewer, "xem_hue")
    assert viewer.get(f"/submissions/{current}").status_code == 200
    xml = storage.submissions.get_xml(db, current)

    refused = cli(web_copy.data_dir, "submissions", "delete", instance_id, "--reason", "  ")
    assert refused.exit_code == 1 and "lý do" in refused.output
    unknown = cli(web_copy.data_dir, "submissions", "delete", "uuid:khong-co", "--reason", "thử")
    assert unknown.exit_code == 1 and "No submission" in unknown.output
    result = cli(web_copy.data_dir, "submissions", "delete", instance_id, "--reason", "Phiếu thử nghiệm, nhập nhầm")
    assert result.exit_code == 0, result.output
    assert "Đã xoá 2 bản" in result.output and "Deleted 2 version(s)" in result.output
    again = cli(web_copy.data_dir, "submissions", "delete", web_copy.instance_ids[root], "--reason", "lần nữa")
    assert again.exit_code == 0 and "already deleted" in again.output

    # hidden everywhere: list, both versions' pages, the edit rules
    for sid in (root, current):
        assert viewer.get(f"/submissions/{sid}").status_code == 404
        assert browse.submission_in_scope(db, sid, None) is None
    listing = viewer.get("/submissions/").get_data(as_text=True)
    assert f'href="/submissions/{current}"' not in listing
    # kept, with who, when and why
    assert storage.submissions.get_xml(db, current) == xml
    assert deletion.is_deleted(db, instance_id) is True
    entry = next(a for a in _actions(web_copy.data_dir) if a[0] == "submission.delete")
    assert entry[1:3] == ("cli", instance_id)
    assert entry[3]["reason"] == "Phiếu thử nghiệm, nhập nhầm" and len(entry[3]["versions"]) == 2
    # Collect resending it gets its 201 and does not bring it back; an edit of it is refused
    app = web_copy.app()
    token = web_copy.tokens["dtv_hue"]
    response = app.test_client().post(f"/key/{token}/submission", content_type="multipart/form-data",
                                      data={"xml_submission_file": (io.BytesIO(xml), "s.xml", "text/xml")})
    assert response.status_code == 201
    assert deletion.is_deleted(db, instance_id) is True
    standard = forms.latest_version(db, "tthc_hailong")["xform"]
    edit = fill_instance(standard, standard_answers(random.Random(8), UNIT_A, "huyen"), deprecated_id=instance_id)
    response = app.test_client().post(f"/key/{token}/submission", content_type="multipart/form-data",
                                      data={"xml_submission_file": (io.BytesIO(edit), "s.xml", "text/xml")})
    # refused as deleted (issue 12): a deletion is not undone by sending a new version
    assert response.status_code == 409 and "đã bị xóa" in response.get_data(as_text=True)


def test_basic_authentication_for_collect_is_under_the_login_limit(web_copy):
    """Guessing passwords through Collect's routes locks the account as the login page does."""
    app = web_copy.app()
    for n in range(5):
        response = app.test_client().get("/formList", auth=("designer", f"doan-mat-khau-{n}"),
                                          environ_base={"REMOTE_ADDR": f"10.8.0.{n + 1}"})
        assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    # the right password, from yet another address: still locked for this account
    locked = app.test_client().get("/formList", auth=("designer", PASSWORD), environ_base={"REMOTE_ADDR": "10.8.1.1"})
    assert locked.status_code == 401
    # other accounts are not held back, and every failure is in the audit log
    assert app.test_client().get("/formList", auth=("admin", PASSWORD)).status_code == 200
    failures = [a for a in _actions(web_copy.data_dir) if a[0] == "login.failed" and a[2] == "designer"]
    assert len(failures) == 5 and all(a[3].get("via") == "basic" for a in failures)
    assert any(a[0] == "login.locked" and a[2] == "designer" for a in _actions(web_copy.data_dir))
