"""What the README promises is what the server does (issue 21), through real HTTP and the CLI:
consent enforced where the numbers are made, the advertised upload limit, surveyors' unit
scope in sample assignments, the CLI finding the server's data, and every documented command.

Expected numbers are computed here from the answers sent, with the index definitions of
README.md, never read back from the code under test.
"""
from __future__ import annotations

import csv
import io
import os
import pty
import random
import re
import select
import shlex
import shutil
import subprocess
import uuid
import zipfile
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
import requests

import storage
from tests.harness.instances import ITEM_PATHS, STANDARD_ITEMS, fill_instance, standard_answers
from tests.harness.site import ROOT, create_collector
from tests.harness.collect_client import CollectClient
from conftest import PASSWORD, LiveServer, cli, seed
from storage import choices, registers, sampling, scores, users
from xlsforms import small_form

FORM = "tthc_hailong"
PERIOD = "2026-Q3"
VALID, SATISFIED = set("12345"), set("45")


# --- 1. consent --------------------------------------------------------------------------------

def _register(db, unit: str, count: int) -> list[str]:
    rows = [{"code": f"000.00.{unit}.H57-{i:05d}", "unit_code": unit, "procedure_name": "Đăng ký khai sinh",
             "procedure_field": "Hộ tịch", "received_on": None, "due_on": None,
             "returned_on": f"2026-08-{1 + i % 28:02d}", "applicant_name": f"Trần Thị {i}", "phone": f"0905{i:06d}"}
            for i in range(count)]
    registers.import_dossiers(db, rows, filename="so.csv", sha256="0" * 64, rows_total=len(rows),
                              rows_skipped=0, actor="test")
    return [r["code"] for r in rows]


def _ratings(rng: random.Random) -> dict[str, str]:
    return {path: rng.choice("5554443321" + "0") for path in ITEM_PATHS}


def _counted(sent: list[dict], unit: str) -> list[dict]:
    """The submissions of a unit whose answers count: consent = yes."""
    return [s for s in sent if s["unit"] == unit and s["answers"].get("consent") == "yes"]


def _criterion_shares(answers: dict, criterion: str) -> Fraction | None:
    values = [answers[f"main/{criterion}/{item}"] for item in STANDARD_ITEMS[criterion]]
    valid = [v for v in values if v in VALID]
    return Fraction(sum(v in SATISFIED for v in valid), len(valid)) if valid else None


def _expected(sent: list[dict], unit: str) -> dict:
    """n, the criterion indices and n_c, the overall index, per the README's definitions."""
    counted = _counted(sent, unit)
    result = {"criteria": {}, "n": 0}
    respondents = set()
    for criterion in STANDARD_ITEMS:
        shares = [(i, s) for i, sub in enumerate(counted)
                  if (s := _criterion_shares(sub["answers"], criterion)) is not None]
        respondents |= {i for i, _ in shares}
        result["criteria"][criterion] = {"n": len(shares),
                                         "index": 100 * sum(s for _, s in shares) / len(shares) if shares else None}
    result["n"] = len(respondents)
    defined = [c["index"] for c in result["criteria"].values() if c["index"] is not None]
    result["overall"] = sum(defined) / len(defined)
    result["items"] = {path: (sum(s["answers"][path] in VALID for s in counted),
                              sum(s["answers"][path] in SATISFIED for s in counted)) for path in ITEM_PATHS}
    result["dissatisfied"] = sum(any(s["answers"][p] in ("1", "2") for p in ITEM_PATHS) for s in counted)
    return result


