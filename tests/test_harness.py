"""The test run itself: tiers read from what a test uses, and one clear stop when Chromium or Java is
missing. Checked on small test files written here and run by a separate pytest with this
repository's conftest, the way `make test` and `make test-fast` run the real ones."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.harness import requirements, tiers
from tests.harness.site import ROOT

# tiers.reaches_live_server follows names in code; kept in a dict so that this file's own tests
# do not reach them (and so stay in the fast tier)
SAMPLES = {}
SAMPLE_TESTS = '''
import pytest
from tests.harness import site as harness_site
from tests.harness.site import LiveServer, cli


def _start(data_dir):
    return LiveServer(data_dir).start()


@pytest.fixture
def live(tmp_path):
    server = _start(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def local(tmp_path):
    return tmp_path


def test_plain():
    assert cli


def test_uses_a_server_fixture(live):
    assert live.url


def test_starts_one_through_a_helper(tmp_path):
    _start(tmp_path).stop()


def test_in_process_fixture(local):
    assert local.exists()


def test_page(page):
    assert page


def test_hides_its_server(tmp_path):
    # found by no reading of the code: the fast tier's guard must stop it
    getattr(harness_site, "Live" + "Server")(tmp_path).start().stop()
'''


def _sample(fn):
    SAMPLES[fn.__name__] = fn
    return fn


@_sample
def starts_a_server(data_dir):
    from tests.harness.site import LiveServer
    return LiveServer(data_dir).start()


@_sample
def calls_a_helper_that_starts_one(data_dir):
    return starts_a_server(data_dir)


@_sample
def in_a_lambda(data_dir):
    return list(map(lambda d: starts_a_server(d), [data_dir]))


@_sample
def only_the_command_line(data_dir):
    from tests.harness.site import cli
    return cli(data_dir, "forms", "list")


def test_reaching_a_live_server_is_read_through_helpers_imports_and_lambdas():
    assert tiers.reaches_live_server(SAMPLES["starts_a_server"])
    assert tiers.reaches_live_server(SAMPLES["calls_a_helper_that_starts_one"])
    assert tiers.reaches_live_server(SAMPLES["in_a_lambda"])
    assert not tiers.reaches_live_server(SAMPLES["only_the_command_line"])


def _stub(directory: Path, name: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)


def test_the_message_names_what_is_missing_and_how_to_install_it(tmp_path):
    empty, tools = tmp_path / "empty", tmp_path / "tools"
    empty.mkdir()
    tools.mkdir()
    _stub(tools, "java")
    _stub(tools, "chromium")

    assert requirements.missing_message(True, True, {"PATH": str(tools)}) is None
    both = requirements.missing_message(True, True, {"PATH": str(empty)})
    assert "apt-get install chromium" in both and "apt-get install default-jre-headless" in both
    # without browser tests, Chromium is not asked for
    java_only = requirements.missing_message(False, True, {"PATH": str(empty)})
    assert "default-jre-headless" in java_only and "chromium" not in java_only.lower()
    assert requirements.missing_message(False, True, {"PATH": str(tools)}) is None
    # CHROMIUM overrides PATH both ways
    given = requirements.missing_message(True, True, {"PATH": str(tools), "CHROMIUM": str(empty / "chromium")})
    assert str(empty / "chromium") in given and "apt-get install chromium" in given and "jre" not in given
    assert requirements.missing_message(True, True, {"PATH": str(empty / "x") + os.pathsep + str(tools),
                                                     "CHROMIUM": str(tools / "chromium")}) is None
    assert requirements.missing_message(True, True, {"PATH": str(tools), "CHROMIUM": str(tools)}) is not None


def _pytest(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """pytest on the sample tests, with this repository's conftest and pytest.ini."""
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS, encoding="utf-8")
    # not the options of the run this test is part of (its --basetemp, its -m)
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    environ.update({"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), **env})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
         "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), "--basetemp", str(tmp_path / "t"),
         "-o", "console_output_style=classic", *args, "test_sample.py"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300)


def test_tiers_are_marked_from_the_fixtures_and_code_a_test_uses(tmp_path):
    # a plugin printing each collected test's tier markers, so one collection shows them all
    (tmp_path / "print_tiers.py").write_text(
        "def pytest_collection_finish(session):\n"
        "    for item in session.items:\n"
        "        marks = sorted(m.name for m in item.iter_markers() if m.name in ('server', 'browser'))\n"
        "        print('TIER', item.originalname, ','.join(marks) or 'fast')\n", encoding="utf-8")
    run = _pytest(tmp_path, "--collect-only", "-p", "print_tiers",
                  PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(tmp_path)]))
    assert run.returncode == 0, run.stdout + run.stderr
    found = dict(line.split()[1:3] for line in run.stdout.splitlines() if line.startswith("TIER "))
    assert found == {
        "test_plain": "fast",
        "test_uses_a_server_fixture": "server",
        "test_starts_one_through_a_helper": "server",
        "test_in_process_fixture": "fast",
        "test_page": "browser",
        "test_hides_its_server": "fast",
    }


