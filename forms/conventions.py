"""The questionnaire conventions (docs/questionnaire-conventions.md).

pyxform ignores the columns that carry them (survey `criterion`, `sensitive`; settings
`scale`, `satisfied`), so the workbook is read again here, cell by cell, keeping the
Excel row numbers so each problem points at the cell the designer must change.

Result (same shape for an XLSForm and for an XForm published without a spreadsheet):

    {"criteria": {path: "procedure" | "staff" | "result"},
     "scale": ["1", ..., "5"], "satisfied": ["4", "5"],
     "roles": {role: path},            # only the roles present
     "sensitive": [path, ...]}

Paths are instance paths relative to the form root ("main/procedure/proc_posted"),
the same as XFormInfo.fields[*].path.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

from .problems import FormProblems, Problem, error, warning
from .xform_schema import XFormInfo

CRITERIA = ("procedure", "staff", "result")
DEFAULT_SCALE = ("1", "2", "3", "4", "5")
DEFAULT_SATISFIED = ("4", "5")
# Recognised by name outside repeats (docs/questionnaire-conventions.md, section 3).
ROLE_NAMES = (
    "unit", "channel", "procedure_field", "dossier_code", "consent",
    "start", "end", "today", "deviceid",
    # a sampled respondent picked from the surveyor's list, and whether they were reached
    "respondent", "contact_outcome",
)
# dossier_code identifies a person's application, and `respondent` holds one (the list's choice
# names are dossier codes): always kept out of exports.
ALWAYS_SENSITIVE = ("dossier_code", "respondent")
CHANNELS = ("interview", "online", "kiosk", "paper", "post", "other")
# the one answer to `consent` that lets a submission count (forms/README.md): anything else, a
# blank included, is a decline whatever a client's relevance rules did with the other answers
CONSENT_GIVEN = "yes"


def consent_declined(asks_consent: bool, value: str | None) -> bool:
    """A submission of a version that asks for consent, without `consent = yes`."""
    return asks_consent and value != CONSENT_GIVEN
# what a dossier code may look like wherever one comes in (links, registers): no spaces, so it
# is one token in a URL, a CSV cell and a select's value
DOSSIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}$")
# What a dossier code may carry without naming another dossier: spaces, tabs and line ends, the
# no-break spaces, and the invisible characters that copying from a PDF, a chat message or a
# right-to-left text brings along (soft hyphen, zero-width space and joiners, direction marks,
# embeddings and isolates, word joiner, byte order mark). Any other invisible or full-width
# character leaves the code invalid (DOSSIER_RE) rather than silently different.
DOSSIER_IGNORED = "".join(map(chr, (9, 10, 13, 32, 160, 173, *range(8203, 8208), *range(8234, 8240), 8288,
                                    *range(8294, 8298), 12288, 65279)))
_DOSSIER_KEY = str.maketrans({**{c: None for c in DOSSIER_IGNORED},
                              **{chr(c): chr(c - 32) for c in range(ord("a"), ord("z") + 1)}})


def dossier_key(code: str | None) -> str:
    """The form in which two dossier codes name the same dossier: without DOSSIER_IGNORED and
    with ASCII letters upper-cased ("hs-001\u200b " and "HS-001" are one dossier). A key that
    still fails DOSSIER_RE (another invisible character, a full-width letter) is no dossier code
    at all. storage.schema.DOSSIER_KEY_SQL computes the same in SQL."""
    return (code or "").translate(_DOSSIER_KEY)

_YES = {"yes", "true", "1", "có", "co", "x"}
_NO = {"no", "false", "0", "không", "khong"}

# pyxform stops reading a sheet after this many empty rows in a row; so do we, and
# so we never walk the million formatted-but-empty rows some workbooks carry.
_MAX_EMPTY_ROWS = 60
_MAX_EMPTY_COLUMNS = 20


def default_conventions() -> dict:
    return {
        "criteria": {},
        "scale": list(DEFAULT_SCALE),
        "satisfied": list(DEFAULT_SATISFIED),
        "roles": {},
        "sensitive": [],
    }


# ---------------------------------------------------------------------------
# Reading the workbook

def _snake(header: str) -> str:
    return "_".join(str(header).split()).lower()


def _cell_str(value) -> str | None:
    """Cell value as pyxform would see it, so names/values compare equal to the XForm."""
    if value is None:
        return None
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        value = value.replace(chr(160), " ").strip()
        return value or None
    return str(value)


@dataclass
class Sheet:
    title: str  # as written in the workbook
    headers: list[str | None]  # original header text per column (None for blank)
    rows: list[tuple[int, dict[str, str]]]  # (excel row, {snake header: value})

    def header_for(self, key: str) -> str:
        """The header as the designer wrote it (for messages)."""
        for h in self.headers:
            if h is not None and _snake(h) == key:
                return h
        return key

    def has_column(self, *keys: str) -> bool:
        return any(h is not None and _snake(h) in keys for h in self.headers)


def _sheet_from_rows(title: str, rows_iter) -> Sheet:
    headers: list[str | None] = []
    rows: list[tuple[int, dict[str, str]]] = []
    empty_run = 0
    for excel_row, values in enumerate(rows_iter, start=1):
        if excel_row == 1:
            empty_cols = 0
            for v in values:
                s = _cell_str(v)
                if s is None:
                    headers.append(None)
                    empty_cols += 1
                    if empty_cols > _MAX_EMPTY_COLUMNS:
                        break
                else:
                    empty_cols = 0
                    headers.append(" ".join(s.split()))
            continue
        record = {}
        for h, v in zip(headers, values):
            if h is None:
                continue
            s = _cell_str(v)
            if s is not None:
                record.setdefault(_snake(h), s)
        if not record:
            empty_run += 1
            if empty_run > _MAX_EMPTY_ROWS:
                break
            continue
        empty_run = 0
        rows.append((excel_row, record))
    return Sheet(title, headers, rows)


def _read_xlsx(data: bytes) -> dict[str, Sheet]:
    import openpyxl

    with warnings.catch_warnings():
        # openpyxl warns about styles/extensions it drops; irrelevant to a form.
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = {}
            for ws in wb.worksheets:
                sheets[ws.title] = _sheet_from_rows(
                    ws.title, ws.iter_rows(min_row=1, values_only=True)
                )
            return sheets
        finally:
            wb.close()


def _read_xls(data: bytes) -> dict[str, Sheet]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data)

    def value(cell):
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
            except Exception:
                return cell.value
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        return cell.value

    sheets = {}
    for sh in book.sheets():
        rows = ([value(c) for c in sh.row(r)] for r in range(sh.nrows))
        sheets[sh.name] = _sheet_from_rows(sh.name, rows)
    return sheets


def sniff_spreadsheet(data: bytes) -> str | None:
    """'.xlsx' / '.xls' from the file's first bytes, None when it is neither."""
    if data[:4] == b"PK\x03\x04":
        return ".xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return ".xls"
    return None