@pytest.fixture(scope="module")
def consent_site(tmp_path_factory):
    """Unit 474 in Q3 2026: three consenting answers, and three that declined but carry ratings
    anyway (consent no, consent left blank) as a client that ignores relevance sends them; unit
    481: one consenting answer. A plan of 3 dossiers of 474 assigned to dtv_hue; three of the
    submissions name one of them each (reached, declined, blank consent)."""
    data_dir = tmp_path_factory.mktemp("consent")
    tokens = seed(data_dir)
    db = storage.connect(data_dir)
    _register(db, "474", 12)
    db.close()
    out = cli(data_dir, "sample", "draw", FORM, "--period", PERIOD, "--unit", "474", "--method", "fixed",
              "--size", "3", "--reserve", "0", "--seed", "hua-2026")
    assert out.exit_code == 0, out.output
    plan_id = int(re.search(r"Plan (\d+)", out.output).group(1))
    assert cli(data_dir, "sample", "assign", str(plan_id), "--collector", "dtv_hue").exit_code == 0
    db = storage.connect(data_dir)
    members = [m["code"] for m in sampling.plan_members(db, plan_id) if not m["reserve"]]
    db.close()
    server = LiveServer(data_dir).start()
    rng = random.Random(21)
    plans = [  # unit, consent, ratings, respondent
        ("474", "yes", _ratings(rng), members[0]),
        ("474", "no", {p: "1" for p in ITEM_PATHS}, members[1]),
        ("474", "", {p: "1" for p in ITEM_PATHS}, members[2]),
        ("474", "yes", _ratings(rng), None),
        ("474", "yes", _ratings(rng), None),
        ("474", "no", {p: "2" for p in ITEM_PATHS}, None),
        ("481", "yes", _ratings(rng), None),
    ]
    clients = {"474": CollectClient(f"{server.url}/key/{tokens['dtv_hue']}"),
               "481": CollectClient(f"{server.url}/key/{tokens['dtv_aluoi']}")}
    xform = clients["474"].download_form(clients["474"].form_list(FORM)[0])
    sent = []
    for day, (unit, consent, ratings, respondent) in enumerate(plans, start=1):
        answers = standard_answers(rng, unit, "huyen", channel="interview")
        answers.update(ratings)
        answers.update({"consent": consent, "start": f"2026-07-{day:02d}T09:00:00.000+07:00",
                        "today": f"2026-07-{day:02d}"})
        if respondent:
            answers.update({"respondent": respondent, "contact_outcome": "interviewed"})
        instance_id = f"uuid:{uuid.uuid4()}"
        responses = clients[unit].submit(fill_instance(xform, answers, instance_id))
        assert responses[-1].status_code == 201, responses[-1].text
        sent.append({"unit": unit, "answers": answers, "instance_id": instance_id})
    yield {"server": server, "data_dir": data_dir, "sent": sent, "plan_id": plan_id, "members": members}
    server.stop()


def _get(server, path: str, **params):
    response = requests.get(server.url + "/api/v1" + path, params=params, auth=("admin", PASSWORD), timeout=60)
    assert response.status_code == 200, response.text
    return response


def test_declined_submissions_count_in_no_index_as_respondents(consent_site):
    server, sent = consent_site["server"], consent_site["sent"]
    body = _get(server, f"/forms/{FORM}/indices", by="unit", min_n="1", items="1").json()
    cell = {c["key"]["unit"]: c for c in body["cells"]}["474"]
    expected = _expected(sent, "474")
    assert cell["submissions"] == 6 and cell["declined"] == 3
    assert cell["n"] == expected["n"] == 3
    for criterion, want in expected["criteria"].items():
        got = cell["criteria"][criterion]
        assert got["n"] == want["n"]
        assert got["index"] == pytest.approx(float(want["index"]), abs=0.006)
    assert cell["overall"]["index"] == pytest.approx(float(expected["overall"]), abs=0.006)
    items = {i["path"]: (i["answers"], i["satisfied"]) for i in cell["items"]}
    assert items == expected["items"]
    # the answers 1 and 2 of the declined submissions are in no dissatisfied list
    listed = _get(server, f"/forms/{FORM}/dissatisfied", unit="474").json()
    assert listed["total"] == expected["dissatisfied"]
    declined_ids = {s["instance_id"] for s in sent if s["answers"]["consent"] != "yes"}
    assert not declined_ids & {e["instance_id"] for e in listed["submissions"]}


def test_rankings_and_weighting_leave_declined_submissions_out(consent_site):
    server, sent = consent_site["server"], consent_site["sent"]
    expected = _expected(sent, "474")
    ranking = _get(server, f"/forms/{FORM}/rankings", level="huyen", period=PERIOD, min_n="1").json()
    row = {u["unit"]: u for u in ranking["units"]}["474"]
    assert row["n"] == expected["n"] and row["index"] == pytest.approx(float(expected["overall"]), abs=0.006)
    # one stratum (474's own desk) with dossiers in the register: its weighted index is its own
    body = _get(server, f"/forms/{FORM}/indices", by="huyen", min_n="1", weighted="1",
                **{"from": "2026-07-01", "to": "2026-09-30"}).json()
    weighted = {c["key"]["huyen"]: c for c in body["cells"]}["474"]["weighted"]
    for criterion, want in expected["criteria"].items():
        assert weighted["criteria"][criterion]["n"] == want["n"]
        assert weighted["criteria"][criterion]["index"] == pytest.approx(float(want["index"]), abs=0.006)


