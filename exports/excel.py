"""What Excel needs of values and names: serial dates in Vietnam's time, legal sheet names, the
row limit, and the few labels both workbooks show."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7))
# 1,048,576 rows in a sheet, the header included
EXCEL_MAX_ROWS = 1_048_576
_EPOCH = datetime(1899, 12, 30)
_EPOCH_DATE = _EPOCH.date()
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31

# the words the web pages show (server/web/i18n.py reads them from here)
REVIEW_LABELS = {
    "received": ("Mới nhận", "Received"),
    "approved": ("Đã duyệt", "Approved"),
    "hasIssues": ("Có vấn đề", "Has issues"),
    "rejected": ("Bị loại", "Rejected"),
}


def excel_datetime(text: str) -> float | None:
    """An XForm dateTime (or a stored UTC time) as an Excel serial in Vietnam's local time;
    without an offset the device's clock is taken to be Vietnam's. None if unreadable."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(VN_TZ).replace(tzinfo=None)
    delta = moment - _EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400


def excel_date(text: str) -> int | None:
    try:
        return (date.fromisoformat(text[:10]) - _EPOCH_DATE).days
    except ValueError:
        return None


def excel_time(text: str) -> float | None:
    """An XForm time ("09:15:00.000+07:00") as a fraction of a day in Vietnam's time."""
    try:
        moment = time.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = datetime.combine(date(2000, 1, 3), moment).astimezone(VN_TZ).time()
    return (moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6) / 86400


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A legal, unused sheet name close to `wanted`; adds it to `taken` (compared without case)."""
    base = _SHEET_BAD.sub("_", wanted).strip("'") or "Sheet"
    base = base[:SHEET_NAME_MAX]
    name, number = base, 1
    while name.lower() in taken or name.lower() == "history":
        number += 1
        suffix = f" ({number})"
        name = base[:SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def local_now() -> datetime:
    return datetime.now(VN_TZ)
