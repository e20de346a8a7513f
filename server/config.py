"""Configuration from environment variables, with defaults that run on one machine."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

DEFAULT_MAX_SUBMISSION = 50 * 1024 * 1024


def from_environment() -> dict:
    data_dir = Path(os.environ.get("DATA_DIR", "data")).resolve()
    advertised = int(os.environ.get("SUBMISSION_MAX_BYTES", DEFAULT_MAX_SUBMISSION))
    return {
        "DATA_DIR": str(data_dir),
        # Collect splits uploads so that each POST stays under the advertised size; the slack
        # covers the multipart framing it does not count.
        "SUBMISSION_MAX_BYTES": advertised,
        "MAX_CONTENT_LENGTH": advertised + 64 * 1024,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").rstrip("/") or None,
        # Web sessions: the cookie is Secure on every HTTPS request anyway (server.web.common);
        # SESSION_COOKIE_SECURE=1 forces it behind a proxy that does not say it speaks HTTPS.
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # a working day from login, however busy (server.auth); SESSION_HOURS to change it
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(os.environ.get("SESSION_HOURS", "8"))),
        # login limit: this many failed passwords per account, or per client address, within
        # the window lock further attempts until the oldest failure leaves the window
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_MAX_FAILURES_PER_IP": 20,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
    }


def ensure_secret_key(app) -> None:
    """Without SECRET_KEY in the environment, one is made once and kept in DATA_DIR."""
    if app.config.get("SECRET_KEY"):
        return
    path = Path(app.config["DATA_DIR"]) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    app.config["SECRET_KEY"] = path.read_text().strip()