def test_declined_consent_is_no_reached_member_in_the_coverage(consent_site):
    out = cli(consent_site["data_dir"], "sample", "coverage", str(consent_site["plan_id"]))
    assert out.exit_code == 0, out.output
    line = next(line for line in out.output.splitlines() if line.startswith("474 "))
    planned, reserves, reached, refused, unreachable, pending = map(int, line.split()[1:7])
    # members[0] consented; members[1] said no and members[2] left consent blank, both with ratings
    assert (planned, reached, refused, unreachable, pending) == (3, 1, 2, 0, 0)


def test_the_dashboard_shows_the_declined_count(consent_site):
    server = consent_site["server"]
    html = _web_session(server).get(f"{server.url}/dashboard/{FORM}", params={"period": PERIOD, "unit": "474"}, timeout=60).text
    declined = sum(s["answers"]["consent"] != "yes" for s in consent_site["sent"] if s["unit"] == "474")
    assert re.search(r'<dt>Không đồng ý</dt><dd id="declined-count">(\d+)</dd>', html).group(1) == str(declined)
    respondents = re.search(r"<dt>Người trả lời</dt><dd>(\d+)</dd>", html).group(1)
    assert int(respondents) == _expected(consent_site["sent"], "474")["n"]


def test_exports_keep_declined_submissions_flagged(consent_site):
    response = _get(consent_site["server"], f"/forms/{FORM}/export.csv.zip")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        rows = list(csv.DictReader(io.TextIOWrapper(archive.open(f"{FORM}.csv"), encoding="utf-8-sig")))
    flags = {row["KEY"]: row["_consent_declined"] for row in rows}
    assert flags == {s["instance_id"]: "0" if s["answers"]["consent"] == "yes" else "1"
                     for s in consent_site["sent"]}


def test_the_rollup_stays_exact_with_declined_submissions(consent_site):
    db = storage.connect(consent_site["data_dir"])
    try:
        kept = scores.rollup_rows(db)
        with storage.write_transaction(db):
            scores.rebuild_rollup(db)
        assert scores.rollup_rows(db) == kept
        assert sum(r[len(scores.ROLLUP_DIMS) + 1] for r in kept) == 4    # respondents: 3 in 474, 1 in 481
    finally:
        db.close()


def test_breakdowns_from_the_choice_rollup_count_declined_submissions_as_score_rollup_does(consent_site, monkeypatch):
    """The breakdowns by procedure field and by a select_one answer are read from the choice
    rollup (storage/choices.py); a declined submission is in its group's submissions and declined
    count, never among its respondents, exactly as in score_rollup."""
    from aggregate import IndexQuery, compute_indices
    sent = consent_site["sent"]
    served = []
    real = choices.choice_sums
    monkeypatch.setattr(choices, "choice_sums", lambda *a, **k: served.append(a[3]) or real(*a, **k))
    db = storage.connect(consent_site["data_dir"])
    try:
        for by, path in (("procedure_field", "main/procedure_field"), ("q:main/gender", "main/gender")):
            for window in ({}, {"date_from": date(2026, 7, 1), "date_to": date(2026, 9, 30)}):
                cells = {c.key[by]: c for c in compute_indices(db, IndexQuery(forms=(FORM,), by=(by,), min_n=1,
                                                                               **window))}
                groups: dict[str, list[dict]] = {}
                for sub in sent:
                    groups.setdefault(sub["answers"][path], []).append(sub)
                assert set(cells) == set(groups), by
                for value, subs in groups.items():
                    counted = [s["answers"] for s in subs if s["answers"]["consent"] == "yes"]
                    shares = {c: [x for a in counted if (x := _criterion_shares(a, c)) is not None]
                              for c in STANDARD_ITEMS}
                    respondents = sum(any(_criterion_shares(a, c) is not None for c in STANDARD_ITEMS)
                                      for a in counted)
                    cell = cells[value]
                    assert (cell.submissions, cell.declined, cell.n) == (len(subs), len(subs) - len(counted),
                                                                         respondents), (by, value)
                    for criterion, crit in cell.criteria.items():
                        want = shares[criterion]
                        assert crit.n == len(want)
                        assert crit.index == (100 * sum(want) / len(want) if want else None), (by, value)
        assert served == ["procedure_field"] * 2 + ["answer:main/gender"] * 2
        # what the declined submissions put in the choice rollup is what they put in score_rollup
        field_rows = [row for row in choices.rollup_rows(db) if row[0] == "procedure_field"]
        totals = db.execute("SELECT sum(submissions), sum(respondents) FROM score_rollup").fetchone()
        assert (sum(r[5] for r in field_rows), sum(r[6] for r in field_rows)) == tuple(totals) == (7, 4)
        # and no declined submission is among the dissatisfied, however many answers 1 it holds
        low = [row for row in choices.rollup_rows(db) if row[0] == choices.DISSATISFIED]
        assert sum(r[5] for r in low) == sum(_expected(sent, unit)["dissatisfied"] for unit in ("474", "481"))
    finally:
        db.close()


