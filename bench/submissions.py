"""How fast the server takes submissions: POST /submission of the standard form over real HTTP.

    .venv/bin/python -m bench.submissions [--quick] [--requests N]

A temporary DATA_DIR is seeded with the project's own commands (`setup`, `users create --role
collector`), the project is served by gunicorn with 2 workers, and so is a bare Flask app that
parses the same multipart body and stores nothing (bench/bare_app.py). Both are sent the same
pre-built bodies by the same client at each concurrency; the ratio of their rates is what the
project's own work costs. Every answer must be 201 and every submission must be in the database.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import storage
from storage import forms, submissions
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import LiveServer, create_collector, setup


FORM_ID = "tthc_hailong"
UNIT, LEVEL = "474", "huyen"
CONCURRENCY = (8, 32)
WORKERS = 2
THREADS = int(os.environ.get("THREADS", "1"))   # gunicorn.conf.py reads the same variable
WORKER_KIND = f"workers of {THREADS} threads (group commit)" if THREADS > 1 else "sync workers"
WARMUP = 40
TARGET_RATIO = 0.7        # project req/s over bare req/s, at each concurrency (issue #19)
TARGET_P99_MS = 50.0
BOUNDARY = "hailongbench5c1f0e7a9d"
DEVICE_ID = "collect:bench0000000000"


@dataclass
class Run:
    target: str
    concurrency: int
    latencies: list[float]     # seconds, one per request
    statuses: list[int]        # 0 when the connection failed
    wall: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        ordered = sorted(self.latencies)
        rank = max(1, -(-len(ordered) * p // 100))
        return ordered[int(rank) - 1] * 1000

    @property
    def failures(self) -> int:
        return sum(1 for s in self.statuses if s != 201)


def multipart(xml: bytes, attachments: dict[str, bytes] | None = None) -> bytes:
    """A body as Collect sends it: the instance as `xml_submission_file`, then each attachment."""
    parts = [("xml_submission_file", "submission.xml", "text/xml", xml)]
    parts += [(name, name, "application/octet-stream", data) for name, data in (attachments or {}).items()]
    body = b""
    for field_name, filename, kind, data in parts:
        body += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field_name}"; '
                 f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n').encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def standard_xform(data_dir: Path) -> tuple[str, bytes]:
    db = storage.connect(data_dir, migrate=False)
    try:
        version = forms.latest_version(db, FORM_ID)
    finally:
        db.close()
    if version is None:
        sys.exit(f"{FORM_ID} was not published by `setup`: is forms/{FORM_ID}.xlsx there?")
    return version["version"], version["xform"]


def make_bodies(xform: bytes, count: int, rng: random.Random) -> list[bytes]:
    return [multipart(fill_instance(xform, standard_answers(rng, UNIT, LEVEL), f"uuid:{uuid.uuid4()}"))
            for _ in range(count)]


def hit(port: int, path: str, bodies: list[bytes], concurrency: int, target: str) -> Run:
    """Send every body once from `concurrency` threads, each with its own connection."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "X-OpenRosa-Version": "1.0",
               "User-Agent": "org.odk.collect.android/v2024.3.1 bench", "Date": formatdate(usegmt=True)}
    latencies = [0.0] * len(bodies)
    statuses = [0] * len(bodies)
    tickets = itertools.count()          # next() on it is atomic under the GIL
    start = threading.Barrier(concurrency + 1)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while (i := next(tickets)) < len(bodies):
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, bodies[i], headers)
                response = conn.getresponse()
                response.read()
                statuses[i] = response.status
            except (OSError, http.client.HTTPException):
                conn.close()             # reconnects on the next request
            latencies[i] = time.perf_counter() - t0
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return Run(target, concurrency, latencies, statuses, time.perf_counter() - t0)


