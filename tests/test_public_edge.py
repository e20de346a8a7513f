"""Trust at the public edge (issue 12, points 1-4), through real HTTP against a running server.

Who may replace a record (`deprecatedID` edits), which channel and unit the server stores
whatever the XML claims, how large a submission may be before the parser gives up, and which
files may come with an answer on the public link and the kiosk. Every refusal is checked to
change nothing in the database.
"""
from __future__ import annotations

import random
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, LiveServer, cli
from server.openrosa.problems import PROBLEMS
from actions.receive.accept import LIMIT_FLOOR_ELEMENTS
from storage import channels, forms, reviews, submissions
from web_site import UNIT_A, UNIT_B
from xlsforms import small_form, write_xlsform

FORM = "tthc_hailong"
PROVINCE = "46"
NOT_DATA = {"audit_log", "login_failures", "submission_scores", "score_rollup", "public_rate_counts",
            "submission_choices", "choice_rollup", "choice_dims", "choice_progress"}


@pytest.fixture(scope="module")
def edge(web_site, tmp_path_factory):
    """A private copy of the web site with a repeat form and a form of unit 481, served by gunicorn."""
    tmp = tmp_path_factory.mktemp("edge")
    site = web_site.copy(tmp / "site")
    repeat = write_xlsform(
        tmp / "ho_gia_dinh.xlsx",
        [["type", "name", "label"], ["text", "unit", "Đơn vị"], ["begin_repeat", "member", "Thành viên"],
         ["text", "name", "Tên"], ["integer", "age", "Tuổi"], ["end_repeat", "member", ""]],
        None, {"form_id": "ho_gia_dinh", "version": "1", "form_title": "Hộ gia đình"})
    assert cli(site.data_dir, "forms", "publish", str(repeat)).exit_code == 0
    aluoi = small_form(tmp / "rieng_aluoi.xlsx", "rieng_aluoi", "1")
    assert cli(site.data_dir, "forms", "publish", str(aluoi), "--unit", UNIT_B).exit_code == 0
    server = LiveServer(site.data_dir, env={"PUBLIC_RATE_PER_IP": "0", "PUBLIC_RATE_PER_LINK": "0"}).start()
    site.server = server
    site.url = server.url
    yield site
    server.stop()


def xform_of(edge, form_id: str = FORM) -> bytes:
    db = storage.connect(edge.data_dir, migrate=False)
    try:
        return forms.latest_version(db, form_id)["xform"]
    finally:
        db.close()


def answer_xml(edge, unit: str = UNIT_A, seed: int | None = None, deprecated_id: str | None = None,
               **changes) -> tuple[str, bytes]:
    answers = standard_answers(random.Random(seed), unit, "tinh" if unit == PROVINCE else "huyen")
    answers.update(changes)
    iid = f"uuid:{uuid.uuid4()}"
    return iid, fill_instance(xform_of(edge), answers, iid, deprecated_id=deprecated_id)


def files(xml: bytes, attachments: dict[str, bytes] | None = None) -> list:
    parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    parts += [(name, (name, content, "image/jpeg")) for name, content in (attachments or {}).items()]
    return parts


def collect(edge, token_name: str, xml: bytes, attachments=None) -> requests.Response:
    return requests.post(f"{edge.url}/key/{edge.tokens[token_name]}/submission", files=files(xml, attachments),
                         headers={"X-OpenRosa-Version": "1.0"}, timeout=60)


def public(edge, xml: bytes, unit: str | None = UNIT_A, form_id: str = FORM, attachments=None) -> requests.Response:
    query = f"?unit={unit}" if unit else ""
    return requests.post(f"{edge.url}/f/{form_id}/submission{query}", files=files(xml, attachments), timeout=60)