def not_a_spreadsheet(detail: str = "") -> Problem:
    return error(
        "Không đọc được tệp: đây không phải là bảng tính XLSForm (.xlsx hoặc .xls). "
        "Hãy mở bằng Excel/LibreOffice, lưu lại ở định dạng .xlsx rồi tải lên lại.",
        "Could not read the file: it is not an XLSForm spreadsheet (.xlsx or .xls)."
        + (f" ({detail})" if detail else ""),
    )


# ---------------------------------------------------------------------------
# The survey sheet as a tree of paths

_RE_BEGIN = re.compile(r"^begin[\s_]+(group|repeat|loop|lgroup|looped[\s_]+group)\b")
_RE_END = re.compile(r"^end[\s_]+(group|repeat|loop|lgroup|looped[\s_]+group)\b")
_SELECT_ONE = ("select_one", "select one", "select1", "add select one prompt using", "select one from")
_SELECT_ONE_FILE = ("select_one_from_file", "select one from file", "select_one_external")


@dataclass
class SurveyRow:
    row: int
    type: str  # whitespace-normalised type cell
    kind: str  # "begin_group" | "begin_repeat" | "end" | "question"
    name: str | None
    path: str | None
    repeat: str | None  # innermost enclosing repeat (or loop) path
    cells: dict[str, str]
    base: str = ""  # "select_one", "select_one_file", "select_multiple", or the type itself
    list_name: str | None = None


