"""Problems in a form, worded for the form designer (Vietnamese first, English kept).

pyxform reports problems as English strings (sometimes with "[row : N]" and the sheet
and column named in the text). Designers here read Vietnamese and work in the
spreadsheet, so each message is turned into a Problem that carries the spreadsheet
coordinates when they can be found, a Vietnamese explanation for the common cases and
the original English text untouched (it is what people search the web for).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

ERROR = "error"
WARNING = "warning"

# Answers a question like ("type", "foo") or ("name", "age") with the spreadsheet
# cell where that value sits: (sheet, row, column). pyxform leaves out the row for
# some messages (e.g. an unknown question type), so the caller, who has the
# workbook, can fill it in.
Locator = Callable[[str, str], "tuple[str, int, str] | None"]


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" | "warning"
    message_vi: str
    message_en: str
    sheet: str | None = None
    row: int | None = None  # Excel row number, as the designer sees it
    column: str | None = None  # column header, e.g. "criterion"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def describe(self, lang: str = "vi") -> str:
        vi = not str(lang).lower().startswith("en")
        parts = []
        if self.sheet:
            parts.append(f'Trang "{self.sheet}"' if vi else f'Sheet "{self.sheet}"')
        if self.row is not None:
            parts.append(f"dòng {self.row}" if vi else f"row {self.row}")
        if self.column:
            parts.append(f'cột "{self.column}"' if vi else f'column "{self.column}"')
        text = self.message_vi if vi else self.message_en
        if parts:
            if not vi:
                parts[0] = parts[0][0].upper() + parts[0][1:]
            return ", ".join(parts) + ": " + text
        return text

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
        }


class FormProblems(Exception):
    """Raised when a form has at least one error; `problems` also holds the warnings."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self.describe("vi"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def describe(self, lang: str = "vi") -> str:
        return "\n".join(p.describe(lang) for p in self.problems)

    def __str__(self) -> str:
        return self.describe("vi")


def error(message_vi: str, message_en: str, sheet=None, row=None, column=None) -> Problem:
    return Problem(ERROR, message_vi, message_en, sheet, row, column)


def warning(message_vi: str, message_en: str, sheet=None, row=None, column=None) -> Problem:
    return Problem(WARNING, message_vi, message_en, sheet, row, column)


# ---------------------------------------------------------------------------
# pyxform message translation

_RE_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_RE_SHEET_COLUMN = re.compile(r"On the '([^']+)' sheet, the '([^']+)' value")
_RE_SHEET_ONLY = re.compile(r"On the '([^']+)' sheet")
_RE_LEARN_MORE = re.compile(r"\s*Learn more: \S+")


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    vi: str  # str.format template fed with the pattern's named groups
    sheet: str | None = None
    column: str | None = None
    # (kind, group name): ask the locator where this value sits when pyxform gave no row
    locate: tuple[str, str] | None = None


def _r(pattern: str, vi: str, sheet=None, column=None, locate=None) -> _Rule:
    return _Rule(re.compile(pattern, re.S), vi, sheet, column, locate)


