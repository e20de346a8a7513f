"""Failed password checks, counted per account name and per client address for the login limit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone



def _iso(moment: datetime) -> str:
    # the same text form as clock.now_iso, so that string order is time order
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_failure(db, name: str, ip: str | None, *, keep_seconds: int) -> None:
    """Count one failure; rows older than `keep_seconds` are dropped on the way. The caller holds
    the write transaction (actions.sessions, with the failure's audit entry)."""
    now = datetime.now(timezone.utc)
    db.execute("INSERT INTO login_failures (at, name, ip) VALUES (?, ?, ?)", [_iso(now), name, ip])
    db.execute("DELETE FROM login_failures WHERE at < ?", [_iso(now - timedelta(seconds=keep_seconds))])


def recent_failures(db, *, name: str, ip: str | None, window_seconds: int) -> dict:
    """Failures within the window: counts and the oldest time, per name and per address."""
    since = _iso(datetime.now(timezone.utc) - timedelta(seconds=window_seconds))
    by_name = db.execute("SELECT count(*), min(at) FROM login_failures WHERE name = ? AND at >= ?",
                         [name, since]).fetchone()
    by_ip = db.execute("SELECT count(*), min(at) FROM login_failures WHERE ip = ? AND at >= ?",
                       [ip, since]).fetchone() if ip else (0, None)
    return {"name": by_name[0], "name_oldest": by_name[1], "ip": by_ip[0], "ip_oldest": by_ip[1]}


def forget_failures(db, name: str) -> int:
    """Forget an account's failures once its owner has logged in, or an administrator unlocked it;
    the caller holds the write transaction. How many failures were forgotten."""
    return db.execute("DELETE FROM login_failures WHERE name = ?", [name]).rowcount


def locked_names(db, names: list[str], *, window_seconds: int, limit: int) -> set[str]:
    """The names among `names` with `limit` or more failures within the window: locked out."""
    since = _iso(datetime.now(timezone.utc) - timedelta(seconds=window_seconds))
    found = db.execute("SELECT name FROM login_failures WHERE at >= ? GROUP BY name HAVING count(*) >= ?",
                       [since, limit]).fetchall()
    wanted = set(names)
    return {name for (name,) in found if name in wanted}
