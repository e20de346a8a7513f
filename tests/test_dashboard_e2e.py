"""The dashboard and the public results page end to end in headless Chromium (Debian's), against a
real gunicorn server holding enough answers for the cells to count (tests/dashboard_site.py).

A reporter opens the dashboard from the menu and sees every chart drawn from the indices API, with
no console error and no request to another origin; narrows it to a quarter (the address keeps
the filter); marks a dissatisfied answer handled; publishes the quarter's district results;
downloads the quarter's report; and the public page shows the results on a phone-sized screen
without logging in. Screenshots go to
test-artifacts/ (kept by CI, ignored by git).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.harness.requirements import chromium_path
from tests.harness.site import PASSWORD, ROOT, LiveServer
from dashboard_site import build

CHROMIUM = Path(chromium_path() or "/usr/bin/chromium")     # CHROMIUM=… chooses another
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's Chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
ARTIFACTS = ROOT / "test-artifacts"
CHART_JS = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def live(web_site, tmp_path_factory):
    site = build(web_site, tmp_path_factory.mktemp("dashboard-e2e") / "site")
    server = LiveServer(site.data_dir).start()
    yield server
    server.stop()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def watch(page, origin: str) -> dict:
    """Collect console errors, page errors and every request that leaves the site's origin."""
    seen = {"errors": [], "foreign": []}
    page.on("console", lambda msg: seen["errors"].append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

    def request(req):
        parts = urlsplit(req.url)
        if parts.scheme not in ("data", "blob") and f"{parts.scheme}://{parts.netloc}" != origin:
            seen["foreign"].append(req.url)

    page.on("request", request)
    return seen


def charts_drawn(page) -> None:
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() >= 4
    for i in range(canvases.count()):
        expect(canvases.nth(i)).to_have_attribute("data-ready", "yes")
    # Chart.js sized each canvas to its box: something was drawn
    sizes = page.eval_on_selector_all("canvas[data-chart]", "cs => cs.map(c => c.width * c.height)")
    assert all(size > 0 for size in sizes)


@pytest.mark.skipif(not CHART_JS.exists(), reason="npm packages not installed (make install)")
def test_dashboard_filter_follow_up_publish_then_public_page_on_a_phone(page, browser, live):
    seen = watch(page, live.url)
    page.goto(live.url + "/")
    page.get_by_label("Tên đăng nhập").fill("reporter")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Chỉ số hài lòng", exact=True).click()
    page.get_by_role("link", name="Phiếu khảo sát sự hài lòng về giải quyết thủ tục hành chính").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chỉ số hài lòng")
    charts_drawn(page)
    # Vietnamese number format in the figures, e.g. 60,46
    expect(page.locator(".big-figure")).to_have_text(re.compile(r"^\d{1,3},\d\d%$"))
    expect(page.locator("#trend-table")).to_contain_text("Quý III/2026")
    expect(page.locator("#trend-table")).to_contain_text("Không đủ số phiếu")      # Q4 has 11 respondents
    shot(page, "1-all-time")

    # a filter, by keyboard: the address keeps it, so the view can be shared
    page.get_by_label("Kỳ", exact=True).select_option("2026-Q3")
    page.locator("#filters").get_by_role("button", name="Xem").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]period=2026-Q3"))
    expect(page.locator("#overall-heading")).to_contain_text("Quý III/2026")
    charts_drawn(page)
    ranking = page.locator("#ranking-table tbody tr")
    expect(ranking.first).to_contain_text("1")
    expect(page.locator("#ranking-table")).to_contain_text("Thành phố Huế")
    expect(page.locator("#ranking-table")).to_contain_text("Huyện A Lưới")
    shot(page, "2-quarter")

    # follow up the newest dissatisfied answer of the quarter, on the follow-up page
    open_before = int(page.locator("#open-count").inner_text().replace(".", ""))
    page.get_by_role("link", name="Mở danh sách theo dõi").click()
    expect(page).to_have_url(re.compile(r"/followups\?.*period=2026-Q3"))
    row = page.locator("#dissatisfied-table tbody tr").first
    row_id = row.get_attribute("id")
    expect(row.locator(".badge")).to_have_text("Chưa xử lý")
    row.get_by_role("radio", name="Đã xử lý").check()
    row.get_by_label("Ghi chú xử lý").fill("Đã liên hệ người dân, hẹn trả kết quả bổ sung")
    row.get_by_role("button", name="Lưu theo dõi").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu trạng thái theo dõi")
    expect(page).to_have_url(re.compile(r"period=2026-Q3"))
    row = page.locator(f"#{row_id}")
    expect(row.locator(".badge")).to_have_text("Đã xử lý")
    expect(row).to_contain_text("Đã liên hệ người dân")
    shot(page, "3-followed-up")
    page.get_by_role("link", name="Về bảng chỉ số").click()
    expect(page.locator("#open-count")).to_have_text(str(open_before - 1))

    # publish the quarter, each district of the province
    form = page.locator("#publish-form")
    form.get_by_label("Kỳ công bố").select_option("2026-Q3")
    form.get_by_label("Đơn vị").select_option("")
    form.get_by_label("Công bố số liệu của").select_option("huyen")
    form.get_by_role("button", name="Công bố").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã công bố kết quả Quý III/2026")
    expect(page.locator("#publications-table")).to_contain_text("Quý III/2026")
    shot(page, "4-published")

    # the report of the quarter, from the export button
    page.get_by_role("button", name="Tải báo cáo (Excel)").click()
    expect(page.locator("#job-progress")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Tải tệp")).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
    assert seen["errors"] == [], seen["errors"]
    assert seen["foreign"] == [], seen["foreign"]

    # the public page: another browser, no login, a phone's screen
    phone = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    try:
        public = phone.new_page()
        public_seen = watch(public, live.url)
        public.goto(live.url + "/ket-qua")
        public.get_by_role("link", name="Quý III/2026").click()
        expect(public.get_by_role("heading", level=1)).to_have_text(
            "Phiếu khảo sát sự hài lòng về giải quyết thủ tục hành chính")
        cards = public.locator(".result-card")
        expect(cards).to_have_count(2)                       # Huế and A Lưới; no other district answered
        expect(cards.first).to_contain_text("%")
        expect(public.locator("main")).not_to_contain_text("Phường")   # communes were not published
        # nothing wider than the screen: no sideways scrolling on a phone
        assert public.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert phone.cookies() == []
        shot(public, "5-public-phone")
        public.get_by_role("link", name="English").click()
        expect(public.locator("html")).to_have_attribute("lang", "en")
        expect(public.get_by_role("link", name="Q3 2026")).to_be_visible()
        assert phone.cookies() == []
        assert public_seen["errors"] == [] and public_seen["foreign"] == []
    finally:
        phone.close()
