"""The raw data workbook: one sheet per table, written with xlsxwriter in constant_memory mode.

Sheet 1 says what the file holds (form, filters, whether identifiers are in it, row counts and
any sheet continued because of Excel's row limit). Then the top-level table, one row per
submission: the answers in the merged order of every version, a select_multiple as its answer
plus a 0/1 column per choice, a geopoint as four numbers, then the metadata (received, submitter,
unit, channel, review state, version), Central's KEY and Kobo's _index. Then one sheet per repeat,
linked to its parent by _parent_index (the parent's _index) and PARENT_KEY (its KEY).

Dates and times are real Excel dates in Vietnam's time; numbers are numbers; text is never
turned into a formula. A table longer than a sheet continues on "<name> (2)", with its header.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import xlsxwriter

from storage.db import read_snapshot
from vocabulary import CHANNEL_LABELS, REVIEW_LABELS

from .excel import (EXCEL_MAX_ROWS, excel_date, excel_datetime, excel_time, local_now,
                    sheet_name)
from .query import ExportPlan
from .rows import GEO_PARTS, Table, filled_notes, iter_rows, tables
from .schema import DECIMAL_TYPES, INT_TYPES, Field

GEO_LABELS = {"Latitude": ("vĩ độ", "latitude"), "Longitude": ("kinh độ", "longitude"),
              "Altitude": ("độ cao", "altitude"), "Accuracy": ("độ chính xác", "accuracy")}
# (slot key, XML-style name, Vietnamese, English, kind)
ROOT_META = (
    ("m:received_at", "_received", "Thời điểm nhận", "Received", "utc"),
    ("m:submitter", "_submitted_by", "Người gửi", "Submitted by", "text"),
    ("m:unit_code", "_unit", "Mã đơn vị", "Unit code", "text"),
    ("unit_name", "_unit_name", "Tên đơn vị", "Unit name", "text"),
    ("m:channel", "_channel", "Kênh khảo sát", "Channel", "channel"),
    ("m:review_state", "_review_state", "Trạng thái duyệt", "Review state", "review"),
    ("m:version", "_version", "Phiên bản biểu mẫu", "Form version", "text"),
    ("m:instance_id", "KEY", "KEY", "KEY", "text"),
    ("_index", "_index", "_index", "_index", "number"),
)
REPEAT_META = (
    ("_index", "_index", "_index", "_index", "number"),
    ("_parent_index", "_parent_index", "_parent_index", "_parent_index", "number"),
    ("parent_table", "_parent_table_name", "_parent_table_name", "_parent_table_name", "text"),
    ("KEY", "KEY", "KEY", "KEY", "text"),
    ("PARENT_KEY", "PARENT_KEY", "PARENT_KEY", "PARENT_KEY", "text"),
)
MAX_WIDTH = 45


@dataclass
class Column:
    header: str
    slot: int | None        # where the value is in a row; None: `constant`
    kind: str
    constant: str | None = None
    field: Field | None = None   # for "choice": the question whose choice labels are written


@dataclass
class TableResult:
    name: str               # the first sheet's name
    rows: int
    sheets: list[str] = field(default_factory=list)


@dataclass
class XlsxResult:
    tables: list[TableResult]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _field_kind(f: Field) -> str:
    if f.type in INT_TYPES:
        return "int"
    if f.type in DECIMAL_TYPES:
        return "decimal"
    if f.type == "date":
        return "date"
    if f.type == "dateTime":
        return "datetime"
    if f.type == "time":
        return "time"
    return "text"


def columns(plan: ExportPlan, table: Table, sheet_of: dict[str | None, str]) -> list[Column]:
    """The columns of a table's sheet, in order, with their headers."""
    lang, names = plan.query.lang, plan.query.headers == "names"
    vi = lang == "vi"
    split = {f.path: values for f, values in table.split}
    geo = {f.path for f in table.geo}
    result = []
    for f in table.fields:
        title = f.path if names else f.label(lang)
        if f.path in geo:
            for part in GEO_PARTS:
                header = f"{f.path}-{part}" if names else f"{title} ({GEO_LABELS[part][0 if vi else 1]})"
                result.append(Column(header, table.slots[f"geo:{f.path}:{part}"], "decimal"))
            continue
        result.extend(_answer_columns(f, title, table.slots[f"f:{f.path}"], plan.query.values, vi, names))
        for value in split.get(f.path, ()):
            header = f"{f.path}/{value}" if names else f"{title}/{f.choice_label(value, lang)}"
            result.append(Column(header, table.slots[f"flag:{f.path}:{value}"], "number"))
    meta = ROOT_META if table.repeat is None else REPEAT_META
    for key, xml_name, header_vi, header_en, kind in meta:
        header = xml_name if names else (header_vi if vi else header_en)
        if key == "unit_name":
            result.append(Column(header, table.slots[f"m:unit_name_{'vi' if vi else 'en'}"], kind))
        elif key == "parent_table":
            result.append(Column(header, None, kind, constant=sheet_of[table.parent]))
        else:
            result.append(Column(header, table.slots[key], kind))
    return result


