"""Shared fixtures: a real server process (gunicorn, 2 workers) on a real SQLite file."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures" / "odk"
STANDARD_FORM = ROOT / "forms" / "tthc_hailong.xlsx"
PASSWORD = "mat-khau-rat-dai-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(data_dir: Path, *args: str, input: str | None = None):
    """Run a `flask --app server` command in-process against DATA_DIR."""
    from server import create_app
    app = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None})
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


@dataclass
class LiveServer:
    data_dir: Path
    port: int = field(default_factory=free_port)
    workers: int = 2
    process: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        env = {**os.environ, "DATA_DIR": str(self.data_dir), **self.env}
        env.pop("PUBLIC_URL", None)
        self.log = open(self.data_dir / f"server-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.port}", "--graceful-timeout", "2", "server:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / f'server-{self.port}.log').read_text()}")
            try:
                requests.head(self.url + "/submission", timeout=0.5)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            # the whole group: SIGKILL to the master alone would leave its workers serving
            os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()


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


def seed(data_dir: Path) -> dict[str, str]:
    result = cli(data_dir, "setup", "--forms-dir", str(ROOT / "forms"))
    assert result.exit_code == 0, result.output
    tokens = {}
    for name, role, unit in [("dtv_hue", "collector", "474"), ("dtv_tinh", "collector", None),
                             ("dtv_aluoi", "collector", "481")]:
        args = ["users", "create", name, "--role", role, "--server-url", "http://srv",
                "--qr", str(data_dir / f"{name}.png")]
        if unit:
            args += ["--unit", unit]
        out = cli(data_dir, *args)
        assert out.exit_code == 0, out.output
        tokens[name] = out.output.split("http://srv/key/")[1].split()[0]
    for name, role, unit in [("admin", "admin", None), ("thu_ky", "collector", "474"),
                             ("xem_hue", "viewer", "474")]:
        args = ["users", "create", name, "--role", role, "--password-stdin"]
        if unit:
            args += ["--unit", unit]
        out = cli(data_dir, *args, input=PASSWORD + "\n")
        assert out.exit_code == 0, out.output
    return tokens


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