def test_an_existing_database_is_rescored_on_upgrade(tmp_path, monkeypatch):
    """A database scored before consent was enforced (schema 9, scores without the flag) counts
    declined answers; after the upgrade the server's figures leave them out, and the rollup is
    exact."""
    from aggregate import scoring
    from server import create_app
    from storage import schema
    data_dir = tmp_path / "old"
    old_columns = scores.SCORE_COLUMNS[:-1]
    with monkeypatch.context() as old:
        old.setattr(schema, "SCHEMA_VERSION", 9)      # the step before consent (10)
        old.setattr(scores, "SCORE_COLUMNS", old_columns)
        real = scoring.score_submission
        old.setattr(scoring, "score_submission",
                    lambda rules, *args: real(rules.__class__(**{**rules.__dict__, "consent": None}), *args)[:-1])
        # nor was there a breakdown rollup (schema step 13) to record the values in
        old.setattr(scoring.breakdowns, "record", lambda *args: None)
        old.setattr(scoring.breakdowns, "catch_up", lambda *args: 0)
        tokens = seed(data_dir)
        client = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None}).test_client()
        db = storage.connect(data_dir)
        xform = storage.forms.latest_version(db, FORM)["xform"]
        rng = random.Random(8)
        for consent, value in (("yes", "5"), ("yes", "4"), ("no", "1")):
            answers = {**standard_answers(rng, "474", "huyen"), **{p: value for p in ITEM_PATHS},
                       "consent": consent}
            xml = fill_instance(xform, answers)
            response = client.post(f"/key/{tokens['dtv_hue']}/submission", content_type="multipart/form-data",
                                   data={"xml_submission_file": (io.BytesIO(xml), "s.xml", "text/xml")})
            assert response.status_code == 201
        scoring.refresh(db)
        assert db.execute("PRAGMA user_version").fetchone()[0] == 9
        # what the old code counted: the declined submission as a respondent
        assert db.execute("SELECT sum(submissions), sum(respondents) FROM score_rollup").fetchone() == (3, 3)
        db.close()
    server = LiveServer(data_dir).start()
    try:
        cell = _get(server, f"/forms/{FORM}/indices", by="unit", min_n="1").json()["cells"][0]
        assert (cell["submissions"], cell["n"], cell["declined"]) == (3, 2, 1)
        assert cell["criteria"]["procedure"]["index"] == 100.0     # the two consenting answers: 5s and 4s
    finally:
        server.stop()
    db = storage.connect(data_dir)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        kept = scores.rollup_rows(db)
        with storage.write_transaction(db):
            scores.rebuild_rollup(db)
        assert scores.rollup_rows(db) == kept
        # the breakdown rollup, made after the rescoring, holds what score_rollup holds
        assert choices.through(db) == scores.scored_through(db) == 3
        kept = choices.rollup_rows(db)
        with storage.write_transaction(db):
            choices.rebuild_rollup(db)
        assert choices.rollup_rows(db) == kept
        by_field = [row for row in kept if row[0] == "procedure_field"]
        assert sum(row[5] for row in by_field) == 3 and sum(row[6] for row in by_field) == 2
    finally:
        db.close()


