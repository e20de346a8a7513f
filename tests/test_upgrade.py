"""Upgrading: a database made by an older version migrates itself at start, with its data intact.

The old database is made the way the first version made it: only migration step 1 exists
(SCHEMA_VERSION patched to 1), and the project's own commands and receiver fill it. Then the
current code opens it, as a restarted server does.
"""
from __future__ import annotations

import io
import random
import uuid

import pytest
import requests

import actions.scope
import storage
import storage.units
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, LiveServer, cli, seed
from storage import schema
from xlsforms import small_form

V1_TABLES = ("units", "users", "forms", "form_versions", "form_media", "submissions", "submission_xml",
             "identifiers", "attachments", "audit_log", "data:tthc_hailong", "data:anh")
PHOTO = bytes(range(256)) * 20


V1_UNIT_COLUMNS = "code, parent_code, level, name_vi, name_en, imported_at"


def _dump(db) -> dict[str, list[tuple]]:
    # later steps add columns to units (unit history): the v1 columns must be as they were
    return {table: sorted(db.execute(
        f"SELECT {V1_UNIT_COLUMNS if table == 'units' else '*'} FROM [{table}]").fetchall(), key=repr)
        for table in V1_TABLES}


def _v1_unit_import(db, units: list[dict]) -> int:
    """What `units import` wrote under schema 1 (no unit history yet)."""
    for unit in units:
        db.execute("INSERT INTO units (code, parent_code, level, name_vi, name_en, imported_at) "
                   "VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z')",
                   [unit["code"], unit["parent_code"], unit["level"], unit["name_vi"], unit.get("name_en")])
    return len(units)


def _submit(client, token, xml, files=None):
    data = {"xml_submission_file": (io.BytesIO(xml), "xml_submission_file", "text/xml")}
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "image/jpeg")
    response = client.post(f"/key/{token}/submission", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.data


@pytest.fixture
def old_site(tmp_path, monkeypatch):
    """A DATA_DIR as the first schema version left it, with forms, accounts and submissions."""
    data_dir = tmp_path / "v1"
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", 1)
        # the rules of schema 1's code where today's need later tables
        patch.setattr(storage.units, "correct_units", _v1_unit_import)
        patch.setattr(actions.scope, "retired_unit", lambda *args: False)
        tokens = seed(data_dir)
        assert cli(data_dir, "forms", "publish", str(small_form(tmp_path / "anh.xlsx", "anh", "1"))).exit_code == 0
        from server import create_app
        client = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None}).test_client()
        db = storage.connect(data_dir)
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        standard = storage.forms.latest_version(db, "tthc_hailong")["xform"]
        small = storage.forms.latest_version(db, "anh")["xform"]
        rng = random.Random(5)
        for _ in range(3):
            answers = standard_answers(rng, "474", "huyen")
            answers["main/dossier_code"] = "HS-474-0001"
            _submit(client, tokens["dtv_hue"], fill_instance(standard, answers))
        original = f"uuid:{uuid.uuid4()}"
        answers = standard_answers(rng, "474", "huyen")
        _submit(client, tokens["dtv_hue"], fill_instance(standard, answers, original))
        _submit(client, tokens["dtv_hue"], fill_instance(standard, answers, deprecated_id=original))
        _submit(client, tokens["dtv_hue"], fill_instance(small, {"unit": "474", "q_proc": "4", "photo": "a.jpg"}),
                {"a.jpg": PHOTO})
        before = _dump(db)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        db.close()
    assert "submission_scores" not in tables and "login_failures" not in tables
    assert len(before["submissions"]) == 6 and len(before["attachments"]) == 1
    return data_dir, tokens, before


def test_an_old_database_migrates_at_start_with_its_data_intact(old_site):
    data_dir, tokens, before = old_site
    server = LiveServer(data_dir).start()       # the workers open it with the current code
    try:
        db = storage.connect(data_dir, migrate=False)
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert _dump(db) == before
        # what the later steps brought works on the old rows: logins, indices, pages, receiving
        session = requests.Session()
        page = session.get(f"{server.url}/login", timeout=30)
        assert page.status_code == 200
        indices = requests.get(f"{server.url}/api/v1/forms/tthc_hailong/indices", params={"min_n": "1"},
                               auth=("admin", PASSWORD), timeout=30)
        assert indices.status_code == 200, indices.text
        assert indices.json()["cells"][0]["n"] == 4          # 3 + the current version of the edit chain
        sid = before["submissions"][0][0]
        detail = requests.get(f"{server.url}/submissions/{sid}", auth=("admin", PASSWORD), timeout=30)
        assert detail.status_code == 200
        xform = storage.forms.latest_version(db, "tthc_hailong")["xform"]
        xml = fill_instance(xform, standard_answers(random.Random(9), "474", "huyen"))
        response = requests.post(f"{server.url}/key/{tokens['dtv_hue']}/submission",
                                 files={"xml_submission_file": ("s.xml", xml, "text/xml")}, timeout=30)
        assert response.status_code == 201
        db.close()
    finally:
        server.stop()


def test_a_backup_of_an_old_version_restores_into_the_current_one(old_site, tmp_path):
    data_dir, _, before = old_site
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", 1)      # backed up by the old version
        assert cli(data_dir, "backup", str(tmp_path / "old.tar")).exit_code == 0
    result = cli(tmp_path / "new", "restore", str(tmp_path / "old.tar"))
    assert result.exit_code == 0, result.output
    db = storage.connect(tmp_path / "new", migrate=False)
    assert db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert _dump(db) == before


def test_a_backup_from_a_newer_version_is_refused(tmp_path, monkeypatch):
    seed(tmp_path / "data")
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema._MIGRATIONS, schema.SCHEMA_VERSION, "-- a step this version does not know")
    assert cli(tmp_path / "data", "backup", str(tmp_path / "future")).exit_code == 0
    monkeypatch.undo()
    result = cli(tmp_path / "older", "restore", str(tmp_path / "future"))
    assert result.exit_code == 1 and "newer version" in result.output