def _answer_columns(f: Field, title: str, slot: int, values: str, vi: bool, names: bool) -> list[Column]:
    """A rating is its number (so AVERAGE works), with its label beside it in `both`; another
    select's answer is its label, its code, or both (`values`); any other field one column."""
    code_title = f"{f.path}" if names else f"{title} ({'mã' if vi else 'code'})"
    label_title = f"{f.path}_label" if names else f"{title} ({'nhãn' if vi else 'label'})"
    if f.is_rating:
        return [Column(title, slot, "int")] + ([Column(label_title, slot, "choice", field=f)] if values == "both" else [])
    if f.type in ("select1", "select") and f.choices:
        if values == "codes":
            return [Column(title, slot, "text")]
        if values == "labels":
            return [Column(title, slot, "choice", field=f)]
        return [Column(code_title, slot, "text"), Column(label_title, slot, "choice", field=f)]
    return [Column(title, slot, _field_kind(f))]


class _Formats:
    def __init__(self, book):
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                       "bg_color": "#DDEBF7", "border": 1})
        self.date = book.add_format({"num_format": "dd/mm/yyyy"})
        self.datetime = book.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        self.time = book.add_format({"num_format": "hh:mm:ss"})
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})


def _writer(ws, kind: str, formats: _Formats, lang: str, names: bool, field: Field | None = None) -> Callable:
    """put(row, col, value) for one column of one sheet; a value that does not read as its
    type is written as the text it is, so nothing is lost."""
    text, number = ws.write_string, ws.write_number
    if kind == "text":
        return text
    if kind == "choice":
        def put_choice(row, col, value):
            # a select_multiple's answer is its codes separated by spaces
            text(row, col, ", ".join(field.choice_label(code, lang) for code in value.split()))
        return put_choice
    if kind == "number":
        return number

    def converted(convert, cell_format=None):
        def put(row, col, value):
            result = convert(value)
            if result is None:
                text(row, col, value)
            else:
                number(row, col, result, cell_format)
        return put

    if kind == "int":
        return converted(_to_int)
    if kind == "decimal":
        return converted(_to_float)
    if kind == "date":
        return converted(excel_date, formats.date)
    if kind in ("datetime", "utc"):
        return converted(excel_datetime, formats.datetime)
    if kind == "time":
        return converted(excel_time, formats.time)
    labels = {"channel": CHANNEL_LABELS, "review": REVIEW_LABELS}[kind]
    position = 0 if lang == "vi" else 1

    def put_label(row, col, value):
        # XML-name headers go with the stored codes, label headers with labels
        text(row, col, value if names else labels.get(value, (value, value))[position])
    return put_label


def _to_int(value: str) -> int | None:
    try:
        number = int(value)
    except ValueError:
        return None
    # beyond 15 digits Excel would round it: keep such codes as text
    return number if abs(number) < 10**15 else None


