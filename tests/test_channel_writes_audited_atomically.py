"""Receiving's writes and their audit entries share one transaction (issue 14, item 4): a paper
sheet entered twice, a paper sheet's claim, a file added through /v1, and reads of identifiers.

Through the application layer (actions/) on a private copy of the web test site's real SQLite
file and blob store; a trigger makes exactly one kind of write fail, as a constraint or a full
disk would. The trigger is kept in the file (the copy is private), not TEMP: a submission is
stored on the process's group-commit connection (storage/group_commit.py), which must see it
too. Expected rows are written out from what each test sends.
"""
from __future__ import annotations

import random
import sqlite3
import uuid

import pytest

import storage
from actions import attachments, paper
from actions.audited_reads import READS, record_read
from actions.receive.accept import read_instance, receive
from storage import channels, forms, submissions, users
from storage.blobs import BlobStore
from tests.harness.instances import fill_instance, standard_answers
from web_site import UNIT_A

FORM = "tthc_hailong"
CLERK = "reporter_hue"
POLITE = "main/staff/staff_polite"


@pytest.fixture
def db(web_copy):
    handle = storage.connect(web_copy.data_dir)
    handle.site = web_copy
    yield handle
    handle.close()


@pytest.fixture
def blobs(web_copy):
    return BlobStore(web_copy.data_dir / "blobs")


def _audit(db) -> list[tuple]:
    return [tuple(r) for r in db.execute("SELECT actor, action, target FROM audit_log ORDER BY id")]


def _refuse(db, sql_event):
    db.execute(f"CREATE TRIGGER refuse BEFORE {sql_event} BEGIN SELECT RAISE(ABORT, 'refused'); END")


def _allow(db):
    db.execute("DROP TRIGGER main.refuse")


# --- paper ---------------------------------------------------------------------------------------

def _sheet_answers(seed: int, **changes) -> dict:
    answers = standard_answers(random.Random(seed), UNIT_A, "huyen")
    answers.update({"main/channel": "", **changes})
    return answers


def _enter(db, blobs, run, sheet, answers):
    xml = fill_instance(forms.latest_version(db, FORM)["xform"], answers, f"uuid:{uuid.uuid4()}")
    return xml, paper.enter_sheet(db, blobs, run=run, sheet_no=sheet, xml=xml, uploads=[],
                                  inst=read_instance(db, xml), clerk=users.get_user_by_name(db, CLERK))


@pytest.fixture
def entered(db, blobs):
    """A sheet of a new print run entered once: (run, sheet number, first entry's row, answers)."""
    version = forms.latest_version(db, FORM)["version"]
    run = paper.print_run(db, form_id=FORM, version=version, unit_code=UNIT_A, count=1, actor=CLERK)
    sheet = run["first_sheet"]
    answers = _sheet_answers(7)
    xml, entry = _enter(db, blobs, run, sheet, answers)
    assert entry.outcome == "paper_created"
    return run, sheet, submissions.get_submission(db, entry.instance_id), answers


def _different(answers: dict) -> dict:
    return {**answers, POLITE: "1" if answers[POLITE] != "1" else "2"}


def _paper_state(db, sheet: int) -> tuple:
    return (channels.conflicts(db, form_id=FORM, sheet_no=sheet),
            [tuple(r) for r in db.execute("SELECT submission_id, state, note FROM reviews ORDER BY id")],
            [tuple(r) for r in db.execute("SELECT id, review_state FROM submissions ORDER BY id")],
            _audit(db))


@pytest.mark.parametrize("failing", ["INSERT ON paper_conflicts", "INSERT ON reviews", "INSERT ON audit_log",
                                     "UPDATE ON submissions"])
def test_second_entry_failing_anywhere_changes_nothing(db, blobs, entered, failing):
    run, sheet, first, answers = entered
    before = _paper_state(db, sheet)
    _refuse(db, failing)
    with pytest.raises(sqlite3.IntegrityError):
        _enter(db, blobs, run, sheet, _different(answers))
    _allow(db)
    assert _paper_state(db, sheet) == before


def test_second_entry_keeps_the_conflict_and_flags_the_first_together(db, blobs, entered):
    run, sheet, first, answers = entered
    before = _audit(db)
    _xml, entry = _enter(db, blobs, run, sheet, _different(answers))
    assert (entry.outcome, entry.differences) == ("paper_conflict", [POLITE])
    assert _audit(db)[len(before):] == [(CLERK, "paper.conflict", f"{FORM}#{sheet}"),
                                        (CLERK, "submission.review", first["instance_id"])]
    assert submissions.get_submission(db, first["instance_id"])["review_state"] == "hasIssues"
    assert [c["first_instance_id"] for c in channels.conflicts(db, form_id=FORM, sheet_no=sheet)] == [
        first["instance_id"]]


