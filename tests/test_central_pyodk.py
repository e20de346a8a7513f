"""pyodk, ODK's own Python client, unchanged against the live server (gunicorn, real HTTP):
the proof that a Central client works here. Expected values come from the SQLite file."""
from __future__ import annotations

import random
import sqlite3
import uuid

import pytest

from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, LiveServer
from web_site import UNIT_A, UNIT_B

pyodk_client = pytest.importorskip("pyodk.client")
from pyodk._utils.config import CentralConfig, Config  # noqa: E402

FORM = "tthc_hailong"


def rows(data_dir, sql, params=()):
    conn = sqlite3.connect(data_dir / "hailong.sqlite")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def live(web_site, tmp_path_factory):
    site = web_site.copy(tmp_path_factory.mktemp("pyodk") / "site")
    server = LiveServer(site.data_dir).start()
    yield site, server
    server.stop()


def client_for(server, name: str, tmp_path):
    config = Config(central=CentralConfig(base_url=server.url, username=name, password=PASSWORD,
                                          default_project_id=1))
    # the token cache in the test's own directory, never the home directory
    return pyodk_client.Client(config=config, cache_path=tmp_path / f"{name}-cache.toml")


def test_pyodk_reads_projects_forms_and_submissions(live, tmp_path):
    site, server = live
    with client_for(server, "admin", tmp_path) as client:
        assert [p.id for p in client.projects.list()] == [1]
        forms = {f.xmlFormId: f for f in client.forms.list()}
        assert set(forms) == {f for (f,) in rows(site.data_dir, "SELECT form_id FROM forms")}
        assert forms[FORM].hash == rows(site.data_dir, "SELECT xform_md5 FROM form_versions WHERE form_id = ? "
                                                       "ORDER BY id DESC LIMIT 1", [FORM])[0][0]
        listed = client.submissions.list(form_id=FORM)
        roots = {r for (r,) in rows(site.data_dir, "SELECT r.instance_id FROM submissions s JOIN submissions r ON "
                                                   "r.id = s.root_id WHERE s.form_id = ? AND s.current = 1", [FORM])}
        assert {s.instanceId for s in listed} == roots


def test_pyodk_get_table_with_filter_top_and_expand(live, tmp_path):
    site, server = live
    with client_for(server, "admin", tmp_path) as client:
        table = client.submissions.get_table(form_id=FORM, filter=f"__system/unit eq '{UNIT_B}'", top=2,
                                             expand="*", count=True)
        in_b = rows(site.data_dir, "SELECT count(*) FROM submissions WHERE form_id = ? AND current = 1 AND "
                                   "unit_code = ?", [FORM, UNIT_B])[0][0]
        assert table["@odata.count"] == in_b and len(table["value"]) == min(2, in_b)
        assert all(r["__system"]["unit"] == UNIT_B for r in table["value"])
        assert ("@odata.nextLink" in table) == (in_b > 2)
        fields = client.submissions.get_table(form_id=FORM, filter="main/procedure/proc_overall ge 4")["value"]
        stored = rows(site.data_dir, f'SELECT count(*) FROM "data:{FORM}" d JOIN submissions s ON s.id = '
                                     f'd._submission_id WHERE s.current = 1 AND CAST(d."main/procedure/proc_overall"'
                                     f" AS REAL) >= 4")[0][0]
        assert len(fields) == stored


def test_pyodk_create_and_review(live, tmp_path):
    site, server = live
    xform = rows(site.data_dir, "SELECT xform FROM form_versions WHERE form_id = ? ORDER BY id DESC LIMIT 1",
                 [FORM])[0][0]
    iid = f"uuid:{uuid.uuid4()}"
    xml = fill_instance(xform, standard_answers(random.Random(8), UNIT_A, "huyen"), iid).decode("utf-8")
    with client_for(server, "admin", tmp_path) as client:
        created = client.submissions.create(xml=xml, form_id=FORM, device_id="pyodk-test")
        assert created.instanceId == iid and created.attachments is None
        client.submissions.review(instance_id=iid, review_state="approved", form_id=FORM)
        assert client.submissions.get(instance_id=iid, form_id=FORM).reviewState == "approved"
    assert rows(site.data_dir, "SELECT channel, review_state, device_id FROM submissions WHERE instance_id = ?",
                [iid]) == [("other", "approved", "pyodk-test")]


def test_pyodk_viewer_of_474_gets_only_474(live, tmp_path):
    site, server = live
    with client_for(server, "xem_hue", tmp_path) as client:
        value = client.submissions.get_table(form_id=FORM)["value"]
        units = {r["__system"]["unit"] for r in value}
        expected = rows(site.data_dir, "SELECT count(*) FROM submissions WHERE form_id = ? AND current = 1 AND "
                                       "unit_code = ?", [FORM, UNIT_A])[0][0]
        assert units == {UNIT_A} and len(value) == expected
        with pytest.raises(Exception):
            client.submissions.review(instance_id=value[0]["__id"], review_state="approved", form_id=FORM)
