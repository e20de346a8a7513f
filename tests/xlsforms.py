"""Building small XLSForms inside tests."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook


def write_xlsform(path: Path, survey: list[list], choices: list[list] | None = None,
                  settings: dict | None = None) -> Path:
    """`survey` and `choices` are rows whose first row is the header."""
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(row)
    if settings:
        sheet = book.create_sheet("settings")
        sheet.append(list(settings))
        sheet.append(list(settings.values()))
    book.save(path)
    return path


def small_form(path: Path, form_id: str, version: str, extra_question: bool = False) -> Path:
    """A short questionnaire following the conventions: unit, one item per criterion, a photo."""
    survey = [["type", "name", "label", "criterion"],
              ["start", "start", "", ""],
              ["text", "unit", "Đơn vị", ""],
              ["select_one s5", "q_proc", "Thủ tục", "procedure"],
              ["select_one s5", "q_staff", "Công chức", "staff"],
              ["select_one s5", "q_result", "Kết quả", "result"],
              ["image", "photo", "Ảnh", ""]]
    if extra_question:
        survey.append(["text", "note_v2", "Ghi chú", ""])
    choices = [["list_name", "name", "label"]] + [["s5", str(v), str(v)] for v in (5, 4, 3, 2, 1, 0)]
    return write_xlsform(path, survey, choices, {"form_id": form_id, "version": version,
                                                 "form_title": f"Thử {form_id}"})


def standard_version() -> str:
    """The version of forms/tthc_hailong.xlsx, for tests that name an existing version."""
    book = load_workbook(Path(__file__).resolve().parents[1] / "forms" / "tthc_hailong.xlsx", read_only=True)
    rows = list(book["settings"].iter_rows(max_row=2, values_only=True))
    return str(rows[1][list(rows[0]).index("version")])


STANDARD_VERSION = standard_version()
