"""Citizens read Vietnamese: the public link, kiosk and paper-entry pages in headless Chromium.

Web Forms' own words (buttons, banners, validation messages, calendar, drop-downs) must all be
Vietnamese in Vietnamese mode, and English with the language switch; the list of English words
it could show is read from the Web Forms bundle (tests/webforms_words.py), so the check fails
when a string is missed. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness.site import PASSWORD, ROOT, LiveServer, cli, create_password_user, seed
from tests.citizen_forms import FORM_ID, write_every_kind_form
from tests.webforms_words import english_on_page, english_strings

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = ROOT / "test-artifacts"
STANDARD = "tthc_hailong"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("citizen-vi")
    seed(data_dir)
    create_password_user(data_dir, "bao_cao", "reporter")
    result = cli(data_dir, "forms", "publish", str(write_every_kind_form(data_dir / f"{FORM_ID}.xlsx")))
    assert result.exit_code == 0, result.output
    server = LiveServer(data_dir, env={"KIOSK_IDLE_SECONDS": "5", "KIOSK_RETRY_SECONDS": "2"}).start()
    yield server
    server.stop()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"citizen-{name}.png"), full_page=True)


def test_the_english_list_comes_from_the_bundle():
    whole, parts = english_strings()
    # a few strings a citizen met in English on the phone, found without being listed here
    assert {"Send", "Powered by", "1 question with error.", "Condition not satisfied: required"} <= whole
    assert "questions with errors." in parts
    assert "ODK" not in whole and "change language" in whole


def test_every_kind_of_question_speaks_vietnamese(page, live):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/f/{FORM_ID}")
    expect(page.get_by_text("Tên gọi", exact=True)).to_be_visible(timeout=20000)
    assert english_on_page(page) == []
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()
    banner = page.get_by_text(re.compile(r"^Còn \d+ câu hỏi chưa trả lời"))
    expect(banner).to_be_visible()
    expect(page.get_by_text("Vui lòng trả lời câu hỏi này.").first).to_be_visible()
    assert english_on_page(page) == []
    shot(page, "vi-errors")
    # a constraint broken: its default message
    number = page.locator(".question-container").filter(has_text="Số lần đến").locator("input").first
    number.press_sequentially("0")
    number.press("Tab")
    expect(page.get_by_text("Câu trả lời này chưa hợp lệ; vui lòng kiểm tra lại.")).to_be_visible()
    assert english_on_page(page) == []
    # the drop-downs and the calendar PrimeVue draws
    page.locator(".question-container").filter(has_text="Chọn trong danh sách").locator(".p-select").first.click()
    expect(page.locator(".p-select-overlay, .p-select-list").first).to_be_visible()
    assert english_on_page(page) == []
    page.keyboard.press("Escape")
    page.locator(".question-container").filter(has_text="Ngày nộp hồ sơ").locator("input").first.click()
    calendar = page.locator(".p-datepicker-panel").first
    expect(calendar).to_be_visible()
    expect(calendar).to_contain_text("T2")          # Monday first, in Vietnamese
    assert english_on_page(page) == []
    page.keyboard.press("Escape")


def test_the_load_failure_dialog_speaks_vietnamese(page, live):
    # an attachment the server cannot give: Web Forms shows its failure dialog instead of the form
    page.route("**/media/units.csv", lambda route: route.fulfill(status=404, body="missing"))
    page.goto(f"{live.url}/f/{STANDARD}?unit=474")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=20000)
    expect(dialog).to_contain_text("Không tải được phiếu khảo sát")
    assert english_on_page(page) == []
    shot(page, "vi-load-failure")


def test_the_language_switch_gives_english_and_the_check_sees_it(page, live):
    page.goto(f"{live.url}/f/{FORM_ID}")
    expect(page.get_by_text("Tên gọi", exact=True)).to_be_visible(timeout=20000)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_text("Name", exact=True)).to_be_visible(timeout=20000)   # the form's English labels
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text(re.compile(r"^\d+ questions with errors\.$"))).to_be_visible()
    english = english_on_page(page)
    # the same check that passes in Vietnamese finds Web Forms' own English here
    assert "Send" in english and any(text.endswith("questions with errors.") for text in english)
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.get_by_text("Tên gọi", exact=True)).to_be_visible(timeout=20000)
    assert english_on_page(page) == []


def kiosk_page(page, live, name: str, unit: str = "474"):
    result = cli(live.data_dir, "kiosks", "create", name, "--unit", unit, "--server-url", live.url)
    assert result.exit_code == 0, result.output
    page.goto(re.search(r"activation link: (\S+)", result.output).group(1))
    page.get_by_role("button", name="Kích hoạt").click()
    expect(page.get_by_text("Ông/Bà có đồng ý tham gia khảo sát không?")).to_be_visible(timeout=20000)


def test_kiosk_and_paper_entry_speak_vietnamese_with_errors_shown(page, live):
    kiosk_page(page, live, "ki_tieng_viet")
    page.get_by_label("Đồng ý", exact=True).check()
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Còn \d+ câu hỏi chưa trả lời"))).to_be_visible()
    assert english_on_page(page) == []
    shot(page, "vi-kiosk-errors")

    page.goto(f"{live.url}/login")
    page.get_by_label("Tên đăng nhập").fill("bao_cao")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{live.url}/channels/paper/")
    page.get_by_label("Biểu mẫu").select_option(STANDARD)
    page.get_by_label("Đơn vị (in sẵn trên phiếu)").select_option("474")
    page.get_by_label("Số tờ").fill("1")
    page.get_by_role("button", name="Tạo và in").click()
    first_no = int(page.locator("section.sheet .sheet-no strong").first.inner_text())
    page.goto(f"{live.url}/channels/paper/{STANDARD}/entry?sheet={first_no}")
    expect(page.get_by_text("Ông/Bà có đồng ý tham gia khảo sát không?")).to_be_visible(timeout=20000)
    page.get_by_label("Đồng ý", exact=True).check()
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Còn \d+ câu hỏi chưa trả lời"))).to_be_visible()
    assert english_on_page(page) == []


# --- typography ---------------------------------------------------------------------------

# Words (runs between spaces) of the visible text under `selector` whose letters lie on more
# than one line: each word's Range gives one box per line it occupies.
BROKEN_WORDS_JS = """
(selector) => {
  const broken = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.parentElement || !n.parentElement.checkVisibility()) continue;
      const words = /\\S+/g;
      let m;
      while ((m = words.exec(n.nodeValue))) {
        const range = document.createRange();
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const boxes = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
        const first = boxes[0];
        if (first && boxes.some((r) => Math.abs(r.top - first.top) > first.height / 2)) broken.push(m[0]);
      }
    }
  }
  return broken;
}
"""
BREAKING_STYLES_JS = """
() => [...document.querySelectorAll('body *')]
  .filter((e) => e.checkVisibility())
  .map((e) => [e.tagName + '.' + e.className, getComputedStyle(e)])
  .filter(([, s]) => ['break-all', 'break-word'].includes(s.wordBreak) || s.overflowWrap === 'anywhere' || s.hyphens === 'auto')
  .map(([name, s]) => name + ': ' + s.wordBreak + ' ' + s.overflowWrap + ' ' + s.hyphens)