def alternating(servers: dict, path: str, bodies: list[bytes], concurrency: int, slices: int) -> dict[str, Run]:
    """Send `bodies` to each server ({name: LiveServer}) in `slices` slices, alternating who goes
    first so that a change in background load hits both alike; {name: the slices as one run}."""
    parts: dict[str, list[Run]] = {name: [] for name in servers}
    n = len(bodies)
    for k in range(slices):
        chunk = bodies[k * n // slices:(k + 1) * n // slices]
        for name in (list(servers) if k % 2 == 0 else list(servers)[::-1]):
            parts[name].append(hit(servers[name].port, path, chunk, concurrency, name))
    return {name: merge(runs) for name, runs in parts.items()}


def merge(runs: list[Run]) -> Run:
    """Slices of one target at one concurrency as a single run (rate over the summed wall time)."""
    return Run(runs[0].target, runs[0].concurrency, [x for r in runs for x in r.latencies],
               [x for r in runs for x in r.statuses], sum(r.wall for r in runs))


def fsync_ms(directory: Path, count: int = 100) -> float:
    """Median time of one small write + fsync where the database lives: what each commit waits for."""
    times = []
    fd = os.open(directory / "fsync-probe", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(count):
            os.write(fd, b"\0" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(directory / "fsync-probe")
    return sorted(times)[count // 2] * 1000


def report(runs: dict[tuple[str, int], Run], n: int, version: str, body_size: int,
           segments: int, load: tuple[tuple[float, ...], tuple[float, ...]],
           fsync: tuple[float, float]) -> list[str]:
    lines = [
        f"POST /submission, standard form {FORM_ID} v{version}: {body_size} B multipart body, unit {UNIT}",
        f"machine: nproc={os.cpu_count()}  (client, both servers and SQLite share it)   "
        f"Python {sys.version.split()[0]}",
        f"load average {load[0][0]:.2f} before, {load[1][0]:.2f} after   "
        f"disk: fsync of 4 KiB p50 {fsync[0]:.2f} ms before, {fsync[1]:.2f} ms after "
        "(each stored submission waits for one)",
        f"servers: gunicorn {WORKERS} {WORKER_KIND} each   N={n} requests per run "
        f"(+{WARMUP} warm-up), sent as {segments} slices alternating project/bare",
        "client: the same for both, http.client, one thread and connection per concurrent request",
        f"targets: ratio >= {TARGET_RATIO}; p99 <= {TARGET_P99_MS:.0f} ms",
        "",
        f"{'conc':>4} | {'project req/s':>13} {'p50 ms':>7} {'p99 ms':>7} | {'bare req/s':>10} "
        f"{'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5} | targets",
        "-" * 96,
    ]
    for c in CONCURRENCY:
        p, b = runs["project", c], runs["bare", c]
        ratio = p.rate / b.rate
        p99 = p.percentile(99)
        checks = []
        checks.append(f"ratio {'ok' if ratio >= TARGET_RATIO else 'MISS'} (>= {TARGET_RATIO})")
        checks.append(f"p99 {'ok' if p99 <= TARGET_P99_MS else 'MISS'} (<= {TARGET_P99_MS:.0f})")
        lines.append(f"{c:>4} | {p.rate:>13.1f} {p.percentile(50):>7.1f} {p99:>7.1f} | {b.rate:>10.1f} "
                     f"{b.percentile(50):>7.1f} {b.percentile(99):>7.1f} | {ratio:>5.2f} | {'; '.join(checks)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.submissions", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (200 requests per run)")
    parser.add_argument("--requests", type=int, metavar="N", help="requests per run (default 2000)")
    parser.add_argument("--segments", type=int, default=4, metavar="K",
                        help="slices per concurrency, alternating project and bare (default 4)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR and logs")
    args = parser.parse_args(argv)
    n = args.requests or (200 if args.quick else 2000)
    segments = max(1, min(args.segments, n // 50 or 1))
    load_before = os.getloadavg()

    work = Path(tempfile.mkdtemp(prefix="hailong-bench-"))
    data_dir, bare_dir = work / "data", work / "bare"
    data_dir.mkdir()
    bare_dir.mkdir()
    print(f"seeding {data_dir} ...", flush=True)
    setup(data_dir)
    token = create_collector(data_dir, "dtv_bench", UNIT)
    version, xform = standard_xform(data_dir)
    fsync_before = fsync_ms(data_dir)

    rng = random.Random(2026)  # benchmark data, not a secret  # nosec B311
    warmup = make_bodies(xform, WARMUP, rng)
    bodies = {c: make_bodies(xform, n, rng) for c in CONCURRENCY}
    path = f"/key/{token}/submission?deviceID={DEVICE_ID}"

    servers = {"project": LiveServer(data_dir, workers=WORKERS),
               "bare": LiveServer(bare_dir, workers=WORKERS, app="bench.bare_app:app")}
    runs: dict[tuple[str, int], Run] = {}
    failed = []
    try:
        for server in servers.values():
            server.start()
        for name, server in servers.items():
            warm = hit(server.port, path, warmup, 2, name)
            if warm.failures:
                failed.append(f"{name} warm-up: {warm.failures} answers were not 201 "
                              f"(statuses {sorted(set(warm.statuses))})")
        for c in CONCURRENCY:
            print(f"concurrency {c}: {n} requests to each, in {segments} alternating slices ...", flush=True)
            for name, run in alternating(servers, path, bodies[c], c, segments).items():
                runs[name, c] = run
                if run.failures:
                    failed.append(f"{name} at {c}: {run.failures} of {n} answers were not 201 "
                                  f"(statuses {sorted(set(run.statuses))})")
    finally:
        for server in servers.values():
            server.stop()

    load_after, fsync_after = os.getloadavg(), fsync_ms(data_dir)
    db = storage.connect(data_dir, migrate=False)
    try:
        stored = submissions.count_submissions(db, FORM_ID)
    finally:
        db.close()
    sent = WARMUP + n * len(CONCURRENCY)
    if stored != sent:
        failed.append(f"database holds {stored} submissions of {FORM_ID}, {sent} were sent")
    log = b"".join(p.read_bytes() for p in data_dir.glob("server-*.log"))
    for marker in (b"Traceback", b"database is locked"):
        if marker in log:
            failed.append(f"project server log contains {marker.decode()!r}")

    print()
    if runs:
        print("\n".join(report(runs, n, version, len(bodies[CONCURRENCY[0]][0]), segments,
                               (load_before, load_after), (fsync_before, fsync_after))))
    if failed:
        print("\ncorrectness: FAILED")
    else:
        print(f"\ncorrectness: ok, every answer 201 and {stored} of {sent} submissions in the database")
    for problem in failed:
        print(f"  - {problem}")
    if args.json and runs:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "nproc": os.cpu_count(), "n": n, "workers": WORKERS, "stored": stored, "sent": sent,
            "runs": [{"target": r.target, "concurrency": r.concurrency, "req_s": round(r.rate, 1),
                      "p50_ms": round(r.percentile(50), 2), "p99_ms": round(r.percentile(99), 2),
                      "failures": r.failures} for r in runs.values()]}, indent=2))
    if args.keep or failed:
        print(f"data and server logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
