"""Timestamps as stored: UTC, ISO 8601 with milliseconds, so text order is time order."""
from datetime import datetime, timezone


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
