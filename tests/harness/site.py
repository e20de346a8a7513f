"""A seeded data directory and a real server process, for the tests and the benchmarks (bench/).

Seeding goes through the project's own `flask --app server` commands (run in-process), so a
benchmark or a test sees exactly what `make run` and an administrator would have made.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-rat-dai-123"  # the test sites' password, never a real one  # nosec B105
SERVER_APP = "server:create_app()"
# scrypt at 1/32 of the product's cost (server/auth.py) for the accounts the harness creates: the
# same algorithm and code path, without a test run spending most of its time in the KDF
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"  # the name of the hash method, not a password  # nosec B105
# why LiveServer.start must fail in this process (a test run that selected no server test); see refuse_servers
_refusal: str | None = None


def refuse_servers(reason: str | None) -> None:
    """Make every LiveServer.start() fail with `reason` (None allows them again).

    The fast test tier selects the tests that start no server; one that starts one all the same
    was placed there by mistake, and fails saying so rather than making the tier slow."""
    global _refusal
    _refusal = reason


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(data_dir: Path, *args: str, input: str | None = None):
    """Run a `flask --app server` command in-process against DATA_DIR."""
    from server import create_app
    app = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None, "PASSWORD_HASH_METHOD": TEST_PASSWORD_METHOD})
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


@dataclass
class LiveServer:
    """gunicorn serving `app` (the project by default) from DATA_DIR on a free local port."""
    data_dir: Path
    port: int = field(default_factory=free_port)
    workers: int = 2
    process: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    app: str = SERVER_APP

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        if _refusal:
            raise RuntimeError(_refusal)
        env = {**os.environ, "DATA_DIR": str(self.data_dir), **self.env}
        env.pop("PUBLIC_URL", None)
        self.log = open(self.data_dir / f"server-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.port}", "--graceful-timeout", "2", self.app],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return self._wait_until_serving()
        except BaseException:
            # a server that never answered must not outlive the test that started it
            self.stop(kill=True)
            raise

    def _wait_until_serving(self) -> "LiveServer":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / f'server-{self.port}.log').read_text()}")
            try:
                requests.head(self.url + "/submission", timeout=0.5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                # a worker still booting on a busy machine may take longer than the timeout
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            # the whole group: SIGKILL to the master alone would leave its workers serving
            os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()


SEED_UNITS_2021 = ROOT / "server" / "seed" / "units_thua_thien_hue_2021.csv"


def setup(data_dir: Path) -> None:
    """`setup` after importing the 2021 unit tree (the province and its nine districts the tests
    and benchmarks are written for; a real install gets today's units), and every form in forms/."""
    result = cli(data_dir, "units", "import", str(SEED_UNITS_2021))
    assert result.exit_code == 0, result.output  # test and benchmark set-up
    result = cli(data_dir, "setup", "--forms-dir", str(ROOT / "forms"))
    assert result.exit_code == 0, result.output  # test and benchmark set-up


def create_collector(data_dir: Path, name: str, unit: str | None = None) -> str:
    """`users create NAME --role collector`; returns the token from the printed server URL."""
    args = ["users", "create", name, "--role", "collector", "--server-url", "http://srv",
            "--qr", str(data_dir / f"{name}.png")]
    if unit:
        args += ["--unit", unit]
    out = cli(data_dir, *args)
    assert out.exit_code == 0, out.output  # test and benchmark set-up
    return out.output.split("http://srv/key/")[1].split()[0]


def create_password_user(data_dir: Path, name: str, role: str, unit: str | None = None) -> None:
    args = ["users", "create", name, "--role", role, "--password-stdin"]
    if unit:
        args += ["--unit", unit]
    out = cli(data_dir, *args, input=PASSWORD + "\n")
    assert out.exit_code == 0, out.output  # test and benchmark set-up


def seed(data_dir: Path) -> dict[str, str]:
    """The tests' site: units, standard forms, three token collectors and three password accounts."""
    setup(data_dir)
    tokens = {}
    for name, unit in [("dtv_hue", "474"), ("dtv_tinh", None), ("dtv_aluoi", "481")]:
        tokens[name] = create_collector(data_dir, name, unit)
    for name, role, unit in [("admin", "admin", None), ("thu_ky", "collector", "474"),
                             ("xem_hue", "viewer", "474")]:
        create_password_user(data_dir, name, role, unit)
    return tokens
