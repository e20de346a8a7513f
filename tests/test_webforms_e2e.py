"""Citizens' channels end to end in headless Chromium (Debian's) against a real gunicorn server.

A citizen answers the standard questionnaire through ODK Web Forms on a public link; at a kiosk
the form starts again after each answer and after a minute without a touch (shortened here),
and answers sent while the network is down wait in the browser until it returns; a clerk enters
a paper sheet, then enters it again differently and sees it flagged; the rate limit answers
with a clear message. Every test checks that the page fetched nothing from another origin and
logged no error. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import storage
from tests.harness.requirements import chromium_path
from tests.harness.site import PASSWORD, ROOT, LiveServer, cli, create_password_user, seed
from storage import channels, submissions

CHROMIUM = Path(chromium_path() or "/usr/bin/chromium")     # CHROMIUM=… chooses another
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's Chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
ARTIFACTS = ROOT / "test-artifacts"
expect = pytest.importorskip("playwright.sync_api").expect

FORM = "tthc_hailong"
IDLE_SECONDS = 4

# The submission as the browser hands it to fetch(), recorded before it leaves the page, so the
# test can compare it byte for byte with what the server stored. (Chromium does not expose a
# multipart body holding files to Playwright's request events.) Kept in sessionStorage: the
# public link goes on to its thank-you page once the answer is stored.
RECORD_SENT_XML = """
(() => {
  const send = window.fetch;
  window.fetch = async function (input, init) {
    const body = init && init.body;
    if (body instanceof FormData && body.get('xml_submission_file')) {
      const bytes = new Uint8Array(await body.get('xml_submission_file').arrayBuffer());
      let text = '';
      for (const b of bytes) text += String.fromCharCode(b);
      const sent = JSON.parse(sessionStorage.getItem('__sentXml') || '[]');
      sent.push(btoa(text));
      sessionStorage.setItem('__sentXml', JSON.stringify(sent));
    }
    return send.apply(this, arguments);
  };
})();
"""

LIKERT = ["Thủ tục hành chính được niêm yết công khai, đầy đủ", "Thành phần hồ sơ phải nộp đúng như niêm yết",
          "Phí, lệ phí phải nộp đúng quy định", "Số lần phải đi lại để hoàn thiện hồ sơ là hợp lý",
          "Mức độ hài lòng chung về thủ tục hành chính", "Công chức có thái độ lịch sự, tôn trọng",
          "Công chức hướng dẫn đầy đủ, dễ hiểu", "Công chức không gây phiền hà, nhũng nhiễu",
          "Công chức giải quyết công việc đúng quy định", "Mức độ hài lòng chung về sự phục vụ của công chức",
          "Kết quả được trả đúng hẹn", "Kết quả đúng quy định, thông tin chính xác",
          "Nếu trễ hẹn, Ông/Bà được xin lỗi và hẹn lại", "Góp ý, phản ánh của Ông/Bà được tiếp thu, giải trình",
          "Mức độ hài lòng chung về kết quả giải quyết"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("webforms")
    seed(data_dir)
    create_password_user(data_dir, "bao_cao", "reporter")
    server = LiveServer(data_dir, env={"KIOSK_IDLE_SECONDS": str(IDLE_SECONDS), "KIOSK_RETRY_SECONDS": "2"}).start()
    yield server
    server.stop()


@pytest.fixture
def db(live):
    handle = storage.connect(live.data_dir)
    yield handle
    handle.close()


class Watch:
    """What a page did that it should not: requests elsewhere, console errors, uncaught errors."""

    def __init__(self, context, origin: str):
        self.origin = origin
        self.foreign: list[str] = []
        self.errors: list[str] = []
        context.on("request", self._request)
        context.on("page", self._page)      # every page of the context, new_page() included

    def _page(self, page):
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)

    def check(self, allowed: tuple[str, ...] = ()):
        assert self.foreign == [], f"requests to another origin: {self.foreign}"
        unexpected = [e for e in self.errors if not any(a in e for a in allowed)]
        assert unexpected == [], f"console errors: {unexpected}"


@pytest.fixture
def watched(context, live):
    context.add_init_script(RECORD_SENT_XML)
    watch = Watch(context, live.url)
    return context.new_page(), watch


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"webforms-{name}.png"), full_page=True)


def question(page, text: str):
    return page.locator(".question-container").filter(has=page.locator("label", has_text=text)).first


def choose(page, text: str, option: str) -> None:
    question(page, text).get_by_label(option, exact=True).check()


def consent(page):
    return page.get_by_label("Đồng ý", exact=True)


def fill_standard(page, rating: str = "Hài lòng", comment: str | None = None) -> None:
    """Answer every required question of the standard form (unit and level come from the link)."""
    expect(page.get_by_text("Ông/Bà có đồng ý tham gia khảo sát không?")).to_be_visible(timeout=20000)
    consent(page).check()
    choose(page, "Ông/Bà là:", "Cá nhân")
    choose(page, "Lĩnh vực thủ tục hành chính", "Đất đai")
    for text in LIKERT:
        choose(page, text, rating)
    if comment is not None:
        question(page, "Ông/Bà có góp ý gì").locator("textarea, input").first.fill(comment)


def send(page) -> None:
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()


def sent_xml(page) -> list[bytes]:
    return [base64.b64decode(x) for x in page.evaluate("JSON.parse(sessionStorage.getItem('__sentXml') || '[]')")]


def instance_id(xml: bytes) -> str:
    return re.search(rb"<instanceID>([^<]+)</instanceID>", xml).group(1).decode()


def test_public_link_answer_is_stored_as_sent_with_channel_online(watched, live, db):
    page, watch = watched
    page.goto(f"{live.url}/f/{FORM}?unit=474")
    expect(page.get_by_text("Cơ quan giải quyết hồ sơ: Thành phố Huế")).to_be_visible()
    fill_standard(page, comment="Cán bộ nhiệt tình & chu đáo <rất tốt>")
    # unit and level arrive filled in from the link; consent was the citizen's own choice
    expect(question(page, "Cấp của cơ quan giải quyết hồ sơ").get_by_label("Cấp huyện", exact=True)).to_be_checked()
    # the server records the channel; the citizen is not asked it (issue 12)
    expect(page.get_by_text("Hình thức khảo sát")).to_have_count(0)
    shot(page, "1-public-filled")
    send(page)
    # a thank-you page, not the form again; a poster's link offers a fresh start for another dossier
    expect(page.get_by_role("heading", name="Cảm ơn Ông/Bà!")).to_be_visible()
    assert urlsplit(page.url).path == f"/f/{FORM}/thanks"
    expect(page.locator("#hl-form")).to_have_count(0)
    expect(page.get_by_role("link", name="Trả lời cho hồ sơ khác")).to_have_attribute("href", f"/f/{FORM}?unit=474")
    shot(page, "2-public-sent")

    [xml] = sent_xml(page)
    row = submissions.get_submission(db, instance_id(xml))
    assert row is not None
    assert (row["channel"], row["unit_code"], row["form_id"], row["submitter_id"]) == ("online", "474", FORM, None)
    assert submissions.get_xml(db, row["id"]) == xml        # byte for byte what the browser sent
    answers = submissions.answers(db, FORM, row["id"])
    assert answers["consent"] == "yes" and answers["main/staff/staff_polite"] == "4"
    assert answers["main/comment"] == "Cán bộ nhiệt tình & chu đáo <rất tốt>"
    watch.check()


def test_a_dossier_receipt_link_is_answered_once(watched, live, db):
    page, watch = watched
    code = "000.00.24.H57-261224-0001"
    page.goto(f"{live.url}/f/{FORM}?unit=474&dossier={code}")
    fill_standard(page)
    expect(page.get_by_label("Mã hồ sơ (nếu có)")).to_have_value(code)
    send(page)
    expect(page.get_by_role("heading", name="Cảm ơn Ông/Bà!")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Hồ sơ {code} đã được đánh giá")
    # nothing left to answer for this dossier, and no link to answer it again
    expect(page.locator("#hl-form")).to_have_count(0)
    expect(page.get_by_role("link", name="Trả lời cho hồ sơ khác")).to_have_count(0)
    [xml] = sent_xml(page)
    row = submissions.get_submission(db, instance_id(xml))
    assert submissions.identifiers(db, row["id"]) == {"main/dossier_code": code}
    page.goto(f"{live.url}/f/{FORM}?unit=474&dossier={code}")
    expect(page.locator("main")).to_contain_text(f"Hồ sơ {code} đã được đánh giá")
    watch.check()


def kiosk_page(page, live, name: str, unit: str = "474"):
    result = cli(live.data_dir, "kiosks", "create", name, "--unit", unit, "--server-url", live.url)
    assert result.exit_code == 0, result.output
    activation = re.search(r"activation link: (\S+)", result.output).group(1)
    page.goto(activation)
    expect(page.get_by_label("Mã ki-ốt")).not_to_have_value("")   # filled from the link's #fragment
    page.get_by_role("button", name="Kích hoạt").click()
    expect(page.get_by_text("Ông/Bà có đồng ý tham gia khảo sát không?")).to_be_visible(timeout=20000)


def test_kiosk_starts_again_after_each_answer_and_after_a_minute_idle(watched, live, db):
    page, watch = watched
    kiosk_page(page, live, "ki_trung_tam")
    # large touch targets
    box = question(page, "Ông/Bà có đồng ý").locator(".value-option").first.bounding_box()
    assert box["height"] >= 48
    fill_standard(page, rating="Rất hài lòng")
    shot(page, "3-kiosk-filled")
    send(page)
    thanks = page.locator("#kiosk-thanks")
    expect(thanks).to_be_visible()
    expect(thanks).to_contain_text("Cảm ơn Ông/Bà!")
    expect(page.locator("#hl-form")).to_be_hidden()          # the form is not offered again at once
    sent_at = time.monotonic()
    # after the idle delay, a blank form for the next citizen
    expect(thanks).to_be_hidden(timeout=(IDLE_SECONDS + 6) * 1000)
    assert time.monotonic() - sent_at >= IDLE_SECONDS - 1.5
    expect(consent(page)).to_be_visible()
    expect(consent(page)).not_to_be_checked()
    [xml] = sent_xml(page)
    row = submissions.get_submission(db, instance_id(xml))
    assert (row["channel"], row["device_id"], row["unit_code"]) == ("kiosk", "kiosk:ki_trung_tam", "474")
    assert submissions.get_xml(db, row["id"]) == xml

    # someone starts and walks away: after the idle time the form is blank again
    consent(page).check()
    choose(page, "Ông/Bà là:", "Cá nhân")
    started = time.monotonic()
    expect(consent(page)).not_to_be_checked(timeout=(IDLE_SECONDS + 6) * 1000)
    assert time.monotonic() - started >= IDLE_SECONDS - 1
    expect(page.get_by_label("Cá nhân", exact=True)).to_be_hidden()
    watch.check()


def test_kiosk_keeps_answers_while_offline_and_sends_them_when_the_network_returns(watched, context, live, db):
    page, watch = watched
    kiosk_page(page, live, "ki_mat_mang")
    before = submissions.count_submissions(db)
    fill_standard(page, rating="Bình thường")
    context.set_offline(True)
    send(page)
    expect(page.locator("#kiosk-thanks")).to_contain_text("Đã lưu, sẽ gửi khi có mạng")
    queue = page.locator("#kiosk-queue")
    expect(queue).to_have_text("Phiếu đang chờ gửi: 1")
    expect(consent(page)).to_be_visible(timeout=(IDLE_SECONDS + 6) * 1000)   # the next citizen, meanwhile
    expect(consent(page)).not_to_be_checked()
    shot(page, "4-kiosk-offline")
    time.sleep(2.5)                                 # a retry while still offline keeps it
    expect(queue).to_have_attribute("data-waiting", "1")
    assert submissions.count_submissions(db) == before

    context.set_offline(False)
    expect(queue).to_have_attribute("data-waiting", "0", timeout=15000)
    expect(queue).to_have_text("")
    [xml] = sent_xml(page)[-1:]
    row = submissions.get_submission(db, instance_id(xml))
    assert row is not None and row["channel"] == "kiosk"
    assert submissions.get_xml(db, row["id"]) == xml
    assert submissions.count_submissions(db) == before + 1
    # the failed attempts while offline are the only errors the console shows
    watch.check(allowed=("net::ERR_INTERNET_DISCONNECTED",))


def test_paper_sheet_entry_and_a_different_second_entry_flagged(watched, live, db):
    page, watch = watched
    page.goto(f"{live.url}/login")
    page.get_by_label("Tên đăng nhập").fill("bao_cao")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Kênh khảo sát").click()
    page.get_by_role("link", name="Phiếu giấy", exact=True).click()
    page.get_by_label("Đơn vị (in sẵn trên phiếu)").select_option("474")
    page.get_by_label("Số tờ").fill("2")
    page.get_by_role("button", name="Tạo và in").click()
    sheets = page.locator("section.sheet")
    expect(sheets).to_have_count(2)
    first_no = int(sheets.first.locator(".sheet-no strong").inner_text())
    expect(sheets.first).to_contain_text("Mã biểu mẫu: tthc_hailong")
    shot(page, "5-paper-sheets")

    page.goto(f"{live.url}/channels/paper/{FORM}/entry")
    page.get_by_label("Số phiếu").fill(str(first_no))
    page.get_by_role("button", name="Mở phiếu").click()
    fill_standard(page, rating="Hài lòng")
    send(page)
    expect(page.locator("#hl-status")).to_have_text(f"Đã lưu phiếu giấy số {first_no}.")
    expect(page.get_by_label("Số phiếu")).to_have_value(str(first_no + 1))
    [xml] = sent_xml(page)
    row = submissions.get_submission(db, instance_id(xml))
    assert (row["channel"], row["unit_code"]) == ("paper", "474")
    assert submissions.get_xml(db, row["id"]) == xml
    assert channels.sheet_entry(db, FORM, first_no)["submission_id"] == row["id"]
    count = submissions.count_submissions(db)

    # the same sheet entered again with one answer read differently
    page.goto(f"{live.url}/channels/paper/{FORM}/entry?sheet={first_no}")
    expect(page.locator("#already-entered")).to_be_visible()
    fill_standard(page, rating="Hài lòng")
    choose(page, "Công chức có thái độ lịch sự, tôn trọng", "Không hài lòng")
    send(page)
    status = page.locator("#hl-status")
    expect(status).to_contain_text(f"Phiếu số {first_no} đã được nhập trước đó với câu trả lời KHÁC")
    expect(status).to_contain_text("Công chức có thái độ lịch sự, tôn trọng")
    assert submissions.count_submissions(db) == count
    page.goto(f"{live.url}/channels/paper/{FORM}/entry?sheet={first_no}")
    expect(page.locator("#sheet-conflicts")).to_contain_text("Công chức có thái độ lịch sự, tôn trọng")
    shot(page, "6-paper-flagged")
    page.goto(f"{live.url}/channels/paper/conflicts")
    expect(page.locator("#conflicts tbody tr").first).to_contain_text(f"{first_no:06d}")
    expect(page.locator("#conflicts tbody tr").first).to_contain_text("Cần xem xét")
    assert submissions.get_submission(db, instance_id(xml))["review_state"] == "hasIssues"
    watch.check()


@pytest.fixture(scope="module")
def strict_live(tmp_path_factory):
    """A server whose per-address limit is one answer an hour."""
    data_dir = tmp_path_factory.mktemp("webforms-limit")
    seed(data_dir)
    server = LiveServer(data_dir, env={"PUBLIC_RATE_PER_IP": "1"}).start()
    yield server
    server.stop()


def test_rate_limit_answers_with_a_clear_message_and_keeps_the_answers(context, strict_live):
    context.add_init_script(RECORD_SENT_XML)
    watch = Watch(context, strict_live.url)
    page = context.new_page()
    page.goto(f"{strict_live.url}/f/{FORM}?unit=481")
    fill_standard(page)
    send(page)
    expect(page.get_by_role("heading", name="Cảm ơn Ông/Bà!")).to_be_visible()
    page.get_by_role("link", name="Trả lời cho hồ sơ khác").click()
    fill_standard(page, rating="Rất hài lòng")
    send(page)
    status = page.locator("#hl-status")
    expect(status).to_contain_text("Có quá nhiều phiếu được gửi từ cùng một địa chỉ mạng trong thời gian ngắn")
    expect(status).to_contain_text("câu trả lời của Ông/Bà vẫn còn trên trang")
    expect(status).to_have_class(re.compile("hl-status-error"))
    expect(consent(page)).to_be_checked()          # nothing the citizen entered is lost
    shot(page, "7-rate-limited")
    db = storage.connect(strict_live.data_dir)
    first, second = sent_xml(page)
    assert submissions.get_submission(db, instance_id(first)) is not None
    assert submissions.get_submission(db, instance_id(second)) is None
    db.close()
    # the browser reports the 429 answer itself; nothing else may appear
    watch.check(allowed=("status of 429",))
