"""Timestamps as stored: UTC, ISO 8601 with milliseconds, so text order is time order."""
from datetime import datetime, timezone


def iso(moment: datetime) -> str:
    """`moment` as stored (an aware datetime, in any zone)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))
