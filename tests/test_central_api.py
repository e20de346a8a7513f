"""ODK Central's API and OData feed under /v1 (server/central), against the web test site.

Expected values are read straight from the SQLite file with the sqlite3 module, never through the
code under test. Reads use the shared site; anything that writes uses its own copy.
"""
from __future__ import annotations

import base64
import json
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, ROOT, cli
from web_site import UNIT_A, UNIT_B

FORM = "tthc_hailong"
SVC = f"/v1/projects/1/forms/{FORM}.svc"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def basic(name: str, password: str = PASSWORD) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def db_rows(data_dir, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(data_dir / "hailong.sqlite")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def current_roots(data_dir, form_id: str, units: set[str] | None = None) -> set[str]:
    """The first instanceID of every current, undeleted submission chain of a form."""
    rows = db_rows(data_dir, "SELECT r.instance_id, s.unit_code FROM submissions s JOIN submissions r "
                             "ON r.id = s.root_id WHERE s.form_id = ? AND s.current = 1 AND s.deleted_at IS NULL",
                   [form_id])
    return {iid for iid, unit in rows if units is None or unit in units}


def subtree(data_dir, code: str) -> set[str]:
    rows = db_rows(data_dir, "SELECT code, parent_code FROM units")
    found, frontier = {code}, {code}
    while frontier:
        frontier = {c for c, p in rows if p in frontier} - found
        found |= frontier
    return found


@pytest.fixture(scope="module")
def app(web_site):
    return web_site.app()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def all_pages(client, url: str, headers: dict) -> list[dict]:
    """Every row of an entity set, following @odata.nextLink."""
    rows = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.data
        body = response.json
        rows += body["value"]
        link = body.get("@odata.nextLink")
        url = None
        if link:
            parts = urlsplit(link)
            url = parts.path + "?" + parts.query
    return rows


# --- 1. sessions, Bearer, Basic, lock-out, audit ---------------------------------------------------

def test_session_token_works_until_deleted(web_copy):
    client = web_copy.app().test_client()
    response = client.post("/v1/sessions", json={"email": "reporter", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert set(body) >= {"token", "createdAt", "expiresAt"} and body["expiresAt"] > body["createdAt"]
    bearer = {"Authorization": "Bearer " + body["token"]}
    me = client.get("/v1/users/current", headers=bearer)
    assert me.status_code == 200 and me.json["displayName"] == "reporter" and me.json["role"] == "reporter"
    # only the digest is stored
    stored = db_rows(web_copy.data_dir, "SELECT token_sha256 FROM api_sessions")
    assert all(body["token"] not in row[0] for row in stored) and len(stored) == 1
    assert client.delete(f"/v1/sessions/{body['token']}", headers=bearer).status_code == 200
    after = client.get("/v1/users/current", headers=bearer)
    assert after.status_code == 401 and "WWW-Authenticate" in after.headers
    actions = [a for (a,) in db_rows(web_copy.data_dir, "SELECT action FROM audit_log WHERE actor = 'reporter'")]
    assert "login" in actions and "logout" in actions


def test_basic_authentication_and_no_cookie(client):
    assert client.get("/v1/users/current", headers=basic("xem_hue")).json["unit"] == UNIT_A
    assert client.get("/v1/users/current").status_code == 401
    assert client.get("/v1/users/current", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_password_reset_ends_api_sessions(web_copy):
    client = web_copy.app().test_client()
    token = client.post("/v1/sessions", json={"username": "designer", "password": PASSWORD}).json["token"]
    bearer = {"Authorization": "Bearer " + token}
    assert client.get("/v1/users/current", headers=bearer).status_code == 200
    import storage
    from actions import credentials
    from storage import users
    app = web_copy.app()
    with app.app_context():
        db = storage.connect(web_copy.data_dir)
        users.set_password(db, "designer", credentials.hash_password("mot-mat-khau-moi-dai"))
        db.close()
    assert client.get("/v1/users/current", headers=bearer).status_code == 401


def test_lock_out_is_the_web_logins(web_copy):
    client = web_copy.app().test_client()
    env = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(5):
        wrong = client.post("/v1/sessions", json={"email": "viewer_x", "password": "sai"}, environ_base=env)
        assert wrong.status_code == 401
    wrong = [client.post("/v1/sessions", json={"email": "admin", "password": "sai-mat-khau"}, environ_base=env)
             for _ in range(5)]
    assert [r.status_code for r in wrong] == [401] * 5
    # the right password is refused now, through a session and through Basic alike
    locked = client.post("/v1/sessions", json={"email": "admin", "password": PASSWORD}, environ_base=env)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert "phút" in locked.json["message_vi"] and "minutes" in locked.json["message_en"]
    assert client.get("/v1/projects", headers=basic("admin"), environ_base=env).status_code == 401
    actions = [a for (a,) in db_rows(web_copy.data_dir, "SELECT action FROM audit_log WHERE target = 'admin'")]
    assert actions.count("login.failed") >= 5 and "login.locked" in actions


def test_bad_session_body_is_400(client):
    assert client.post("/v1/sessions", data="x", content_type="text/plain").status_code == 400
    assert client.post("/v1/sessions", json={"email": "admin"}).status_code == 400


# --- 2. the project and its forms ------------------------------------------------------------------

def test_project_and_forms(client, web_site):
    projects = client.get("/v1/projects", headers=basic("xem_hue")).json
    assert [p["id"] for p in projects] == [1]
    assert client.get("/v1/projects/2", headers=basic("xem_hue")).status_code == 404
    listed = client.get("/v1/projects/1/forms", headers=basic("xem_hue")).json
    expected = {f for (f,) in db_rows(web_site.data_dir, "SELECT form_id FROM forms")}
    assert {f["xmlFormId"] for f in listed} == expected
    one = client.get(f"/v1/projects/1/forms/{FORM}", headers=basic("xem_hue")).json
    xml = client.get(f"/v1/projects/1/forms/{FORM}.xml", headers=basic("xem_hue"))
    import hashlib
    assert one["hash"] == hashlib.md5(xml.data).hexdigest()
    assert one["state"] == "open" and one["projectId"] == 1 and one["odataUrl"].endswith(f"/forms/{FORM}.svc")
    xlsx = client.get(f"/v1/projects/1/forms/{FORM}.xlsx", headers=basic("xem_hue"))
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    versions = client.get(f"/v1/projects/1/forms/{FORM}/versions", headers=basic("xem_hue")).json
    stored = {v for (v,) in db_rows(web_site.data_dir, "SELECT version FROM form_versions WHERE form_id = ?", [FORM])}
    assert {v["version"] for v in versions} == stored
    extended = client.get(f"/v1/projects/1/forms/{FORM}", headers={**basic("xem_hue"), "X-Extended-Metadata": "true"})
    subtree_a = subtree(web_site.data_dir, UNIT_A)
    assert extended.json["submissions"] == len(current_roots(web_site.data_dir, FORM, subtree_a))
    assert client.get("/v1/projects/1/forms/khong_co", headers=basic("xem_hue")).status_code == 404
    assert client.get("/v1/projects", headers=basic("thu_ky")).status_code == 403


# --- 3. submissions ------------------------------------------------------------------------------

def test_submission_list_is_scoped(client, web_site):
    listed = client.get(f"/v1/projects/1/forms/{FORM}/submissions", headers=basic("xem_hue")).json
    expected = current_roots(web_site.data_dir, FORM, subtree(web_site.data_dir, UNIT_A))
    assert {s["instanceId"] for s in listed} == expected and expected
    everyone = client.get(f"/v1/projects/1/forms/{FORM}/submissions", headers=basic("admin")).json
    assert {s["instanceId"] for s in everyone} == current_roots(web_site.data_dir, FORM)


def test_edited_submission_keeps_its_first_instance_id(client, web_site):
    root = web_site.instance_ids[web_site.edited_root]
    current = web_site.instance_ids[web_site.edited]
    one = client.get(f"/v1/projects/1/forms/{FORM}/submissions/{root}", headers=basic("admin")).json
    assert one["instanceId"] == root and one["currentVersion"]["instanceId"] == current
    versions = client.get(f"/v1/projects/1/forms/{FORM}/submissions/{root}/versions", headers=basic("admin")).json
    assert [v["instanceId"] for v in versions] == [current, root]
    assert [v["current"] for v in versions] == [True, False]


def test_submission_outside_scope_is_unknown(client, web_site):
    b = web_site.instance_ids[web_site.by_unit[UNIT_B][0]]
    assert client.get(f"/v1/projects/1/forms/{FORM}/submissions/{b}", headers=basic("xem_hue")).status_code == 404
    assert client.get(f"/v1/projects/1/forms/{FORM}/submissions/{b}", headers=basic("xem_aluoi")).status_code == 200


def test_raw_xml_for_administrators_only_and_audited(web_copy):
    client = web_copy.app().test_client()
    sid = web_copy.by_unit[UNIT_A][0]
    iid = web_copy.instance_ids[sid]
    url = f"/v1/projects/1/forms/{FORM}/submissions/{iid}.xml"
    # the shared site may already hold views of this submission by other tests' accounts
    views = ("SELECT actor FROM audit_log WHERE action = 'submission.sensitive_view' AND target = ? "
             "ORDER BY id")
    before = db_rows(web_copy.data_dir, views, [iid])
    assert client.get(url, headers=basic("reporter")).status_code == 403
    response = client.get(url, headers=basic("admin"))
    assert response.status_code == 200
    assert response.data == db_rows(web_copy.data_dir, "SELECT xml FROM submission_xml WHERE submission_id = ?",
                                    [sid])[0][0]
    assert db_rows(web_copy.data_dir, views, [iid]) == before + [("admin",)]


def test_attachments_list_and_download(client, web_site):
    from web_site import PHOTO
    sid = web_site.photo_submission[UNIT_A]
    iid = web_site.instance_ids[sid]
    base = f"/v1/projects/1/forms/anh/submissions/{iid}/attachments"
    listed = client.get(base, headers=basic("xem_hue")).json
    assert listed == [{"name": f"anh-{UNIT_A}.jpg", "exists": True}]
    assert client.get(f"{base}/anh-{UNIT_A}.jpg", headers=basic("xem_hue")).data == PHOTO
    assert client.get(f"{base}/khong.jpg", headers=basic("xem_hue")).status_code == 404
    assert client.get(base, headers=basic("xem_aluoi")).status_code == 404


def _new_xml(web_site, unit: str) -> tuple[bytes, str]:
    xform = db_rows(web_site.data_dir, "SELECT xform FROM form_versions WHERE form_id = ? ORDER BY id DESC LIMIT 1",
                    [FORM])[0][0]
    import random
    iid = f"uuid:{uuid.uuid4()}"
    return fill_instance(xform, standard_answers(random.Random(5), unit, "huyen"), iid), iid


def test_post_goes_through_the_openrosa_rules(web_copy):
    client = web_copy.app().test_client()
    url = f"/v1/projects/1/forms/{FORM}/submissions"
    xml, iid = _new_xml(web_copy, UNIT_A)
    created = client.post(url, data=xml, content_type="application/xml", headers=basic("admin"))
    assert created.status_code == 200 and created.json["instanceId"] == iid
    assert db_rows(web_copy.data_dir, "SELECT channel, unit_code FROM submissions WHERE instance_id = ?",
                   [iid]) == [("other", UNIT_A)]
    # a collector's upload is an interview
    xml2, iid2 = _new_xml(web_copy, UNIT_A)
    assert client.post(url, data=xml2, content_type="application/xml", headers=basic("thu_ky")).status_code == 200
    assert db_rows(web_copy.data_dir, "SELECT channel FROM submissions WHERE instance_id = ?", [iid2]) == [("interview",)]
    # the same instanceID with other content: 409, nothing stored
    changed = xml.replace(b"<comment>", b"<comment>khac ")
    before = db_rows(web_copy.data_dir, "SELECT count(*) FROM submissions")
    if changed != xml:
        assert client.post(url, data=changed, content_type="application/xml", headers=basic("admin")).status_code == 409
    # a unit outside the account's scope: 403; a viewer may not submit; broken XML: 400
    xml_b, _ = _new_xml(web_copy, UNIT_B)
    assert client.post(url, data=xml_b, content_type="application/xml", headers=basic("admin_hue")).status_code == 403
    assert client.post(url, data=xml_b, content_type="application/xml", headers=basic("xem_hue")).status_code == 403
    assert client.post(url, data=b"<data", content_type="application/xml", headers=basic("admin")).status_code == 400
    assert client.post(url, data=xml_b, content_type="text/plain", headers=basic("admin")).status_code == 415
    assert client.post(url, data=b'<!DOCTYPE x [<!ENTITY a "b">]><data id="tthc_hailong"/>',
                       content_type="application/xml", headers=basic("admin")).status_code == 400
    assert db_rows(web_copy.data_dir, "SELECT count(*) FROM submissions") == before


def test_review_state_for_reporters_and_admins(web_copy):
    client = web_copy.app().test_client()
    sid = web_copy.by_unit[UNIT_A][1]
    iid = web_copy.instance_ids[sid]
    url = f"/v1/projects/1/forms/{FORM}/submissions/{iid}"
    assert client.patch(url, json={"reviewState": "approved"}, headers=basic("xem_hue")).status_code == 403
    assert client.patch(url, json={"reviewState": "bogus"}, headers=basic("reporter_hue")).status_code == 400
    done = client.patch(url, json={"reviewState": "hasIssues"}, headers=basic("reporter_hue"))
    assert done.status_code == 200 and done.json["reviewState"] == "hasIssues"
    assert db_rows(web_copy.data_dir, "SELECT review_state FROM submissions WHERE id = ?", [sid]) == [("hasIssues",)]
    assert db_rows(web_copy.data_dir, "SELECT actor FROM audit_log WHERE action = 'submission.review' AND target = ?",
                   [iid]) == [("reporter_hue",)]
    b = web_copy.instance_ids[web_copy.by_unit[UNIT_B][0]]
    assert client.patch(f"/v1/projects/1/forms/{FORM}/submissions/{b}", json={"reviewState": "approved"},
                        headers=basic("reporter_hue")).status_code == 404


# --- 4. OData ------------------------------------------------------------------------------------

def test_service_document(client):
    body = client.get(SVC, headers=basic("xem_hue")).json
    assert body["value"] == [{"name": "Submissions", "kind": "EntitySet", "url": "Submissions"}]
    assert body["@odata.context"].endswith(f"{SVC}/$metadata")


def _answers(data_dir, column: str) -> dict[str, str | None]:
    """root instanceID → the stored answer, for current submissions."""
    rows = db_rows(data_dir, f'SELECT r.instance_id, d."{column}" FROM "data:{FORM}" d JOIN submissions s '
                             f"ON s.id = d._submission_id JOIN submissions r ON r.id = s.root_id "
                             f"WHERE s.current = 1 AND s.deleted_at IS NULL")
    return dict(rows)


def test_viewer_of_474_gets_only_474(client, web_site):
    rows = all_pages(client, f"{SVC}/Submissions?$top=2", basic("xem_hue"))
    expected = current_roots(web_site.data_dir, FORM, subtree(web_site.data_dir, UNIT_A))
    assert [r["__id"] for r in rows] == sorted(expected, key=lambda i: -_sid(web_site, i))
    assert {r["__system"]["unit"] for r in rows} <= subtree(web_site.data_dir, UNIT_A)
    counted = client.get(f"{SVC}/Submissions?$count=true&$top=0", headers=basic("xem_hue")).json
    assert counted["@odata.count"] == len(expected) and counted["value"] == []


def _sid(web_site, root_iid: str) -> int:
    """The id of the current version of a chain (the feed's order: newest first)."""
    return db_rows(web_site.data_dir, "SELECT s.id FROM submissions s JOIN submissions r ON r.id = s.root_id "
                                      "WHERE r.instance_id = ? AND s.current = 1", [root_iid])[0][0]


def test_paging_covers_every_row_once_with_skip_and_orderby(client, web_site):
    everyone = current_roots(web_site.data_dir, FORM)
    keyset = all_pages(client, f"{SVC}/Submissions?$top=3", basic("admin"))
    assert len(keyset) == len(everyone) and {r["__id"] for r in keyset} == everyone
    ordered = all_pages(client, f"{SVC}/Submissions?$top=4&$orderby=__system/submissionDate asc", basic("admin"))
    dates = [r["__system"]["submissionDate"] for r in ordered]
    assert dates == sorted(dates) and {r["__id"] for r in ordered} == everyone
    skipped = client.get(f"{SVC}/Submissions?$skip=2", headers=basic("admin")).json["value"]
    assert [r["__id"] for r in skipped] == [r["__id"] for r in keyset][2:]


def test_filter_on_form_fields_and_system_fields(client, web_site):
    fees = _answers(web_site.data_dir, "main/procedure/proc_fees")
    units = _answers(web_site.data_dir, "main/unit")
    wanted = {i for i, v in fees.items() if v and float(v) >= 4 and units[i] == UNIT_B}
    got = client.get(f"{SVC}/Submissions?$filter=main/procedure/proc_fees ge 4 and main/unit eq '{UNIT_B}'",
                     headers=basic("admin")).json["value"]
    assert {r["__id"] for r in got} == wanted
    negated = client.get(f"{SVC}/Submissions?$filter=not (main/unit eq '{UNIT_B}') or __system/reviewState eq null",
                         headers=basic("admin")).json["value"]
    states = dict(db_rows(web_site.data_dir, "SELECT r.instance_id, s.review_state FROM submissions s JOIN submissions"
                                             " r ON r.id = s.root_id WHERE s.current = 1 AND s.form_id = ?", [FORM]))
    assert {r["__id"] for r in negated} == {i for i in units if units[i] != UNIT_B or states[i] == "received"}
    today = _answers(web_site.data_dir, "today")
    month = client.get(f"{SVC}/Submissions?$filter=month(today) eq 8 and year(today) ge 2026",
                       headers=basic("admin")).json["value"]
    assert {r["__id"] for r in month} == {i for i, d in today.items() if d and d[5:7] == "08" and d[:4] >= "2026"}
    dated = client.get(f"{SVC}/Submissions?$filter=today lt 2026-09-01", headers=basic("admin")).json["value"]
    assert {r["__id"] for r in dated} == {i for i, d in today.items() if d and d < "2026-09-01"}
    since = client.get(f"{SVC}/Submissions?$filter=__system/submissionDate ge 2000-01-01T00:00:00Z "
                       f"and __system/formVersion ne 'x'", headers=basic("admin")).json["value"]
    assert {r["__id"] for r in since} == current_roots(web_site.data_dir, FORM)


@pytest.mark.parametrize("expression, named", [
    ("substring(main/unit, 1) eq '4'", "substring(main/unit, 1)"),
    ("main/unit gt '4'", "main/unit gt '4'"),
    ("main/khong_co eq 1", "main/khong_co"),
    ("main/dossier_code eq 'HS-474-BI-MAT'", "main/dossier_code"),
    ("__system/edits eq 1", "__system/edits"),
    ("today eq 5", "today eq 5"),
])
def test_unsupported_filter_is_400_naming_the_clause(client, expression, named):
    response = client.get(f"{SVC}/Submissions", query_string={"$filter": expression}, headers=basic("admin"))
    assert response.status_code == 400
    assert named in response.json["message_en"] and named in response.json["message_vi"]


def test_broken_filter_and_parameters_are_400(client):
    for query in ({"$filter": "main/unit eq"}, {"$top": "-1"}, {"$skiptoken": "!!"}, {"$expand": "children"},
                  {"$bogus": "1"}, {"$orderby": "main/unit sideways"}):
        assert client.get(f"{SVC}/Submissions", query_string=query, headers=basic("admin")).status_code == 400, query
    assert client.get(f"{SVC}/Khong", headers=basic("admin")).status_code == 404


def test_identifiers_only_for_administrators_who_ask(web_copy):
    client = web_copy.app().test_client()
    plain = client.get(f"{SVC}/Submissions", headers=basic("admin")).json["value"]
    assert all(r["main"]["dossier_code"] is None for r in plain)
    assert client.get(f"{SVC}/Submissions?identifiers=1", headers=basic("reporter")).status_code == 403
    asked = client.get(f"{SVC}/Submissions?identifiers=1&$filter=__system/unit eq '{UNIT_A}'",
                       headers=basic("admin")).json["value"]
    codes = dict(db_rows(web_copy.data_dir, "SELECT r.instance_id, i.value FROM identifiers i JOIN submissions s ON "
                                            "s.id = i.submission_id JOIN submissions r ON r.id = s.root_id "
                                            "WHERE i.path = 'main/dossier_code' AND s.current = 1"))
    assert asked and all(r["main"]["dossier_code"] == codes.get(r["__id"]) for r in asked)
    assert any(r["main"]["dossier_code"] == f"HS-{UNIT_A}-BI-MAT" for r in asked)
    assert db_rows(web_copy.data_dir, "SELECT actor FROM audit_log WHERE action = 'odata.identifiers'") == [("admin",)]


def test_select_and_system_fields(client, web_site):
    rows = client.get(f"{SVC}/Submissions?$select=__id,main/unit,__system/channel", headers=basic("admin")).json["value"]
    assert rows and all(set(r) == {"__id", "main", "__system"} for r in rows)
    assert all(set(r["main"]) == {"unit"} and set(r["__system"]) == {"channel"} for r in rows)
    full = client.get(f"{SVC}/Submissions?$top=1", headers=basic("admin")).json["value"][0]
    assert set(full["__system"]) >= {"submissionDate", "updatedAt", "submitterId", "submitterName", "reviewState",
                                     "formVersion", "deviceId", "unit", "channel"}
    stored = db_rows(web_site.data_dir, "SELECT s.channel, s.unit_code, s.version, u.name FROM submissions s "
                                        "JOIN submissions r ON r.id = s.root_id LEFT JOIN users u ON u.id = "
                                        "s.submitter_id WHERE r.instance_id = ? AND s.current = 1", [full["__id"]])[0]
    system = full["__system"]
    assert (system["channel"], system["unit"], system["formVersion"], system["submitterName"]) == stored


# --- $metadata: strict checks of every field ---------------------------------------------------------

def _metadata(client, form_id: str) -> ET.Element:
    response = client.get(f"/v1/projects/1/forms/{form_id}.svc/$metadata", headers=basic("admin"))
    assert response.status_code == 200 and response.content_type.startswith("application/xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    return root


def _types(root: ET.Element) -> dict[str, ET.Element]:
    """Every entity, complex and enum type by its qualified name; every type a property names exists."""
    found = {}
    for schema in root.iter(f"{EDM}Schema"):
        for kind in ("EntityType", "ComplexType", "EnumType"):
            for t in schema.findall(f"{EDM}{kind}"):
                found[f"{schema.get('Namespace')}.{t.get('Name')}"] = t
    for t in found.values():
        for p in list(t.findall(f"{EDM}Property")) + list(t.findall(f"{EDM}NavigationProperty")):
            name = p.get("Type").removeprefix("Collection(").removesuffix(")")
            assert name.startswith("Edm.") or name in found, name
    return found


def _walk(types: dict, type_name: str, prefix: str = "") -> dict[str, str]:
    """path → Edm type of every property under a type, through complex types."""
    out = {}
    for p in types[type_name].findall(f"{EDM}Property"):
        kind = p.get("Type")
        path = prefix + p.get("Name")
        if kind in types and types[kind].tag == f"{EDM}ComplexType" and not kind.endswith(".metadata"):
            out.update(_walk(types, kind, path + "/"))
        else:
            out[path] = kind
    for p in types[type_name].findall(f"{EDM}NavigationProperty"):
        out[prefix + p.get("Name")] = p.get("Type")
    return out


def test_metadata_describes_every_field_of_the_standard_form(client, web_site):
    root = _metadata(client, FORM)
    types = _types(root)
    described = _walk(types, f"org.opendatakit.user.{FORM}.Submissions")
    fields = json.loads(db_rows(web_site.data_dir, "SELECT fields_json FROM form_versions WHERE form_id = ? "
                                                  "ORDER BY id DESC LIMIT 1", [FORM])[0][0])
    edm = {"int": "Edm.Int64", "decimal": "Edm.Decimal", "date": "Edm.Date", "dateTime": "Edm.DateTimeOffset"}
    leaves = {f["path"]: edm.get(f["type"], "Edm.String") for f in fields if f["type"] not in ("group", "repeat")}
    assert {k: v for k, v in described.items() if not k.startswith("__")} == leaves
    assert described["__id"] == "Edm.String" and described["__system"] == "org.opendatakit.submission.metadata"
    key = types[f"org.opendatakit.user.{FORM}.Submissions"].find(f"{EDM}Key/{EDM}PropertyRef")
    assert key.get("Name") == "__id"
    sets = [s.get("Name") for s in root.iter(f"{EDM}EntitySet")]
    assert sets == ["Submissions"]


DOUBLE = b"""<data xmlns:orx="http://openrosa.org/xforms" id="doubleRepeat" version="1.0">
<orx:meta><orx:instanceID>uuid:double-1</orx:instanceID></orx:meta><name>Vick</name>
<children><child><name>Alice</name></child>
<child><name>Bob</name><toys><toy><name>Twilight Sparkle</name></toy><toy><name>Pinkie Pie</name></toy></toys></child>
<child><name>Chelsea</name><toys><toy><name>Rainbow Dash</name></toy></toys></child></children></data>"""


@pytest.fixture(scope="module")
def nested(web_site, tmp_path_factory):
    site = web_site.copy(tmp_path_factory.mktemp("nested") / "site")
    assert cli(site.data_dir, "forms", "publish",
               str(ROOT / "tests/fixtures/odk/xform/central-doubleRepeat.form.xml")).exit_code == 0
    client = site.app().test_client()
    response = client.post("/v1/projects/1/forms/doubleRepeat/submissions", data=DOUBLE,
                           content_type="application/xml", headers=basic("admin"))
    assert response.status_code == 200, response.data
    return client


def test_nested_repeats_metadata(nested):
    root = _metadata(nested, "doubleRepeat")
    types = _types(root)
    ns = "org.opendatakit.user.doubleRepeat"
    assert _walk(types, f"{ns}.Submissions") == {
        "__id": "Edm.String", "__system": "org.opendatakit.submission.metadata", "meta/instanceID": "Edm.String",
        "name": "Edm.String", "children/child": f"Collection({ns}.Submissions.children.child)"}
    assert _walk(types, f"{ns}.Submissions.children.child") == {
        "__id": "Edm.String", "__Submissions-id": "Edm.String", "name": "Edm.String",
        "toys/toy": f"Collection({ns}.Submissions.children.child.toys.toy)"}
    assert _walk(types, f"{ns}.Submissions.children.child.toys.toy") == {
        "__id": "Edm.String", "__Submissions-children-child-id": "Edm.String", "name": "Edm.String"}
    sets = {s.get("Name"): s.get("EntityType") for s in root.iter(f"{EDM}EntitySet")}
    assert sets == {"Submissions": f"{ns}.Submissions",
                    "Submissions.children.child": f"{ns}.Submissions.children.child",
                    "Submissions.children.child.toys.toy": f"{ns}.Submissions.children.child.toys.toy"}
    service = nested.get("/v1/projects/1/forms/doubleRepeat.svc", headers=basic("admin")).json
    assert [v["name"] for v in service["value"]] == list(sets)


def test_nested_repeat_rows_link_by_join_keys(nested):
    svc = "/v1/projects/1/forms/doubleRepeat.svc"
    children = nested.get(f"{svc}/Submissions.children.child", headers=basic("admin")).json["value"]
    toys = nested.get(f"{svc}/Submissions.children.child.toys.toy", headers=basic("admin")).json["value"]
    assert [c["name"] for c in children] == ["Alice", "Bob", "Chelsea"]
    assert all(c["__Submissions-id"] == "uuid:double-1" for c in children)
    by_id = {c["__id"]: c["name"] for c in children}
    assert [(by_id[t["__Submissions-children-child-id"]], t["name"]) for t in toys] == [
        ("Bob", "Twilight Sparkle"), ("Bob", "Pinkie Pie"), ("Chelsea", "Rainbow Dash")]
    top = nested.get(f"{svc}/Submissions", headers=basic("admin")).json["value"][0]
    assert top["children"]["child@odata.navigationLink"] == "Submissions('uuid%3Adouble-1')/children/child"
    expanded = nested.get(f"{svc}/Submissions?$expand=*", headers=basic("admin")).json["value"][0]
    kids = expanded["children"]["child"]
    assert [k["name"] for k in kids] == ["Alice", "Bob", "Chelsea"]
    assert [[t["name"] for t in k["toys"]["toy"]] for k in kids] == [[], ["Twilight Sparkle", "Pinkie Pie"],
                                                                      ["Rainbow Dash"]]
    only_bob = nested.get(f"{svc}/Submissions.children.child?$filter=name eq 'Bob'", headers=basic("admin")).json
    assert [c["name"] for c in only_bob["value"]] == ["Bob"]


def test_dashboard_shows_the_feed_url(web_site):
    from web_site import signed_in
    client = signed_in(web_site.app(), "xem_hue")
    page = client.get(f"/dashboard/{FORM}").get_data(as_text=True)
    feed = f"http://localhost/v1/projects/1/forms/{FORM}.svc"
    assert feed in page
    # and it is the service root the feed itself names
    root = client.application.test_client().get(SVC, headers=basic("xem_hue")).json["@odata.context"]
    assert root == feed + "/$metadata"
