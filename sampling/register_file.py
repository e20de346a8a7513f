"""Reading a dossier register exported from the one-stop system (CSV or XLSX) into rows to import.

The register is the sampling frame, so a row that cannot be trusted (unknown unit, no return
date, a date that cannot be read) is a problem named by its row and column, never a guess: the
caller imports nothing while there are problems unless the user chooses to skip those rows.
Exports differ between units and versions of the one-stop software, so headers are matched
loosely (case, diacritics, spaces and punctuation ignored) against the names seen in practice.

File-level faults (not a CSV/XLSX, unreadable, too big, no header) raise RegisterFileError.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath

import openpyxl

from aggregate.periods import parse_date
from forms.conventions import DOSSIER_RE
from forms.problems import ERROR, WARNING, Problem
from storage.errors import BilingualError
from storage.registers import MESSAGE_OWNED_EN, MESSAGE_OWNED_VI

from .folding import folded_words

MAX_BYTES = 32 * 1024 * 1024
MAX_ROWS = 200_000
# a file with thousands of bad rows repeats one fault: the first ones are enough to fix it
MAX_PROBLEMS_SHOWN = 500
# an .xlsx is a zip: what it unpacks to is bounded too, so a small file cannot fill the memory
MAX_XLSX_UNPACKED = 512 * 1024 * 1024
# exports often put a title and a blank line above the header
HEADER_SEARCH_ROWS = 10

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # the old binary .xls
EXTENSIONS = {".csv": "csv", ".txt": "csv", "": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}

# field -> header names as exports write them, most specific first: when a file has two columns
# for one field (a unit code and a unit name) the earlier alias is used.
ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("Mã hồ sơ", "ma_ho_so", "so_ho_so", "Số hồ sơ", "dossier_code", "code"),
    "procedure_name": ("Tên thủ tục", "Thủ tục", "thu_tuc", "procedure", "procedure_name"),
    "procedure_field": ("Lĩnh vực", "linh_vuc", "field", "procedure_field"),
    "unit_code": ("Mã đơn vị", "ma_don_vi", "unit_code", "Đơn vị", "don_vi", "unit"),
    "received_on": ("Ngày tiếp nhận", "ngay_tiep_nhan", "ngay_nhan", "received", "received_on"),
    "due_on": ("Ngày hẹn trả", "ngay_hen_tra", "due", "due_on"),
    "returned_on": ("Ngày trả kết quả", "ngay_tra_ket_qua", "ngay_tra", "returned", "returned_on"),
    "applicant_name": ("Người nộp", "Tên người nộp", "Chủ hồ sơ", "Họ tên", "nguoi_nop", "applicant",
                       "applicant_name"),
    "phone": ("Số điện thoại", "Điện thoại", "so_dien_thoai", "sdt", "phone"),
}
# the sampling frame is "dossiers returned in the period": without these a row is useless
REQUIRED = ("code", "unit_code", "returned_on")
DATE_FIELDS = ("received_on", "due_on", "returned_on")

_TIME = re.compile(r"^(?P<date>\S+?)(?:[ T]+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?)?$")
_FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|\d{1,2}-\d{1,2}-\d{4})$")
_PHONE_NOISE = re.compile(r"[\s.\-()]")

Row = tuple[int, list]   # (row number as the user sees it, cell values)
# (sheet name or None for a CSV, a function that reads its rows from the top each time it is called)
Sheets = list[tuple[str | None, Callable[[], Iterator[Row]]]]


class RegisterFileError(BilingualError):
    """The file as a whole cannot be read as a register; nothing in it is imported."""

    # the names of forms.problems.Problem, whose messages the same pages show
    message_vi = property(lambda self: self.vi)
    message_en = property(lambda self: self.en)


@dataclass
class RegisterCheck:
    rows: list[dict]             # the good rows, as storage.registers.import_dossiers takes them
    problems: list[Problem]      # one per fault, row and column named; a row with any is left out
    rows_total: int              # data rows that were not wholly empty
    warnings: list[Problem] = field(default_factory=list)   # columns that were ignored
    sheet: str | None = None     # the worksheet read (XLSX)
    kind: str = "csv"            # "csv" | "xlsx": how the file was read

    @property
    def rows_skipped(self) -> int:
        return self.rows_total - len(self.rows)

    @property
    def problem_rows(self) -> int:
        return len({p.row for p in self.problems})


def header_key(text: str) -> str:
    """'Mã  Đơn-vị' -> 'madonvi': how headers are compared (no case, diacritics or punctuation)."""
    return "".join(folded_words(text))


FIELD_BY_KEY: dict[str, tuple[str, int]] = {
    header_key(alias): (name, rank) for name, aliases in ALIASES.items() for rank, alias in enumerate(aliases)}


def read_register(filename: str, content: bytes, known_units: dict[str, dict], *,
                  scope: set[str] | None = None,
                  owners: Callable[[list[str]], dict[str, str]] | None = None) -> RegisterCheck:
    """Check a register file whole. `known_units` is {code: unit row}; `scope`, when given, the
    unit codes the importing account may write: rows of other units become problems, and so do
    rows whose dossier code `owners` ({code: unit} of the codes already imported, e.g.
    storage.registers.owner_units) gives to a unit outside the scope."""
    kind = _file_kind(filename, content)
    sheets = _xlsx_sheets(content) if kind == "xlsx" else _csv_sheets(content)
    header_row, columns, headers, sheet_name, rows = _find_header(sheets)
    check = RegisterCheck(rows=[], problems=[], rows_total=0, sheet=sheet_name, kind=kind)
    check.warnings = [
        Problem(WARNING, "Cột không được dùng, đã bỏ qua.", "Column not used; ignored.",
                sheet_name, header_row, text)
        for index, text in enumerate(headers) if text and index not in columns.values()]
    reader = _RowChecker(known_units, scope, columns, headers, sheet_name)
    for number, values in rows:
        cells = {name: _text(values[i]) if i < len(values) else "" for name, i in columns.items()}
        if not any(_text(v) for v in values):
            continue   # a blank line between blocks of an export is nothing to report
        check.rows_total += 1
        if check.rows_total > MAX_ROWS:
            raise RegisterFileError(
                f"Tệp có hơn {MAX_ROWS:,} dòng; hãy chia thành nhiều tệp.".replace(",", "."),
                f"The file has more than {MAX_ROWS:,} rows; split it into several files.")
        row, problems = reader.check(number, cells, values)
        check.problems.extend(problems)
        if row is not None:
            check.rows.append(row)
    if check.rows_total == 0:
        raise RegisterFileError("Tệp không có dòng hồ sơ nào dưới dòng tiêu đề.",
                                "The file has no dossier rows below the header.")
    if scope is not None and owners is not None:
        _keep_owners(check, scope, owners([row["code"] for row in check.rows]), reader)
    return check


def _keep_owners(check: RegisterCheck, scope: set[str], owner_of: dict[str, str], reader: "_RowChecker") -> None:
    """A good row whose dossier already belongs to a unit outside the scope becomes a problem:
    nobody moves another unit's dossier, nor adds to its applicant's details. The owner is not
    named (it is outside the importer's scope); the row and the column are."""
    kept = []
    for row in check.rows:
        owner = owner_of.get(row["code"])
        if owner is None or owner in scope:
            kept.append(row)
        else:
            check.problems.append(Problem(ERROR, MESSAGE_OWNED_VI, MESSAGE_OWNED_EN, check.sheet,
                                          reader.first_row[row["code"]], reader.headers.get("code")))
    check.rows = kept
    check.problems.sort(key=lambda p: p.row or 0)


def import_summary(result: dict) -> tuple[str, str]:
    """What storage.registers.import_dossiers did, in (Vietnamese, English)."""
    added, updated, skipped = result["added"], result["updated"], result["skipped"]
    vi = f"Đã nhập {added + updated} hồ sơ ({added} mới, {updated} cập nhật)"
    en = f"Imported {added + updated} dossiers ({added} new, {updated} updated)"
    if skipped:
        vi += f", bỏ qua {skipped} dòng lỗi"
        en += f", skipped {skipped} rows with problems"
    return vi + ".", en + "."


# --- the file: kind, sheets, header --------------------------------------------------------

def _file_kind(filename: str, content: bytes) -> str:
    if not content:
        raise RegisterFileError("Tệp rỗng.", "The file is empty.")
    if len(content) > MAX_BYTES:
        raise RegisterFileError(f"Tệp lớn hơn {MAX_BYTES // (1024 * 1024)} MB; hãy chia thành nhiều tệp.",
                                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into several files.")
    if content.startswith(OLE_MAGIC):
        raise RegisterFileError(
            "Tệp Excel cũ (.xls) không được hỗ trợ; hãy lưu lại dạng .xlsx hoặc CSV UTF-8.",
            "Old Excel files (.xls) are not supported; save it as .xlsx or CSV UTF-8.")
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in EXTENSIONS:
        raise RegisterFileError("Chỉ nhận tệp CSV hoặc Excel (.xlsx).", "Only CSV or Excel (.xlsx) files are accepted.")
    if content.startswith(ZIP_MAGIC):
        return "xlsx"   # an .xlsx renamed to .csv is still read for what it is
    if EXTENSIONS[suffix] == "xlsx":
        raise RegisterFileError("Tệp không phải bảng tính Excel (.xlsx) hợp lệ.",
                                "The file is not a valid Excel (.xlsx) workbook.")
    return "csv"


def _csv_sheets(content: bytes) -> Sheets:
    try:
        text = unicodedata.normalize("NFC", content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise RegisterFileError(
            "Tệp CSV không ở mã UTF-8. Hãy lưu tệp CSV với mã hoá UTF-8 (Excel: Lưu dạng → CSV UTF-8).",
            "The CSV file is not UTF-8. Save the CSV file with UTF-8 encoding (Excel: Save as → CSV UTF-8).") from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel writes ';' where ',' is the decimal separator (Vietnamese settings). The first line
    # may be a title rather than the header, so the other delimiter is tried when no header is found.
    likely = ";" if first.count(";") > first.count(",") else ","
    return [(None, _csv_rows(text, delimiter)) for delimiter in (likely, ";" if likely == "," else ",")]


def _csv_rows(text: str, delimiter: str) -> Callable[[], Iterator[Row]]:
    def rows():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for number, values in enumerate(reader, start=1):
                yield number, values
        except csv.Error as exc:
            raise RegisterFileError(f"Không đọc được tệp CSV ở dòng {reader.line_num}.",
                                    f"The CSV file cannot be read at line {reader.line_num} ({exc}).") from None
    return rows


def _unreadable_xlsx() -> RegisterFileError:
    return RegisterFileError("Không đọc được tệp Excel; hãy mở và lưu lại dạng .xlsx.",
                             "The Excel file cannot be read; open it and save it again as .xlsx.")


def _xlsx_sheets(content: bytes) -> Sheets:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _unreadable_xlsx() from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise RegisterFileError("Tệp Excel quá lớn khi giải nén; hãy chia thành nhiều tệp.",
                                "The Excel file is too large once unpacked; split it into several files.")
    try:
        # data_only: a formula cell gives the value Excel last computed, not the formula
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:   # openpyxl raises many kinds for a broken workbook; all mean the same here
        raise _unreadable_xlsx() from None

    def sheet_rows(sheet):
        def rows():
            try:
                # an exporter may write a wrong dimension; without resetting it rows get cut short
                sheet.reset_dimensions()
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, list(values)
            except Exception:   # a broken part of the workbook shows only when it is read
                raise _unreadable_xlsx() from None
        return rows
    # hidden sheets hold the exporter's lookup lists, not dossiers
    return [(sheet.title, sheet_rows(sheet)) for sheet in book.worksheets if sheet.sheet_state == "visible"]


def _match_header(values: list) -> dict[str, int]:
    """{field: column index} for a candidate header row, the best alias winning for each field."""
    best: dict[str, tuple[int, int]] = {}
    for index, value in enumerate(values):
        found = FIELD_BY_KEY.get(header_key(_text(value)))
        if found and (found[0] not in best or found[1] < best[found[0]][1]):
            best[found[0]] = (index, found[1])
    return {name: index for name, (index, _) in best.items()}


def _find_header(sheets: Sheets) -> tuple[int, dict[str, int], list[str], str | None, Iterator[Row]]:
    """The first sheet (in order) with a header holding the required columns within its first rows.

    Returns (header row number, {field: index}, header texts, sheet name, the data rows after it).
    """
    fewest_missing: list[str] | None = None
    for name, rows in sheets:
        iterator = iter(rows())
        seen = 0
        for number, values in iterator:
            if not any(_text(v) for v in values):
                continue
            columns = _match_header(values)
            missing = [f for f in REQUIRED if f not in columns]
            if not missing:
                return number, columns, [_text(v) for v in values], name, iterator
            if fewest_missing is None or len(missing) < len(fewest_missing):
                fewest_missing = missing
            seen += 1
            if seen >= HEADER_SEARCH_ROWS:
                break
    if fewest_missing is None:
        raise RegisterFileError("Tệp rỗng.", "The file is empty.")
    names_vi = ", ".join(f'"{ALIASES[f][0]}"' for f in fewest_missing)
    names_en = ", ".join(f'"{ALIASES[f][0]}" ({f})' for f in fewest_missing)
    raise RegisterFileError(
        f"Không tìm thấy dòng tiêu đề có đủ các cột bắt buộc; thiếu cột {names_vi}.",
        f"No header row with every required column was found; missing {names_en}.")


def _text(value) -> str:
    """A cell as trimmed NFC text; Excel numbers that are whole (codes, phones) lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


# --- the rows ------------------------------------------------------------------------------

def _unit_name_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


class _RowChecker:
    """Checks one row after another; remembers the codes seen, for duplicates."""

    def __init__(self, known_units: dict[str, dict], scope: set[str] | None, columns: dict[str, int],
                 headers: list[str], sheet: str | None):
        self.known, self.scope, self.columns, self.sheet = known_units, scope, columns, sheet
        self.headers = {name: headers[index] for name, index in columns.items()}
        self.first_row: dict[str, int] = {}
        self.by_name: dict[str, list[str]] = {}
        for code, unit in known_units.items():
            if unit.get("name_vi"):
                self.by_name.setdefault(_unit_name_key(unit["name_vi"]), []).append(code)

    def check(self, number: int, cells: dict[str, str], values: list) -> tuple[dict | None, list[Problem]]:
        problems: list[Problem] = []

        def problem(name: str, vi: str, en: str) -> None:
            problems.append(Problem(ERROR, vi, en, self.sheet, number, self.headers.get(name)))

        code = self._code(cells["code"], number, problem)
        unit = self._unit(cells["unit_code"], problem)
        dates = {name: self._date(name, values, problem) for name in DATE_FIELDS if name in self.headers}
        if "returned_on" in dates and not cells["returned_on"]:
            problem("returned_on", "Thiếu ngày trả kết quả.", "The return date is empty.")
        received = dates.get("received_on")
        if received and dates.get("returned_on") and dates["returned_on"] < received:
            problem("returned_on", "Ngày trả kết quả trước ngày tiếp nhận.",
                    "The return date is before the date received.")
        if received and dates.get("due_on") and dates["due_on"] < received:
            problem("due_on", "Ngày hẹn trả trước ngày tiếp nhận.", "The due date is before the date received.")
        phone = self._phone(cells.get("phone", ""), problem)
        if problems:
            return None, problems
        return {
            "code": code, "unit_code": unit,
            "procedure_name": cells.get("procedure_name") or None,
            "procedure_field": cells.get("procedure_field") or None,
            **{name: (dates.get(name).isoformat() if dates.get(name) else None) for name in DATE_FIELDS},
            "applicant_name": cells.get("applicant_name") or None, "phone": phone,
        }, []

    def _code(self, code: str, number: int, problem) -> str | None:
        # the code's value is not echoed: it identifies a citizen's dossier, and the row says where
        if not code:
            problem("code", "Thiếu mã hồ sơ.", "The dossier code is empty.")
        elif not DOSSIER_RE.match(code):
            problem("code",
                    "Mã hồ sơ không hợp lệ: chỉ dùng chữ không dấu, số và . _ / : - (tối đa 64 ký tự).",
                    "Invalid dossier code: use only letters without accents, digits and . _ / : - (at most 64 characters).")
        elif code in self.first_row:
            first = self.first_row[code]
            problem("code", f"Mã hồ sơ trùng với dòng {first}.", f"The dossier code repeats row {first}.")
        else:
            self.first_row[code] = number
            return code
        return None

    def _unit(self, text: str, problem) -> str | None:
        if not text:
            problem("unit_code", "Thiếu đơn vị.", "The unit is empty.")
            return None
        code = text if text in self.known else None
        if code is None:
            matches = self.by_name.get(_unit_name_key(text), [])
            if len(matches) > 1:
                problem("unit_code", f'Tên đơn vị "{text}" trùng với nhiều đơn vị; hãy dùng mã đơn vị.',
                        f'The unit name "{text}" fits several units; use the unit code.')
                return None
            code = matches[0] if matches else None
        if code is None:
            problem("unit_code", f'Không có đơn vị "{text}" (mã hoặc tên tiếng Việt) trên hệ thống.',
                    f'No unit "{text}" (code or Vietnamese name) on the server.')
        elif self.scope is not None and code not in self.scope:
            problem("unit_code", f'Đơn vị ngoài phạm vi tài khoản: "{text}".',
                    f'Unit outside the account\'s scope: "{text}".')
            return None
        return code

    def _date(self, name: str, values: list, problem) -> date | None:
        index = self.columns[name]
        raw = values[index] if index < len(values) else None
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        text = _text(raw)
        if not text:
            return None
        parsed = parse_register_date(text)
        if parsed is None:
            problem(name, f'Không đọc được ngày "{text}" (dùng dd/mm/yyyy hoặc yyyy-mm-dd).',
                    f'Cannot read the date "{text}" (use dd/mm/yyyy or yyyy-mm-dd).')
        return parsed

    def _phone(self, text: str, problem) -> str | None:
        if not text:
            return None
        digits = _PHONE_NOISE.sub("", text)
        if digits.startswith("+84"):
            digits = "0" + digits[3:]
        # Excel drops the leading 0 of a number typed as a number: 9 digits, or 10 for a landline
        if digits.isdigit() and 9 <= len(digits) <= 10 and not digits.startswith("0"):
            digits = "0" + digits
        if not (digits.isdigit() and 9 <= len(digits) <= 11 and digits.startswith("0")):
            # the number itself is an identifier: the message does not repeat it
            problem("phone", "Số điện thoại không hợp lệ (cần 9–11 chữ số).",
                    "Invalid phone number (9–11 digits expected).")
            return None
        return digits


def parse_register_date(text: str) -> date | None:
    """yyyy-mm-dd, dd/mm/yyyy, d/m/yyyy or dd-mm-yyyy, optionally followed by HH:MM[:SS]."""
    match = _TIME.match(text.strip())
    if not match or not _FULL_DATE.match(match["date"]):
        return None
    if match["h"] is not None and not (int(match["h"]) < 24 and int(match["m"]) < 60
                                       and int(match["s"] or 0) < 60):
        return None
    return parse_date(match["date"])
