"""Sign-in and sign-out writes and their audit entries share one transaction (issue 14, item 4).

The login views used to count a failure, open or close a session in one transaction and write the
audit entry in a second one. Through actions.sessions on a real SQLite file: an audit entry that
cannot be written leaves no change, a change that fails leaves no entry, a success writes both.
"""
import sqlite3

import pytest

from actions import sessions
from storage import users

IP = "203.0.113.7"
SID = "a" * 64
TOKEN = "b" * 64


@pytest.fixture
def db(empty_db):
    users.create_user(empty_db, "can_bo", "viewer", None, "not-a-real-hash", None, actor="admin")
    return empty_db


@pytest.fixture
def user(db):
    return users.get_user_by_name(db, "can_bo")


def _audit(db):
    return [tuple(r) for r in db.execute("SELECT actor, action, target, details_json FROM audit_log ORDER BY id")]


def _rows(db, table):
    return [tuple(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]  # nosec B608 (test tables)


def _refuse(db, sql_event):
    # a temporary trigger makes exactly one kind of write fail, as a full disk or a constraint would
    db.execute(f"CREATE TEMP TRIGGER refuse BEFORE {sql_event} BEGIN SELECT RAISE(ABORT, 'refused'); END")


def _allow(db):
    db.execute("DROP TRIGGER temp.refuse")


def _fail_once(db, name="can_bo"):
    sessions.login_failed(db, name, ip=IP, keep_seconds=900)


# --- a wrong password: the failure counted and audited together ------------------------------

@pytest.mark.parametrize("refused", ["INSERT ON audit_log", "INSERT ON login_failures"])
def test_failure_failing_either_write_changes_nothing(db, refused):
    before = _audit(db)
    _refuse(db, refused)
    with pytest.raises(sqlite3.IntegrityError):
        _fail_once(db)
    _allow(db)
    assert _rows(db, "login_failures") == [] and _audit(db) == before


def test_failure_counts_and_audits_once(db):
    before = _audit(db)
    sessions.login_failed(db, "x" * 200, ip=IP, keep_seconds=900, via="basic")
    # the name is cut to 128 characters in the count and the entry alike
    assert [(r[2], r[3]) for r in _rows(db, "login_failures")] == [("x" * 128, IP)]
    assert _audit(db)[len(before):] == [(None, "login.failed", "x" * 128, f'{{"ip": "{IP}", "via": "basic"}}')]


def test_locked_login_writes_one_entry_and_counts_nothing(db):
    before = _audit(db)
    sessions.login_locked(db, "can_bo", ip=IP, via="api")
    assert _audit(db)[len(before):] == [(None, "login.locked", "can_bo", f'{{"ip": "{IP}", "via": "api"}}')]
    assert _rows(db, "login_failures") == []


# --- a right password: failures forgotten, session opened, login audited, all or nothing -------

@pytest.mark.parametrize("refused", ["INSERT ON audit_log", "INSERT ON web_sessions"])
def test_web_sign_in_failing_either_write_changes_nothing(db, user, refused):
    _fail_once(db)
    before = _audit(db)
    _refuse(db, refused)
    with pytest.raises(sqlite3.IntegrityError):
        sessions.open_web_session(db, user, sid_sha256=SID, lifetime_seconds=3600, ip=IP)
    _allow(db)
    assert _rows(db, "web_sessions") == []
    assert len(_rows(db, "login_failures")) == 1     # not forgotten either
    assert _audit(db) == before


def test_web_sign_in_and_out_write_one_entry_each(db, user):
    _fail_once(db)
    before = _audit(db)
    sessions.open_web_session(db, user, sid_sha256=SID, lifetime_seconds=3600, ip=IP)
    assert [(r[0], r[1]) for r in _rows(db, "web_sessions")] == [(SID, user["id"])]
    assert _rows(db, "login_failures") == []
    assert _audit(db)[len(before):] == [("can_bo", "login", "can_bo", f'{{"ip": "{IP}"}}')]
    sessions.close_web_session(db, SID, user=user, ip=IP)
    assert _rows(db, "web_sessions") == []
    assert _audit(db)[len(before) + 1:] == [("can_bo", "logout", "can_bo", f'{{"ip": "{IP}"}}')]


def test_web_sign_out_failing_audit_keeps_the_session(db, user):
    sessions.open_web_session(db, user, sid_sha256=SID, lifetime_seconds=3600, ip=IP)
    before = _audit(db)
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        sessions.close_web_session(db, SID, user=user, ip=IP)
    _allow(db)
    assert len(_rows(db, "web_sessions")) == 1 and _audit(db) == before


def test_expired_session_closed_without_entry(db, user):
    # a session ended by its age (no one signing out) is forgotten without a logout entry
    sessions.open_web_session(db, user, sid_sha256=SID, lifetime_seconds=3600, ip=IP)
    before = _audit(db)
    sessions.close_web_session(db, SID, user=None, ip=IP)
    assert _rows(db, "web_sessions") == [] and _audit(db) == before


def test_refused_web_sign_in_failing_audit_keeps_failures(db, user):
    _fail_once(db)
    before = _audit(db)
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        sessions.refuse_web_sign_in(db, user, ip=IP)
    _allow(db)
    assert len(_rows(db, "login_failures")) == 1 and _audit(db) == before
    sessions.refuse_web_sign_in(db, user, ip=IP)
    assert _rows(db, "login_failures") == []
    assert _audit(db)[len(before):] == [
        ("can_bo", "login.refused", "can_bo", f'{{"ip": "{IP}", "role": "viewer"}}')]


def test_api_sign_in_failing_audit_opens_no_session(db, user):
    before = _audit(db)
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        sessions.open_api_session(db, user, token_sha256=TOKEN, lifetime_seconds=3600, ip=IP)
    _allow(db)
    assert _rows(db, "api_sessions") == [] and _audit(db) == before


def test_api_sign_in_and_out_write_one_entry_each(db, user):
    before = _audit(db)
    times = sessions.open_api_session(db, user, token_sha256=TOKEN, lifetime_seconds=3600, ip=IP)
    assert _rows(db, "api_sessions") == [(TOKEN, user["id"], times["created_at"], times["expires_at"])]
    assert _audit(db)[len(before):] == [("can_bo", "login", "can_bo", f'{{"ip": "{IP}", "via": "api"}}')]
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        sessions.close_api_session(db, user, token_sha256=TOKEN, ip=IP)
    _allow(db)
    assert len(_rows(db, "api_sessions")) == 1     # still open: its logout could not be recorded
    sessions.close_api_session(db, user, token_sha256=TOKEN, ip=IP)
    assert _rows(db, "api_sessions") == []
    assert _audit(db)[len(before) + 1:] == [("can_bo", "logout", "can_bo", f'{{"ip": "{IP}", "via": "api"}}')]
