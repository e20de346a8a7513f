"""The application layer's own refusals change nothing (issue 14, item 4): a follow-up status that
cannot be recorded, a public address that cannot be used, a form state that does not exist.
Through actions/ on a real SQLite file; the pages' wording of the same refusals is tested with
the pages (test_dashboard, test_officer_pages)."""
import pytest

import storage
from actions import followups, forms, settings
from actions.settings import SETTING, AddressRefused


@pytest.fixture
def db(empty_db):
    return empty_db


def _snapshot(db):
    return [[tuple(r) for r in db.execute(f"SELECT * FROM {table}")]  # nosec B608 (fixed names)
            for table in ("audit_log", "followups", "settings", "forms")]


@pytest.mark.parametrize("status, note, en", [
    (None, "", "Choose a follow-up status."),
    ("closed", "đã gọi", "Choose a follow-up status."),
    ("handled", "   ", "Write a note saying how it was handled."),
])
def test_followup_refused_changes_nothing(db, status, note, en):
    before = _snapshot(db)
    with pytest.raises(followups.FollowupRefused) as refused:
        followups.set_status(db, 1, status, note, actor="bao_cao")
    assert refused.value.en == en and refused.value.vi
    assert _snapshot(db) == before


def test_followup_of_unknown_submission_is_false_and_unaudited(db):
    before = _snapshot(db)
    assert followups.set_status(db, 12345, "open", "", actor="bao_cao") is False
    assert _snapshot(db) == before


@pytest.mark.parametrize("typed", ["khaosat.hue.gov.vn", "https://a:b@khaosat.hue.gov.vn", "http://x.vn:99999"])
def test_unusable_public_address_changes_nothing(db, typed):
    before = _snapshot(db)
    with pytest.raises(AddressRefused):
        settings.save_public_address(db, typed, actor="quan_tri")
    assert _snapshot(db) == before


def test_public_address_saved_then_removed_with_one_entry_each(db):
    assert settings.save_public_address(db, "https://khaosat.hue.gov.vn/", actor="quan_tri") == \
        "https://khaosat.hue.gov.vn"
    assert storage.settings.get_setting(db, SETTING) == "https://khaosat.hue.gov.vn"
    assert settings.save_public_address(db, "", actor="quan_tri") is None
    assert storage.settings.get_setting(db, SETTING) is None
    actions = [tuple(r) for r in db.execute("SELECT actor, action FROM audit_log ORDER BY id")]
    assert actions == [("quan_tri", "settings.change")] * 2


def test_report_lines_collapsed_and_cut(db):
    key = "report_parent"
    changed = settings.save_report(db, {key: "  UBND   tỉnh\tThừa Thiên Huế  " + "x" * 300}, actor="quan_tri")
    stored = storage.settings.get_setting(db, key)
    assert changed == [key]
    assert stored == ("UBND tỉnh Thừa Thiên Huế " + "x" * 300)[:200]


def test_unknown_form_state_refused(db):
    before = _snapshot(db)
    with pytest.raises(ValueError):
        forms.set_state(db, "phieu", "deleted", actor="cli")
    assert forms.set_state(db, "phieu", "closed", actor="cli") is False   # no such form: nothing audited
    assert _snapshot(db) == before
