"""The compile step: an uploaded XLSForm (or XForm) becomes what the server serves.

Every failure, whatever raised it, comes back as FormProblems with Vietnamese
messages pointing at spreadsheet cells; a designer never sees a traceback.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass, field, replace
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
    from_pyxform_warnings,
    warning,
)
from .bounds import check_xlsx_container
from .validate import odk_validate
from .xform_schema import XFormInfo, read_xform

# ODK takes any string as a form id (Collect and Central accept "1_rank" or "Spec test"); the
# server only refuses what it could not carry: a "/" cannot travel inside one URL path segment,
# control characters cannot travel in XML or HTTP headers. Storage and URLs encode the rest.
FORM_ID_MAX = 255
VERSION_MAX = 255
XLSFORM_SUFFIXES = (".xlsx", ".xlsm", ".xls")
XFORM_SUFFIXES = (".xml",)


@dataclass(frozen=True)
class CompiledForm:
    form_id: str
    version: str  # "" for a form uploaded without one: publishing gives it one (actions.publish)
    title: str
    xlsform: bytes | None  # original bytes (None for an XForm upload)
    xform: bytes  # exactly the bytes to serve to Collect (UTF-8)
    info: XFormInfo
    conventions: dict
    itemsets_csv: bytes | None  # external choices (itemsets.csv) for select_one_external
    warnings: list[Problem] = field(default_factory=list)
    validated: bool = False  # ODK Validate accepted these xform bytes (publish runs it otherwise)


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


def _text_fault(value: str, limit: int, slash: bool = False) -> tuple[str, str] | None:
    """Why a form id (or with slash=True a version) cannot be used (vi, en), or None."""
    if len(value) > limit:
        return f"dài hơn {limit} ký tự", f"is longer than {limit} characters"
    if "/" in value and not slash:
        return ('có dấu "/" (không đặt được vào địa chỉ web)', 'contains "/", which cannot go into a web address')
    if any(not ch.isprintable() and ch != " " for ch in value):
        return "có ký tự điều khiển hoặc ký tự ẩn", "contains control or invisible characters"
    return None


def _check_form_id(form_id: str, book: XLSFormBook | None, filename: str | None,
                   root: str | None = None) -> Problem | None:
    form_id = form_id or ""
    fault = (("trống", "is empty") if not form_id.strip() else _text_fault(form_id, FORM_ID_MAX))
    if fault is None:
        return None
    why_vi, why_en = fault
    if book is None:
        where = f"<{root}>" if root else "gốc của instance chính"
        where_en = f"<{root}>" if root else "the primary instance root"
        return error(
            f'Mã biểu mẫu "{form_id}" (thuộc tính id của phần tử {where} trong <instance>) {why_vi}. '
            'Hãy sửa thuộc tính id trong tệp XForm.',
            f'The form id "{form_id}" (the id attribute of {where_en} in <instance>) {why_en}. '
            "Change the id attribute in the XForm.",
        )
    row, settings = book.settings
    settings_sheet = book.sheet("settings")
    for key in ("form_id", "id_string", "set_form_id"):
        if key in settings:
            return error(
                f'Mã biểu mẫu "{form_id}" {why_vi}.',
                f'The form_id "{form_id}" {why_en}.',
                settings_sheet.title, row, settings_sheet.header_for(key),
            )
    return error(
        f'Trang settings không có cột "form_id", nên mã biểu mẫu được lấy từ tên tệp "{filename}" '
        f'thành "{form_id}", mà mã này {why_vi}. Thêm cột "form_id" vào trang settings.',
        f'The settings have no "form_id", so the id was taken from the file name "{filename}" '
        f'as "{form_id}", which {why_en}. Add a "form_id" column to the settings sheet.',
        settings_sheet.title if settings_sheet else "settings", row, "form_id",
    )


def _check_version(version: str | None, book: XLSFormBook | None, root: str | None = None) -> Problem | None:
    # a version may hold "/" ("05/12/2026"): its URLs take the rest of the path (server.url_converters)
    fault = _text_fault(version, VERSION_MAX, slash=True) if version else None
    if fault is None:
        return None
    why_vi, why_en = fault
    if book is None:
        return error(
            f'Phiên bản "{version}" (thuộc tính version của <{root}> trong <instance>) {why_vi}.',
            f'The version "{version}" (the version attribute of <{root}> in <instance>) {why_en}.',
        )
    row, _ = book.settings
    sheet = book.sheet("settings")
    return error(f'Phiên bản "{version}" {why_vi}.', f'The version "{version}" {why_en}.',
                 sheet.title if sheet else "settings", row, sheet.header_for("version") if sheet else "version")


def _version_to_assign(book: XLSFormBook | None, root: str | None = None) -> Problem:
    """A form without a version is published with one the server gives it (see publish)."""
    if book is None:
        return warning(
            f'XForm không có thuộc tính "version" trên phần tử <{root}> của instance. Khi xuất bản, máy chủ '
            'tự đặt phiên bản theo thời điểm xuất bản (ví dụ 20261205143000) và ghi vào XForm, để ODK Collect '
            "thấy đúng phiên bản đó. Muốn tự đặt, thêm version=\"...\" vào phần tử đó.",
            f'The XForm has no "version" attribute on <{root}> in its instance. On publishing, the server gives it '
            "a version from the publishing time (e.g. 20261205143000) and writes it into the XForm, so ODK Collect "
            'sees that same version. To choose one, add version="..." to that element.',
        )
    row, _ = book.settings
    settings_sheet = book.sheet("settings")
    return warning(
        'Biểu mẫu chưa có phiên bản. Khi xuất bản, máy chủ tự đặt phiên bản theo thời điểm xuất bản '
        '(ví dụ 20261205143000). Muốn tự đặt, thêm cột "version" vào trang "settings" và điền một số tăng dần, '
        "ví dụ 2026112601 (năm-tháng-ngày + số thứ tự), tăng lên mỗi lần sửa biểu mẫu.",
        'The form has no version. On publishing, the server gives it one from the publishing time '
        '(e.g. 20261205143000). To choose one, add a "version" column to the "settings" sheet, e.g. 2026112601, '
        "and raise it on every change.",
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
    if kind == ".xlsx":
        check_xlsx_container(data)  # before openpyxl or pyxform inflate anything
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
        version_problem = (_check_version(str(settings["version"]), book) if settings.get("version")
                           else _version_to_assign(book))
        if version_problem:
            problems.append(version_problem)
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

    version_problem = _check_version(info.version, book) if info.version else _version_to_assign(book)
    if version_problem:
        problems.append(version_problem)
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
        validated=bool(validate),
    )


def compile_xform(
    data: bytes, *, validate: bool | None = None, require_version: bool = False
) -> CompiledForm:
    """An XForm uploaded as-is (.xml): served byte for byte (but for a version the server
    writes in when it has none, see actions.publish). validate=None runs ODK Validate iff java
    is present; require_version=True refuses a form without a version instead."""
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
    id_problem = _check_form_id(info.form_id, None, None, info.root)
    if id_problem:
        problems.append(id_problem)
    if info.version:
        version_problem = _check_version(info.version, None, info.root)
        if version_problem:
            problems.append(version_problem)
    elif require_version:
        problems.append(replace(_version_to_assign(None, info.root), severity="error"))
    else:
        problems.append(_version_to_assign(None, info.root))
    if validate is None:
        validate = java_available()
    if validate and not any(p.is_error for p in problems):
        problems += odk_validate(data, info)
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
        validated=bool(validate),
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
        return compile_xform(data, validate=validate)
    return compile_xlsform(data, p.name, validate=validate)