# Ordered: the first matching rule wins.
_RULES: tuple[_Rule, ...] = (
    _r(
        r"Unknown question type '(?P<type>select_one|select_multiple|select one|select multiple)'",
        'Loại câu hỏi "{type}" thiếu tên danh sách lựa chọn. Viết dạng "{type} tên_danh_sách", '
        'ví dụ "select_one yes_no", và khai báo danh sách đó trong trang "choices".',
        "survey", "type", ("type", "type"),
    ),
    _r(
        r"Unknown question type '(?P<type>[^']*)'",
        'Loại câu hỏi "{type}" không tồn tại. Kiểm tra chính tả trong cột "type" '
        "(ví dụ: text, integer, select_one tên_danh_sách, begin_group, end_group, note).",
        "survey", "type", ("type", "type"),
    ),
    _r(
        r"Question or group with no name",
        'Câu hỏi hoặc nhóm chưa có tên: điền cột "name" (chỉ gồm chữ không dấu, số, dấu gạch dưới).',
        "survey", "name",
    ),
    _r(
        r"Question with no type",
        'Dòng này có tên nhưng thiếu loại câu hỏi: điền cột "type".',
        "survey", "type",
    ),
    _r(
        r"the 'name' value '(?P<value>[^']*)' is invalid\. Questions, groups, and repeats must be unique",
        'Tên "{value}" bị trùng với một câu hỏi/nhóm khác cùng cấp. Mỗi tên trong cùng một nhóm phải khác nhau.',
        "survey", "name",
    ),
    _r(
        r"the 'name' value '(?P<value>[^']*)' is problematic\. The name is a case-insensitive match",
        'Tên "{value}" chỉ khác một tên khác ở chữ hoa/chữ thường; nên đặt tên khác hẳn để tránh nhầm khi phân tích.',
        "survey", "name",
    ),
    _r(
        r"Repeat names must not be the same as the survey root",
        "Tên của nhóm lặp (repeat) không được trùng với tên gốc của biểu mẫu.",
        "survey", "name",
    ),
    _r(
        r"the 'name' value '(?P<value>[^']*)' is invalid\. Repeat names must unique",
        'Tên nhóm lặp "{value}" bị trùng: tên nhóm lặp phải là duy nhất trong toàn biểu mẫu.',
        "survey", "name",
    ),
    _r(
        r"The name 'meta' is reserved",
        'Tên "meta" được dành riêng cho siêu dữ liệu của biểu mẫu; hãy đặt tên khác.',
        "survey", "name",
    ),
    _r(
        r"Names must begin with a letter or underscore",
        "Tên không hợp lệ: phải bắt đầu bằng chữ cái (không dấu) hoặc dấu gạch dưới; "
        "sau đó chỉ gồm chữ, số, dấu gạch dưới, gạch ngang hoặc dấu chấm; không có dấu cách, không có dấu tiếng Việt.",
    ),
    _r(
        r"List name not in choices sheet: (?P<list>\S+)",
        'Danh sách lựa chọn "{list}" không có trong trang "choices". '
        'Thêm các dòng có list_name = "{list}" vào trang "choices" hoặc sửa tên danh sách trong cột "type".',
        "survey", "type", ("list", "list"),
    ),
    _r(
        r"There should be a choices sheet in this xlsform",
        'Biểu mẫu có câu hỏi lựa chọn (select_one/select_multiple) nhưng thiếu trang "choices" '
        "với các cột list_name, name, label.",
        "choices",
    ),
    _r(
        r"Could not find the name '(?P<q>[^']*)'",
        "Tham chiếu ${{{q}}} không hợp lệ: không có câu hỏi nào tên \"{q}\" trong trang survey. "
        "Kiểm tra chính tả tên câu hỏi được tham chiếu.",
    ),
    _r(
        r"Reference variables must start with '\$\{'",
        "Tham chiếu biến sai cú pháp: phải viết đúng dạng ${tên_câu_hỏi} (mở bằng ${ và đóng bằng }).",
    ),
    _r(
        r"Reference variable lists must have a comma",
        "Danh sách tham chiếu biến phải có dấu phẩy giữa các biến.",
    ),
    _r(
        r"Reference variables names must be unique anywhere in the 'survey'\. The name '(?P<q>[^']*)'",
        'Biểu thức tham chiếu ${{{q}}}, nhưng tên "{q}" xuất hiện nhiều lần trong trang survey nên không biết là câu nào. '
        "Đổi tên để mỗi câu hỏi được tham chiếu có tên duy nhất.",
    ),
    _r(
        r"Unmatched 'end_(?P<kind>\w+)'\. No matching 'begin_\w+' was found for the name '(?P<name>[^']*)'",
        'Có "end_{kind}" cho "{name}" nhưng không có "begin_{kind}" tương ứng.',
        "survey", "type",
    ),
    _r(
        r"Unmatched 'begin_(?P<kind>\w+)'\. No matching 'end_\w+' was found for the name '(?P<name>[^']*)'",
        'Nhóm "{name}" mở bằng "begin_{kind}" nhưng thiếu dòng "end_{kind}" để đóng.',
        "survey", "type",
    ),
    _r(
        r"Choice names must be unique for each choice list",
        "Giá trị (name) của lựa chọn bị trùng trong cùng một danh sách. Mỗi lựa chọn trong một danh sách phải có name khác nhau.",
        "choices", "name",
    ),
    _r(
        r"Choices must have a name",
        'Lựa chọn thiếu giá trị: điền cột "name" trong trang "choices".',
        "choices", "name",
    ),
    _r(
        r"Choices should have a label",
        'Lựa chọn chưa có nhãn: điền cột "label" trong trang "choices".',
        "choices", "label",
    ),
    _r(
        r"Duplicate column header: (?P<header>.+)",
        'Tiêu đề cột "{header}" bị lặp lại trong trang này; xoá hoặc đổi tên một trong hai cột.',
        locate=("header", "header"),
    ),
    _r(
        # pyxform's text for a row of type "include" when the included form is not at hand
        r"This section has not been included",
        'Loại câu hỏi "include" (chèn một biểu mẫu khác vào đây) cần cả tệp biểu mẫu kia, mà mỗi lần '
        "chỉ tải lên được một tệp. Hãy chép các dòng của biểu mẫu kia vào trang survey thay cho dòng này.",
        "survey", "type", ("type", "=include"),
    ),
    _r(
        r"Invalid headers provided for sheet: '(?P<sheet>[^']+)'",
        'Tiêu đề cột của trang "{sheet}" không hợp lệ (thiếu dòng tiêu đề, thiếu cột bắt buộc hoặc cột trùng nghĩa).',
    ),
    _r(
        r"Column headers must not be empty and must not contain spaces",
        "Tiêu đề cột không được để trống và không được chứa dấu cách.",
    ),
    _r(
        r"You must have a sheet named 'survey'",
        'Tệp không có trang (sheet) tên "survey". Một XLSForm phải có trang "survey" '
        '(và thường có "choices", "settings").',
        "survey",
    ),
    _r(
        r"Missing calculation",
        'Câu hỏi loại "calculate" phải có công thức trong cột "calculation".',
        "survey", "calculation",
    ),
    _r(
        r"Repeat has no label",
        "Nhóm lặp (repeat) chưa có nhãn (label); nên thêm để người điền biết đang nhập gì.",
        "survey", "label",
    ),
    _r(
        r"Group has no label",
        "Nhóm chưa có nhãn (label).",
        "survey", "label",
    ),
    _r(
        r"language declarations do not contain valid machine-readable codes",
        'Tên ngôn ngữ nên kèm mã ngôn ngữ, ví dụ "label::Tiếng Việt (vi)", "label::English (en)".',
    ),
    _r(
        r"Language '.*' is missing the",
        "Một số ngôn ngữ thiếu cột dịch (nhãn, gợi ý, …); người dùng chọn ngôn ngữ đó sẽ thấy ô trống.",
    ),
    _r(
        r"Use the max-pixels parameter",
        'Câu hỏi chụp ảnh nên đặt tham số "max-pixels" (ví dụ max-pixels=1024) để ảnh nhẹ, gửi nhanh.',
        "survey", "parameters",
    ),
    _r(
        r"simserial is no longer supported",
        '"simserial" không còn được hỗ trợ trên đa số thiết bị.',
        "survey", "type",
    ),
    _r(
        r"When looking for a sheet named '(?P<sheet>[^']+)', the following sheets with similar names were found: (?P<cands>.+?)\.",
        'Không có trang "{sheet}", nhưng có trang tên gần giống: {cands}. Kiểm tra chính tả tên trang.',
    ),
    _r(
        r"The form_id and id_string column headers are both",
        'Trang settings có cả cột "form_id" và "id_string"; chỉ giữ cột "form_id".',
        "settings",
    ),
    _r(
        r"(?:Argument 'definition' was not recognized as a supported type|Error reading \.xlsx? file|File is not a zip file"
        r"|The input data does not appear to be a valid XLSForm)",
        "Không đọc được tệp: đây không phải là bảng tính XLSForm hợp lệ (.xlsx hoặc .xls). "
        "Hãy lưu lại bằng Excel/LibreOffice ở định dạng .xlsx rồi tải lên lại.",
    ),
    _r(
        r"Java \(8\+ required\) could not be found",
        "Không chạy được ODK Validate vì máy chủ chưa cài Java.",
    ),
    _r(
        r"ODK Validate Errors:\s*(?P<detail>.*)",
        "ODK Validate (công cụ kiểm tra của ODK Collect) báo biểu mẫu không hợp lệ: {detail}",
    ),
    _r(
        r"ODK Validate Warnings:\s*(?P<detail>.*)",
        "ODK Validate có cảnh báo: {detail}",
    ),
    _r(
        r"XForm took to long to completely validate",
        "ODK Validate chạy quá lâu nên chưa kiểm tra xong biểu mẫu.",
    ),
)

