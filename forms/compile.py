"""The compile step: an uploaded XLSForm (or XForm) becomes what the server serves.

Every failure, whatever raised it, comes back as FormProblems with Vietnamese
messages pointing at spreadsheet cells; a designer never sees a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from .conventions import (
    XLSFormBook,
    check_against_xform,
    conventions_from_book,
    conventions_from_xform,
    not_a_spreadsheet,
    read_xlsform,
    sniff_spreadsheet,
)
from .problems import (
    FormProblems,
    Problem,
    error,
    from_exception,
    from_pyxform_message,
    from_pyxform_warnings,
    warning,
)
from .xform_schema import XFormInfo, read_xform

# Also the XML name rule, so the id is safe in URLs, file names and OpenRosa lists.
FORM_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
XLSFORM_SUFFIXES = (".xlsx", ".xlsm", ".xls")
XFORM_SUFFIXES = (".xml",)


@dataclass(frozen=True)
class CompiledForm:
    form_id: str
    version: str  # "" only for an XForm uploaded without one (see compile_xform)
    title: str
    xlsform: bytes | None  # original bytes (None for an XForm upload)
    xform: bytes  # exactly the bytes to serve to Collect (UTF-8)
    info: XFormInfo
    conventions: dict
    itemsets_csv: bytes | None  # external choices (itemsets.csv) for select_one_external
    warnings: list[Problem] = field(default_factory=list)


def java_available() -> bool:
    return shutil.which("java") is not None


def _ordered(problems: list[Problem]) -> list[Problem]:
    # Errors first: they block publishing; warnings are advice.
    return [p for p in problems if p.is_error] + [p for p in problems if not p.is_error]


def _pyxform_input(data: bytes, kind: str, stem: str):
    """pyxform takes the form id from the file name when settings have none, but only
    when it is handed a path; give it the name alongside the bytes."""
    try:
        from pyxform.xls2json_backends import Definition, SupportedFileTypes

        return Definition(data=BytesIO(data), file_type=SupportedFileTypes(kind), file_path_stem=stem)
    except Exception:  # internal API moved: still compile, with pyxform's default id
        return BytesIO(data)


def _run_pyxform(data: bytes, kind: str, stem: str, validate: bool):
    from pyxform.xls2xform import convert

    pyx_warnings: list[str] = []
    with warnings.catch_warnings():
        # openpyxl's UserWarnings (unknown extensions, default styles) say nothing
        # about the form and would only alarm designers.
        warnings.simplefilter("ignore")
        result = convert(
            xlsform=_pyxform_input(data, kind, stem),
            warnings=pyx_warnings,
            validate=validate,
            file_type=kind,
        )
    return result, pyx_warnings


def _check_form_id(form_id: str, book: XLSFormBook | None, filename: str | None) -> Problem | None:
    if FORM_ID_RE.fullmatch(form_id or ""):
        return None
    rule_vi = (
        "Mã biểu mẫu (form_id) chỉ gồm chữ cái không dấu, chữ số, dấu gạch dưới, gạch ngang, dấu chấm; "
        "bắt đầu bằng chữ cái hoặc dấu gạch dưới; tối đa 64 ký tự; không có dấu cách. Ví dụ: tthc_hailong."
    )
    rule_en = (
        "A form_id may hold ASCII letters, digits, '_', '-', '.'; it starts with a letter or '_', "
        "has at most 64 characters and no spaces. Example: tthc_hailong."
    )
    if book is None:
        return error(
            f'Mã biểu mẫu "{form_id}" (thuộc tính id của instance) không hợp lệ. ' + rule_vi,
            f'The form id "{form_id}" (instance id attribute) is invalid. ' + rule_en,
        )
    row, settings = book.settings
    settings_sheet = book.sheet("settings")
    for key in ("form_id", "id_string", "set_form_id"):
        if key in settings:
            return error(
                f'Mã biểu mẫu "{form_id}" không hợp lệ. ' + rule_vi,
                f'The form_id "{form_id}" is invalid. ' + rule_en,
                settings_sheet.title, row, settings_sheet.header_for(key),
            )
    return error(
        f'Trang settings không có cột "form_id", nên mã biểu mẫu được lấy từ tên tệp "{filename}" '
        f'thành "{form_id}" — không hợp lệ. Thêm cột "form_id" vào trang settings. ' + rule_vi,
        f'The settings have no "form_id", so the id was taken from the file name "{filename}" '
        f'as "{form_id}", which is invalid. Add a "form_id" column to the settings sheet. ' + rule_en,
        settings_sheet.title if settings_sheet else "settings", row, "form_id",
    )


def _missing_version(book: XLSFormBook) -> Problem:
    row, _ = book.settings
    settings_sheet = book.sheet("settings")
    return error(
        'Biểu mẫu chưa có phiên bản. Thêm cột "version" vào trang "settings" và điền một số tăng dần, '
        'ví dụ 2026112601 (năm-tháng-ngày + số thứ tự). Mỗi lần sửa biểu mẫu, tăng version lên; '
        "máy chủ dựa vào version để vẫn nhận được phiếu điền theo các bản cũ.",
        'The form has no version. Add a "version" column to the "settings" sheet, e.g. 2026112601, '
        "and raise it on every change: the server needs versions to keep receiving answers to older ones.",
        settings_sheet.title if settings_sheet else "settings",
        row if row is not None else 2,
        settings_sheet.header_for("version") if settings_sheet else "version",
    )


def compile_xlsform(
    data: bytes, filename: str = "form.xlsx", *, validate: bool | None = None
) -> CompiledForm:
    """XLSForm bytes -> CompiledForm. validate=None runs ODK Validate iff java is on PATH.
    Raises FormProblems (errors and warnings together) when the form cannot be published."""
    data = bytes(data or b"")
    kind = sniff_spreadsheet(data)
    if kind is None:
        raise FormProblems([not_a_spreadsheet()])
    book = read_xlsform(data)  # FormProblems if unreadable
    problems: list[Problem] = []
    try:
        conv, conv_problems = conventions_from_book(book)
    except Exception as exc:  # never let a reader bug hide as a traceback
        conv, conv_problems = None, [from_exception(exc)]
    problems += conv_problems

    if validate is None:
        validate = java_available()
    stem = Path(filename or "form.xlsx").stem or "form"
    result = None
    pyx_warnings: list[str] = []
    try:
        result, pyx_warnings = _run_pyxform(data, kind, stem, bool(validate))
    except Exception as exc:
        problems.append(from_exception(exc, book.locate))
    problems += from_pyxform_warnings(pyx_warnings, book.locate)
    if result is None:
        # Still report what the settings sheet alone shows, so one upload lists every fix.
        _, settings = book.settings
        if not settings.get("version"):
            problems.append(_missing_version(book))
        given_id = next((settings[k] for k in ("form_id", "id_string", "set_form_id") if k in settings), None)
        if given_id is not None:
            id_problem = _check_form_id(given_id, book, filename)
            if id_problem:
                problems.append(id_problem)
        raise FormProblems(_ordered(problems))

    xform = result.xform.encode("utf-8")
    try:
        info = read_xform(xform)
    except FormProblems as fp:
        raise FormProblems(_ordered(problems + fp.problems)) from None

    if not info.version:
        problems.append(_missing_version(book))
    id_problem = _check_form_id(info.form_id, book, filename)
    if id_problem:
        problems.append(id_problem)
    if conv is not None:
        problems += check_against_xform(conv, info)

    problems = _ordered(problems)
    if any(p.is_error for p in problems):
        raise FormProblems(problems)
    itemsets = result.itemsets.encode("utf-8") if result.itemsets is not None else None
    return CompiledForm(
        form_id=info.form_id,
        version=info.version or "",
        title=info.title,
        xlsform=data,
        xform=xform,
        info=info,
        conventions=conv,
        itemsets_csv=itemsets,
        warnings=problems,
    )


def _odk_validate(xform: bytes) -> list[Problem]:
    from pyxform.validators import odk_validate

    fd, tmp = tempfile.mkstemp(suffix=".xml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(xform)
        try:
            messages = odk_validate.check_xform(tmp)
        except Exception as exc:
            return [from_exception(exc)]
        return [from_pyxform_message(m, "warning") for m in messages]
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def compile_xform(
    data: bytes, *, validate: bool | None = False, require_version: bool = False
) -> CompiledForm:
    """An XForm uploaded as-is (.xml): served byte for byte.

    Unlike an XLSForm, a missing version is only a warning by default (version ""):
    XForms written elsewhere (and Central's own test forms) often have none, and their
    submissions carry none either. validate=None runs ODK Validate iff java is present."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    data = bytes(data or b"")
    info = read_xform(data)
    problems: list[Problem] = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(error(
            "Tệp XForm phải được mã hoá UTF-8.",
            "The XForm must be encoded as UTF-8.",
        ))
    id_problem = _check_form_id(info.form_id, None, None)
    if id_problem:
        problems.append(id_problem)
    if not info.version:
        make = error if require_version else warning
        problems.append(make(
            'XForm không có thuộc tính "version" trên phần tử gốc của instance. Nên thêm (ví dụ '
            'version="2026112601") để máy chủ phân biệt và vẫn nhận phiếu của các phiên bản cũ.',
            'The XForm has no "version" attribute on its instance root. Add one (e.g. version="2026112601") '
            "so the server can tell versions apart and keep receiving older ones.",
        ))
    if validate is None:
        validate = java_available()
    if validate:
        problems += _odk_validate(data)
    problems = _ordered(problems)
    if any(p.is_error for p in problems):
        raise FormProblems(problems)
    return CompiledForm(
        form_id=info.form_id,
        version=info.version or "",
        title=info.title,
        xlsform=None,
        xform=data,
        info=info,
        conventions=conventions_from_xform(info),
        itemsets_csv=None,
        warnings=problems,
    )


def compile_file(path, *, validate: bool | None = None) -> CompiledForm:
    """By extension: .xlsx/.xlsm/.xls -> compile_xlsform, .xml -> compile_xform."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in XLSFORM_SUFFIXES + XFORM_SUFFIXES:
        raise FormProblems([error(
            f'Không hỗ trợ loại tệp "{p.name}". Hãy tải lên bảng tính XLSForm (.xlsx, .xls) '
            "hoặc XForm (.xml).",
            f'Unsupported file type "{p.name}": upload an XLSForm (.xlsx, .xls) or an XForm (.xml).',
        )])
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FormProblems([error(
            f'Không đọc được tệp "{p}": {exc.strerror or exc}.',
            f'Could not read the file "{p}": {exc}.',
        )]) from None
    if suffix in XFORM_SUFFIXES:
        return compile_xform(data, validate=bool(validate))
    return compile_xlsform(data, p.name, validate=validate)