"""
# label elements whose line height leaves less than 1.4 times the font size
TIGHT_LINES_JS = """
() => [...document.querySelectorAll('.hl-form label, .hl-form h1, .hl-form .label-text, .hl-form .text-content')]
  .filter((e) => e.checkVisibility() && e.textContent.trim())
  .map((e) => { const s = getComputedStyle(e); return [e.textContent.trim(), parseFloat(s.lineHeight) / parseFloat(s.fontSize)]; })
  .filter(([, ratio]) => !(ratio >= 1.4))
"""
VIETNAMESE = "Phiếu khảo sát sự hài lòng về giải quyết thủ tục hành chính ệ Ộ ẫ"


def test_no_word_breaks_inside_a_syllable_from_320_to_430_px(page, live):
    fonts = []
    page.on("request", lambda r: fonts.append(r.url) if "/fonts/" in r.url else None)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live.url}/f/{STANDARD}?unit=474")
    title = page.locator(".hl-form h1:visible").filter(has_text="Phiếu khảo sát sự hài lòng").first
    expect(title).to_be_visible(timeout=20000)
    page.evaluate("document.fonts.ready")
    # the bundled font, from this server, with its Vietnamese subset, draws the text
    assert page.evaluate(f"document.fonts.check('16px \"Be Vietnam Pro\"', {VIETNAMESE!r})")
    assert any(url.endswith("be-vietnam-pro-vietnamese-400-normal.woff2") and url.startswith(live.url) for url in fonts)
    assert page.evaluate("getComputedStyle(document.querySelector('.hl-form label')).fontFamily").startswith('"Be Vietnam Pro"')
    assert page.evaluate(BREAKING_STYLES_JS) == []
    for width in (320, 360, 390, 430):
        page.set_viewport_size({"width": width, "height": 800})
        # the title takes more than one line at these widths, so the check has breaks to look at
        assert title.bounding_box()["height"] > 1.5 * float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert page.evaluate(BROKEN_WORDS_JS, ".hl-form h1, .citizen-header, .hl-form label, .hl-form .text-content") == [], width
    assert page.evaluate(TIGHT_LINES_JS) == []
    page.set_viewport_size({"width": 360, "height": 800})
    shot(page, "vi-360")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "vi-1280")
    assert page.evaluate(BROKEN_WORDS_JS, ".hl-form h1, .hl-form label") == []


def test_the_kiosk_leaves_room_for_stacked_marks(page, live):
    page.set_viewport_size({"width": 1280, "height": 900})
    kiosk_page(page, live, "ki_dau_chong")
    assert page.evaluate(TIGHT_LINES_JS) == []
    assert page.evaluate(BREAKING_STYLES_JS) == []
    shot(page, "vi-kiosk-1280")


# --- the rating scale ---------------------------------------------------------------------

GRADES = ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"]
NO_OPINION = "Không ý kiến / không áp dụng"
# the boxes of the answers of the first rating question, and whether Web Forms' rule joins each
SCALE_JS = """
() => [...document.querySelector('.likert').querySelectorAll('.value-option')].map((option) => {
  const r = option.getBoundingClientRect();
  const rule = getComputedStyle(option, '::before');
  return { text: option.textContent.trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom,
           joined: rule.display !== 'none' && rule.content !== 'none',
           border: getComputedStyle(option).borderTopStyle };
})
"""


def gaps(boxes, start: str, end: str) -> list[float]:
    return [b[start] - a[end] for a, b in zip(boxes, boxes[1:])]


def test_the_rating_scale_reads_as_five_grades_and_no_opinion_apart(page, live):
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live.url}/f/{STANDARD}?unit=474")
    page.get_by_label("Đồng ý", exact=True).check()
    expect(page.locator(".likert").first).to_be_visible()
    phone = page.evaluate(SCALE_JS)
    assert [b["text"] for b in phone] == GRADES + [NO_OPINION]
    # on a phone: one answer per row, top to bottom in order, "no opinion" after a wider gap
    assert all(b["top"] > a["top"] for a, b in zip(phone, phone[1:]))
    between = gaps(phone, "top", "bottom")
    assert between[-1] > 1.8 * max(between[:-1])
    assert phone[-1]["border"] == "dashed" and {b["border"] for b in phone[:-1]} == {"solid"}
    shot(page, "scale-360")

    page.set_viewport_size({"width": 1280, "height": 900})
    wide = page.evaluate(SCALE_JS)
    # on a wide screen: the five grades on one line, left to right, joined by the rule;
    # "no opinion" on that line too but after a wider gap, off the rule
    assert len({round(b["top"]) for b in wide[:5]}) == 1
    assert all(b["left"] > a["left"] for a, b in zip(wide, wide[1:]))
    between = gaps(wide, "left", "right")
    assert between[-1] > 1.8 * max(between[:-1])
    assert [b["joined"] for b in wide] == [True] * 5 + [False]
    shot(page, "scale-1280")

    # the error message speaks of the answers on screen
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()
    message = page.get_by_text(re.compile("^Vui lòng chọn một mức")).first
    expect(message).to_contain_text(NO_OPINION)
    expect(message).not_to_contain_text("0")


# --- accessibility ------------------------------------------------------------------------

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# serious and critical violations on the page as it is now (axe-core, from npm, injected by the
# test only: the pages never load it)
AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | '));
}
"""


