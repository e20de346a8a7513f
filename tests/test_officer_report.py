"""The report as a Vietnamese administrative document (issue 17, point 6), downloaded over HTTP
from a site with a hundred answers (tests/dashboard_site.py), then printed by LibreOffice to PDF
and a page rendered to PNG: A4, no column cut onto a page of its own."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from dashboard_site import build
from web_site import logged_in, post

FORM = "tthc_hailong"
SOFFICE = shutil.which("soffice")
ENGLISH_WORDS = re.compile(r"\b(Table|Chart|Unit|Overall|Respondents|Submissions|Period|Rank|Note|Form|Page|"
                           r"index|Whole province|Satisfaction)\b")


@pytest.fixture(scope="module")
def site(web_site, tmp_path_factory):
    return build(web_site, tmp_path_factory.mktemp("officer-report") / "site")


def texts(book, sheet=None) -> list[str]:
    sheets = [book[sheet]] if sheet else book.worksheets
    return [v for ws in sheets for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]


def test_report_is_an_administrative_document_in_one_language(site):
    admin = logged_in(site, "admin")
    settings = {"section": "report", "report_parent": "UBND THÀNH PHỐ HUẾ",
                "report_body": "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "report_place": "Huế",
                "report_signer_title": "KT. GIÁM ĐỐC", "report_signer_name": "Nguyễn Văn An"}
    assert post(admin, "/admin/settings", settings).status_code == 302
    response = admin.get(f"/api/v1/forms/{FORM}/report.xlsx?period=2026-Q3&min_n=5")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    for ws in book.worksheets:
        assert (ws["A1"].value, ws["A2"].value) == ("UBND THÀNH PHỐ HUẾ", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG")
        right = [c.value for c in ws[1] if c.value] + [c.value for c in ws[2] if c.value]
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right and "Độc lập - Tự do - Hạnh phúc" in right
        dated = [c.value for c in ws[3] if c.value and "ngày" in str(c.value)]
        assert dated and re.fullmatch(r"Huế, ngày \d\d tháng \d\d năm 20\d\d", dated[0]), dated
        assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage
    # numbered tables and charts, a chart per criterion
    headings = texts(book)
    for number in range(1, 6):
        assert any(h.startswith(f"Bảng {number}.") for h in headings), number
    assert sum(h.startswith("Biểu đồ ") and h[8].isdigit() for h in headings) == 5
    assert len(book["Biểu đồ"]._charts) == 5
    # the signature block closes the summary
    summary = texts(book, "Tổng hợp")
    assert summary.index("KT. GIÁM ĐỐC") < summary.index("Nguyễn Văn An")
    assert "Nơi nhận:" in summary and "(Ký, ghi rõ họ tên, đóng dấu)" in summary
    # nothing English in lang=vi
    english = [t for t in headings if ENGLISH_WORDS.search(t) and "tthc_hailong" not in t]
    assert english == []
    # and lang=en is English: sheet names, motto, headers
    response = admin.get(f"/api/v1/forms/{FORM}/report.xlsx?period=2026-Q3&min_n=5&lang=en")
    book_en = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book_en.sheetnames[:3] == ["Summary", "By criterion", "By channel"]
    cells = texts(book_en)
    assert "SOCIALIST REPUBLIC OF VIET NAM" in cells and "Overall index (%)" in cells
    assert not any(t.startswith(("Bảng", "Biểu đồ", "Kỳ báo cáo")) for t in cells)
    assert admin.get(f"/api/v1/forms/{FORM}/report.xlsx?period=2026-Q3&lang=fr").status_code == 400


@pytest.mark.skipif(SOFFICE is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice or poppler-utils not installed (.ci/run installs them)")
def test_report_prints_on_a4_without_cut_columns(site, tmp_path):
    admin = logged_in(site, "admin")
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(admin.get(f"/api/v1/forms/{FORM}/report.xlsx?period=2026-Q3&min_n=5").data)
    profile = tmp_path / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, timeout=240, capture_output=True)
    pdf = tmp_path / "bao-cao.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(width), round(height)) == (842, 595)                      # A4 landscape, in points
    assert 7 <= pages <= 40
    # one page wide: every page that starts a table row with the first column's header also
    # holds the last column's, so no column was pushed onto a page of its own
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                              check=True, capture_output=True, text=True).stdout
        assert text.strip(), page
        if "STT" in text:
            assert "Ghi chú" in text or "Góp ý" in text, page
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first and "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" in first
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", str(pdf), str(tmp_path / "trang")],
                   check=True, timeout=60)
    (png,) = tmp_path.glob("trang*.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    png_width, png_height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert abs(png_width / png_height - 842 / 595) < 0.02
    assert len(data) > 5000                 # text and tables compress to more than a blank page's bytes
