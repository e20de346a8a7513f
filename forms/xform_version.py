"""A version for a form uploaded without one, written into its XForm.

ODK Central has its designers give a draft a version string when it would clash with a published
one, and writes that string into the XForm's instance root before publishing; Collect then shows
and submits that version. The server does the same without asking: the version is the publishing
time (UTC, `YYYYMMDDhhmmss`, ordered like the versions designers are told to write), so two
uploads of the same versionless form are told apart and each download names its own version.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr  # escapes the attribute we write; parsing is defusedxml's  # nosec B406

from .problems import FormProblems, error
from .xform_schema import read_xform

# the first element inside the model's first <instance>, past comments and whitespace
_PRIMARY_ROOT = re.compile(
    rb"<(?:[\w.-]+:)?instance(?:\s[^>]*)?>(?:\s|<!--.*?-->)*<(?P<name>[^\s/>!?]+)", re.S)
_EMPTY_VERSION = re.compile(rb"""\s(?:[\w.-]+:)?version\s*=\s*(?P<value>"\s*"|'\s*')""")


def timestamp_version(taken: set[str], now: datetime | None = None) -> str:
    """The publishing time as a version, moved on by a second while `taken` already has it."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    while (candidate := moment.strftime("%Y%m%d%H%M%S")) in taken:
        moment = moment.fromtimestamp(moment.timestamp() + 1, timezone.utc)
    return candidate


def with_version(xform: bytes, version: str) -> bytes:
    """The XForm with `version="..."` on its primary instance root (which must have none).

    Only those bytes change, so the form stays exactly what the designer wrote; the result is
    read back to make sure the version landed where Collect looks for it."""
    model = re.search(rb"<(?:[\w.-]+:)?model[\s>]", xform)
    match = _PRIMARY_ROOT.search(xform, model.start() if model else 0)
    if match is None:
        raise _cannot()
    at = match.end("name")
    value = quoteattr(version).encode("utf-8")
    tag_end = xform.find(b">", at)
    empty = _EMPTY_VERSION.search(xform, at, tag_end) if tag_end > 0 else None
    if empty is not None:  # version="" (or blank): fill it in rather than add a second one
        result = xform[:empty.start("value")] + value + xform[empty.end("value"):]
    else:
        result = xform[:at] + b" version=" + value + xform[at:]
    try:
        info = read_xform(result)
    except FormProblems:
        raise _cannot() from None
    if info.version != version:
        raise _cannot()
    return result


def _cannot() -> FormProblems:
    return FormProblems([error(
        'Không ghi được phiên bản vào XForm. Hãy thêm thuộc tính version="..." vào phần tử gốc của '
        "instance chính rồi tải lên lại.",
        'Could not write a version into the XForm. Add a version="..." attribute to the primary instance '
        "root and upload it again.",
    )])
