"""The OpenRosa receiver through real HTTP, with a client that behaves as ODK Collect does."""
from __future__ import annotations

import csv
import hashlib
import io
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.collect_client import CollectClient, message_of
from conftest import FIXTURES, PASSWORD, ROOT, LiveServer, cli
from storage import submissions
from xlsforms import small_form


def standard_xform(client: CollectClient) -> tuple[dict, bytes]:
    entry = client.form_list("tthc_hailong")[0]
    return entry, client.download_form(entry)


def stored(data_dir, instance_id):
    db = storage.connect(data_dir, migrate=False)
    try:
        row = submissions.get_submission(db, instance_id)
        if row is None:
            return None, None, []
        return row, submissions.get_xml(db, row["id"]), submissions.list_attachments(db, row["id"])
    finally:
        db.close()


def count(data_dir, form_id=None):
    db = storage.connect(data_dir, migrate=False)
    try:
        return submissions.count_submissions(db, form_id)
    finally:
        db.close()


# --- authentication -----------------------------------------------------------------------

def test_no_credentials_get_a_basic_challenge(site):
    for path in ("/formList", "/submission"):
        response = requests.head(site.url + path) if path == "/submission" else requests.get(site.url + path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
        assert response.headers["X-OpenRosa-Version"] == "1.0"


def test_basic_auth_after_challenge(site):
    client = CollectClient(site.url, "thu_ky", PASSWORD)
    forms = client.form_list()
    assert [f["formID"] for f in forms] == ["tthc_hailong"]
    assert client.challenges == 1


def test_wrong_password_and_forged_token_are_refused(site):
    assert CollectClient(site.url, "thu_ky", "sai-mat-khau-000").request(
        "GET", site.url + "/formList").status_code == 401
    response = requests.get(f"{site.url}/key/{'x' * 43}/formList")
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response.headers


def test_viewer_may_not_use_collect_endpoints(site):
    response = CollectClient(site.url, "xem_hue", PASSWORD).request("GET", site.url + "/formList")
    assert response.status_code == 403


def test_revoked_token_is_refused(fresh_site):
    url = fresh_site.token_url("dtv_aluoi")
    assert CollectClient(url).form_list()
    assert cli(fresh_site.data_dir, "users", "revoke", "dtv_aluoi").exit_code == 0
    assert requests.get(url + "/formList").status_code == 401


# --- form list, download, manifest ----------------------------------------------------------

def test_form_list_download_and_manifest(site):
    client = CollectClient(site.token_url("dtv_hue"))
    entry, xform = standard_xform(client)
    assert entry["version"] and entry["name"]
    assert entry["downloadUrl"].startswith(site.token_url("dtv_hue"))   # links keep the token
    assert b"jr://file-csv/units.csv" in xform
    media = {m["filename"]: m for m in client.manifest(entry)}
    # respondents.csv: this surveyor's sampled respondents, none here (tests/test_respondent_lists.py)
    assert sorted(media) == ["respondents.csv", "units.csv"]
    assert all(m["hash"].startswith("md5:") for m in media.values())
    assert (client.download_media(media["respondents.csv"])
            == b"name,label,dossier_code,unit,level,procedure_field,procedure\n")
    rows = list(csv.DictReader(io.StringIO(client.download_media(media["units.csv"]).decode("utf-8"))))
    codes = {r["name"]: r for r in rows}
    assert codes["474"]["level"] == "huyen" and codes["474"]["label"] == "Thành phố Huế"
    assert codes["46"]["level"] == "tinh"
    source = list(csv.DictReader(open(ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv", encoding="utf-8")))
    assert sorted(codes) == sorted(r["code"] for r in source)


def test_form_list_filter_and_headers(site):
    client = CollectClient(site.token_url("dtv_tinh"))
    assert client.form_list("khong_co") == []
    response = client.request("GET", site.token_url("dtv_tinh") + "/formList")
    assert response.headers["X-OpenRosa-Accept-Content-Length"].isdigit()
    assert response.headers["Date"]
    assert response.headers["Content-Type"].startswith("text/xml")


def units_csv_entry(client, entry) -> dict:
    return next(m for m in client.manifest(entry) if m["filename"] == "units.csv")


def test_manifest_hash_changes_when_the_unit_list_changes(fresh_site, tmp_path):
    client = CollectClient(fresh_site.token_url("dtv_tinh"))
    entry = client.form_list("tthc_hailong")[0]
    before = units_csv_entry(client, entry)["hash"]
    extra = tmp_path / "xa.csv"
    extra.write_text("code,parent_code,level,name_vi,name_en\n19753,474,xa,Phường Phú Hội,Phu Hoi Ward\n",
                     encoding="utf-8")
    assert cli(fresh_site.data_dir, "units", "import", str(extra)).exit_code == 0
    after = units_csv_entry(client, entry)
    assert after["hash"] != before
    assert b"19753,Ph\xc6\xb0\xe1\xbb\x9dng Ph\xc3\xba H\xe1\xbb\x99i,xa,474" in client.download_media(after)


# --- submissions ------------------------------------------------------------------------------

def test_submission_is_stored_byte_exact_with_its_metadata(site):
    client = CollectClient(site.token_url("dtv_hue"))
    entry, xform = standard_xform(client)
    answers = standard_answers(random.Random(1), unit="474", level="huyen")
    xml = fill_instance(xform, answers)
    [response] = client.submit(xml)
    assert response.status_code == 201, response.text
    assert "successful" in message_of(response)
    inst = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
    row, raw, _ = stored(site.data_dir, inst)
    assert raw == xml
    assert row["unit_code"] == "474"
    assert row["channel"] == "interview"
    assert row["device_id"] == client.device_id
    assert row["version"] == entry["version"]
    assert row["review_state"] == "received"


def test_identical_resend_is_201_without_a_second_record(site):
    client = CollectClient(site.token_url("dtv_hue"))
    _, xform = standard_xform(client)
    xml = fill_instance(xform, standard_answers(random.Random(2), "474", "huyen"))
    before = count(site.data_dir)
    assert client.submit(xml)[0].status_code == 201
    assert client.submit(xml)[0].status_code == 201
    assert count(site.data_dir) == before + 1


def test_same_instance_id_with_different_xml_is_409(site):
    client = CollectClient(site.token_url("dtv_hue"))
    _, xform = standard_xform(client)
    instance_id = f"uuid:{uuid.uuid4()}"
    first = fill_instance(xform, standard_answers(random.Random(3), "474", "huyen"), instance_id)
    second = fill_instance(xform, standard_answers(random.Random(4), "474", "huyen"), instance_id)
    assert client.submit(first)[0].status_code == 201
    response = client.submit(second)[0]
    assert response.status_code == 409
    assert "different XML" in message_of(response)
    assert stored(site.data_dir, instance_id)[1] == first


def test_edits_keep_the_history(site):
    client = CollectClient(site.token_url("dtv_hue"))
    _, xform = standard_xform(client)
    original = f"uuid:{uuid.uuid4()}"
    edit = f"uuid:{uuid.uuid4()}"
    answers = standard_answers(random.Random(5), "474", "huyen")
    assert client.submit(fill_instance(xform, answers, original))[0].status_code == 201
    answers["main/comment"] = "sửa lại"
    assert client.submit(fill_instance(xform, answers, edit, deprecated_id=original))[0].status_code == 201
    old, _, _ = stored(site.data_dir, original)
    new, _, _ = stored(site.data_dir, edit)
    assert old["current"] == 0 and new["current"] == 1
    assert new["root_id"] == old["id"] and new["deprecated_id"] == original
    # editing the replaced version again is a conflict; editing an unknown one is not found
    again = client.submit(fill_instance(xform, answers, f"uuid:{uuid.uuid4()}", deprecated_id=original))[0]
    assert again.status_code == 409
    ghost = client.submit(fill_instance(xform, answers, f"uuid:{uuid.uuid4()}", deprecated_id="uuid:ghost"))[0]
    assert ghost.status_code == 404


def test_attachments_are_stored_content_addressed(fresh_site, tmp_path):
    path = small_form(tmp_path / "anh.xlsx", "anh", "1")
    assert cli(fresh_site.data_dir, "forms", "publish", str(path)).exit_code == 0
    client = CollectClient(fresh_site.token_url("dtv_tinh"))
    entry = client.form_list("anh")[0]
    xform = client.download_form(entry)
    photo = bytes(random.Random(7).randrange(256) for _ in range(5000))
    xml = fill_instance(xform, {"unit": "474", "q_proc": "5", "photo": "1795692418987.jpg"})
    assert client.submit(xml, {"1795692418987.jpg": photo})[0].status_code == 201
    inst = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
    row, _, files = stored(fresh_site.data_dir, inst)
    assert row["attachments_expected"] == 1
    [att] = files
    assert att["name"] == "1795692418987.jpg" and att["size"] == len(photo)
    assert att["sha256"] == hashlib.sha256(photo).hexdigest()
    blob = fresh_site.data_dir / "blobs" / att["sha256"][:2] / att["sha256"]
    assert blob.read_bytes() == photo


def test_split_upload_over_the_advertised_size(tmp_path):
    from conftest import seed
    tokens = seed(tmp_path)
    path = small_form(tmp_path / "anh.xlsx", "anh", "1")
    assert cli(tmp_path, "forms", "publish", str(path)).exit_code == 0
    server = LiveServer(tmp_path, env={"SUBMISSION_MAX_BYTES": "20000"}).start()
    try:
        client = CollectClient(f"{server.url}/key/{tokens['dtv_tinh']}")
        xform = client.download_form(client.form_list("anh")[0])
        files = {f"{i}.jpg": bytes([i]) * 9000 for i in range(5)}
        xml = fill_instance(xform, {"unit": "474", "photo": "0.jpg"})
        responses = client.submit(xml, files)
        assert len(responses) >= 3 and all(r.status_code == 201 for r in responses)
        inst = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
        _, raw, stored_files = stored(tmp_path, inst)
        assert raw == xml
        assert sorted(f["name"] for f in stored_files) == sorted(files)
        assert count(tmp_path, "anh") == 1
        # one body over the limit, not split: 413, nothing stored
        big = fill_instance(xform, {"unit": "474"})
        response = client.request("POST", client.server_url + "/submission",
                                  files=[("xml_submission_file", ("s.xml", big, "text/xml")),
                                         ("a.jpg", ("a.jpg", b"x" * 200_000, "image/jpeg"))])
        assert response.status_code == 413
        assert count(tmp_path, "anh") == 1
    finally:
        server.stop()


def test_unknown_form_and_version_are_404(site):
    client = CollectClient(site.token_url("dtv_tinh"))
    _, xform = standard_xform(client)
    xml = fill_instance(xform, {"consent": "yes"})
    unknown_form = xml.replace(b'id="tthc_hailong"', b'id="khong_co_mau"', 1)
    assert client.submit(unknown_form)[0].status_code == 404
    unknown_version = xml.replace(b'version="', b'version="999', 1)
    response = client.submit(unknown_version)[0]
    assert response.status_code == 404
    assert "version" in message_of(response)


def test_older_versions_stay_receivable_and_closed_forms_refuse(fresh_site, tmp_path):
    v1 = small_form(tmp_path / "v1.xlsx", "nhieu_pb", "1")
    v2 = small_form(tmp_path / "v2.xlsx", "nhieu_pb", "2", extra_question=True)
    assert cli(fresh_site.data_dir, "forms", "publish", str(v1)).exit_code == 0
    client = CollectClient(fresh_site.token_url("dtv_tinh"))
    xform_v1 = client.download_form(client.form_list("nhieu_pb")[0])
    assert cli(fresh_site.data_dir, "forms", "publish", str(v2)).exit_code == 0
    entry = client.form_list("nhieu_pb")[0]
    assert entry["version"] == "2"
    xform_v2 = client.download_form(entry)
    assert client.submit(fill_instance(xform_v1, {"unit": "474", "q_proc": "4"}))[0].status_code == 201
    assert client.submit(fill_instance(xform_v2, {"unit": "474", "note_v2": "mới"}))[0].status_code == 201
    # republishing v1 with other content is refused
    changed = small_form(tmp_path / "v1b.xlsx", "nhieu_pb", "1", extra_question=True)
    result = cli(fresh_site.data_dir, "forms", "publish", str(changed))
    assert result.exit_code == 1 and "version" in result.output
    assert cli(fresh_site.data_dir, "forms", "close", "nhieu_pb").exit_code == 0
    assert client.form_list("nhieu_pb") == []
    response = client.submit(fill_instance(xform_v2, {"unit": "474"}))[0]
    assert response.status_code == 409
    assert "not currently accepting" in message_of(response)
    assert count(fresh_site.data_dir, "nhieu_pb") == 2


def test_collector_outside_its_unit_is_refused(site):
    client = CollectClient(site.token_url("dtv_aluoi"))
    _, xform = standard_xform(client)
    xml = fill_instance(xform, standard_answers(random.Random(9), "474", "huyen"))
    response = client.submit(xml)[0]
    assert response.status_code == 403
    inst = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
    assert stored(site.data_dir, inst)[0] is None
    ok = fill_instance(xform, standard_answers(random.Random(9), "481", "huyen"))
    assert client.submit(ok)[0].status_code == 201


# --- bad input --------------------------------------------------------------------------------

def _post(site, parts=None, data=None, **kwargs):
    return requests.post(site.token_url("dtv_tinh") + "/submission", files=parts, data=data, **kwargs)


@pytest.mark.parametrize("body, status", [
    (b"<data id='tthc_hailong'><q>unclosed</data>", 400),
    (b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>
<data id="tthc_hailong"><q>&b;</q></data>""", 400),
    (b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><data id="tthc_hailong">&e;</data>""", 400),
    ("<data id='tthc_hailong'>Huế</data>".encode("utf-16"), 400),
    (b"<data><meta><instanceID>x</instanceID></meta></data>", 400),
])
def test_bad_xml_is_refused_and_changes_nothing(site, body, status):
    before = count(site.data_dir)
    response = _post(site, [("xml_submission_file", ("s.xml", body, "text/xml"))])
    assert response.status_code == status
    assert message_of(response)
    assert count(site.data_dir) == before


def test_missing_xml_part_and_non_multipart(site):
    response = _post(site, [("photo.jpg", ("photo.jpg", b"123", "image/jpeg"))])
    assert response.status_code == 400
    assert "xml_submission_file" in message_of(response)
    response = requests.post(site.token_url("dtv_tinh") + "/submission", data=b"<data/>",
                             headers={"Content-Type": "text/xml"})
    assert response.status_code == 400


def test_truncated_multipart_is_refused(site):
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"s.xml\"\r\n"
            b"Content-Type: text/xml\r\n\r\n<data id='tthc_hailong'><meta><instanceID>trunc</instanceID>")
    response = requests.post(site.token_url("dtv_tinh") + "/submission", data=body,
                             headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 400
    assert stored(site.data_dir, "trunc")[0] is None


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\evil.jpg", "a/b.jpg", "bad\x01name.jpg", ".."])
def test_attachment_names_with_paths_are_refused(site, name):
    client = CollectClient(site.token_url("dtv_tinh"))
    _, xform = standard_xform(client)
    xml = fill_instance(xform, standard_answers(random.Random(11), "474", "huyen"))
    before = count(site.data_dir)
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"s.xml\"\r\n"
            b"Content-Type: text/xml\r\n\r\n" + xml + b"\r\n--XyZ\r\n"
            b"Content-Disposition: form-data; name=\"f\"; filename=\"" + name.encode().replace(b"\\", b"\\\\") + b"\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--XyZ--\r\n")
    response = requests.post(site.token_url("dtv_tinh") + "/submission", data=body,
                             headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 400, response.text
    assert count(site.data_dir) == before
    assert not list((site.data_dir / "blobs").glob("**/*JPEG*"))


# --- forms and instances from elsewhere in the ODK ecosystem ------------------------------------

def test_fixture_xforms_and_submissions(fresh_site):
    for name in ("central-withrepeat.form.xml", "central-encrypted.form.xml", "central-simple.form.xml"):
        result = cli(fresh_site.data_dir, "forms", "publish", str(FIXTURES / "xform" / name))
        assert result.exit_code == 0, result.output
    client = CollectClient(fresh_site.token_url("dtv_tinh"))
    xml = (FIXTURES / "submissions" / "central-withrepeat.two.submission.xml").read_bytes()
    assert client.submit(xml)[0].status_code == 201
    db = storage.connect(fresh_site.data_dir, migrate=False)
    row = submissions.get_submission(db, "rtwo")
    kids = submissions.repeat_rows(db, "withrepeat", "children/child", row["id"])
    assert [(k["children/child/name"], k["_index"]) for k in kids] == [("Billy", 1), ("Blaine", 2)]
    assert submissions.answers(db, "withrepeat", row["id"])["name"] == "Bob"
    enc = (FIXTURES / "submissions" / "central-encrypted.one.submission.xml").read_bytes()
    responses = client.submit(enc, {"submission.xml.enc": b"\x00ENC" * 50, "1561432508817.jpg.enc": b"\x01" * 80})
    assert responses[0].status_code == 201
    row = submissions.get_submission(db, "uuid:dcf4a151-5088-453f-99e6-369d67828f7a")
    assert row["encrypted"] == 1 and row["attachments_expected"] == 2
    assert len(submissions.list_attachments(db, row["id"])) == 2
    # an instance without an instanceID gets one generated
    simple = (FIXTURES / "submissions" / "central-simple.one.submission.xml").read_bytes()
    assert client.submit(simple.replace(b"<meta><instanceID>one</instanceID></meta>", b""))[0].status_code == 201
    assert submissions.count_submissions(db, "simple") == 1
    db.close()


# --- durability ----------------------------------------------------------------------------

def test_restart_keeps_everything(fresh_site):
    client = CollectClient(fresh_site.token_url("dtv_tinh"))
    _, xform = standard_xform(client)
    xmls = [fill_instance(xform, standard_answers(random.Random(i), "474", "huyen")) for i in range(5)]
    for xml in xmls:
        assert client.submit(xml)[0].status_code == 201
    fresh_site.server.stop(kill=True)
    fresh_site.server.start()
    for xml in xmls:
        inst = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
        assert stored(fresh_site.data_dir, inst)[1] == xml
        assert client.submit(xml)[0].status_code == 201
    assert count(fresh_site.data_dir) == 5
    assert client.form_list("tthc_hailong")


def test_concurrent_submissions_from_several_workers(site):
    client = CollectClient(site.token_url("dtv_tinh"))
    _, xform = standard_xform(client)
    xmls = [fill_instance(xform, standard_answers(random.Random(100 + i), "474", "huyen")) for i in range(120)]
    before = count(site.data_dir)

    def send(xml):
        c = CollectClient(site.token_url("dtv_tinh"))
        return c.submit(xml, {"a.jpg": xml[-40:]})[0].status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(send, xmls))
    assert statuses == [201] * len(xmls)
    assert count(site.data_dir) == before + len(xmls)
    log = b"".join(p.read_bytes() for p in site.data_dir.glob("server-*.log"))
    assert b"database is locked" not in log
    assert b"Traceback" not in log


def test_declined_interview_from_a_unit_surveyor_is_kept_under_its_unit(site):
    client = CollectClient(site.token_url("dtv_aluoi"))
    _, xform = standard_xform(client)
    xml = fill_instance(xform, {"consent": "no", "start": "2026-08-01T09:00:00.000+07:00"})
    assert client.submit(xml)[0].status_code == 201
    inst = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
    row, raw, _ = stored(site.data_dir, inst)
    assert raw == xml and row["unit_code"] == "481"
