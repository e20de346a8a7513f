"""The web pages end to end in headless Chromium (Debian's), against a real gunicorn server.

A designer logs in, uploads an XLSForm with a mistake and sees where it is, uploads the fixed
one, publishes it; a surveyor's Collect sends an answer; a reporter finds it in the table, opens
it and marks it. Screenshots go to test-artifacts/ (kept by CI, ignored by git).
"""
from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from tests.harness.instances import fill_instance
from tests.harness.requirements import chromium_path
from tests.harness.site import PASSWORD, ROOT, LiveServer, create_password_user, seed
from tests.harness.collect_client import CollectClient
from xlsforms import small_form, write_xlsform

CHROMIUM = Path(chromium_path() or "/usr/bin/chromium")     # CHROMIUM=… chooses another
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's Chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
ARTIFACTS = ROOT / "test-artifacts"

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e")
    tokens = seed(data_dir)
    create_password_user(data_dir, "thiet_ke", "designer")
    create_password_user(data_dir, "bao_cao_hue", "reporter", "474")
    server = LiveServer(data_dir).start()
    server.tokens = tokens
    yield server
    server.stop()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def log_in(page, url: str, name: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phiếu khảo sát đã nhận")


def test_publish_a_form_then_review_what_collect_sent(page, live, tmp_path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live.url, "thiet_ke")
    page.reload()
    page.keyboard.press("Tab")                       # the first stop is the skip link, visibly focused
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_in_viewport()

    # an XLSForm with a mistake: the page names the sheet, the row and the column
    bad = write_xlsform(tmp_path / "e2e_loi.xlsx",
                        [["type", "name", "label", "criterion"], ["text", "unit", "Đơn vị", ""],
                         ["select_one s5", "q_proc", "Thủ tục", "thu_tuc"]],
                        [["list_name", "name", "label"], ["s5", "5", "5"], ["s5", "4", "4"]],
                        {"form_id": "e2e", "version": "1"})
    page.get_by_role("link", name="Biểu mẫu", exact=True).click()
    page.get_by_role("link", name="Tải lên XLSForm").click()
    page.get_by_label("Tệp XLSForm").set_input_files(str(bad))
    page.get_by_role("button", name="Kiểm tra và xem trước").click()
    row = page.locator("table.problems tbody tr").first
    expect(row).to_contain_text("survey")
    expect(row.locator("td").nth(2)).to_have_text("3")
    expect(row.locator("td").nth(3)).to_have_text("criterion")
    expect(row).to_contain_text('Giá trị "thu_tuc" không hợp lệ')
    shot(page, "1-upload-errors")

    # the fixed form: preview, then publish
    good = small_form(tmp_path / "e2e.xlsx", "e2e", "2026120101")
    page.get_by_label("Tệp XLSForm").set_input_files(str(good))
    page.get_by_role("button", name="Kiểm tra và xem trước").click()
    expect(page.get_by_role("heading", name="Bản đồ tiêu chí")).to_be_visible()
    expect(page.locator(".criterion").first).to_contain_text("q_proc")
    shot(page, "2-preview")
    page.get_by_role("button", name="Xuất bản phiên bản 2026120101").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã xuất bản e2e phiên bản 2026120101")

    # a surveyor of Huế sends one answer from Collect
    client = CollectClient(f"{live.url}/key/{live.tokens['dtv_hue']}")
    xform = client.download_form(client.form_list("e2e")[0])
    instance_id = f"uuid:{uuid.UUID(int=random.Random(1).getrandbits(128))}"
    xml = fill_instance(xform, {"start": "2026-12-02T09:15:00.000+07:00", "unit": "474", "q_proc": "2",
                                "q_staff": "5", "q_result": "4"}, instance_id)
    assert client.submit(xml)[0].status_code == 201

    # a reporter of Huế finds it, opens it and marks it
    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, live.url, "bao_cao_hue")
    page.get_by_label("Biểu mẫu").select_option("e2e")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("#submissions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("02/12/2026")
    expect(rows.first).to_contain_text("Thành phố Huế")
    shot(page, "3-submissions")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(instance_id)
    expect(page.locator("dl.answers")).to_contain_text("Thủ tục")
    page.get_by_role("radio", name="Có vấn đề").check()
    page.get_by_label("Ghi chú").fill("Người dân phản ánh phải đi lại nhiều lần")
    page.get_by_role("button", name="Lưu kết quả xem xét").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu kết quả xem xét")
    expect(page.locator(".page-head .badge").first).to_have_text("Có vấn đề")
    expect(page.locator("#review-heading + table")).to_contain_text("Người dân phản ánh phải đi lại nhiều lần")
    shot(page, "4-reviewed")

    # the same page in English
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert errors == []