# --- 2. the advertised size is the limit -------------------------------------------------------

def test_nothing_above_the_advertised_size_is_accepted(tmp_path):
    tokens = seed(tmp_path)
    assert cli(tmp_path, "forms", "publish", str(small_form(tmp_path / "anh.xlsx", "anh", "1"))).exit_code == 0
    limit = 100_000
    server = LiveServer(tmp_path, env={"SUBMISSION_MAX_BYTES": str(limit)}).start()
    try:
        client = CollectClient(f"{server.url}/key/{tokens['dtv_tinh']}")
        head = client.request("HEAD", client.server_url + "/submission")
        assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) == limit
        xform = client.download_form(client.form_list("anh")[0])

        def post(photo_size: int):
            xml = fill_instance(xform, {"unit": "474", "photo": "a.jpg"})
            parts = [("xml_submission_file", ("s.xml", xml, "text/xml")),
                     ("a.jpg", ("a.jpg", b"\xff" * (photo_size - len(xml)), "image/jpeg"))]
            return client.request("POST", client.server_url + "/submission", files=parts)

        assert post(limit + 1).status_code == 413          # one byte over: refused
        assert post(120_000).status_code == 413            # the upload
        assert post(limit).status_code == 201               # exactly the limit, framing aside: kept
        # what Collect does with more: split at the limit, every part accepted
        files = {f"{i}.jpg": bytes([i]) * 45_000 for i in range(4)}
        responses = client.submit(fill_instance(xform, {"unit": "474", "photo": "0.jpg"}), files)
        assert len(responses) >= 2 and all(r.status_code == 201 for r in responses)
    finally:
        server.stop()


# --- 3. surveyors' unit scope in assignments ---------------------------------------------------

@pytest.fixture
def plan_site(tmp_path):
    """A province-wide plan over dossiers of 474 and 481, nothing assigned yet."""
    seed(tmp_path)
    db = storage.connect(tmp_path)
    _register(db, "474", 6)
    rows = [{"code": f"000.00.481.H57-{i:05d}", "unit_code": "481", "procedure_name": "Chứng thực",
             "procedure_field": "Chứng thực", "received_on": None, "due_on": None,
             "returned_on": "2026-08-03", "applicant_name": None, "phone": None} for i in range(6)]
    registers.import_dossiers(db, rows, filename="so2.csv", sha256="1" * 64, rows_total=6, rows_skipped=0,
                              actor="test")
    db.close()
    out = cli(tmp_path, "sample", "draw", FORM, "--period", PERIOD, "--method", "fixed", "--size", "2",
              "--reserve", "0", "--seed", "s")
    assert out.exit_code == 0, out.output
    return tmp_path, int(re.search(r"Plan (\d+)", out.output).group(1))


def _assigned(data_dir: Path, plan_id: int) -> dict[str, int]:
    db = storage.connect(data_dir)
    try:
        return {name: count for name, _, _, count in sampling.assignments_by_unit(db, plan_id)}
    finally:
        db.close()


