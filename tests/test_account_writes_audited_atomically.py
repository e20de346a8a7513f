"""Account writes and their audit entries share one transaction (issue 14, item 4).

Through the real storage functions on a real SQLite file: a change that fails leaves no audit
entry, an audit entry that cannot be written leaves no change, and a success writes exactly one.
"""
import sqlite3

import pytest

import storage
from actions import accounts
from storage import users

PASSWORD = "mot-mat-khau-du-dai-1"


@pytest.fixture
def db(tmp_path):
    db = storage.connect(tmp_path)
    yield db
    db.close()


def _audit(db):
    return [tuple(r) for r in db.execute("SELECT actor, action, target, details_json FROM audit_log ORDER BY id")]


def _users(db):
    return [tuple(r) for r in db.execute("SELECT id, name, role, password_hash, revoked_at FROM users ORDER BY id")]


def _refuse(db, sql_event):
    # a temporary trigger makes exactly one kind of write fail, as a constraint would
    db.execute(f"CREATE TEMP TRIGGER refuse BEFORE {sql_event} BEGIN SELECT RAISE(ABORT, 'refused'); END")


def _allow(db):
    db.execute("DROP TRIGGER temp.refuse")


def _create(db, name="nguoi_xem"):
    return accounts.create_account(db, name=name, role="viewer", unit_code=None, password=PASSWORD, actor="admin")


def test_create_failing_change_leaves_no_audit_entry(db):
    # the same token twice breaks users.token_sha256 UNIQUE
    users.create_user(db, "thu_nhat", "collector", None, None, "a" * 64, actor="admin")
    before_audit, before_users = _audit(db), _users(db)
    with pytest.raises(sqlite3.IntegrityError):
        users.create_user(db, "thu_hai", "collector", None, None, "a" * 64, actor="admin")
    assert _audit(db) == before_audit and _users(db) == before_users


def test_create_failing_audit_leaves_no_account(db):
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        _create(db)
    assert users.get_user_by_name(db, "nguoi_xem") is None
    _allow(db)
    assert _audit(db) == []


def test_create_success_writes_one_entry(db):
    _create(db)
    accounts.revoke_account(db, name="nguoi_xem", actor="admin")
    revoked_id = users.get_user_by_name(db, "nguoi_xem")["id"]
    before = _audit(db)
    _create(db)
    assert _audit(db)[len(before):] == [
        ("admin", "user.create", "nguoi_xem", f'{{"role": "viewer", "unit": null, "replaces_revoked_id": {revoked_id}}}')]


def test_password_reset_failing_change_leaves_no_audit_entry(db):
    _create(db)
    before_audit, before_users = _audit(db), _users(db)
    _refuse(db, "UPDATE ON users")
    with pytest.raises(sqlite3.IntegrityError):
        accounts.reset_password(db, name="nguoi_xem", password=PASSWORD + "x", actor="admin")
    _allow(db)
    assert _audit(db) == before_audit and _users(db) == before_users


def test_password_reset_failing_audit_leaves_password(db):
    _create(db)
    before = _users(db)
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        accounts.reset_password(db, name="nguoi_xem", password=PASSWORD + "x", actor="admin")
    _allow(db)
    assert _users(db) == before


def test_password_reset_success_writes_one_entry(db):
    _create(db)
    before = _audit(db)
    accounts.reset_password(db, name="nguoi_xem", password=PASSWORD + "x", actor="admin")
    assert _audit(db)[len(before):] == [("admin", "user.password_reset", "nguoi_xem", None)]
    # refused for an unknown account, with no entry
    with pytest.raises(accounts.AccountRefused):
        accounts.reset_password(db, name="khong_co", password=PASSWORD, actor="admin")
    assert len(_audit(db)) == len(before) + 1


def test_revoke_failing_change_leaves_no_audit_entry(db):
    _create(db)
    before_audit, before_users = _audit(db), _users(db)
    _refuse(db, "UPDATE ON users")
    with pytest.raises(sqlite3.IntegrityError):
        accounts.revoke_account(db, name="nguoi_xem", actor="admin")
    _allow(db)
    assert _audit(db) == before_audit and _users(db) == before_users


def test_revoke_failing_audit_leaves_account_active(db):
    _create(db)
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        accounts.revoke_account(db, name="nguoi_xem", actor="admin")
    _allow(db)
    assert users.get_user_by_name(db, "nguoi_xem")["revoked_at"] is None


def test_revoke_success_writes_one_entry(db):
    _create(db)
    before = _audit(db)
    accounts.revoke_account(db, name="nguoi_xem", actor="admin")
    assert _audit(db)[len(before):] == [("admin", "user.revoke", "nguoi_xem", None)]
    with pytest.raises(accounts.AccountRefused):
        accounts.revoke_account(db, name="nguoi_xem", actor="admin")
    assert len(_audit(db)) == len(before) + 1