def test_second_entry_leaves_a_rejected_first_entry_rejected(db, blobs, entered):
    run, sheet, first, answers = entered
    from actions.reviews import decide
    assert decide(db, first["id"], "rejected", "trùng", "admin")
    before = _audit(db)
    _xml, entry = _enter(db, blobs, run, sheet, _different(answers))
    assert entry.outcome == "paper_conflict"
    assert _audit(db)[len(before):] == [(CLERK, "paper.conflict", f"{FORM}#{sheet}")]
    assert submissions.get_submission(db, first["instance_id"])["review_state"] == "rejected"


def test_a_sheet_is_claimed_with_its_submission_or_not_at_all(db, blobs):
    version = forms.latest_version(db, FORM)["version"]
    run = paper.print_run(db, form_id=FORM, version=version, unit_code=UNIT_A, count=1, actor=CLERK)
    sheet = run["first_sheet"]
    count = submissions.count_submissions(db)
    _refuse(db, "INSERT ON paper_sheets")
    with pytest.raises(sqlite3.IntegrityError):
        _enter(db, blobs, run, sheet, _sheet_answers(8))
    _allow(db)
    assert submissions.count_submissions(db) == count and channels.sheet_entry(db, FORM, sheet) is None
    xml, entry = _enter(db, blobs, run, sheet, _sheet_answers(8))
    assert entry.outcome == "paper_created"
    assert channels.sheet_entry(db, FORM, sheet)["submission_id"] == submissions.get_submission(
        db, entry.instance_id)["id"]


# --- a file added through /v1 --------------------------------------------------------------------

PHOTO = random.Random(44).randbytes(4000)


@pytest.fixture
def waiting(db, blobs, tmp_path):
    """A submission of the small form whose photo has not come yet, and the photo's file."""
    sender = users.get_user_by_name(db, "thu_ky")
    xform = forms.latest_version(db, "anh")["xform"]
    xml = fill_instance(xform, {"unit": UNIT_A, "q_proc": "4", "q_staff": "5", "photo": "cho.jpg"},
                        f"uuid:{uuid.uuid4()}")
    result = receive(db, blobs, xml=xml, uploads=[], submitter=sender, device_id=None,
                     arrival_channel="interview")
    assert result.outcome == "created"
    photo = tmp_path / "cho.jpg"
    photo.write_bytes(PHOTO)
    return sender, db.execute("SELECT * FROM submissions WHERE id = ?", [result.submission_id]).fetchone(), photo


def _upload(db, blobs, sender, submission_id, photo, sha):
    row = dict(next(db.query("SELECT * FROM submissions WHERE id = ?", [submission_id])))
    with photo.open("rb") as stream:
        return attachments.add_attachment(db, blobs, row=row, name="cho.jpg", stream=stream, sha256=sha,
                                          content_type="image/jpeg", sender=sender, arrival_channel="interview")


def _attachment_state(db, submission_id) -> tuple:
    return ([tuple(r) for r in db.execute("SELECT name, sha256 FROM attachments WHERE submission_id = ?",
                                          [submission_id])],
            [tuple(r) for r in db.execute("SELECT actor, target, details_json FROM audit_log "
                                          "WHERE action = 'submission.attachment_upload'")])


def test_upload_failing_audit_leaves_no_attachment(db, blobs, waiting):
    import hashlib
    sender, row, photo = waiting
    sha = hashlib.sha256(PHOTO).hexdigest()
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        _upload(db, blobs, sender, row[0], photo, sha)
    _allow(db)
    assert _attachment_state(db, row[0]) == ([], [])
    # the same upload again, with the audit log writable: the file and exactly one entry
    assert _upload(db, blobs, sender, row[0], photo, sha) == attachments.ADDED
    names, entries = _attachment_state(db, row[0])
    assert names == [("cho.jpg", sha)]
    assert [(actor, target) for actor, target, _ in entries] == [("thu_ky", row[1])]
    assert f'"sha256": "{sha}"' in entries[0][2]


def test_an_upload_that_adds_nothing_writes_no_entry(db, blobs, waiting):
    import hashlib
    sender, row, photo = waiting
    sha = hashlib.sha256(PHOTO).hexdigest()
    other = "0" * 64
    # another upload of the same name gets in first, between this one's look and its insert
    db.execute(f"""CREATE TRIGGER first_in BEFORE INSERT ON attachments
                   WHEN NEW.name = 'cho.jpg' AND NEW.sha256 <> '{other}'
                   BEGIN INSERT OR IGNORE INTO attachments (submission_id, name, sha256, size, content_type,
                         received_at) VALUES (NEW.submission_id, NEW.name, '{other}', 1, NULL, NEW.received_at);
                   END""")
    assert _upload(db, blobs, sender, row[0], photo, sha) == attachments.OTHER_BYTES
    db.execute("DROP TRIGGER main.first_in")
    assert _attachment_state(db, row[0]) == ([("cho.jpg", other)], [])
    # and the same bytes as those kept: a success that changes nothing and writes nothing
    db.execute("UPDATE attachments SET sha256 = ? WHERE submission_id = ?", [sha, row[0]])
    assert _upload(db, blobs, sender, row[0], photo, sha) == attachments.ALREADY_THERE
    assert _attachment_state(db, row[0]) == ([("cho.jpg", sha)], [])