def test_assigning_outside_a_surveyors_scope_is_refused_on_the_command_line(plan_site):
    data_dir, plan_id = plan_site
    out = cli(data_dir, "sample", "assign", str(plan_id), "--collector", "dtv_aluoi", "--unit", "474")
    assert out.exit_code == 1
    assert "dtv_aluoi" in out.output and "474" in out.output and "cannot be assigned" in out.output
    # the whole plan to a surveyor of 474 would give them 481's dossiers too
    out = cli(data_dir, "sample", "assign", str(plan_id), "--collector", "dtv_hue")
    assert out.exit_code == 1 and "481" in out.output
    assert _assigned(data_dir, plan_id) == {}
    # within scope, and a province-wide surveyor anywhere: accepted
    assert cli(data_dir, "sample", "assign", str(plan_id), "--collector", "dtv_aluoi", "--unit", "481").exit_code == 0
    assert cli(data_dir, "sample", "assign", str(plan_id), "--collector", "dtv_tinh", "--unit", "474").exit_code == 0
    assert _assigned(data_dir, plan_id) == {"dtv_aluoi": 2, "dtv_tinh": 2}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _web_session(server) -> requests.Session:
    """The administrator signed in on the web pages, as a browser would be."""
    session = requests.Session()
    token = _csrf(session.get(server.url + "/login", timeout=30).text)
    assert session.post(server.url + "/login", data={"name": "admin", "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False, timeout=30).status_code == 302
    return session


def test_assigning_outside_a_surveyors_scope_is_refused_on_the_plan_page(plan_site):
    data_dir, plan_id = plan_site
    server = LiveServer(data_dir).start()
    try:
        session = _web_session(server)
        token = _csrf(session.get(f"{server.url}/sampling/plans/{plan_id}", timeout=30).text)
        page = session.post(f"{server.url}/sampling/plans/{plan_id}/assign",
                            data={"unit": "474", "collector": "dtv_aluoi", "csrf_token": token}, timeout=30)
        assert page.status_code == 200
        assert "không giao được hồ sơ của đơn vị 474" in page.text
        assert _assigned(data_dir, plan_id) == {}
        page = session.post(f"{server.url}/sampling/plans/{plan_id}/assign",
                            data={"unit": "481", "collector": "dtv_aluoi", "csrf_token": token}, timeout=30)
        assert "Đã giao 2 hồ sơ" in page.text
        assert _assigned(data_dir, plan_id) == {"dtv_aluoi": 2}
    finally:
        server.stop()


def test_existing_out_of_scope_assignments_are_reported(plan_site):
    data_dir, plan_id = plan_site
    db = storage.connect(data_dir)
    # as the storage layer made them before assignments were checked
    sampling.assign(db, plan_id, [users.get_user_by_name(db, "dtv_aluoi")["id"]], "old", unit_codes={"474"})
    db.close()
    out = cli(data_dir, "sample", "coverage", str(plan_id))
    assert out.exit_code == 0
    [line] = [line for line in out.output.splitlines() if "out of scope" in line]
    assert "dtv_aluoi" in line and "unit 481" in line and "holds 2 " in line and "of 474:" in line
    server = LiveServer(data_dir).start()
    try:
        session = _web_session(server)
        html = session.get(f"{server.url}/sampling/plans/{plan_id}", timeout=30).text
        block = re.search(r'<div class="flash flash-error" id="out-of-scope">(.*?)</div>', html, re.S).group(1)
        assert "dtv_aluoi" in block and "2 hồ sơ của đơn vị 474" in block
    finally:
        server.stop()


# --- 4. the CLI finds the server's data --------------------------------------------------------

def _stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "PUBLIC_URL", "PORT", "MAKEFLAGS")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture
def run_dir(tmp_path):
    """A directory `make run` runs in, with the project's Makefile; flask is the real one, gunicorn
    a stand-in that returns at once (the server itself is not what is tested)."""
    work = tmp_path / "work"
    (work / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", work / "Makefile")
    (work / "requirements.txt").write_text("")
    os.utime(work / "requirements.txt", (1, 1))
    (work / ".venv" / ".installed").write_text("")
    _stub(work / ".venv" / "bin" / "flask", f'exec {shlex.quote(str(ROOT / ".venv" / "bin" / "flask"))} "$@"')
    _stub(work / ".venv" / "bin" / "gunicorn", "exit 0")
    return work


def _flask(cwd: Path, *args: str, env: dict | None = None, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "server", *args], cwd=cwd,
                          env=env or _clean_env(), stdin=stdin, capture_output=True, text=True, timeout=120)


def test_make_run_tells_later_commands_where_the_data_is(run_dir, tmp_path):
    data_dir = tmp_path / "srv" / "du-lieu"
    made = subprocess.run(["make", "run", f"DATA_DIR={data_dir}", "PORT=8123", "PUBLIC_URL=http://10.1.2.3:8123"],
                          cwd=run_dir, env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    # the first administrator's hint carries the server's DATA_DIR
    hint = next(line for line in made.stdout.splitlines() if "users create admin" in line)
    assert f"DATA_DIR={data_dir}" in hint
    # a later command from the same directory, without DATA_DIR, works on the server's data
    # make run sets up today's Huế: 19768 is Phường Phú Xuân (474 was retired on 1/7/2025)
    created = _flask(run_dir, "users", "create", "dtv01", "--role", "collector", "--unit", "19768")
    assert created.returncode == 0, created.stderr
    assert "http://10.1.2.3:8123/key/" in created.stdout and "127.0.0.1:5000" not in created.stdout
    db = storage.connect(data_dir)
    try:
        assert users.get_user_by_name(db, "dtv01")["unit_code"] == "19768"
    finally:
        db.close()
    # the printed hint itself, run as printed, creates the administrator there
    command = hint.strip().replace(".venv/bin/flask", str(ROOT / ".venv" / "bin" / "flask"))
    subprocess.run(command, shell=True, cwd=tmp_path, env=_clean_env(), input=PASSWORD + "\n", text=True,  # nosec B602
                   check=True, capture_output=True, timeout=120)
    db = storage.connect(data_dir)
    try:
        assert users.get_user_by_name(db, "admin")["role"] == "admin"
    finally:
        db.close()


def test_a_collector_without_an_address_is_refused_without_a_terminal(tmp_path):
    seed(tmp_path)
    refused = _flask(tmp_path, "users", "create", "dtv02", "--role", "collector",
                     env=_clean_env(DATA_DIR=str(tmp_path)))
    assert refused.returncode == 1
    assert "--server-url" in refused.stderr and "PUBLIC_URL" in refused.stderr
    db = storage.connect(tmp_path)
    try:
        assert users.get_user_by_name(db, "dtv02") is None
    finally:
        db.close()
    public = _flask(tmp_path, "users", "create", "dtv03", "--role", "collector",
                    env=_clean_env(DATA_DIR=str(tmp_path), PUBLIC_URL="https://khaosat.example.gov.vn/"))
    assert public.returncode == 0 and "https://khaosat.example.gov.vn/key/" in public.stdout


def test_a_collector_without_an_address_is_asked_for_it_at_a_terminal(tmp_path):
    seed(tmp_path)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "server", "users", "create",
                                "dtv04", "--role", "collector"], cwd=tmp_path,
                               env=_clean_env(DATA_DIR=str(tmp_path)), stdin=terminal, stdout=terminal,
                               stderr=terminal, close_fds=True)
    os.close(terminal)
    output = b""
    try:
        while b"Server address for the phones" not in output:
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, output
            output += os.read(controller, 4096)
        os.write(controller, b"http://192.168.7.7:8080\n")
        while process.poll() is None or select.select([controller], [], [], 0.2)[0]:
            try:
                output += os.read(controller, 4096)
            except OSError:
                break
        assert process.wait(timeout=60) == 0, output
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
    assert b"http://192.168.7.7:8080/key/" in output


