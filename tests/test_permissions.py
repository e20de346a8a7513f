"""server/permissions.py: the table of who may do what, and `can` with the unit scope.

The expected roles below are written out by hand from the product's rules (README, "Security";
they are the role lists the views held before the table existed), so a change to the table that
grants or withdraws an action fails here even where the access matrix, which reads the table,
would follow it.
"""
from __future__ import annotations

import pytest

import storage
from server.permissions import ACTIONS, GRANTS, can, roles_with
from storage import units

EXPECTED = {
    "web.sign_in": {"admin", "designer", "reporter", "viewer"},
    "submission.read": {"admin", "designer", "reporter", "viewer"},
    "form.read": {"admin", "designer", "reporter", "viewer"},
    "indices.read": {"admin", "designer", "reporter", "viewer"},
    "submission.send": {"admin", "designer", "collector"},
    "submission.review": {"admin", "reporter"},
    "submission.identifiers": {"admin"},
    "export.identifiers": {"admin"},
    "plan.manage": {"admin", "reporter"},
    "plan.identifiers": {"admin"},
    "register.import": {"admin", "reporter"},
    "result.publish": {"admin", "reporter"},
    "dissatisfied.follow_up": {"admin", "reporter"},
    "form.publish": {"admin", "designer"},
    "link.manage": {"admin", "designer", "reporter"},
    "paper.enter": {"admin", "reporter"},
    "kiosk.manage": {"admin"},
    "account.manage": {"admin"},
    "unit.import": {"admin"},
    "audit.read": {"admin"},
    "settings.manage": {"admin"},
}


def test_every_action_is_granted_to_exactly_the_expected_roles():
    assert set(ACTIONS) == set(EXPECTED)
    for action, roles in EXPECTED.items():
        assert set(roles_with(action)) == roles, action
        assert {role for role, granted in GRANTS.items() if action in granted} == roles, action


def test_an_unknown_action_is_an_error_not_a_silent_refusal():
    with pytest.raises(KeyError):
        roles_with("submission.reveiw")
    with pytest.raises(KeyError):
        can({"role": "admin", "unit_code": None}, "submission.reveiw")


def test_nobody_and_unknown_roles_may_do_nothing():
    for action in EXPECTED:
        assert not can(None, action)
        assert not can({"role": "superuser", "unit_code": None}, action)
        assert not can({}, action)


@pytest.fixture()
def db(tmp_path):
    db = storage.connect(tmp_path)
    units.upsert_units(db, [
        {"code": "T", "parent_code": None, "level": "tinh", "name_vi": "Tỉnh"},
        {"code": "H1", "parent_code": "T", "level": "huyen", "name_vi": "Huyện 1"},
        {"code": "X1", "parent_code": "H1", "level": "xa", "name_vi": "Xã 1"},
        {"code": "H2", "parent_code": "T", "level": "huyen", "name_vi": "Huyện 2"},
    ])
    yield db
    db.close()


def test_a_unit_bound_account_acts_within_its_subtree_only(db):
    reporter_h1 = {"role": "reporter", "unit_code": "H1"}
    assert can(reporter_h1, "paper.enter", "H1", db=db)
    assert can(reporter_h1, "paper.enter", "X1", db=db)
    assert not can(reporter_h1, "paper.enter", "H2", db=db)
    assert not can(reporter_h1, "paper.enter", "T", db=db)
    # the role comes first: in scope, but not the role's action
    assert not can(reporter_h1, "form.publish", "X1", db=db)


def test_a_province_wide_account_reaches_every_unit(db):
    admin = {"role": "admin", "unit_code": None}
    assert all(can(admin, "unit.import", code, db=db) for code in ("T", "H1", "X1", "H2"))
    viewer = {"role": "viewer", "unit_code": None}
    assert can(viewer, "indices.read", "H2", db=db)
    assert not can(viewer, "submission.review", "H2", db=db)
