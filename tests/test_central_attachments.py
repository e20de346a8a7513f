"""Uploading a submission's attachment through Central's API
(POST /v1/projects/1/forms/{f}/submissions/{id}/attachments/{name}): pyodk unchanged against the
live server (gunicorn, real HTTP), and every refusal leaving the SQLite file and blob store as
they were. Expected values come from the files the test writes and the SQLite file."""
from __future__ import annotations

import base64
import hashlib
import random
import uuid

import pytest
import requests

from tests.harness.instances import fill_instance
from tests.harness.site import PASSWORD, LiveServer, create_password_user
from web_site import UNIT_A, UNIT_B

pytest.importorskip("pyodk.client")
from tests.test_central_pyodk import client_for, rows  # noqa: E402

FORM = "anh"          # web_site's small form: a unit, two ratings and a photo
STRANGER = "thu_ky_aluoi"


def stored_state(data_dir) -> tuple:
    """What a refused upload must leave unchanged: the attachment rows, the blob files, the audit."""
    blobs = sorted(p.name for p in (data_dir / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp")
    return (rows(data_dir, "SELECT submission_id, name, sha256, size FROM attachments ORDER BY 1, 2"), blobs,
            rows(data_dir, "SELECT count(*) FROM audit_log WHERE action = 'submission.attachment_upload'"))


@pytest.fixture(scope="module")
def live(web_site, tmp_path_factory):
    site = web_site.copy(tmp_path_factory.mktemp("attach") / "site")
    create_password_user(site.data_dir, STRANGER, "collector", UNIT_B)
    server = LiveServer(site.data_dir).start()
    yield site, server
    server.stop()


def photo_xml(data_dir, unit: str, photo: str) -> tuple[str, str]:
    xform = rows(data_dir, "SELECT xform FROM form_versions WHERE form_id = ? ORDER BY id DESC LIMIT 1", [FORM])[0][0]
    iid = f"uuid:{uuid.uuid4()}"
    xml = fill_instance(xform, {"unit": unit, "q_proc": "4", "q_staff": "5", "photo": photo}, iid)
    return xml.decode("utf-8"), iid


def post(server, name: str, iid: str, file_name: str, data: bytes, kind: str = "image/jpeg"):
    return requests.post(f"{server.url}/v1/projects/1/forms/{FORM}/submissions/{iid}/attachments/{file_name}",
                         data=data, headers={"Content-Type": kind}, auth=(name, PASSWORD), timeout=30)


def test_pyodk_creates_a_submission_with_its_photo(live, tmp_path):
    site, server = live
    photo = tmp_path / "chup-anh.jpg"
    photo.write_bytes(random.Random(21).randbytes(70_000))  # several 16 KB chunks
    xml, iid = photo_xml(site.data_dir, UNIT_A, photo.name)
    with client_for(server, "thu_ky", tmp_path) as client:
        created = client.submissions.create(xml=xml, form_id=FORM, attachments=[photo])
    assert created.instanceId == iid
    assert [(a.name, a.exists) for a in created.attachments] == [(photo.name, True)]
    stored = rows(site.data_dir, "SELECT a.name, a.sha256, a.size, a.content_type FROM attachments a JOIN submissions s "
                                 "ON s.id = a.submission_id WHERE s.instance_id = ?", [iid])
    assert stored == [(photo.name, hashlib.sha256(photo.read_bytes()).hexdigest(), 70_000, "image/jpeg")]
    # an administrator downloads it byte-identical
    got = requests.get(f"{server.url}/v1/projects/1/forms/{FORM}/submissions/{iid}/attachments/{photo.name}",
                       auth=("admin", PASSWORD), timeout=30)
    assert got.status_code == 200 and got.content == photo.read_bytes()
    assert rows(site.data_dir, "SELECT actor, details_json FROM audit_log WHERE action = "
                               "'submission.attachment_upload' AND target = ?", [iid])[0][0] == "thu_ky"


def test_refusals_store_nothing(live, tmp_path):
    site, server = live
    xml, iid = photo_xml(site.data_dir, UNIT_A, "cho.jpg")
    with client_for(server, "thu_ky", tmp_path) as client:
        created = client.submissions.create(xml=xml, form_id=FORM)   # the photo not sent yet
    assert [(a.name, a.exists) for a in created.attachments] == [("cho.jpg", False)]
    image = random.Random(5).randbytes(5000)
    before = stored_state(site.data_dir)
    # a collector of another unit: the submission is unknown to it, as in Central
    assert post(server, STRANGER, iid, "cho.jpg", image).status_code == 404
    # a viewer may not send
    refused = post(server, "xem_hue", iid, "cho.jpg", image)
    assert refused.status_code == 403 and refused.json()["code"] == 403.1
    # a name the XML does not ask for
    unexpected = post(server, "thu_ky", iid, "khac.jpg", image)
    assert unexpected.status_code == 404 and "khac.jpg" in unexpected.json()["message"]
    # names that try to leave the store
    for bad in ("..%2Fcho.jpg", "%2E%2E"):
        assert post(server, "thu_ky", iid, bad, image).status_code == 404
    # an unknown submission; bad credentials
    assert post(server, "thu_ky", f"uuid:{uuid.uuid4()}", "cho.jpg", image).status_code == 404
    assert requests.post(f"{server.url}/v1/projects/1/forms/{FORM}/submissions/{iid}/attachments/cho.jpg",
                         data=image, auth=("thu_ky", "sai-mat-khau"), timeout=30).status_code == 401
    assert stored_state(site.data_dir) == before


def test_a_received_file_is_never_replaced(live):
    site, server = live
    xml, iid = photo_xml(site.data_dir, UNIT_B, "meo.png")
    created = requests.post(f"{server.url}/v1/projects/1/forms/{FORM}/submissions", data=xml.encode("utf-8"),
                            headers={"Content-Type": "application/xml"}, auth=(STRANGER, PASSWORD), timeout=30)
    assert created.status_code == 200
    first = random.Random(1).randbytes(4000)
    ok = post(server, STRANGER, iid, "meo.png", first, "image/png")
    assert ok.status_code == 200 and ok.json() == {"success": True}
    state = stored_state(site.data_dir)
    # the same bytes again: a success that changes nothing (a client retrying)
    assert post(server, STRANGER, iid, "meo.png", first, "image/png").json() == {"success": True}
    assert stored_state(site.data_dir) == state
    # other bytes under the same name: 409, the first file kept
    other = post(server, STRANGER, iid, "meo.png", first[::-1], "image/png")
    assert other.status_code == 409 and "meo.png" in other.json()["message"]
    assert stored_state(site.data_dir) == state
    got = requests.get(f"{server.url}/v1/projects/1/forms/{FORM}/submissions/{iid}/attachments/meo.png",
                       auth=("admin", PASSWORD), timeout=30)
    assert got.content == first


def test_an_attachment_over_the_limit_is_413(web_copy):
    app = web_copy.app()
    app.config["SUBMISSION_MAX_BYTES"] = 3000
    client = app.test_client()
    xml, iid = photo_xml(web_copy.data_dir, UNIT_A, "to.jpg")
    auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    base = f"/v1/projects/1/forms/{FORM}/submissions"
    assert client.post(base, data=xml.encode("utf-8"), content_type="application/xml", headers=auth).status_code == 200
    before = stored_state(web_copy.data_dir)
    refused = client.post(f"{base}/{iid}/attachments/to.jpg", data=b"x" * 3001, content_type="image/jpeg",
                          headers=auth)
    assert refused.status_code == 413 and "3000" in refused.json["message"]
    assert stored_state(web_copy.data_dir) == before
    fits = client.post(f"{base}/{iid}/attachments/to.jpg", data=b"x" * 3000, content_type="image/jpeg", headers=auth)
    assert fits.status_code == 200
    assert rows(web_copy.data_dir, "SELECT a.size FROM attachments a JOIN submissions s ON s.id = a.submission_id "
                                   "WHERE s.instance_id = ?", [iid]) == [(3000,)]
