"""Limits on what an uploaded questionnaire may make the server read.

An upload is read before anyone has looked at it, by the web page as by the CLI, so its cost must
be bounded by the server, not by the file: an XForm of a million elements, or an .xlsx whose few
kilobytes inflate to gigabytes (a zip bomb), is refused while being read, before openpyxl or
pyxform ever sees it. The limits sit far above any real questionnaire: the province's standard
form is about 2,000 XForm elements and 60 kB of spreadsheet XML; a form with a choice list of
every commune in Vietnam (about 10,600) stays under 50,000 elements and a few megabytes of
spreadsheet XML. The .xlsx limit is kept lower than the XForm's relative to what it allows,
because pyxform holds a whole workbook in memory many times over its XML size.
"""
from __future__ import annotations

import zipfile
from io import BytesIO
from xml.etree.ElementTree import TreeBuilder  # builds the tree; parsing is defusedxml's  # nosec B405

from .problems import FormProblems, error

MAX_XFORM_BYTES = 10 * 1024 * 1024
MAX_XFORM_ELEMENTS = 200_000
MAX_XFORM_DEPTH = 100
MAX_XFORM_ATTRIBUTES = 100          # on one element
MAX_XFORM_TEXT = 1024 * 1024        # characters in one element's text

MAX_XLSX_MEMBERS = 1_000
MAX_XLSX_UNCOMPRESSED = 25 * 1024 * 1024   # all members together, as declared and as read
_CHUNK = 1024 * 1024


def too_big(what_vi: str, what_en: str) -> FormProblems:
    return FormProblems([error(
        f"Tệp quá lớn để là một biểu mẫu: {what_vi}. Máy chủ không đọc tiếp.",
        f"The file is too large to be a questionnaire: {what_en}. The server stopped reading it.",
    )])


def check_xform_size(data: bytes) -> None:
    if len(data) > MAX_XFORM_BYTES:
        raise too_big(f"{len(data):,} byte (tối đa {MAX_XFORM_BYTES:,})",
                      f"{len(data):,} bytes (at most {MAX_XFORM_BYTES:,})")


class BoundedTreeBuilder(TreeBuilder):
    """An ElementTree builder that refuses a document past the limits while it is being parsed,
    so the refusal costs no more than the limits themselves."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0
        self.depth = 0
        self.text = 0

    def start(self, tag, attrs):
        self.elements += 1
        self.depth += 1
        self.text = 0
        if self.elements > MAX_XFORM_ELEMENTS:
            raise too_big(f"hơn {MAX_XFORM_ELEMENTS:,} phần tử XML", f"more than {MAX_XFORM_ELEMENTS:,} XML elements")
        if self.depth > MAX_XFORM_DEPTH:
            raise too_big(f"các phần tử lồng nhau sâu hơn {MAX_XFORM_DEPTH} cấp",
                          f"elements nested deeper than {MAX_XFORM_DEPTH} levels")
        if len(attrs) > MAX_XFORM_ATTRIBUTES:
            raise too_big(f"một phần tử có hơn {MAX_XFORM_ATTRIBUTES} thuộc tính",
                          f"an element with more than {MAX_XFORM_ATTRIBUTES} attributes")
        return super().start(tag, attrs)

    def data(self, data):
        self.text += len(data)
        if self.text > MAX_XFORM_TEXT:
            raise too_big(f"một đoạn văn bản dài hơn {MAX_XFORM_TEXT:,} ký tự",
                          f"a text longer than {MAX_XFORM_TEXT:,} characters")
        return super().data(data)

    def end(self, tag):
        self.depth -= 1
        self.text = 0
        return super().end(tag)


def check_xlsx_container(data: bytes) -> None:
    """Refuse an .xlsx (a zip) whose members are too many or inflate too far.

    The declared sizes are checked first (cheap); then every member is inflated in chunks,
    without keeping it, counting the bytes actually produced, since a crafted zip can declare
    small sizes and inflate to far more."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip after all: the spreadsheet reader says so in its own words
    with archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise too_big(f"tệp nén .xlsx chứa {len(members):,} tệp con (tối đa {MAX_XLSX_MEMBERS:,})",
                          f"the .xlsx zip holds {len(members):,} members (at most {MAX_XLSX_MEMBERS:,})")
        declared = sum(m.file_size for m in members)
        if declared > MAX_XLSX_UNCOMPRESSED:
            raise _inflates(declared)
        total = 0
        for member in members:
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(_CHUNK):
                        total += len(chunk)
                        if total > MAX_XLSX_UNCOMPRESSED:
                            raise _inflates(total, at_least=True)
            except FormProblems:
                raise
            except Exception:  # a corrupt member: the spreadsheet reader reports the file unreadable
                return


def _inflates(size: int, at_least: bool = False) -> FormProblems:
    more = "hơn " if at_least else ""
    more_en = "more than " if at_least else ""
    return too_big(
        f"tệp .xlsx giải nén ra {more}{size:,} byte (tối đa {MAX_XLSX_UNCOMPRESSED:,})",
        f"the .xlsx inflates to {more_en}{size:,} bytes (at most {MAX_XLSX_UNCOMPRESSED:,})")