# ODK Validate names the offending field as ${name}; which column holds the faulty
# expression can be read off the wording.
_VALIDATE_COLUMNS = (
    ("constraint", "constraint"),
    ("calculate", "calculation"),
    ("relevant", "relevant"),
    ("required", "required"),
    ("readonly", "read_only"),
    ("itemset", "choice_filter"),
)


def _clean_validate_detail(text: str) -> str:
    """Drop the temporary file name and boilerplate ODK Validate adds around the reason."""
    keep = []
    skip_rest = False
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(">> XForm is invalid") or s.startswith("Result:"):
            continue
        if s.startswith("The following files failed validation"):
            skip_rest = True
            continue
        if skip_rest:
            continue
        # Java object ids ("Bad node: org.javarosa...@72d8") mean nothing to a designer.
        s = re.sub(r"\s*Bad node: \S+", "", s)
        keep.append(s.lstrip(": ").strip())
    return " ".join(keep) or text.strip()


# ODK Validate's usual complaints, said in Vietnamese with the expression that fails; the
# English original follows so nothing is lost when the wording is new.
_VALIDATE_ATTRIBUTES_VI = {"constraint": "ràng buộc (constraint)", "calculate": "công thức (calculation)",
                           "relevant": "điều kiện hiện (relevant)", "required": "bắt buộc (required)",
                           "readonly": "chỉ đọc (read_only)"}