def make_kiosk(edge, name: str, unit: str = UNIT_A, form_id: str = FORM) -> requests.Session:
    made = cli(edge.data_dir, "kiosks", "create", name, "--unit", unit, "--form", form_id, "--server-url", edge.url)
    assert made.exit_code == 0, made.output
    token = re.search(r"kiosk code \(shown once\): (\S+)", made.output).group(1)
    session = requests.Session()
    activated = session.post(f"{edge.url}/kiosk/{unit}/activate", data={"token": token}, allow_redirects=False,
                             timeout=30)
    assert activated.status_code == 302
    return session


def kiosk(session: requests.Session, edge, xml: bytes, unit: str = UNIT_A, attachments=None) -> requests.Response:
    return session.post(f"{edge.url}/kiosk/{unit}/submission", files=files(xml, attachments),
                        headers={"X-Hailong-Kiosk": "1"}, timeout=60)


def signed_in(edge, name: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{edge.url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = session.post(f"{edge.url}/login", data={"name": name, "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 302, done.text
    # a new session at login, with its own token
    page = session.get(f"{edge.url}/channels/paper/", timeout=30).text
    session.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return session


def paper_sheet(edge, clerk: requests.Session, unit: str = UNIT_A) -> int:
    made = clerk.post(f"{edge.url}/channels/paper/print", allow_redirects=False, timeout=30,
                      data={"form": FORM, "unit": unit, "count": "1", "csrf_token": clerk.csrf})
    assert made.status_code == 302, made.text
    db = storage.connect(edge.data_dir, migrate=False)
    try:
        return channels.get_print(db, int(made.headers["Location"].rsplit("/", 1)[1]))["first_sheet"]
    finally:
        db.close()


def paper(edge, clerk: requests.Session, sheet: int, xml: bytes) -> requests.Response:
    return clerk.post(f"{edge.url}/channels/paper/{FORM}/entry/{sheet}/submission", files=files(xml),
                      headers={"X-CSRF-Token": clerk.csrf}, timeout=60)


def row(edge, instance_id: str) -> dict | None:
    db = storage.connect(edge.data_dir, migrate=False)
    try:
        return submissions.get_submission(db, instance_id)
    finally:
        db.close()


def snapshot(data_dir: Path) -> dict:
    """Every row of every data table: what a refused request may not change."""
    db = storage.connect(data_dir, migrate=False)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM [{t}]")))
                for t in tables if t not in NOT_DATA and not t.startswith("sqlite_")}
    finally:
        db.close()


def blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs").glob("*/*") if p.is_file()}


def refused(response: requests.Response, key: str) -> None:
    """The answer is the catalogue's refusal `key`: its status and its Vietnamese message."""
    problem = PROBLEMS[key]
    assert response.status_code == problem.status, (key, response.status_code, response.text)
    if response.headers["Content-Type"].startswith("application/json"):
        assert response.json()["outcome"] == key and response.json()["message"] == problem.vi
    else:
        assert problem.message in response.text       # OpenRosa: "vi / en"


# --- 1. edits belong to their owner ---------------------------------------------------------

def test_the_public_link_accepts_no_edit_of_anything(edge):
    official, xml = answer_xml(edge, seed=1)
    assert collect(edge, "dtv_hue", xml).status_code == 201
    online, xml = answer_xml(edge, seed=2)
    assert public(edge, xml).status_code == 201
    before = snapshot(edge.data_dir)
    for original in (official, online):
        for unit in (UNIT_A, None):
            _, edit = answer_xml(edge, seed=3, deprecated_id=original, **{"main/comment": "ghi đè"})
            refused(public(edge, edit, unit=unit), "edit_public")
    assert snapshot(edge.data_dir) == before
    assert row(edge, official)["current"] == 1 and row(edge, online)["current"] == 1


def test_collect_edits_come_from_the_owner_or_a_collector_of_the_unit(edge):
    original, xml = answer_xml(edge, seed=4)
    assert collect(edge, "dtv_hue", xml).status_code == 201
    before = snapshot(edge.data_dir)
    # a surveyor of another unit, answering for its own unit so that only ownership can stop it
    _, stranger = answer_xml(edge, UNIT_B, seed=5, deprecated_id=original)
    refused(collect(edge, "dtv_aluoi", stranger), "edit_forbidden")
    # the owner cannot move the record out of its own unit scope
    _, moved = answer_xml(edge, UNIT_B, seed=5, deprecated_id=original)
    refused(collect(edge, "dtv_hue", moved), "forbidden_unit")
    assert snapshot(edge.data_dir) == before
    # another surveyor whose scope holds unit 474 (Basic authentication, as Collect over HTTPS)
    edit_id, by_colleague = answer_xml(edge, seed=6, deprecated_id=original)
    response = requests.post(f"{edge.url}/submission", files=files(by_colleague), auth=("thu_ky", PASSWORD), timeout=60)
    assert response.status_code == 201, response.text
    assert row(edge, original)["current"] == 0 and row(edge, edit_id)["root_id"] == row(edge, original)["id"]
    # and the province-wide surveyor edits that edit in turn
    last_id, by_province = answer_xml(edge, seed=7, deprecated_id=edit_id)
    assert collect(edge, "dtv_tinh", by_province).status_code == 201
    assert row(edge, last_id)["current"] == 1


def test_a_rejected_or_deleted_record_is_not_brought_back_by_an_edit(edge):
    rejected_id, xml = answer_xml(edge, seed=8)
    assert collect(edge, "dtv_hue", xml).status_code == 201
    deleted_id, xml = answer_xml(edge, seed=9)
    assert collect(edge, "dtv_hue", xml).status_code == 201
    db = storage.connect(edge.data_dir, migrate=False)
    try:
        assert reviews.add_review(db, row(edge, rejected_id)["id"], "rejected", "thư rác", "reporter")
    finally:
        db.close()
    assert cli(edge.data_dir, "submissions", "delete", deleted_id, "--reason", "thử").exit_code == 0
    before = snapshot(edge.data_dir)
    for original, key in ((rejected_id, "edit_rejected"), (deleted_id, "edit_deleted")):
        _, edit = answer_xml(edge, seed=10, deprecated_id=original)
        refused(collect(edge, "dtv_hue", edit), key)            # even from the surveyor who sent it
        refused(collect(edge, "dtv_tinh", edit), key)
    assert snapshot(edge.data_dir) == before
    # a stranger learns nothing about the record's state
    _, stranger = answer_xml(edge, UNIT_B, seed=11, deprecated_id=rejected_id)
    refused(collect(edge, "dtv_aluoi", stranger), "edit_forbidden")
    assert row(edge, rejected_id)["review_state"] == "rejected" and row(edge, rejected_id)["current"] == 1


def test_a_kiosk_edits_only_its_own_answers(edge):
    mine, other = make_kiosk(edge, "ki_sua_1"), make_kiosk(edge, "ki_sua_2")
    original, xml = answer_xml(edge, seed=12)
    assert kiosk(mine, edge, xml).status_code == 201
    official, xml = answer_xml(edge, seed=13)
    assert collect(edge, "dtv_hue", xml).status_code == 201
    before = snapshot(edge.data_dir)
    for target in (original, official):
        _, edit = answer_xml(edge, seed=14, deprecated_id=target)
        refused(kiosk(other if target == original else mine, edge, edit), "edit_forbidden")
    assert snapshot(edge.data_dir) == before
    edit_id, edit = answer_xml(edge, seed=15, deprecated_id=original)
    assert kiosk(mine, edge, edit).status_code == 201
    assert row(edge, edit_id)["root_id"] == row(edge, original)["id"] and row(edge, original)["current"] == 0


def test_paper_entry_edits_only_the_clerks_own_entries(edge):
    clerk, other = signed_in(edge, "reporter_hue"), signed_in(edge, "reporter")
    entered, xml = answer_xml(edge, seed=16)
    assert paper(edge, clerk, paper_sheet(edge, clerk), xml).status_code == 201
    official, xml = answer_xml(edge, seed=17)
    assert collect(edge, "dtv_hue", xml).status_code == 201
    before = snapshot(edge.data_dir)
    for session, target in ((other, entered), (clerk, official), (other, official)):
        sheet = paper_sheet(edge, session)
        after_print = snapshot(edge.data_dir)
        _, edit = answer_xml(edge, seed=18, deprecated_id=target)
        refused(paper(edge, session, sheet, edit), "edit_forbidden")
        assert snapshot(edge.data_dir) == after_print          # the sheet is not claimed either
    assert row(edge, entered)["current"] == 1 and row(edge, official)["current"] == 1
    assert {k: v for k, v in snapshot(edge.data_dir).items() if k not in ("paper_prints",)} == {
        k: v for k, v in before.items() if k not in ("paper_prints",)}
    edit_id, edit = answer_xml(edge, seed=19, deprecated_id=entered)
    assert paper(edge, clerk, paper_sheet(edge, clerk), edit).status_code == 201
    assert row(edge, entered)["current"] == 0 and row(edge, edit_id)["current"] == 1


# --- 2. the server decides the channel and, where it knows it, the unit ------------------------

def test_the_door_decides_the_channel_whatever_the_xml_claims(edge):
    box = make_kiosk(edge, "ki_kenh")
    clerk = signed_in(edge, "reporter_hue")
    sent = {}
    for door in ("online", "kiosk", "paper", "collect"):
        iid, xml = answer_xml(edge, seed=20, **{"main/channel": "interview" if door != "collect" else "post"})
        response = {"online": lambda: public(edge, xml), "kiosk": lambda: kiosk(box, edge, xml),
                    "paper": lambda: paper(edge, clerk, paper_sheet(edge, clerk), xml),
                    "collect": lambda: collect(edge, "dtv_hue", xml)}[door]()
        assert response.status_code == 201, (door, response.text)
        sent[door] = row(edge, iid)["channel"]
    # a surveyor's own record of how the answer came (here: by post) is kept
    assert sent == {"online": "online", "kiosk": "kiosk", "paper": "paper", "collect": "post"}


def test_a_bound_link_or_kiosk_stores_its_unit(edge):
    # the province's link: an answer naming a district below it is stored for the province
    iid, xml = answer_xml(edge, UNIT_A, seed=21)
    assert public(edge, xml, unit=PROVINCE).status_code == 201
    assert row(edge, iid)["unit_code"] == PROVINCE
    box = make_kiosk(edge, "ki_tinh", unit=PROVINCE)
    iid, xml = answer_xml(edge, UNIT_B, seed=22)
    assert kiosk(box, edge, xml, unit=PROVINCE).status_code == 201
    assert row(edge, iid)["unit_code"] == PROVINCE
    # a unit outside the link's subtree is still refused, not rewritten
    iid, xml = answer_xml(edge, UNIT_B, seed=23)
    refused_answer = public(edge, xml, unit=UNIT_A)
    assert refused_answer.status_code == 403 and row(edge, iid) is None


def test_a_link_without_unit_takes_only_known_units_that_use_the_form(edge):
    before = snapshot(edge.data_dir)
    for unit in ("999999", "474' OR 1=1", "TTHCC-X"):
        iid, xml = answer_xml(edge, unit, seed=24)
        refused(public(edge, xml, unit=None), "unknown_unit")
    # the form of unit 481 is not used by 474
    aluoi = fill_instance(xform_of(edge, "rieng_aluoi"), {"unit": UNIT_A, "q_proc": "5"})
    refused(public(edge, aluoi, unit=None, form_id="rieng_aluoi"), "unknown_unit")
    assert snapshot(edge.data_dir) == before
    iid, xml = answer_xml(edge, UNIT_B, seed=25)
    assert public(edge, xml, unit=None).status_code == 201 and row(edge, iid)["unit_code"] == UNIT_B
    ok = fill_instance(xform_of(edge, "rieng_aluoi"), {"unit": UNIT_B, "q_proc": "5"})
    assert public(edge, ok, unit=None, form_id="rieng_aluoi").status_code == 201


def test_citizens_are_not_asked_the_channel_but_surveyors_are(edge):
    control = re.compile(rb'<select1 ref="/data/main/channel">')
    box = make_kiosk(edge, "ki_form")
    clerk = signed_in(edge, "reporter_hue")
    sheet = paper_sheet(edge, clerk)
    served = {"online": requests.get(f"{edge.url}/f/{FORM}/form.xml?unit={UNIT_A}", timeout=30),
              "online, no unit": requests.get(f"{edge.url}/f/{FORM}/form.xml", timeout=30),
              "kiosk": box.get(f"{edge.url}/kiosk/{UNIT_A}/form.xml", timeout=30),
              "paper": clerk.get(f"{edge.url}/channels/paper/{FORM}/entry/{sheet}/form.xml", timeout=30)}
    for door, response in served.items():
        assert response.status_code == 200, door
        assert not control.search(response.content), door
        assert b"<channel>" in response.content, door       # the value is still in the instance
    db = storage.connect(edge.data_dir, migrate=False)
    version = forms.latest_version(db, FORM)["version"]
    db.close()
    collect_form = requests.get(f"{edge.url}/key/{edge.tokens['dtv_hue']}/forms/{FORM}/versions/{version}/form.xml",
                                timeout=30)
    assert collect_form.status_code == 200 and control.search(collect_form.content)


# --- 3. bounded parsing -------------------------------------------------------------------------

def _workers(server: LiveServer) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == server.process.pid:
                pids.append(int(entry.name))
    return pids


def _peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


def test_a_million_empty_elements_are_refused_quickly_with_bounded_memory(edge):
    _, xml = answer_xml(edge, seed=30)
    head, tail = xml.split(b"<meta>", 1)
    bomb = head + b"<e/>" * 1_000_000 + b"<meta>" + tail
    assert 4_000_000 < len(bomb) < 4_100_000
    workers = _workers(edge.server)
    assert len(workers) == 2
    peaks = {pid: _peak_kib(pid) for pid in workers}
    before, blobs = snapshot(edge.data_dir), blob_files(edge.data_dir)
    for send in (lambda: collect(edge, "dtv_tinh", bomb), lambda: public(edge, bomb),
                 lambda: collect(edge, "dtv_tinh", bomb), lambda: public(edge, bomb)):
        started = time.monotonic()
        response = send()
        elapsed = time.monotonic() - started
        refused(response, "too_many_nodes")
        assert elapsed < 5, f"took {elapsed:.1f} s"
    assert snapshot(edge.data_dir) == before and blob_files(edge.data_dir) == blobs
    # each worker read a 4 MB body; none built the million nodes (about 370 MB before the limits)
    for pid in workers:
        assert _peak_kib(pid) - peaks[pid] < 100 * 1024, (pid, peaks[pid], _peak_kib(pid))


def test_attributes_and_text_are_bounded_too(edge):
    _, xml = answer_xml(edge, seed=31)
    attributes = xml.replace(b"<main>", b"<main " + b" ".join(b"a%d='1'" % i for i in range(100)) + b">", 1)
    refused(collect(edge, "dtv_tinh", attributes), "too_many_attributes")
    long_comment = "Rất tốt. " * 120_000           # 1,080,000 characters
    _, text = answer_xml(edge, seed=32, **{"main/comment": long_comment})
    refused(collect(edge, "dtv_tinh", text), "text_too_long")
    refused(public(edge, text), "text_too_long")
    # a long answer within the limit is taken whole
    iid, fine = answer_xml(edge, seed=33, **{"main/comment": "Rất tốt. " * 20_000})
    assert collect(edge, "dtv_tinh", fine).status_code == 201 and row(edge, iid) is not None


def test_limits_are_sized_from_the_forms_own_fields(edge):
    """A form with a repeat takes many entries; the same count of stray elements in the standard
    form, which has none, is refused."""
    entries = LIMIT_FLOOR_ELEMENTS // 2          # 3 elements each: above the floor in all
    household = fill_instance(xform_of(edge, "ho_gia_dinh"), {"unit": UNIT_A}, repeats={
        "member": [{"name": f"Người {i}", "age": str(20 + i % 60)} for i in range(entries)]})
    assert household.count(b"<member>") == entries
    response = collect(edge, "dtv_tinh", household)
    assert response.status_code == 201, response.text
    db = storage.connect(edge.data_dir, migrate=False)
    try:
        assert db.execute("SELECT count(*) FROM [data:ho_gia_dinh:member]").fetchone()[0] == entries
    finally:
        db.close()
    _, xml = answer_xml(edge, seed=34)
    head, tail = xml.split(b"<meta>", 1)
    stray = head + b"<member><name>x</name><age>1</age></member>" * entries + b"<meta>" + tail
    refused(collect(edge, "dtv_tinh", stray), "too_many_nodes")


# --- 4. only the files the form asks for, on the public link and the kiosk ------------------------

PHOTO = bytes(random.Random(40).randrange(256) for _ in range(4000))


def test_public_and_kiosk_take_only_the_files_the_answer_names(edge):
    box = make_kiosk(edge, "ki_anh", form_id="anh")
    xform = xform_of(edge, "anh")
    for door in ("online", "kiosk"):
        send = (lambda x, a: public(edge, x, form_id="anh", attachments=a)) if door == "online" else (
            lambda x, a: kiosk(box, edge, x, attachments=a))
        before, blobs = snapshot(edge.data_dir), blob_files(edge.data_dir)
        named = fill_instance(xform, {"unit": UNIT_A, "q_proc": "4", "photo": "anh.jpg"})
        unnamed = fill_instance(xform, {"unit": UNIT_A, "q_proc": "4"})
        for xml, extra in ((named, {"anh.jpg": PHOTO, "virus.exe": b"MZ" + PHOTO}), (unnamed, {"anh.jpg": PHOTO}),
                           (named, {"khac.jpg": PHOTO})):
            refused(send(xml, extra), "unexpected_attachment")
        assert snapshot(edge.data_dir) == before, door
        assert blob_files(edge.data_dir) == blobs, door        # not even written to disk
        iid = re.search(rb"<instanceID>([^<]+)</instanceID>", named).group(1).decode()
        assert send(named, {"anh.jpg": PHOTO}).status_code == 201, door
        db = storage.connect(edge.data_dir, migrate=False)
        try:
            [stored] = submissions.list_attachments(db, row(edge, iid)["id"])
        finally:
            db.close()
        assert (stored["name"], stored["size"]) == ("anh.jpg", len(PHOTO))


def test_collect_still_sends_files_in_later_parts(edge):
    """Collect's split upload: each part repeats the XML and brings some of the files."""
    xform = xform_of(edge, "anh")
    iid = f"uuid:{uuid.uuid4()}"
    xml = fill_instance(xform, {"unit": UNIT_A, "photo": "1.jpg"}, iid)
    url = f"{edge.url}/key/{edge.tokens['dtv_tinh']}/submission"
    first = requests.post(url, files=files(xml, {"1.jpg": PHOTO}), data={"*isIncomplete*": "yes"}, timeout=60)
    second = requests.post(url, files=files(xml, {"2.jpg": PHOTO[::-1]}), timeout=60)
    assert (first.status_code, second.status_code) == (201, 201)
    db = storage.connect(edge.data_dir, migrate=False)
    try:
        names = [a["name"] for a in submissions.list_attachments(db, row(edge, iid)["id"])]
    finally:
        db.close()
    assert names == ["1.jpg", "2.jpg"]


def test_server_log_has_no_traceback(edge):
    log = "".join(p.read_text(errors="replace") for p in edge.data_dir.glob("server-*.log"))
    assert log and "Traceback" not in log        # every refusal above was a decision, none a crash