def test_a_missing_chromium_stops_the_run_at_once_with_one_message(tmp_path):
    run = _pytest(tmp_path, CHROMIUM=str(tmp_path / "none"))
    output = run.stdout + run.stderr
    assert run.returncode == 4, output
    assert output.count("apt-get install chromium") == 1
    assert "no tests ran" in output
    assert not re.search(r"passed|failed|error", output, re.IGNORECASE), output


def test_the_fast_tier_needs_no_chromium_and_stops_a_server_it_did_not_expect(tmp_path):
    run = _pytest(tmp_path, "-m", "not server and not browser", CHROMIUM=str(tmp_path / "none"))
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert re.search(r"\b1 failed\b", output) and re.search(r"\b2 passed\b", output), output
    assert re.search(r"FAILED \S*::test_hides_its_server", output), output
    assert "not recognised as a `server` test" in output
    assert "apt-get install" not in output


def test_the_makefile_check_runs_before_anything_is_installed(tmp_path):
    # `make test` runs it with the system's Python before the venv exists: -S, no site-packages
    run = subprocess.run([sys.executable, "-S", "-m", "tests.harness.requirements", "--browser"], cwd=ROOT,
                         env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert "apt-get install chromium" in run.stderr and "apt-get install default-jre-headless" in run.stderr
    java_only = subprocess.run([sys.executable, "-S", "-m", "tests.harness.requirements"], cwd=ROOT,
                               env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert java_only.returncode == 1 and "chromium" not in java_only.stderr.lower()
    ok = subprocess.run([sys.executable, "-S", "-m", "tests.harness.requirements", "--browser"], cwd=ROOT,
                        env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr


def test_the_cheaper_password_hash_is_the_harness_s_alone(tmp_path, monkeypatch):
    from server import create_app
    from actions.credentials import PASSWORD_METHOD, hash_password
    from tests.harness.site import TEST_PASSWORD_METHOD

    def method(overrides: dict) -> str:
        with create_app({"DATA_DIR": str(tmp_path), **overrides}).app_context():
            return hash_password("mat-khau-rat-dai-123").rsplit("$", 2)[0]

    assert PASSWORD_METHOD == "scrypt:32768:8:1" and TEST_PASSWORD_METHOD != PASSWORD_METHOD
    assert method({"PASSWORD_HASH_METHOD": TEST_PASSWORD_METHOD}) == TEST_PASSWORD_METHOD
    assert method({}) == PASSWORD_METHOD
    # only scrypt, and never from the environment a deployment is configured by
    assert method({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"}) == PASSWORD_METHOD
    monkeypatch.setenv("PASSWORD_HASH_METHOD", TEST_PASSWORD_METHOD)
    assert method({}) == PASSWORD_METHOD