def serious_violations(page) -> list[str]:
    found = page.evaluate(AXE_RUN_JS)
    for line in found:
        print("AXE", line)
    return found


@pytest.fixture
def axe_page(context):
    # an init script runs before the page's own and is not subject to its CSP
    context.add_init_script(path=str(AXE))
    return context.new_page()


def test_citizen_pages_have_no_serious_accessibility_violations(axe_page, live):
    page = axe_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/f/{FORM_ID}")
    expect(page.get_by_text("Tên gọi", exact=True)).to_be_visible(timeout=20000)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Gửi phiếu", exact=True).click()       # every error on screen
    expect(page.get_by_text(re.compile(r"^Còn \d+ câu hỏi chưa trả lời"))).to_be_visible()
    assert serious_violations(page) == []

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/f/{STANDARD}?unit=474")
    page.get_by_label("Đồng ý", exact=True).check()
    expect(page.locator(".likert").first).to_be_visible()
    assert serious_violations(page) == []
    page.goto(f"{live.url}/f/{STANDARD}/thanks?unit=474")
    assert serious_violations(page) == []

    kiosk_page(page, live, "ki_tiep_can")
    assert serious_violations(page) == []


def test_keyboard_order_follows_the_questions(axe_page, live):
    page = axe_page
    page.goto(f"{live.url}/f/{FORM_ID}")
    expect(page.get_by_text("Tên gọi", exact=True)).to_be_visible(timeout=20000)
    # Tab from the top reaches the language switch, then the questions in the order they are
    # drawn, each field with the name of its question
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => {
          const el = document.activeElement;
          const by = el.getAttribute('aria-labelledby');
          const name = el.getAttribute('aria-label') || (by && document.getElementById(by) ? document.getElementById(by).textContent : '')
                       || (el.labels && el.labels[0] ? el.labels[0].textContent : '') || el.textContent;
          return [el.tagName, name.trim(), Math.round(el.getBoundingClientRect().top + window.scrollY)];
        }"""))
    assert reached[0][1] == "English"
    tops = [top for _, _, top in reached[1:]]
    assert tops == sorted(tops), reached
    names = [name for _, name, _ in reached]
    assert any("Tên gọi" in name for name in names) and any("Số lần đến" in name for name in names), reached
