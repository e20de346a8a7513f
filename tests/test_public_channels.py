"""Citizens' channels without a browser: public links, kiosks and paper sheets (server/channels).

Submissions are posted as Web Forms posts them (multipart, `xml_submission_file`) to the
in-process app on a private copy of the web test site; one test runs the real gunicorn server
to show the rate limit is shared by its worker processes.
"""
from __future__ import annotations

import base64
import hashlib
import io
import random
import re
import uuid
from xml.etree.ElementTree import canonicalize

import pytest
import requests

import storage
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import LiveServer, cli
from storage import channels, forms, submissions
from web_site import login

FORM = "tthc_hailong"
HUE, ALUOI = "474", "481"


@pytest.fixture(scope="module")
def site(web_site, tmp_path_factory):
    """A private copy of the web site for this module; tests use their own units and codes."""
    return web_site.copy(tmp_path_factory.mktemp("channels") / "site")


@pytest.fixture(scope="module")
def app(site):
    return site.app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def db(site):
    handle = storage.connect(site.data_dir)
    yield handle
    handle.close()


@pytest.fixture(scope="module")
def xform(db):
    return forms.latest_version(db, FORM)["xform"]


def instance(xform: bytes, unit: str = HUE, level: str = "huyen", seed: int = 0, **changes) -> bytes:
    answers = standard_answers(random.Random(seed), unit, level)
    answers.update(changes)
    return fill_instance(xform, answers, f"uuid:{uuid.uuid4()}")


def post(client, url: str, xml: bytes, extra: dict | None = None, **kwargs):
    data = {"xml_submission_file": (io.BytesIO(xml), "xml_submission_file", "text/xml")}
    data.update(extra or {})
    return client.post(url, data=data, content_type="multipart/form-data", **kwargs)


def instance_id(xml: bytes) -> str:
    return re.search(rb"<instanceID>([^<]+)</instanceID>", xml).group(1).decode()


def stored(db, xml: bytes) -> dict | None:
    return submissions.get_submission(db, instance_id(xml))


# --- Web Forms' files ----------------------------------------------------------------------

def test_only_web_forms_and_vue_files_are_served(client):
    entry = client.get("/static/odk/web-forms/index.js")
    assert entry.status_code == 200 and entry.mimetype == "text/javascript"
    chunk = re.search(rb'from "\./(index-[A-Za-z0-9_-]+\.js)"', entry.data).group(1).decode()
    assert client.get(f"/static/odk/web-forms/{chunk}").status_code == 200
    assert client.get("/static/odk/vue/vue.esm-browser.prod.js").status_code == 200
    for path in ("/static/odk/web-forms/favicon.ico", "/static/odk/web-forms/index.d.ts",
                 "/static/odk/web-forms/..%2Fpackage.json", "/static/odk/vue/vue.global.js",
                 "/static/odk/web-forms/README.md"):
        assert client.get(path).status_code == 404, path


# --- public links --------------------------------------------------------------------------