# --- reads of identifiers ------------------------------------------------------------------------

def test_only_reads_of_identifiers_are_recorded_as_reads(db):
    before = _audit(db)
    with pytest.raises(ValueError):
        record_read(db, "admin", "submission.delete", "uuid:x")
    record_read(db, "admin", READS[0], "uuid:x", via="test")
    assert _audit(db)[len(before):] == [("admin", "submission.sensitive_view", "uuid:x")]


def test_a_sensitive_view_whose_entry_cannot_be_written_shows_nothing(db):
    from web_site import logged_in
    site = db.site
    sid = site.by_unit[UNIT_A][0]
    code = f"HS-{UNIT_A}-BI-MAT"
    client = logged_in(site, "admin")
    # the server's own connection: a trigger in the file, dropped afterwards
    db.execute("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    try:
        refused = client.get(f"/submissions/{sid}?sensitive=1")
    finally:
        db.execute("DROP TRIGGER refuse_audit")
    assert refused.status_code == 500 and code not in refused.get_data(as_text=True)
    shown = client.get(f"/submissions/{sid}?sensitive=1")
    assert shown.status_code == 200 and code in shown.get_data(as_text=True)
    assert _audit(db)[-1][1:] == ("submission.sensitive_view", site.instance_ids[sid])


# --- reviews, deletion, a register import --------------------------------------------------------

def _submission_state(db) -> list[tuple]:
    return [tuple(r) for r in db.execute("SELECT id, review_state, deleted_at FROM submissions ORDER BY id")]


def _reviews(db) -> list[tuple]:
    return [tuple(r) for r in db.execute("SELECT submission_id, state, note, actor FROM reviews ORDER BY id")]


@pytest.mark.parametrize("failing", ["INSERT ON audit_log", "INSERT ON reviews", "UPDATE ON submissions"])
def test_a_review_failing_anywhere_changes_nothing(db, failing):
    from actions.reviews import decide
    sid = db.site.by_unit[UNIT_A][1]
    before = (_submission_state(db), _reviews(db), _audit(db))
    _refuse(db, failing)
    with pytest.raises(sqlite3.IntegrityError):
        decide(db, sid, "rejected", "trùng", "reporter")
    _allow(db)
    assert (_submission_state(db), _reviews(db), _audit(db)) == before
    assert decide(db, sid, "rejected", "trùng", "reporter")
    assert _reviews(db)[len(before[1]):] == [(sid, "rejected", "trùng", "reporter")]
    assert _audit(db)[len(before[2]):] == [("reporter", "submission.review", db.site.instance_ids[sid])]


def test_a_deletion_whose_entry_cannot_be_written_deletes_nothing(db):
    from actions import deletion
    site = db.site
    chain = [iid for sid, iid in site.instance_ids.items()
             if db.execute("SELECT root_id FROM submissions WHERE id = ?", [sid]).fetchone()[0] == site.edited_root]
    assert len(chain) == 2            # web_site's edit chain: the original and its edit
    before = (_submission_state(db), _audit(db))
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        deletion.delete_submission(db, chain[0], reason="nhập nhầm / entered by mistake", actor="cli")
    _allow(db)
    assert (_submission_state(db), _audit(db)) == before
    done = deletion.delete_submission(db, chain[0], reason="nhập nhầm / entered by mistake", actor="cli")
    assert (done.outcome, sorted(done.instance_ids)) == (deletion.DELETED, sorted(chain))
    assert _audit(db)[len(before[1]):] == [("cli", "submission.delete", chain[0])]


def test_a_register_import_whose_entry_cannot_be_written_imports_nothing(db):
    import csv
    import io

    from actions.registers import import_register
    from sampling.register_file import read_register
    from storage import registers, units
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Mã đơn vị", "Ngày tiếp nhận", "Ngày hẹn trả",
                     "Ngày trả kết quả", "Họ tên", "Số điện thoại"])
    writer.writerow(["H-474-901", "Cấp giấy phép xây dựng", "Xây dựng", UNIT_A, "01/03/2024", "10/03/2024",
                     "08/03/2024", "Nguyễn Văn An", "0905 123 456"])
    content = out.getvalue().encode("utf-8")
    check = read_register("so.csv", content, {u["code"]: u for u in units.all_units(db)})
    assert not check.problems and len(check.rows) == 1
    count, before = registers.dossier_count(db), _audit(db)
    _refuse(db, "INSERT ON audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        import_register(db, check, filename="so.csv", content=content, actor="reporter", scope=None, actor_unit=None)
    _allow(db)
    assert registers.dossier_count(db) == count and _audit(db) == before
    import_register(db, check, filename="so.csv", content=content, actor="reporter", scope=None, actor_unit=None)
    assert registers.dossier_count(db) == count + 1
    assert _audit(db)[len(before):] == [("reporter", "register.import", "so.csv")]
