"""Reporting periods in Vietnam's time (Asia/Ho_Chi_Minh, UTC+7 all year, no summer time).

A submission belongs to the period of its interview start in Vietnamese time: 2026-06-30T17:30Z
is 1 July 00:30 in Huế, so it is July, Q3 and H2. Keys: month `2026-07`, quarter `2026-Q3`,
half-year `2026-H2`, year `2026`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from vocabulary import TIMEZONE

_MONTHS_IN = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_ROMAN = ("I", "II", "III", "IV")
_KEY = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4])|-H([12]))?$")
_MONTH_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


@dataclass(frozen=True, order=True)
class Period:
    kind: str       # month | quarter | half | year
    year: int
    number: int     # month 1-12, quarter 1-4, half 1-2; 1 for a year

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        if self.kind == "half":
            return f"{self.year}-H{self.number}"
        return str(self.year)

    @property
    def first_month(self) -> int:
        """YYYYMM of the first month."""
        return self.year * 100 + (self.number - 1) * _MONTHS_IN[self.kind] + 1

    @property
    def last_month(self) -> int:
        return self.first_month + _MONTHS_IN[self.kind] - 1

    @property
    def start(self) -> date:
        return date(self.year, self.first_month % 100, 1)

    @property
    def end(self) -> date:
        """The last day, inclusive."""
        return _month_end(self.year, self.last_month % 100)

    def previous(self) -> "Period":
        """The period of the same length just before."""
        if self.number > 1:
            return Period(self.kind, self.year, self.number - 1)
        return Period(self.kind, self.year - 1, 12 // _MONTHS_IN[self.kind])

    def label(self, lang: str) -> str:
        if self.kind == "month":
            return (f"Tháng {self.number}/{self.year}" if lang == "vi"
                    else f"{_MONTH_EN[self.number - 1]} {self.year}")
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.number - 1]}/{self.year}" if lang == "vi" else f"Q{self.number} {self.year}"
        if self.kind == "half":
            if lang == "vi":
                return f"6 tháng {'đầu' if self.number == 1 else 'cuối'} năm {self.year}"
            return f"H{self.number} {self.year}"
        return f"Năm {self.year}" if lang == "vi" else str(self.year)


def parse_period(text: str) -> Period:
    """`2026-07`, `2026-Q3`, `2026-H2` or `2026`; ValueError otherwise."""
    match = _KEY.match((text or "").strip().upper())
    if not match:
        raise ValueError(text)
    year = int(match.group(1))
    if year < 1900:
        raise ValueError(text)
    if match.group(2):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(text)
        return Period("month", year, month)
    if match.group(3):
        return Period("quarter", year, int(match.group(3)))
    if match.group(4):
        return Period("half", year, int(match.group(4)))
    return Period("year", year, 1)


def period_of_month(kind: str, yyyymm: int) -> Period | None:
    """The period of `kind` holding a local month (YYYYMM); None for the unknown month 0."""
    year, month = divmod(yyyymm, 100)
    if not 1 <= month <= 12:
        return None
    return Period(kind, year, (month - 1) // _MONTHS_IN[kind] + 1)


def local_moment(text: str) -> datetime | None:
    """A stored time (UTC ISO text; a naive one is taken as UTC) in Vietnam's time, None when it
    cannot be read."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(TIMEZONE)


def local_month(started_at: str) -> int:
    """YYYYMM in Vietnam of a stored UTC time ('2026-06-30T17:30:00.000Z' -> 202607)."""
    moment = datetime.fromisoformat(started_at.replace("Z", "+00:00")).astimezone(TIMEZONE)
    return moment.year * 100 + moment.month


def utc_start(day: date) -> str:
    """Midnight starting `day` in Vietnam, as stored UTC text, for comparing with started_at."""
    moment = datetime.combine(day, time(0), TIMEZONE).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def month_start(yyyymm: int) -> date:
    return date(yyyymm // 100, yyyymm % 100, 1)


def next_month(yyyymm: int) -> int:
    year, month = divmod(yyyymm, 100)
    return (year + 1) * 100 + 1 if month == 12 else yyyymm + 1


def _month_end(year: int, month: int) -> date:
    first_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first_next - timedelta(days=1)


def split_range(date_from: date | None, date_to: date | None):
    """Cut [date_from, date_to] (local days, inclusive, None = open) into whole months and edges.

    Returns (months, edges): months is (first YYYYMM or None, last YYYYMM or None) or None when
    no whole month lies inside; edges are (from, to) local-day ranges outside whole months.
    """
    if date_from is None:
        first = None
    elif date_from.day == 1:
        first = date_from.year * 100 + date_from.month
    else:
        first = next_month(date_from.year * 100 + date_from.month)
    if date_to is None:
        last = None
    elif date_to == _month_end(date_to.year, date_to.month):
        last = date_to.year * 100 + date_to.month
    else:
        year, month = date_to.year, date_to.month
        last = (year - 1) * 100 + 12 if month == 1 else year * 100 + month - 1
    if first is not None and last is not None and first > last:
        return None, [(date_from, date_to)]
    edges = []
    if date_from is not None and first is not None and month_start(first) > date_from:
        edges.append((date_from, month_start(first) - timedelta(days=1)))
    if date_to is not None and last is not None:
        last_end = _month_end(last // 100, last % 100)
        if last_end < date_to:
            edges.append((last_end + timedelta(days=1), date_to))
    return (first, last), edges


_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_YMD = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def parse_date(text: str | None) -> date | None:
    """dd/mm/yyyy (also yyyy-mm-dd, as date inputs send) -> date; None if empty or invalid."""
    if not text:
        return None
    m = _DMY.match(text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _YMD.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None