_VALIDATE_EXPLAINED = (
    (re.compile(r"bind for (?P<field>\S+) contains invalid (?P<attr>\w+) expression \[(?P<expr>.*?)\] ?(?P<why>.*)", re.S),
     lambda m: 'Biểu thức {attr} của {field} sai cú pháp: "{expr}"{why}.'.format(
         attr=_VALIDATE_ATTRIBUTES_VI.get(m["attr"].lower(), m["attr"]), field=m["field"], expr=m["expr"],
         why=" — ngoặc không khớp" if "bracket" in m["why"] or "parenthes" in m["why"] else
             (f" — {m['why'].strip(' !.')}" if m["why"].strip() else ""))),
    (re.compile(r"Cycle detected.*?loop:\s*(?P<nodes>.*?)(?:The following files|$)", re.S),
     lambda m: "Các biểu thức relevant/calculation phụ thuộc vòng tròn vào nhau (vòng lặp), giữa các trường: "
               + ", ".join(m["nodes"].split()) + "."),
    (re.compile(r"located in (?P<attr>\w+) expression for (?P<field>\S+).*?cannot handle function '(?P<fn>[^']+)'", re.S),
     lambda m: 'Biểu thức {attr} của {field} dùng hàm "{fn}" mà ODK Collect không có. Kiểm tra chính tả tên hàm.'.format(
         attr=_VALIDATE_ATTRIBUTES_VI.get(m["attr"].lower(), m["attr"]), field=m["field"], fn=m["fn"])),
    (re.compile(r"cannot handle function '(?P<fn>[^']+)'"),
     lambda m: f'Biểu mẫu dùng hàm "{m["fn"]}" mà ODK Collect không có. Kiểm tra chính tả tên hàm.'),
)