def test_public_page_has_its_own_strict_csp(client):
    page = client.get(f"/f/{FORM}?unit={HUE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    import_map = re.search(r'<script type="importmap">(.*?)</script>', html).group(1)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    nonce = re.search(r'data-style-nonce="([^"]+)"', html).group(1)
    assert f"style-src 'self' 'nonce-{nonce}'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert "http" not in csp and "*" not in csp      # nothing from another origin
    assert page.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in page.headers
    # a new nonce for every response
    again = client.get(f"/f/{FORM}?unit={HUE}").get_data(as_text=True)
    assert re.search(r'data-style-nonce="([^"]+)"', again).group(1) != nonce
    assert "Thành phố Huế" in html and 'name="hl_website"' in html


def test_link_values_are_filled_into_the_form_but_never_consent(client, xform):
    served = client.get(f"/f/{FORM}/form.xml?unit={HUE}&dossier=000.00.24.H57-1").data
    data = served[served.index(b"<data "):served.index(b"</data>")]
    assert b"<unit>474</unit>" in data and b"<level>huyen</level>" in data
    assert b"<dossier_code>000.00.24.H57-1</dossier_code>" in data and b"<channel>online</channel>" in data
    assert b"<consent/>" in data
    # the channel question is not offered (the server stores the channel of the door)...
    channel_control = rb'<select1 ref="/data/main/channel">.*?</select1>'
    assert re.search(channel_control, xform) and not re.search(channel_control, served)
    # ...and everything else is the published form: same id, version, binds and body
    # (compared canonically: the served copy is re-serialised, '"' in a text may become &quot;)
    strip = lambda x: canonicalize(re.sub(channel_control, b"", re.sub(rb"<data .*?</data>", b"", x.split(b"?>", 1)[1],
                                                                       flags=re.S)).decode())
    assert strip(served) == strip(xform)
    plain = client.get(f"/f/{FORM}/form.xml").data
    assert b"<unit/>" in plain and b"<level/>" in plain and b"<channel>online</channel>" in plain


def test_the_form_opens_in_the_page_language(client, xform):
    def default_translation(body: bytes) -> list[bytes]:
        return re.findall(rb'<translation default="true\(\)" lang="([^"]+)"', body) + \
            re.findall(rb'<translation lang="([^"]+)" default="true\(\)"', body)
    assert default_translation(xform) == ["Tiếng Việt (vi)".encode()]
    assert default_translation(client.get(f"/f/{FORM}/form.xml?unit={HUE}").data) == ["Tiếng Việt (vi)".encode()]
    english = client.get(f"/f/{FORM}/form.xml?unit={HUE}&lang=en").data
    assert default_translation(english) == [b"English (en)"]
    assert b"<unit>474</unit>" in english          # the link's values are still filled in
    # a language the form lacks leaves its default alone
    assert default_translation(client.get(f"/f/{FORM}/form.xml?lang=fr").data) == ["Tiếng Việt (vi)".encode()]


def test_the_thank_you_page_offers_another_dossier_only_on_a_general_link(client):
    general = client.get(f"/f/{FORM}/thanks?unit={HUE}").get_data(as_text=True)
    assert "Cảm ơn Ông/Bà!" in general and 'id="hl-form"' not in general
    assert f'href="/f/{FORM}?unit={HUE}"' in general and "Trả lời cho hồ sơ khác" in general
    code = "000.00.24.H57-261224-0009"
    receipt = client.get(f"/f/{FORM}/thanks?unit={HUE}&dossier={code}").get_data(as_text=True)
    assert code in receipt and "Trả lời cho hồ sơ khác" not in receipt and 'id="answer-again"' not in receipt
    english = client.get(f"/f/{FORM}/thanks?unit={HUE}&lang=en").get_data(as_text=True)
    assert "Thank you!" in english and f'href="/f/{FORM}?unit={HUE}&amp;lang=en"' in english
    # the form page hands its thank-you address to the script
    assert f'data-thanks-url="/f/{FORM}/thanks?unit={HUE}"' in client.get(f"/f/{FORM}?unit={HUE}").get_data(as_text=True)


def test_the_kiosk_service_worker_is_served_under_kiosk(client):
    worker = client.get("/kiosk/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"          # a new version reaches kiosks at once
    assert b"addEventListener('fetch'" in worker.data
    # not taken for a unit code: an unknown unit is still refused
    assert client.get("/kiosk/sw.json").status_code == 404


def test_public_page_errors_are_clear(client, site):
    assert "Không tìm thấy phiếu khảo sát" in client.get("/f/khong_co").get_data(as_text=True)
    missing_unit = client.get(f"/f/{FORM}?unit=999999")
    assert missing_unit.status_code == 404 and "Không tìm thấy đơn vị" in missing_unit.get_data(as_text=True)
    bad_code = client.get(f"/f/{FORM}?unit={HUE}&dossier=<script>")
    assert bad_code.status_code == 400 and "Mã hồ sơ" in bad_code.get_data(as_text=True)
    assert client.get(f"/f/{FORM}?unit={HUE}&lang=en").get_data(as_text=True).count("Agency handling the dossier") == 1


def test_online_answer_is_stored_like_collects(client, db, xform):
    xml = instance(xform, seed=1, **{"main/comment": "Rất tốt & nhanh <gọn>"})
    before = submissions.count_submissions(db)
    answer = post(client, f"/f/{FORM}/submission?unit={HUE}", xml)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["message"] == "Cảm ơn Ông/Bà! Phiếu khảo sát đã được ghi nhận."
    row = stored(db, xml)
    assert (row["channel"], row["unit_code"], row["submitter_id"], row["form_id"]) == ("online", HUE, None, FORM)
    assert submissions.get_xml(db, row["id"]) == xml
    assert submissions.answers(db, FORM, row["id"])["main/comment"] == "Rất tốt & nhanh <gọn>"
    # a resend after a timeout: acknowledged, not stored twice
    assert post(client, f"/f/{FORM}/submission?unit={HUE}", xml).get_json()["outcome"] == "resent"
    changed = xml.replace(b"nhanh", b"cham")
    conflict = post(client, f"/f/{FORM}/submission?unit={HUE}", changed)
    assert conflict.status_code == 409 and "nội dung khác" in conflict.get_json()["message"]
    assert submissions.count_submissions(db) == before + 1


def test_a_declined_consent_counts_for_the_links_unit(client, db, xform):
    xml = fill_instance(xform, {"consent": "no", "start": "2026-12-01T09:00:00.000+07:00"}, f"uuid:{uuid.uuid4()}")
    assert post(client, f"/f/{FORM}/submission?unit={ALUOI}", xml).status_code == 201
    assert stored(db, xml)["unit_code"] == ALUOI
    anonymous = fill_instance(xform, {"consent": "no"}, f"uuid:{uuid.uuid4()}")
    assert post(client, f"/f/{FORM}/submission", anonymous).status_code == 201
    assert stored(db, anonymous)["unit_code"] is None


def test_an_answer_outside_the_links_unit_is_refused(client, db, xform):
    xml = instance(xform, unit="46", level="tinh", seed=2)
    answer = post(client, f"/f/{FORM}/submission?unit={HUE}", xml)
    assert answer.status_code == 403 and "không thuộc phạm vi" in answer.get_json()["message"]
    assert stored(db, xml) is None
    other_form = fill_instance(forms.latest_version(db, "anh")["xform"], {"unit": HUE}, f"uuid:{uuid.uuid4()}")
    assert post(client, f"/f/{FORM}/submission?unit={HUE}", other_form).get_json()["outcome"] == "wrong_form"


def test_one_answer_per_dossier_code(client, db, xform):
    code = "000.00.24.H57-261201-0007"
    first = instance(xform, seed=3, **{"main/dossier_code": code})
    url = f"/f/{FORM}/submission?unit={HUE}&dossier={code}"
    assert post(client, url, first).status_code == 201
    assert post(client, url, first).status_code == 201          # the same answer again is fine
    second = instance(xform, seed=4, **{"main/dossier_code": code})
    refused = post(client, url, second)
    assert refused.status_code == 409
    assert refused.get_json()["message"].startswith(f"Hồ sơ {code} đã được đánh giá trước đây")
    assert stored(db, second) is None
    # typed into the form through a link without the code, the rule holds all the same
    assert post(client, f"/f/{FORM}/submission?unit={HUE}", second).get_json()["outcome"] == "dossier_answered"
    page = client.get(f"/f/{FORM}?unit={HUE}&dossier={code}")
    assert page.status_code == 200 and "đã được đánh giá" in page.get_data(as_text=True)
    assert "hl-form" not in page.get_data(as_text=True)
    # the code is an identifier: kept apart from the answers
    row = stored(db, first)
    # (the empty `respondent` element of the test instance names no one, so it has no row)
    assert submissions.identifiers(db, row["id"]) == {"main/dossier_code": code}
    assert "main/dossier_code" not in submissions.answers(db, FORM, row["id"])


def test_honeypot_filled_in_stores_nothing(client, db, xform):
    xml = instance(xform, seed=5)
    answer = post(client, f"/f/{FORM}/submission?unit={HUE}", xml, {"hl_website": "http://spam.example"})
    assert answer.status_code == 400 and "chống thư rác" in answer.get_json()["message"]
    assert stored(db, xml) is None
    assert post(client, f"/f/{FORM}/submission?unit={HUE}", xml, {"hl_website": ""}).status_code == 201


def test_closed_form_says_the_survey_ended(site, xform):
    copy = site.copy(site.data_dir.parent / "closed")
    app = copy.app()
    assert cli(copy.data_dir, "forms", "close", FORM).exit_code == 0
    client = app.test_client()
    page = client.get(f"/f/{FORM}?unit={HUE}")
    assert page.status_code == 410 and "đã kết thúc" in page.get_data(as_text=True)
    answer = post(client, f"/f/{FORM}/submission?unit={HUE}", instance(xform, seed=6))
    assert answer.status_code == 410 and "đã kết thúc" in answer.get_json()["message"]


def test_rate_limits_per_address_and_per_link(site, xform):
    app = site.app(PUBLIC_RATE_PER_IP=2, PUBLIC_RATE_PER_LINK=3, PUBLIC_RATE_WINDOW_SECONDS=3600)
    client = app.test_client()
    db = storage.connect(site.data_dir)
    unit = "482"        # a link no other test uses, so its count starts here
    url = f"/f/{FORM}/submission?unit={unit}"
    one = {"REMOTE_ADDR": "203.0.113.7"}
    for seed in (10, 11):
        assert post(client, url, instance(xform, unit, seed=seed), environ_base=one).status_code == 201
    third = instance(xform, unit, seed=12)
    limited = post(client, url, third, environ_base=one)
    assert limited.status_code == 429
    assert limited.get_json()["message"].startswith("Có quá nhiều phiếu được gửi từ cùng một địa chỉ mạng")
    assert int(limited.headers["Retry-After"]) >= 60
    assert stored(db, third) is None
    # another address on the same link (the refused request did not count for it): the link's
    # own limit (3) is reached next
    other = {"REMOTE_ADDR": "203.0.113.8"}
    assert post(client, url, third, environ_base=other).status_code == 201
    fourth = instance(xform, unit, seed=13)
    by_link = post(client, url, fourth, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert by_link.status_code == 429 and "Đường dẫn khảo sát này" in by_link.get_json()["message"]
    assert stored(db, fourth) is None
    # another link is counted on its own
    assert post(client, f"/f/{FORM}/submission?unit=480", instance(xform, "480", seed=14),
                environ_base={"REMOTE_ADDR": "203.0.113.10"}).status_code == 201
    db.close()


def test_rate_limit_is_shared_by_the_server_processes(site, xform, tmp_path):
    copy = site.copy(tmp_path / "live")
    fresh = storage.connect(copy.data_dir)
    fresh.execute("DELETE FROM public_rate_counts")    # the other tests' counts stay behind
    fresh.close()
    server = LiveServer(copy.data_dir, env={"PUBLIC_RATE_PER_IP": "3", "PUBLIC_RATE_PER_LINK": "0"}).start()
    try:
        statuses = []
        for seed in range(6):
            files = {"xml_submission_file": ("xml_submission_file", instance(xform, seed=20 + seed), "text/xml")}
            # a new connection each time, so both gunicorn workers take requests
            statuses.append(requests.post(f"{server.url}/f/{FORM}/submission?unit={HUE}", files=files,
                                          headers={"Connection": "close"}, timeout=10).status_code)
    finally:
        server.stop()
    assert statuses == [201, 201, 201, 429, 429, 429]


# --- kiosks --------------------------------------------------------------------------------

def make_kiosk(site, name: str, unit: str) -> str:
    result = cli(site.data_dir, "kiosks", "create", name, "--unit", unit, "--server-url", "http://srv")
    assert result.exit_code == 0, result.output
    return re.search(r"kiosk code \(shown once\): (\S+)", result.output).group(1)


def test_kiosk_is_bound_to_a_registered_device(app, site, db, xform):
    token = make_kiosk(site, "ki_aluoi", ALUOI)
    client = app.test_client()
    first = client.get(f"/kiosk/{ALUOI}")
    assert first.status_code == 200 and "Kích hoạt ki-ốt" in first.get_data(as_text=True)
    assert client.post(f"/kiosk/{ALUOI}/activate", data={"token": "sai"}).status_code == 403
    assert client.post(f"/kiosk/{HUE}/activate", data={"token": token}).status_code == 403   # another unit's
    assert client.post(f"/kiosk/{ALUOI}/activate", data={"token": token},
                       headers={"Origin": "http://evil.example"}).status_code == 403
    activated = client.post(f"/kiosk/{ALUOI}/activate", data={"token": token})
    assert activated.status_code == 302
    cookie = activated.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/kiosk" in cookie
    page = client.get(f"/kiosk/{ALUOI}")
    assert page.status_code == 200 and 'data-device-id="kiosk:ki_aluoi"' in page.get_data(as_text=True)
    assert "'wasm-unsafe-eval'" in page.headers["Content-Security-Policy"]
    assert b"<channel>kiosk</channel>" in client.get(f"/kiosk/{ALUOI}/form.xml").data

    xml = instance(xform, ALUOI, seed=30)
    assert post(client, f"/kiosk/{ALUOI}/submission", xml).status_code == 400       # no kiosk header
    answer = post(client, f"/kiosk/{ALUOI}/submission", xml, headers={"X-Hailong-Kiosk": "1"})
    assert answer.status_code == 201
    row = stored(db, xml)
    assert (row["channel"], row["unit_code"], row["device_id"], row["submitter_id"]) == (
        "kiosk", ALUOI, "kiosk:ki_aluoi", None)
    assert submissions.get_xml(db, row["id"]) == xml
    # a queued resend after the network came back: acknowledged, not stored twice
    assert post(client, f"/kiosk/{ALUOI}/submission", xml, headers={"X-Hailong-Kiosk": "1"}).status_code == 201
    assert channels.kiosk_by_name(db, "ki_aluoi")["last_seen_at"] is not None
    # without the device cookie nothing is accepted
    anonymous = app.test_client()
    refused = post(anonymous, f"/kiosk/{ALUOI}/submission", instance(xform, ALUOI, seed=31),
                   headers={"X-Hailong-Kiosk": "1"})
    assert refused.status_code == 403 and "chưa được đăng ký" in refused.get_json()["message"]

    assert cli(site.data_dir, "kiosks", "revoke", "ki_aluoi").exit_code == 0
    late = instance(xform, ALUOI, seed=32)
    assert post(client, f"/kiosk/{ALUOI}/submission", late, headers={"X-Hailong-Kiosk": "1"}).status_code == 403
    assert stored(db, late) is None
    assert "Kích hoạt ki-ốt" in client.get(f"/kiosk/{ALUOI}").get_data(as_text=True)


def test_kiosks_command(site):
    assert cli(site.data_dir, "kiosks", "create", "ki_x", "--unit", "999").exit_code == 1
    make_kiosk(site, "ki_list", HUE)
    assert cli(site.data_dir, "kiosks", "create", "ki_list", "--unit", HUE).exit_code == 1
    listing = cli(site.data_dir, "kiosks", "list").output
    assert "ki_list\t474\ttthc_hailong" in listing
    assert cli(site.data_dir, "kiosks", "revoke", "khong_co").exit_code == 1


def test_administrators_register_and_revoke_kiosks_on_a_page(app, db):
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    from web_site import post as form_post
    created = form_post(client, "/channels/kiosks", {"name": "ki_trang", "unit": HUE, "form": FORM})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "Mã ki-ốt chỉ hiện một lần" in html
    token = re.search(r'id="kiosk-token" class="mono" value="([^"]+)"', html).group(1)
    assert channels.kiosk_by_name(db, "ki_trang")["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in client.get("/channels/kiosks").get_data(as_text=True)
    assert form_post(client, "/channels/kiosks/ki_trang/revoke", {"confirm": "yes"}).status_code == 302
    assert channels.kiosk_by_name(db, "ki_trang")["revoked_at"] is not None
    reporter = app.test_client()
    login(reporter, "reporter")
    assert reporter.get("/channels/kiosks").status_code == 403
    assert reporter.get("/channels/").status_code == 200


# --- links and QR codes for staff --------------------------------------------------------------

def test_staff_make_links_posters_and_receipt_qr_codes(app):
    client = app.test_client()
    login(client, "reporter_hue")
    page = client.get(f"/channels/?form={FORM}&unit={HUE}&dossier=HS-9")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"http://localhost/f/{FORM}?unit={HUE}&amp;dossier=HS-9" in html and "data:image/png;base64," in html
    assert client.get(f"/channels/?form={FORM}&unit={ALUOI}").status_code == 404    # outside the scope
    poster = client.get(f"/channels/poster?form={FORM}&unit={HUE}")
    assert poster.status_code == 200 and "Quét mã QR" in poster.get_data(as_text=True)
    png = client.get(f"/channels/qr.png?form={FORM}&unit={HUE}&dossier=HS-9")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    viewer = app.test_client()
    login(viewer, "xem_hue")
    assert viewer.get("/channels/").status_code == 403
    assert app.test_client().get("/channels/qr.png").status_code == 302      # to the login page


# --- paper ---------------------------------------------------------------------------------

def entry_url(sheet: int) -> str:
    return f"/channels/paper/{FORM}/entry/{sheet}/submission"


def csrf_headers(client) -> dict:
    from web_site import csrf_token
    return {"X-CSRF-Token": csrf_token(client)}


def print_run(client, unit: str | None, count: int) -> int:
    from web_site import post as form_post
    made = form_post(client, "/channels/paper/print", {"form": FORM, "unit": unit or "", "count": str(count)})
    assert made.status_code == 302, made.get_data(as_text=True)
    return int(made.headers["Location"].rsplit("/", 1)[1])


def test_print_runs_number_sheets_once_and_print_the_form(app, db):
    client = app.test_client()
    login(client, "reporter")
    first = channels.get_print(db, print_run(client, HUE, 3))
    second = channels.get_print(db, print_run(client, None, 2))
    assert second["first_sheet"] == first["first_sheet"] + 3 and second["sheet_count"] == 2
    sheets = client.get(f"/channels/paper/prints/{first['id']}")
    html = sheets.get_data(as_text=True)
    assert sheets.status_code == 200
    numbers = [f"{n:06d}" for n in range(first["first_sheet"], first["first_sheet"] + 3)]
    assert all(f"<strong>{n}</strong>" in html for n in numbers)
    assert html.count('<section class="sheet"') == 3
    assert "tthc_hailong" in html and first["version"] in html
    assert html.count("<table class=\"grid\">") == 3 * 3          # a scale table per criterion
    assert html.count('<span class="box"></span>') >= 3 * 15 * 6
    # each scale table: the five grades by their words, a gap, then "no opinion" in its own column
    head = re.search(r'<table class="grid">\s*<thead><tr>(.*?)</tr></thead>', html, re.S).group(1)
    cells = re.findall(r'<t([hd])[^>]*?(?: class="(\w+)")?>([^<]*)</t[hd]>', head)
    assert [text for _, _, text in cells] == ["", "Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng",
                                              "Rất không hài lòng", "", "Không ý kiến / không áp dụng"]
    assert [kind for _, kind, _ in cells][-2:] == ["gap", "apart"]
    assert html.count('<td class="apart"><span class="box"></span></td>') == 3 * 15
    assert "Thành phố Huế (474)" in html and "Hình thức khảo sát" not in html   # channel is paper
    assert "Ông/Bà có đồng ý tham gia khảo sát không?" in html
    viewer = app.test_client()
    login(viewer, "xem_hue")
    assert viewer.get(f"/channels/paper/prints/{first['id']}").status_code == 403


def test_paper_entry_records_the_sheet_and_flags_a_different_second_entry(app, db, xform):
    client = app.test_client()
    login(client, "reporter")
    run = channels.get_print(db, print_run(client, HUE, 2))
    sheet = run["first_sheet"]
    page = client.get(f"/channels/paper/{FORM}/entry?sheet={sheet}")
    assert page.status_code == 200 and "'wasm-unsafe-eval'" in page.headers["Content-Security-Policy"]
    assert b"<channel>paper</channel>" in client.get(f"/channels/paper/{FORM}/entry/{sheet}/form.xml").data

    assert post(client, entry_url(sheet), instance(xform, seed=40)).status_code == 400    # no CSRF token
    first = instance(xform, seed=40, **{"main/channel": ""})
    made = post(client, entry_url(sheet), first, headers=csrf_headers(client))
    assert made.status_code == 201 and made.get_json()["message"] == f"Đã lưu phiếu giấy số {sheet}."
    row = stored(db, first)
    reporter_id = db.execute("SELECT id FROM users WHERE name = 'reporter'").fetchone()[0]
    assert (row["channel"], row["unit_code"], row["submitter_id"]) == ("paper", HUE, reporter_id)
    assert channels.sheet_entry(db, FORM, sheet)["submission_id"] == row["id"]
    count = submissions.count_submissions(db)

    # the same sheet typed again: other instanceID and times, same answers -> nothing stored
    same = instance(xform, seed=40, **{"main/channel": "", "start": "2026-12-24T08:00:00.000+07:00",
                                       "end": "2026-12-24T08:04:00.000+07:00", "today": "2026-12-24"})
    again = post(client, entry_url(sheet), same, headers=csrf_headers(client))
    assert again.status_code == 200 and "không lưu thêm" in again.get_json()["message"]
    assert submissions.count_submissions(db) == count
    assert not channels.conflicts(db, form_id=FORM, sheet_no=sheet)

    # typed again with a different answer -> flagged, not counted
    polite = standard_answers(random.Random(40), HUE, "huyen")["main/staff/staff_polite"]
    different = instance(xform, seed=40, **{"main/channel": "", "main/staff/staff_polite": "1" if polite != "1" else "2"})
    flagged = post(client, entry_url(sheet), different, headers=csrf_headers(client))
    assert flagged.status_code == 202
    assert "Công chức có thái độ lịch sự, tôn trọng" in flagged.get_json()["message"]
    assert submissions.count_submissions(db) == count and stored(db, different) is None
    conflict = channels.conflicts(db, form_id=FORM, sheet_no=sheet)[0]
    assert conflict["differences"] == ["main/staff/staff_polite"] and conflict["submission_id"] == row["id"]
    assert channels.conflict_xml(db, conflict["id"]) == different
    assert stored(db, first)["review_state"] == "hasIssues"
    shown = client.get(f"/channels/paper/{FORM}/entry?sheet={sheet}").get_data(as_text=True)
    assert 'id="sheet-conflicts"' in shown and "Công chức có thái độ lịch sự, tôn trọng" in shown
    listing = client.get("/channels/paper/conflicts").get_data(as_text=True)
    assert f"{sheet:06d}" in listing and "Cần xem xét" in listing
    from web_site import post as form_post
    assert form_post(client, f"/channels/paper/conflicts/{conflict['id']}/resolve", {"note": "Đã đối chiếu"}).status_code == 302
    assert channels.conflicts(db, form_id=FORM, sheet_no=sheet)[0]["resolved_by"] == "reporter"


def test_paper_entry_refusals(app, db, xform):
    client = app.test_client()
    login(client, "reporter_hue")
    run = channels.get_print(db, print_run(client, HUE, 1))
    sheet = run["first_sheet"]
    unknown = post(client, entry_url(99999), instance(xform, seed=50), headers=csrf_headers(client))
    assert unknown.status_code == 404 and "không có trong các lần in" in unknown.get_json()["message"]
    old = instance(xform, seed=50).replace(run["version"].encode(), b"1999")
    assert post(client, entry_url(sheet), old, headers=csrf_headers(client)).get_json()["outcome"] == "paper_wrong_version"
    # refused by receive(): a unit outside the clerk's scope; the sheet stays free
    outside = instance(xform, ALUOI, seed=51)
    refused = post(client, entry_url(sheet), outside, headers=csrf_headers(client))
    assert refused.status_code == 403 and stored(db, outside) is None
    assert channels.sheet_entry(db, FORM, sheet) is None
    assert post(client, entry_url(sheet), instance(xform, seed=52), headers=csrf_headers(client)).status_code == 201
    designer = app.test_client()
    login(designer, "designer")
    assert designer.get(f"/channels/paper/{FORM}/entry").status_code == 403


def test_a_claim_left_by_a_crash_is_taken_over(app, db, xform):
    client = app.test_client()
    login(client, "reporter")
    sheet = channels.get_print(db, print_run(client, HUE, 1))["first_sheet"]
    channels.claim_sheet(db, FORM, sheet, "uuid:never-stored", "reporter")    # the process died here
    xml = instance(xform, seed=60)
    assert post(client, entry_url(sheet), xml, headers=csrf_headers(client)).status_code == 201
    assert channels.sheet_entry(db, FORM, sheet)["instance_id"] == instance_id(xml)


def test_sheet_layout_of_the_standard_form(db):
    from server.channels.sheet import sheet_items
    version = forms.latest_version(db, FORM)
    items = sheet_items(version, unit={"code": HUE, "name_vi": "Thành phố Huế", "level": "huyen"})
    kinds = [i.kind for i in items]
    grids = [i for i in items if i.kind == "grid"]
    assert [len(g.rows) for g in grids] == [5, 5, 5]
    assert [value for value, _ in grids[0].choices] == ["5", "4", "3", "2", "1", "0"]
    # "no opinion" is outside the form's scale: printed apart from the five grades
    assert all(g.apart == ("0",) for g in grids)
    paths = {i.path for i in items} | {r.path for g in grids for r in g.rows}
    assert "main/channel" not in paths and "start" not in paths and "consent_declined" not in paths
    # a surveyor's respondent list has no place on paper: neither the pick, nor its outcome,
    # nor what only a pick fills in
    assert not {"respondent", "contact_outcome", "main/procedure_name"} & paths
    assert kinds[0] == "note" and items[1].path == "consent"
    level = next(i for i in items if i.path == "main/level")
    assert level.prefilled == "huyen"
    assert next(i for i in items if i.path == "main/unit").prefilled == "Thành phố Huế (474)"