# --- 5. every command the READMEs quote exists, with every option they name ---------------------

def documented_commands() -> list[tuple[str, list[str]]]:
    """(where, arguments after `flask --app server`) of every command line quoted in README.md and
    forms/README.md: inline code and code blocks; placeholders and brackets kept as words."""
    found = []
    for name in ("README.md", "forms/README.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
        inline = re.findall(r"`([^`\n]*(?:\n[^`\n]+)*?)`", re.sub(r"```.*?```", "", text, flags=re.S))
        lines = [line for block in blocks for line in block.splitlines()] + [" ".join(s.split()) for s in inline]
        for line in lines:
            for match in re.finditer(r"flask --app server (.*)", line):
                command = re.split(r"\s+#|\s&&\s|;", match.group(1))[0]
                for alternative in command.split(" | "):
                    words = shlex.split(alternative.replace("[", " ").replace("]", " "), posix=True)
                    found.append((f"{name}: {line.strip()[:80]}", words))
    return found


COMMANDS = documented_commands()


def test_the_readmes_quote_the_commands():
    assert len(COMMANDS) >= 20
    groups = {words[0] for _, words in COMMANDS}
    assert {"users", "forms", "units", "indices", "export", "backup", "restore", "sample"} <= groups


@pytest.mark.parametrize("where,words", COMMANDS, ids=[" ".join(w)[:60] for _, w in COMMANDS])
def test_every_documented_command_line_parses(tmp_path, where, words):
    # --help is handled once the line has been parsed: an unknown command or option fails first
    result = cli(tmp_path, *words, "--help")
    assert result.exit_code == 0, f"{where}\n{result.output}"
    for option in (w.split("=")[0] for w in words if w.startswith("--")):
        assert option in result.output, f"{where}: {option} is not an option of {' '.join(words[:2])}"