@dataclass
class XLSFormBook:
    sheets: dict[str, Sheet]  # by lower-case sheet name
    survey_rows: list[SurveyRow] = field(default_factory=list)
    choices: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def sheet(self, name: str) -> Sheet | None:
        return self.sheets.get(name.lower())

    @property
    def settings(self) -> tuple[int | None, dict[str, str]]:
        """(excel row, values) of the settings row pyxform uses (the first under the header)."""
        sh = self.sheet("settings")
        if sh is None or not sh.rows:
            return None, {}
        row, values = sh.rows[0]
        return row, values

    def locate(self, kind: str, value: str) -> tuple[str, int, str] | None:
        """Where a value named in a pyxform message sits (see problems.Locator)."""
        value = " ".join(str(value).split())
        if kind == "header":
            # the sheet whose header row holds this column twice (pyxform names no sheet)
            for sheet in self.sheets.values():
                names = [_snake(h) for h in sheet.headers if h is not None]
                if names.count(_snake(value)) > 1:
                    return sheet.title, 1, sheet.header_for(_snake(value))
            return None
        for r in self.survey_rows:
            if kind == "type" and (r.type == value or r.type.split(" ")[0] == value):
                return "survey", r.row, "type"
            if kind == "name" and r.name == value:
                return "survey", r.row, "name"
            if kind == "list" and r.list_name == value:
                return "survey", r.row, "type"
        return None


def _classify(type_text: str) -> tuple[str, str, str | None]:
    """(kind, base, list_name) of a survey type cell."""
    low = type_text.lower()
    m = _RE_BEGIN.match(low)
    if m:
        word = m.group(1)
        return ("begin_group" if word == "group" else "begin_repeat"), word, None
    if _RE_END.match(low):
        return "end", "end", None
    for prefix in _SELECT_ONE_FILE:
        if low.startswith(prefix + " "):
            return "question", "select_one_file", type_text[len(prefix):].split()[0]
    for prefix in _SELECT_ONE:
        if low.startswith(prefix + " "):
            return "question", "select_one", type_text[len(prefix):].split()[0]
    if low.startswith(("select_multiple", "select multiple", "select all that apply", "rank ")):
        return "question", "select_multiple", None
    return "question", low, None


def read_xlsform(data: bytes) -> XLSFormBook:
    """Read the sheets of an XLSForm. Raises FormProblems if it is not a spreadsheet."""
    kind = sniff_spreadsheet(data)
    if kind is None:
        raise FormProblems([not_a_spreadsheet()])
    try:
        raw = _read_xlsx(data) if kind == ".xlsx" else _read_xls(data)
    except Exception as exc:  # corrupt zip, not a workbook inside, ...
        raise FormProblems([not_a_spreadsheet(f"{type(exc).__name__}: {exc}")]) from None
    sheets = {title.lower(): sh for title, sh in raw.items()}
    if "survey" not in sheets and len(raw) == 1:
        # pyxform reads a lone sheet, whatever its name, as the survey.
        sheets["survey"] = next(iter(raw.values()))
    book = XLSFormBook(sheets)
    survey = book.sheet("survey")
    if survey is not None:
        stack: list[tuple[str, str]] = []  # (kind, path)
        for row, cells in survey.rows:
            type_text = " ".join(cells.get("type", cells.get("command", "")).split())
            if not type_text:
                continue
            name = cells.get("name") or cells.get("value") or cells.get("tag")
            kind, base, list_name = _classify(type_text)
            parent = stack[-1][1] if stack else ""
            repeat = next((p for k, p in reversed(stack) if k == "begin_repeat"), None)
            if kind == "end":
                if stack:
                    stack.pop()
                book.survey_rows.append(SurveyRow(row, type_text, kind, name, None, repeat, cells, base))
                continue
            path = (f"{parent}/{name}" if parent else name) if name else None
            book.survey_rows.append(
                SurveyRow(row, type_text, kind, name, path, repeat, cells, base, list_name)
            )
            if kind in ("begin_group", "begin_repeat"):
                stack.append((kind, path or parent))
    choices_sheet = book.sheet("choices")
    if choices_sheet is not None:
        for row, cells in choices_sheet.rows:
            list_name = cells.get("list_name")
            value = cells.get("name", cells.get("value"))
            if list_name and value is not None:
                book.choices.setdefault(list_name, []).append((row, value))
    return book


# ---------------------------------------------------------------------------
# The conventions

def _split_values(text: str) -> list[str]:
    return [v for v in re.split(r"[\s,;]+", text) if v]