def _to_float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class _SheetWriter:
    """Writes one table's rows, starting a new sheet (with the header again) when one is full."""

    def __init__(self, book, formats: _Formats, taken: set[str], base: str, cols: list[Column],
                 lang: str, names: bool, max_rows: int):
        self.book, self.formats, self.taken, self.base = book, formats, taken, base
        self.cols, self.lang, self.names, self.max_rows = cols, lang, names, max_rows
        self.sheets: list[tuple[str, object, int]] = []
        self.rows = 0

    def open(self, name: str | None = None):
        if name is None:
            suffix = f" ({len(self.sheets) + 1})"
            name = sheet_name(self.base[:31 - len(suffix)] + suffix, self.taken)
        ws = self.book.add_worksheet(name)
        ws.freeze_panes(1, 0)
        for c, col in enumerate(self.cols):
            width = min(MAX_WIDTH, max(10, len(col.header) * 0.9 + 2))
            cell_format = {"date": self.formats.date, "datetime": self.formats.datetime,
                           "utc": self.formats.datetime, "time": self.formats.time}.get(col.kind)
            ws.set_column(c, c, 19 if cell_format is self.formats.datetime else width)
            ws.write_string(0, c, col.header, self.formats.header)
        self.sheets.append([name, ws, 0])
        self.bound = [(c, col.slot, _writer(ws, col.kind, self.formats, self.lang, self.names, col.field))
                      for c, col in enumerate(self.cols) if col.slot is not None]
        self.constants = [(c, col.constant) for c, col in enumerate(self.cols) if col.slot is None]
        return ws

    def write_all(self, rows) -> None:
        per_sheet = self.max_rows - 1
        row_number = 0
        ws = self.sheets[-1][1]
        for values in rows:
            if row_number == per_sheet:
                self._close_sheet(row_number)
                ws = self.open()
                row_number = 0
            row_number += 1
            for c, slot, put in self.bound:
                value = values[slot]
                if value is not None and value != "":
                    put(row_number, c, value)
            for c, constant in self.constants:
                ws.write_string(row_number, c, constant)
            self.rows += 1
        self._close_sheet(row_number)

    def _close_sheet(self, last_row: int) -> None:
        entry = self.sheets[-1]
        entry[2] = last_row
        entry[1].autofilter(0, 0, max(last_row, 1), len(self.cols) - 1)


def write_xlsx(db, plan: ExportPlan, target, *, tmpdir: str | None = None,
               max_rows: int = EXCEL_MAX_ROWS, progress: Callable[[int], None] | None = None,
               actor: str | None = None, now: datetime | None = None) -> XlsxResult:
    """Write the workbook to `target` (a path or a binary file). Reads in one snapshot, so the
    repeat sheets always match the top-level one."""
    query = plan.query
    lang, names = query.lang, query.headers == "names"
    # use_zip64: a sheet of a million rows is more than 2 GiB of XML; zipfile then marks that one
    # part ZIP64 (smaller parts, and smaller exports, are written as before)
    book = xlsxwriter.Workbook(target, {
        "constant_memory": True, "tmpdir": tmpdir, "strings_to_numbers": False,
        "strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True,
        "use_zip64": True})
    formats = _Formats(book)
    taken: set[str] = set()
    about = book.add_worksheet(sheet_name("Thông tin" if lang == "vi" else "About", taken))
    # a note column is empty in Collect's answers; it is left out unless some row says something
    all_tables = tables(plan, split_select=True, notes=filled_notes(db, plan))
    sheet_of: dict[str | None, str] = {}
    writers = []
    for table in all_tables:
        base = plan.schema.form_id if table.repeat is None else plan.schema.table_name(table.repeat)
        name = sheet_name(base, taken)
        sheet_of[table.repeat] = name
        writers.append((table, _SheetWriter(book, formats, taken, name, columns(plan, table, sheet_of),
                                            lang, names, max_rows), name))
    results = []
    with read_snapshot(db):
        for table, writer, name in writers:
            writer.open(name)
            writer.write_all(iter_rows(db, plan, table, progress))
            results.append(TableResult(name, writer.rows, [s[0] for s in writer.sheets]))
    _write_about(about, formats, plan, results, max_rows, actor, now or local_now())
    book.close()
    return XlsxResult(results)


