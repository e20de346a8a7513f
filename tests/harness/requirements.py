"""What the tests need on the machine besides Python packages, and what to install when it is missing.

Checked once before the first test runs (tests/conftest.py), so a machine without Chromium or Java
gets one message instead of a failure per test. `CHROMIUM` (a path) overrides the browser found
on PATH, and PATH decides the rest, so the check is tested by narrowing them.
"""
from __future__ import annotations

import os
import shutil
import sys


def chromium_path(environ=os.environ) -> str | None:
    """Debian's Chromium, driven by Playwright instead of a browser `playwright install` would download."""
    given = environ.get("CHROMIUM")
    if given:
        return given if os.path.isfile(given) and os.access(given, os.X_OK) else None
    return shutil.which("chromium", path=environ.get("PATH"))


def java_path(environ=os.environ) -> str | None:
    # what forms.compile looks for: ODK Validate runs on the `java` on PATH
    return shutil.which("java", path=environ.get("PATH"))


def missing_message(need_browser: bool, need_java: bool, environ=os.environ) -> str | None:
    """None when the machine has what the selected tests need, else one message saying what to install."""
    missing = []
    no_browser = need_browser and not chromium_path(environ)
    if no_browser:
        given = environ.get("CHROMIUM")
        where = f" ({given}: không chạy được / not executable)" if given else ""
        missing.append(f"  - Chromium{where}: các trang web được kiểm thử trong Chromium / the web pages are tested "
                       "in it\n      apt-get install chromium   (hoặc / or CHROMIUM=/path/to/chromium)")
    if need_java and not java_path(environ):
        missing.append("  - Java: ODK Validate kiểm tra biểu mẫu bằng Java / ODK Validate checks the forms with it"
                       "\n      apt-get install default-jre-headless")
    if not missing:
        return None
    hint = ""
    if no_browser and len(missing) == 1:
        hint = ("\n`make test-fast` chạy được ngay các kiểm thử không cần trình duyệt và máy chủ / "
                "runs the tests that need no browser and no server now.")
    return ("Máy này thiếu phần mềm cần cho kiểm thử / this machine lacks what the tests need:\n"
            + "\n".join(missing) + hint)


def main(argv: list[str]) -> int:
    """`python -m tests.harness.requirements [--browser]`: the Makefile's check before it installs
    anything, with the system's Python and nothing but the standard library."""
    message = missing_message(need_browser="--browser" in argv, need_java=True)
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