def conventions_from_book(book: XLSFormBook) -> tuple[dict, list[Problem]]:
    problems: list[Problem] = []
    conv = default_conventions()

    # -- settings: scale / satisfied ------------------------------------------
    settings_sheet = book.sheet("settings")
    settings_row, settings = book.settings
    sheet_title = settings_sheet.title if settings_sheet else "settings"
    for key, default in (("scale", DEFAULT_SCALE), ("satisfied", DEFAULT_SATISFIED)):
        if settings_sheet is None or not settings_sheet.has_column(key):
            continue
        column = settings_sheet.header_for(key)
        values = _split_values(settings.get(key, ""))
        if not values:
            problems.append(error(
                f'Cột "{key}" có trong trang settings nhưng để trống. Điền các giá trị cách nhau bằng dấu cách '
                f'(mặc định "{" ".join(default)}") hoặc xoá cột.',
                f'The settings column "{key}" is empty. Give space-separated values '
                f'(default "{" ".join(default)}") or remove the column.',
                sheet_title, settings_row or 2, column,
            ))
            continue
        unique = list(dict.fromkeys(values))
        if len(unique) != len(values):
            problems.append(warning(
                f'Cột "{key}" có giá trị lặp lại; mỗi giá trị chỉ tính một lần.',
                f'The settings column "{key}" repeats a value; each counts once.',
                sheet_title, settings_row, column,
            ))
        conv[key] = unique
    outside = [v for v in conv["satisfied"] if v not in conv["scale"]]
    if outside:
        problems.append(error(
            f'Giá trị "satisfied" ({" ".join(outside)}) không nằm trong thang đo "scale" '
            f'({" ".join(conv["scale"])}). Các mức "hài lòng" phải là một phần của thang đo.',
            f'The "satisfied" values ({" ".join(outside)}) are not in the "scale" '
            f'({" ".join(conv["scale"])}); satisfied answers must be scale values.',
            sheet_title, settings_row,
            settings_sheet.header_for("satisfied") if settings_sheet else "satisfied",
        ))
    elif len(conv["satisfied"]) == len(conv["scale"]):
        problems.append(warning(
            'Mọi giá trị của thang đo đều được tính là "hài lòng" nên chỉ số luôn là 100%.',
            'Every scale value counts as satisfied, so every index will be 100%.',
            sheet_title, settings_row,
            settings_sheet.header_for("satisfied") if settings_sheet else "satisfied",
        ))

    # -- survey: criterion, sensitive, roles ------------------------------------
    survey = book.sheet("survey")
    crit_col = survey.header_for("criterion") if survey else "criterion"
    sens_col = survey.header_for("sensitive") if survey else "sensitive"
    sheet_name = survey.title if survey else "survey"
    sensitive: list[str] = []
    sensitive_groups: list[str] = []
    for r in book.survey_rows:
        if r.kind == "end" or r.path is None:
            continue
        crit = r.cells.get("criterion")
        if crit is not None:
            value = crit.strip().lower()
            if value not in CRITERIA:
                problems.append(error(
                    f'Giá trị "{crit}" không hợp lệ. Cột "criterion" chỉ nhận: procedure (giải quyết TTHC), '
                    "staff (sự phục vụ của công chức), result (kết quả, tiến độ).",
                    f'Unknown criterion "{crit}"; use procedure, staff or result.',
                    sheet_name, r.row, crit_col,
                ))
            elif r.kind != "question" or r.base not in ("select_one", "select_one_file"):
                problems.append(error(
                    f'Chỉ câu hỏi select_one (chọn một mức trên thang đo) mới được gắn tiêu chí; '
                    f'"{r.name}" có loại "{r.type}".',
                    f'Only a select_one question can carry a criterion; "{r.name}" is "{r.type}".',
                    sheet_name, r.row, crit_col,
                ))
            elif r.repeat is not None:
                problems.append(error(
                    f'Câu "{r.name}" nằm trong nhóm lặp "{r.repeat}" nên không thể tính chỉ số '
                    "(mỗi người trả lời phải có một câu trả lời cho mỗi câu hỏi). Đưa câu hỏi ra ngoài nhóm lặp.",
                    f'"{r.name}" is inside the repeat "{r.repeat}"; criterion items must be outside repeats.',
                    sheet_name, r.row, crit_col,
                ))
            else:
                conv["criteria"][r.path] = value
                _check_choice_list(book, r, conv["scale"], problems, sheet_name, crit_col)
        sens = r.cells.get("sensitive")
        marked = False
        if sens is not None:
            low = sens.strip().lower()
            if low in _YES:
                marked = True
            elif low not in _NO:
                # Privacy first: an unclear mark is read as "sensitive".
                marked = True
                problems.append(warning(
                    f'Giá trị "{sens}" trong cột "sensitive" không rõ; đã coi là "yes" (nhạy cảm). '
                    'Dùng "yes" hoặc để trống.',
                    f'Unclear "sensitive" value "{sens}"; treated as yes. Use "yes" or leave blank.',
                    sheet_name, r.row, sens_col,
                ))
        if marked or r.name in ALWAYS_SENSITIVE:
            if r.path not in sensitive:
                sensitive.append(r.path)
            if r.kind in ("begin_group", "begin_repeat"):
                sensitive_groups.append(r.path)
        elif any(r.path.startswith(g + "/") for g in sensitive_groups):
            sensitive.append(r.path)  # everything inside a sensitive group is sensitive
        if r.name in ROLE_NAMES and r.kind == "question" and r.repeat is None:
            if r.name in conv["roles"]:
                problems.append(warning(
                    f'Có nhiều câu hỏi tên "{r.name}"; máy chủ dùng câu đầu tiên ({conv["roles"][r.name]}).',
                    f'Several questions are named "{r.name}"; the server uses the first ({conv["roles"][r.name]}).',
                    sheet_name, r.row, "name",
                ))
            else:
                conv["roles"][r.name] = r.path
    conv["sensitive"] = sensitive
    return conv, problems