def _write_about(ws, formats: _Formats, plan: ExportPlan, results: list[TableResult], max_rows: int,
                 actor: str | None, now: datetime) -> None:
    query, schema = plan.query, plan.schema
    vi = query.lang == "vi"
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    lines: list[tuple[str, str]] = []

    def add(label_vi, label_en, value):
        lines.append((label_vi if vi else label_en, value))

    add("Biểu mẫu", "Form", f"{schema.title} ({schema.form_id})")
    add("Các phiên bản gộp", "Versions merged", ", ".join(schema.versions))
    add("Xuất lúc (giờ Việt Nam)", "Exported at (Vietnam time)", now.strftime("%d/%m/%Y %H:%M"))
    add("Người xuất", "Exported by", actor or "-")
    add("Từ ngày (phỏng vấn)", "From (interview date)",
        query.date_from.strftime("%d/%m/%Y") if query.date_from else "-")
    add("Đến ngày (phỏng vấn)", "To (interview date)", query.date_to.strftime("%d/%m/%Y") if query.date_to else "-")
    unit = f"{query.unit} {plan.unit_name['vi' if vi else 'en']}" if query.unit else (
        "Tất cả đơn vị trong phạm vi" if vi else "Every unit in scope")
    add("Đơn vị (kèm đơn vị trực thuộc)", "Unit (with the units under it)", unit)
    if query.scope:
        add("Phạm vi của tài khoản", "Account scope", query.scope)
    add("Trạng thái duyệt", "Review states", ", ".join(query.review_states) or ("Tất cả" if vi else "All"))
    add("Phiên bản", "Versions", ", ".join(query.versions) or ("Tất cả" if vi else "All"))
    identifiers = (("CÓ — theo yêu cầu của quản trị viên, đã ghi nhật ký" if vi
                    else "INCLUDED — asked for by an administrator, audited") if query.include_identifiers
                   else ("Không kèm (mã hồ sơ, họ tên, số điện thoại được bỏ ra)" if vi
                         else "Left out (dossier codes, names, phone numbers)"))
    add("Thông tin định danh", "Identifiers", identifiers)
    add("Câu hỏi chọn", "Choice questions", {
        "labels": ("Nhãn của lựa chọn; câu hỏi chấm điểm ghi bằng số" if vi
                   else "The choice's label; rating questions as numbers"),
        "codes": "Mã của lựa chọn; câu hỏi chấm điểm ghi bằng số" if vi else "The choice's code; ratings as numbers",
        "both": ("Hai cột: mã (hoặc điểm, bằng số) và nhãn" if vi
                 else "Two columns: the code (or the rating, as a number) and the label")}[query.values])
    add("Câu ghi chú (note)", "Notes", "Bỏ ra (không chứa câu trả lời)" if vi else "Left out (they hold no answer)")
    add("Ngày giờ", "Dates and times", "Ngày Excel theo giờ Việt Nam (Asia/Ho_Chi_Minh, UTC+7)" if vi
        else "Excel dates in Vietnam's time (Asia/Ho_Chi_Minh, UTC+7)")
    add("Liên kết nhóm lặp", "Repeat links",
        "_parent_index = _index của dòng cha; PARENT_KEY = KEY của dòng cha" if vi
        else "_parent_index = the parent row's _index; PARENT_KEY = the parent row's KEY")
    ws.write_string(0, 0, "Dữ liệu khảo sát" if vi else "Survey data", formats.title)
    row = 2
    for label, value in lines:
        ws.write_string(row, 0, label, formats.bold)
        ws.write_string(row, 1, value, formats.wrap)
        row += 1
    row += 1
    ws.write_string(row, 0, "Trang tính" if vi else "Sheet", formats.header)
    ws.write_string(row, 1, "Số dòng / ghi chú" if vi else "Rows / notes", formats.header)
    row += 1
    for result in results:
        for position, name in enumerate(result.sheets):
            ws.write_string(row, 0, name)
            if position == 0 and len(result.sheets) == 1:
                note = f"{result.rows:,}".replace(",", "." if vi else ",")
            elif position == 0:
                note = (f"{result.rows:,} dòng, quá {max_rows - 1:,} dòng của một trang Excel: tiếp tục ở "
                        f"{', '.join(result.sheets[1:])}" if vi else
                        f"{result.rows:,} rows, more than the {max_rows - 1:,} an Excel sheet holds: continued on "
                        f"{', '.join(result.sheets[1:])}")
            else:
                note = (f"tiếp theo của {result.sheets[position - 1]}" if vi
                        else f"continues {result.sheets[position - 1]}")
            ws.write_string(row, 1, note, formats.wrap)
            row += 1
