"""Shared fixtures: a real server process (gunicorn, 2 workers) on a real SQLite file.

Each test is marked with its tier from what it uses (tests/harness/tiers.py): `server` when it
starts a server process, `browser` when it drives Chromium; `make test-fast` runs the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

# the harness (tests/harness/) is shared with the benchmarks; its names stay importable from here
from tests.harness.collect_client import CollectClient, message_of  # noqa: F401
from tests.harness.instances import fill_instance, rate_all, standard_answers  # noqa: F401
from tests.harness.requirements import chromium_path, missing_message
from tests.harness.site import (  # noqa: F401
    PASSWORD, ROOT, LiveServer, cli, create_collector, create_password_user, free_port, refuse_servers, seed)
from tests.harness.tiers import tiers_of

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
    return {**browser_type_launch_args, "executable_path": chromium_path() or "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # before `-m` selects: the tier markers are what it selects on
    for item in items:
        for tier in sorted(tiers_of(item)):
            item.add_marker(tier)


def pytest_collection_finish(session):
    """Stop before the first test when the machine lacks what the selected tests need."""
    items = session.items
    if session.config.option.collectonly or not items:
        return
    need_browser = any(item.get_closest_marker("browser") for item in items)
    # Java for every run: ODK Validate checks each form the tests publish, and is tested itself
    message = missing_message(need_browser=need_browser, need_java=True)
    if message:
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
    if not any(item.get_closest_marker("server") or item.get_closest_marker("browser") for item in items):
        refuse_servers("Kiểm thử này khởi động một máy chủ nhưng không được nhận ra là kiểm thử `server` / "
                       "this test starts a server process but was not recognised as a `server` test: start it "
                       "from a fixture or function that uses LiveServer, or mark it @pytest.mark.server.")


@pytest.fixture
def empty_db(tmp_path):
    """A database file of the current schema with nothing in it, for tests of actions/ and storage/
    through their functions (no server)."""
    import storage
    db = storage.connect(tmp_path)
    yield db
    db.close()
