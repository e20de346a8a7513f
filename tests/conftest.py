"""Shared fixtures: a real server process (gunicorn, 2 workers) on a real SQLite file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

# the server process and the seeding are shared with the benchmarks
from bench.site import PASSWORD, ROOT, LiveServer, cli, free_port, seed  # noqa: F401

# real forms and submissions from the ODK ecosystem, with their sources and licences (README there)
FIXTURES = ROOT / "tests" / "fixtures" / "odk"
STANDARD_FORM = ROOT / "forms" / "tthc_hailong.xlsx"


@dataclass
class Site:
    """A server with the unit tree, the standard form and a few accounts."""
    server: LiveServer
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    def token_url(self, name: str) -> str:
        return f"{self.url}/key/{self.tokens[name]}"


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("site")
    tokens = seed(data_dir)
    server = LiveServer(data_dir).start()
    yield Site(server, tokens)
    server.stop()


@pytest.fixture
def fresh_site(tmp_path):
    """A site of its own, for tests that close forms, restart or kill the server."""
    tokens = seed(tmp_path)
    server = LiveServer(tmp_path).start()
    yield Site(server, tokens)
    server.stop()


@pytest.fixture(scope="session")
def web_site(tmp_path_factory):
    """Accounts of every role in units 474 and 481, with submissions (tests/web_site.py); read-only."""
    from web_site import build
    return build(tmp_path_factory.mktemp("web") / "site")


@pytest.fixture
def web_copy(web_site, tmp_path):
    """A private copy of web_site, for tests that change it."""
    return web_site.copy(tmp_path / "site")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium instead of a browser downloaded by `playwright install` (README, Requirements)
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}
