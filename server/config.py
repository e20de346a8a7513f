"""Configuration from environment variables, with defaults that run on one machine."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

DEFAULT_MAX_SUBMISSION = 50 * 1024 * 1024
# written by `make run` in the directory it runs in: the DATA_DIR (and PUBLIC_URL, PORT) its server
# uses, so that a command run later from the same directory works on the same data
ENV_FILE = "hailong.env"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines; blank lines and # comments are skipped, quotes around a value dropped."""
    values = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def settings() -> dict[str, str]:
    """The environment over ENV_FILE of the working directory, where the relative default
    DATA_DIR ("data") also lives. A DATA_DIR in the environment names another instance, so the
    file is then not read at all: nothing of one instance mixes into another."""
    if "DATA_DIR" in os.environ:
        return dict(os.environ)
    return {**read_env_file(Path(ENV_FILE)), **os.environ}


def from_environment() -> dict:
    env = settings()
    data_dir = Path(env.get("DATA_DIR") or "data").resolve()
    advertised = int(env.get("SUBMISSION_MAX_BYTES", DEFAULT_MAX_SUBMISSION))
    return {
        "DATA_DIR": str(data_dir),
        # Collect splits uploads so that the files of each POST (the XML and attachments) stay
        # within the advertised size, and more is refused with 413 (actions/receive/multipart.py);
        # the body may exceed it only by the multipart framing around them, which it does not count.
        "SUBMISSION_MAX_BYTES": advertised,
        "MAX_CONTENT_LENGTH": advertised + 64 * 1024,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "PUBLIC_URL": env.get("PUBLIC_URL", "").rstrip("/") or None,
        # Web sessions: the cookie is Secure on every HTTPS request anyway (server.web.common);
        # SESSION_COOKIE_SECURE=1 forces it behind a proxy that does not say it speaks HTTPS.
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # a working day from login, however busy (server.auth); SESSION_HOURS to change it
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(env.get("SESSION_HOURS", "8"))),
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