def explain_validate(detail: str) -> str:
    """ODK Validate's reason, in Vietnamese where its wording is known, the original kept after."""
    for pattern, say in _VALIDATE_EXPLAINED:
        m = pattern.search(detail)
        if m:
            return f"{say(m)} (ODK Validate: {detail})"
    return detail


def from_pyxform_message(
    text: str, severity: str = ERROR, locate: Locator | None = None
) -> Problem:
    """Turn one pyxform error/warning text into a Problem."""
    text = str(text).strip()
    sheet = column = None
    row = None
    m = _RE_ROW.search(text)
    if m:
        row = int(m.group(1))
    m = _RE_SHEET_COLUMN.search(text)
    if m:
        sheet, column = m.group(1), m.group(2)
    else:
        m = _RE_SHEET_ONLY.search(text)
        if m:
            sheet = m.group(1)

    is_validate = text.startswith("ODK Validate")
    message_en = text
    if is_validate:
        message_en = text.split("\n", 1)[0].rstrip(":") + ": " + _clean_validate_detail(
            text.split("\n", 1)[1] if "\n" in text else ""
        )

    message_vi = None
    for rule in _RULES:
        rm = rule.pattern.search(text)
        if not rm:
            continue
        groups = {k: (v or "") for k, v in rm.groupdict().items()}
        if "detail" in groups:
            groups["detail"] = explain_validate(_clean_validate_detail(groups["detail"]))
        message_vi = rule.vi.format(**groups)
        sheet = sheet or rule.sheet
        column = column or rule.column
        if row is None and locate is not None and rule.locate is not None:
            kind, group = rule.locate
            # "=value": look for that literal value rather than a matched group
            found = _safe_locate(locate, kind, group[1:] if group.startswith("=") else groups.get(group, ""))
            if found:
                sheet, row, column = found
        break

    if is_validate and locate is not None and row is None:
        # "${age}" in the validator's text names the question at fault.
        nm = re.search(r"\$\{([A-Za-z_][\w.-]*)\}", text)
        if nm and not nm.group(1).startswith("tmp"):
            found = _safe_locate(locate, "name", nm.group(1))
            if found:
                sheet, row, _ = found
                low = text.lower()
                column = next((c for key, c in _VALIDATE_COLUMNS if key in low), None)

    if message_vi is None:
        prefix = "Lỗi biểu mẫu: " if severity == ERROR else "Cảnh báo biểu mẫu: "
        message_vi = prefix + _RE_LEARN_MORE.sub("", text)
    if row is not None and sheet is None:
        # pyxform's bare "[row : N]" always refers to the survey sheet.
        sheet = "survey"
    return Problem(severity, message_vi, message_en, sheet, row, column)


def _safe_locate(locate: Locator, kind: str, value: str):
    try:
        return locate(kind, value)
    except Exception:  # a locator bug must not hide the designer's real problem
        return None


def from_exception(exc: BaseException, locate: Locator | None = None) -> Problem:
    """Any exception raised while compiling becomes an error Problem (never a traceback)."""
    text = str(exc).strip()
    if not text:
        text = type(exc).__name__
    problem = from_pyxform_message(text, ERROR, locate)
    if problem.message_vi.startswith("Lỗi biểu mẫu: ") and not _looks_like_pyxform(exc):
        # Not a pyxform complaint: say plainly the tool failed, keep the reason.
        problem = replace(
            problem,
            message_vi="Không chuyển đổi được biểu mẫu (lỗi không mong đợi của công cụ chuyển đổi): "
            f"{type(exc).__name__}: {text}",
            message_en=f"Unexpected error while converting the form: {type(exc).__name__}: {text}",
        )
    return problem


def _looks_like_pyxform(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("pyxform")


def from_pyxform_warnings(texts: Iterable[str], locate: Locator | None = None) -> list[Problem]:
    return [from_pyxform_message(t, WARNING, locate) for t in texts if str(t).strip()]
