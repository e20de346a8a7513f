"""Who to ask, end to end in headless Chromium against a real gunicorn server: a reporter
uploads a register with a bad row and imports the good ones, draws a plan, gives a unit's sample
to a surveyor, whose Collect then finds the list in the manifest; the reporter opens the letters.
Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import csv
import hashlib
import io

import pytest

from tests.harness.site import LiveServer, create_password_user, seed
from tests.harness.collect_client import CollectClient
from test_web_e2e import CHROMIUM, expect, log_in, shot

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("sampling-e2e")
    tokens = seed(data_dir)
    create_password_user(data_dir, "bao_cao", "reporter")
    server = LiveServer(data_dir).start()
    server.tokens = tokens
    yield server
    server.stop()


def register_file(path, good: int) -> list[str]:
    codes = [f"H57-474-{i:04d}" for i in range(good)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Mã đơn vị", "Ngày trả kết quả", "Người nộp",
                         "Số điện thoại"])
        for i, code in enumerate(codes):
            writer.writerow([code, "Đăng ký khai sinh", "Hộ tịch", "474", f"{i % 28 + 1:02d}/11/2026",
                             f"Nguyễn Văn {i}", f"0905{i:06d}"])
        writer.writerow(["H57-474-bad", "Đăng ký khai sinh", "Hộ tịch", "999", "31/11/2026", "X", "1"])
    return codes


def test_register_plan_assignment_list_and_letters(page, live, tmp_path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    codes = register_file(tmp_path / "so-theo-doi.csv", 40)
    log_in(page, live.url, "bao_cao")

    page.get_by_role("link", name="Chọn mẫu", exact=True).click()
    page.get_by_role("link", name="Nhập sổ theo dõi hồ sơ").click()
    page.locator("input[type=file]").set_input_files(str(tmp_path / "so-theo-doi.csv"))
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    expect(page.locator("table.problems")).to_contain_text("999")      # the unknown unit, by row
    expect(page.locator("table.problems")).to_contain_text("42")       # header is row 1, the bad row 42
    shot(page, "sampling-register-problems")
    page.get_by_role("button", name="Bỏ qua các dòng lỗi và nhập 40 dòng hợp lệ").click()
    expect(page.locator(".flash-success")).to_be_visible()

    page.get_by_role("link", name="Chọn mẫu khảo sát").click()
    page.get_by_label("Kỳ").fill("2026-Q4")
    page.get_by_label("Đơn vị (và các đơn vị trực thuộc)").select_option("474")
    page.get_by_label("Hạt giống ngẫu nhiên (để trống: máy tự tạo)").fill("e2e")
    page.get_by_role("button", name="Chọn mẫu", exact=True).click()
    n = -(-40 * 400 // (400 + 40))                                   # ⌈N / (1 + N·0.05²)⌉
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kế hoạch chọn mẫu số")
    expect(page.locator("table").first.locator("tfoot")).to_contain_text(str(n))

    assign = page.get_by_role("region", name="Giao cho điều tra viên")
    assign.get_by_label("Đơn vị").select_option("474")
    assign.get_by_label("Điều tra viên").select_option("dtv_hue")
    assign.get_by_role("button", name="Giao", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("dtv_hue")
    shot(page, "sampling-plan")

    # the surveyor's Collect: the list is in the manifest, with the md5 of what it downloads
    collect = CollectClient(f"{live.url}/key/{live.tokens['dtv_hue']}")
    [entry] = collect.form_list("tthc_hailong")
    media = {m["filename"]: m for m in collect.manifest(entry)}
    body = collect.download_media(media["respondents.csv"])
    assert hashlib.md5(body).hexdigest() == media["respondents.csv"]["hash"].removeprefix("md5:")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert len(rows) == n and {r["name"] for r in rows} <= set(codes)

    page.get_by_role("button", name="Mở thư để in").click()
    expect(page.locator("article.letter")).to_have_count(n)
    expect(page.locator("article.letter").first.locator("img")).to_be_visible()
    assert "Nguyễn Văn" not in page.content()                       # reporters print by dossier code
    shot(page, "sampling-letters")
    assert not errors
