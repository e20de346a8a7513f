"""A kiosk without any network, in headless Chromium with a persistent profile (a tablet's).

Online once: the kiosk is activated and its page keeps what it needs (service worker). Then
the server is stopped and the browser offline, the browser is restarted on the same profile,
and three citizens answer: the kiosk starts from its cache, shows the form and queues the
answers (IndexedDB), showing how many wait. The browser is restarted once more, still
offline, and the three still wait; the network comes back and the three answers are stored
once each, in the order given, with channel kiosk.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import storage
from tests.harness.site import LiveServer, cli, seed
from storage import submissions

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FORM = "tthc_hailong"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LIKERT_TEXTS = 15


def tablet(playwright, profile: Path, offline: bool = False):
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=ARGS, offline=offline, headless=True,
        viewport={"width": 1280, "height": 900})


def answer(page, comment: str) -> None:
    expect(page.get_by_text("Ông/Bà có đồng ý tham gia khảo sát không?")).to_be_visible(timeout=20000)
    page.get_by_label("Đồng ý", exact=True).check()
    page.locator(".question-container").filter(has=page.locator("label", has_text="Ông/Bà là:")).first \
        .get_by_label("Cá nhân", exact=True).check()
    page.locator(".question-container").filter(has=page.locator("label", has_text="Lĩnh vực thủ tục")).first \
        .get_by_label("Đất đai", exact=True).check()
    for group in page.locator(".likert").all():
        group.get_by_label("Hài lòng", exact=True).check()
    page.locator(".question-container").filter(has=page.locator("label", has_text="Ông/Bà có góp ý gì")).first \
        .locator("textarea").fill(comment)
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()


def kiosk_rows(data_dir: Path, device: str) -> list[dict]:
    db = storage.connect(data_dir)
    try:
        rows = list(db.query("SELECT id, instance_id, channel, device_id FROM submissions WHERE device_id = ? ORDER BY id",
                             [device]))
        for row in rows:
            row["comment"] = submissions.answers(db, FORM, row["id"]).get("main/comment")
        return rows
    finally:
        db.close()


def test_a_kiosk_starts_and_queues_answers_without_network_across_restarts(playwright, tmp_path):
    data_dir = tmp_path / "site"
    data_dir.mkdir()
    seed(data_dir)
    env = {"KIOSK_IDLE_SECONDS": "3", "KIOSK_RETRY_SECONDS": "2"}
    server = LiveServer(data_dir, env=env).start()
    profile = tmp_path / "tablet-profile"
    try:
        result = cli(data_dir, "kiosks", "create", "ki_mat_dien", "--unit", "474", "--server-url", server.url)
        assert result.exit_code == 0, result.output
        activation = re.search(r"activation link: (\S+)", result.output).group(1)
        kiosk_url = f"{server.url}/kiosk/474"

        # 1. online once: activate, and the kiosk keeps everything it needs
        browser = tablet(playwright, profile)
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.goto(activation)
        page.get_by_role("button", name="Kích hoạt").click()
        expect(page.get_by_text("Ông/Bà có đồng ý tham gia khảo sát không?")).to_be_visible(timeout=20000)
        expect(page.locator("#kiosk-offline")).to_have_attribute("data-ready", "1", timeout=30000)
        expect(page.locator("#kiosk-offline")).to_have_text("Ki-ốt sẵn sàng hoạt động cả khi mất mạng")
        online_nonce = page.evaluate("document.getElementById('hl-form').dataset.styleNonce")
        browser.close()

        # 2. no network at all: the server is gone and the browser is offline; the tablet restarts
        server.stop()
        browser = tablet(playwright, profile, offline=True)
        page = browser.pages[0] if browser.pages else browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        response = page.goto(kiosk_url)
        # the kept page, with a nonce of its own: a style nonce is never used twice
        nonce = page.evaluate("document.getElementById('hl-form').dataset.styleNonce")
        assert nonce != online_nonce and f"'nonce-{nonce}'" in response.headers["content-security-policy"]
        queue = page.locator("#kiosk-queue")
        for n in (1, 2, 3):
            answer(page, f"Phiếu thứ {n} khi mất mạng")
            expect(page.locator("#kiosk-thanks")).to_contain_text("Đã lưu, sẽ gửi khi có mạng")
            expect(queue).to_have_text(f"Phiếu đang chờ gửi: {n}")
            page.get_by_role("button", name="Bắt đầu lại").click()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kiosk-offline-queue.png"), full_page=False)
        assert errors == []
        assert kiosk_rows(data_dir, "kiosk:ki_mat_dien") == []
        browser.close()

        # 3. the tablet restarts, still offline: the three answers are still there, waiting
        server = LiveServer(data_dir, port=server.port, env=env).start()
        browser = tablet(playwright, profile, offline=True)
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.goto(kiosk_url)
        queue = page.locator("#kiosk-queue")
        expect(queue).to_have_text("Phiếu đang chờ gửi: 3", timeout=20000)
        time.sleep(2.5)                       # a retry while offline sends nothing
        assert kiosk_rows(data_dir, "kiosk:ki_mat_dien") == []

        # 4. the network is back: the page sends what it kept, oldest first
        browser.set_offline(False)
        expect(queue).to_have_attribute("data-waiting", "0", timeout=30000)
        expect(queue).to_have_text("")
        time.sleep(2.5)                       # a later retry sends nothing again
        browser.close()
        rows = kiosk_rows(data_dir, "kiosk:ki_mat_dien")
        assert [r["comment"] for r in rows] == [f"Phiếu thứ {n} khi mất mạng" for n in (1, 2, 3)]
        assert {r["channel"] for r in rows} == {"kiosk"}
        assert len({r["instance_id"] for r in rows}) == 3
    finally:
        server.stop()