def _check_choice_list(book, r: SurveyRow, scale, problems, sheet_name, crit_col) -> None:
    if r.base == "select_one_file":
        problems.append(warning(
            f'Câu "{r.name}" lấy lựa chọn từ tệp ngoài nên máy chủ không kiểm tra được các mức thang đo.',
            f'"{r.name}" takes its choices from a file; the scale values cannot be checked.',
            sheet_name, r.row, "type",
        ))
        return
    entries = book.choices.get(r.list_name or "")
    if entries is None:
        return  # pyxform reports the missing list itself
    names = {v for _, v in entries}
    missing = [v for v in scale if v not in names]
    if missing:
        problems.append(warning(
            f'Danh sách "{r.list_name}" của câu "{r.name}" thiếu các giá trị thang đo: {" ".join(missing)}.',
            f'The list "{r.list_name}" of "{r.name}" lacks the scale values: {" ".join(missing)}.',
            sheet_name, r.row, crit_col,
        ))


def conventions_from_xlsform(data: bytes) -> tuple[dict, list[Problem]]:
    """Conventions and problems of an XLSForm given as bytes."""
    return conventions_from_book(read_xlsform(data))


def conventions_from_xform(info: XFormInfo) -> dict:
    """Conventions of an XForm published without its spreadsheet: no criteria can be
    known, default scale, roles by name outside repeats, dossier_code sensitive."""
    conv = default_conventions()
    for f in info.fields:
        if f.is_container:
            continue
        if f.name in ROLE_NAMES and f.repeat is None and f.name not in conv["roles"]:
            conv["roles"][f.name] = f.path
        if f.name in ALWAYS_SENSITIVE and f.path not in conv["sensitive"]:
            conv["sensitive"].append(f.path)
    return conv


def check_against_xform(conv: dict, info: XFormInfo) -> list[Problem]:
    """Paths computed from the workbook must exist in the compiled XForm; a mismatch
    (an XLSForm feature this reader does not model) is dropped and reported."""
    known = {f.path for f in info.fields}
    problems = []

    def gone(path, what):
        problems.append(warning(
            f'Không tìm thấy "{path}" ({what}) trong XForm đã chuyển đổi; quy ước này bị bỏ qua.',
            f'"{path}" ({what}) is not in the compiled XForm; this convention is ignored.',
        ))

    for path in list(conv["criteria"]):
        if path not in known:
            gone(path, "criterion")
            del conv["criteria"][path]
    for role, path in list(conv["roles"].items()):
        if path not in known:
            gone(path, role)
            del conv["roles"][role]
    kept = []
    for path in conv["sensitive"]:
        if path in known:
            kept.append(path)
        else:
            gone(path, "sensitive")
    conv["sensitive"] = kept
    return problems


__all__ = [
    "CRITERIA", "DEFAULT_SCALE", "DEFAULT_SATISFIED", "ROLE_NAMES", "CHANNELS", "CONSENT_GIVEN",
    "consent_declined",
    "XLSFormBook", "read_xlsform", "conventions_from_book", "conventions_from_xlsform",
    "conventions_from_xform", "check_against_xform", "default_conventions",
    "sniff_spreadsheet",
]
