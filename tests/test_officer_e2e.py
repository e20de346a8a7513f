"""Officers' pages in headless Chromium (issue 17), against a real gunicorn server holding the
dashboard's answers (tests/dashboard_site.py): where messages appear, printing, the follow-up page.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness.site import PASSWORD, LiveServer
from dashboard_site import build

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's Chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
expect = pytest.importorskip("playwright.sync_api").expect
FORM = "tthc_hailong"


@pytest.fixture(scope="module")
def live(web_site, tmp_path_factory):
    site = build(web_site, tmp_path_factory.mktemp("officer-e2e") / "site")
    server = LiveServer(site.data_dir).start()
    yield server
    server.stop()


def log_in(page, url: str, name: str = "reporter") -> None:
    page.goto(url + "/login")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def publish_quarter(page) -> None:
    """Publish 2026-Q3's district results from the dashboard's publishing form."""
    form = page.locator("#publish-form")
    form.get_by_label("Kỳ công bố").select_option("2026-Q3")
    form.get_by_label("Đơn vị").select_option("")
    form.get_by_label("Công bố số liệu của").select_option("huyen")
    form.get_by_role("button", name="Công bố").click()


def in_viewport(page, selector: str) -> bool:
    return page.eval_on_selector(selector, """e => { const r = e.getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }""")


# --- 3. feedback where the user is looking -----------------------------------------------

def test_messages_after_actions_appear_where_the_user_is_looking(page, live):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live.url)
    # a follow-up far down the page: the message is inside that row, on screen
    page.goto(f"{live.url}/dashboard/{FORM}/followups?period=2026-Q3")
    row = page.locator("#dissatisfied-table tbody tr").last
    row_id = row.get_attribute("id")
    row.get_by_role("radio", name="Đã xử lý").check()
    row.get_by_role("button", name="Lưu theo dõi").click()         # no note: refused, said beside it
    expect(page.locator(f"#{row_id} .flash-error")).to_contain_text("Hãy ghi chú")
    assert in_viewport(page, f"#{row_id} .flash-error")
    assert page.evaluate("window.scrollY") > 400                    # the row is far below the top
    row = page.locator(f"#{row_id}")
    row.get_by_role("radio", name="Đã xử lý").check()
    row.get_by_label("Ghi chú xử lý").fill("Đã gọi điện cho người dân")
    row.get_by_role("button", name="Lưu theo dõi").click()
    expect(page.locator(f"#{row_id} .flash-success")).to_contain_text("Đã lưu trạng thái theo dõi")
    assert in_viewport(page, f"#{row_id} .flash-success")
    # publishing, at the bottom of the dashboard: the message is in the publishing section, on screen
    page.goto(f"{live.url}/dashboard/{FORM}")
    publish_quarter(page)
    expect(page.locator("#publish .flash-success")).to_contain_text("Đã công bố kết quả Quý III/2026")
    assert in_viewport(page, "#publish .flash-success")
    # a page that returns to its top keeps the message at the top, on screen
    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, live.url, "admin")
    page.goto(live.url + "/admin/settings")
    page.locator("#public_url").fill("khong-phai-dia-chi")
    page.get_by_role("button", name="Lưu địa chỉ").click()
    expect(page.locator(".flash-error")).to_contain_text("http://")
    assert in_viewport(page, ".flash-error")


# --- 7. printing: one clean A4 page per view ---------------------------------------------

def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def printed(page, url: str, ready: str) -> bytes:
    page.goto(url)
    page.wait_for_selector(ready)
    page.emulate_media(media="print")
    for hidden in (".site-header", "form", "nav", ".button"):
        assert page.evaluate(f"""[...document.querySelectorAll('{hidden}')].every(
            e => getComputedStyle(e).display === 'none' || e.closest('[style*="display: none"]'))"""), (url, hidden)
    data = page.pdf(format="A4", print_background=False)
    page.emulate_media(media="screen")
    return data


def test_dashboard_submission_and_public_results_print_on_one_a4_page(page, live):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live.url)
    # a publication for the public page
    page.goto(f"{live.url}/dashboard/{FORM}")
    publish_quarter(page)
    expect(page.locator("#publish .flash-success")).to_be_visible()
    dashboard = printed(page, f"{live.url}/dashboard/{FORM}?period=2026-Q3", "canvas[data-ready='yes']")
    # the charts have drawn before printing; the print is one page
    assert pdf_pages(dashboard) == 1
    page.goto(f"{live.url}/submissions/")
    first = page.locator("table.data tbody a").first.get_attribute("href")
    submission = printed(page, live.url + first, "dl.answers")
    assert pdf_pages(submission) == 1
    page.goto(f"{live.url}/ket-qua")
    page.get_by_role("link", name="Quý III/2026").first.click()
    results = printed(page, page.url, ".result-card")
    assert pdf_pages(results) == 1


# --- 9. exports as jobs with a progress bar ----------------------------------------------

def test_exports_run_as_jobs_with_a_progress_bar_then_offer_the_file(page, live):
    import io
    import zipfile
    log_in(page, live.url)
    page.goto(f"{live.url}/dashboard/{FORM}?period=2026-Q3")
    buttons = page.locator(".export-buttons")
    expect(buttons.get_by_role("button")).to_have_count(3)          # Excel, CSV zip beside it, the report
    buttons.get_by_role("button", name="Tải dữ liệu (CSV nén)").click()
    expect(page).to_have_url(re.compile(r"/exports/jobs/[\w-]+$"))
    bar = page.locator("#job-progress")
    expect(bar).to_be_visible()
    link = page.get_by_role("link", name=re.compile("Tải tệp"))
    expect(link).to_be_visible(timeout=60_000)
    # the bar is full and counts the rows written: the quarter's submissions
    total = int(bar.get_attribute("max"))
    assert page.evaluate("document.getElementById('job-progress').value") == total > 0
    expect(page.locator("#job-count")).to_have_text(f"{total} / {total}")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"{FORM}_toan-tinh_2026-Q3.csv.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    main = next(n for n in archive.namelist() if n == f"{FORM}.csv")
    assert len(archive.read(main).decode("utf-8-sig").strip().splitlines()) - 1 == total
