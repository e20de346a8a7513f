"""The shared vocabulary's time: the SQL shift storage/ uses for local months and days is the
zone's own offset on every day since 1976, and SQLite applies it as Python's zone does."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from vocabulary import SQL_LOCAL_SHIFT, TIMEZONE


def test_the_sql_shift_is_the_zones_offset_every_day_since_1976():
    hours = int(SQL_LOCAL_SHIFT.split()[0])
    day = datetime(1976, 1, 1, tzinfo=timezone.utc)
    while day.year < 2040:
        assert TIMEZONE.utcoffset(day.replace(tzinfo=None)) == timedelta(hours=hours), day
        day += timedelta(days=1)


def test_sqlite_and_the_zone_agree_on_local_days_and_months():
    conn = sqlite3.connect(":memory:")
    for text in ("2025-06-30T16:59:59.999Z", "2025-06-30T17:00:00.000Z", "2025-12-31T17:00:00.000Z",
                 "2024-02-28T23:30:00.000Z", "1999-12-31T16:00:00.000Z"):
        local = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(TIMEZONE)
        day, month = conn.execute(
            f"SELECT date(?, '{SQL_LOCAL_SHIFT}'), strftime('%Y%m', ?, '{SQL_LOCAL_SHIFT}')",
            [text, text]).fetchone()
        assert (day, month) == (local.date().isoformat(), local.strftime("%Y%m")), text
