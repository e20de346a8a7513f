"""Load test: 200 surveyors' phones coming back online at once, each uploading a day's backlog.

    .venv/bin/python -m bench.stress [--devices 200] [--backlog 10-20] [--workers 2] [--time-limit 600]

Loopback only (the server is started here on 127.0.0.1) and bounded: a fixed number of
submissions, and a time limit after which the devices stop and the run fails. A temporary
DATA_DIR is seeded with the project's own commands; each device is a collector account of its own
(its own token URL), bound to one of the district-level units, and uploads as ODK Collect does:
one HEAD to learn the size limit, then one POST per submission, one after the other. A share of
the submissions carries a photo (20-60 kB). The server is gunicorn with gunicorn.conf.py, as
`make run` starts it.

Checked: every answer is 201 (no 5xx, nothing refused), the server log holds no "database is
locked" and no traceback, the database holds exactly the submissions and attachment files sent
and passes its integrity check. Printed: throughput, and the latency of the POSTs (p50, p99).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import storage
from actions.accounts import create_account
from storage import forms
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import LiveServer, setup

from .submissions import BOUNDARY, multipart

FORM_ID = "tthc_hailong"
HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "X-OpenRosa-Version": "1.0",
           "User-Agent": "org.odk.collect.android/v2024.3.1 stress"}


@dataclass
class Device:
    name: str
    unit: str
    token: str
    bodies: list[bytes]
    attachments: int
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)    # seconds, one per POST
    head_latency: float = 0.0
    errors: list[str] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1] * 1000


def prepare(data_dir: Path, devices: int, backlog: tuple[int, int], photo_share: float,
            rng: random.Random) -> list[Device]:
    setup(data_dir)
    db = storage.connect(data_dir)
    try:
        xform = forms.latest_version(db, FORM_ID)["xform"]
        districts = [r[0] for r in db.execute("SELECT code FROM units WHERE level = 'huyen' ORDER BY code")]
        made = []
        for n in range(devices):
            unit = districts[n % len(districts)]
            account = create_account(db, name=f"dtv_{n:03d}", role="collector", unit_code=unit, password=None,
                                     actor="bench")
            bodies, photos = [], 0
            for _ in range(rng.randint(*backlog)):
                answers = standard_answers(rng, unit, "huyen")
                answers["deviceid"] = f"collect:stress{n:011d}"
                files = None
                if rng.random() < photo_share:
                    files = {f"{uuid.uuid4().hex}.jpg": rng.randbytes(rng.randrange(20_000, 60_000))}
                    photos += 1
                bodies.append(multipart(fill_instance(xform, answers, f"uuid:{uuid.uuid4()}"), files))
            made.append(Device(account.name, unit, account.token, bodies, photos))
        return made
    finally:
        db.close()


def upload(device: Device, port: int, start: threading.Barrier, deadline: float) -> None:
    """One phone: HEAD once (Collect learns the size limit), then its backlog one POST at a time."""
    device_id = f"collect:stress{device.name[-3:]:0>11}"
    path = f"/key/{device.token}/submission?deviceID={device_id}"
    start.wait()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        t0 = time.perf_counter()
        conn.request("HEAD", path, headers={"X-OpenRosa-Version": "1.0", "Date": formatdate(usegmt=True)})
        response = conn.getresponse()
        response.read()
        conn.close()
        device.head_latency = time.perf_counter() - t0
        if response.status != 204:
            device.errors.append(f"HEAD answered {response.status}")
            return
        for body in device.bodies:
            if time.monotonic() > deadline:
                device.errors.append("time limit reached before the backlog was sent")
                return
            # Collect opens a connection per upload; gunicorn's sync workers close each one anyway
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, {**HEADERS, "Date": formatdate(usegmt=True)})
                response = conn.getresponse()
                response.read()
                device.statuses.append(response.status)
            except (OSError, http.client.HTTPException) as exc:
                device.statuses.append(0)
                device.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                conn.close()
            device.latencies.append(time.perf_counter() - t0)
    except (OSError, http.client.HTTPException) as exc:
        device.errors.append(f"{type(exc).__name__}: {exc}")


def verify(data_dir: Path, devices: list[Device]) -> tuple[list[str], dict]:
    problems = []
    sent = sum(len(d.bodies) for d in devices)
    photos = sum(d.attachments for d in devices)
    statuses: dict[int, int] = {}
    for d in devices:
        for s in d.statuses:
            statuses[s] = statuses.get(s, 0) + 1
        problems += [f"{d.name}: {e}" for e in d.errors[:3]]
    if statuses.get(201, 0) != sent:
        problems.append(f"{statuses.get(201, 0)} of {sent} POSTs answered 201; all answers: {statuses}")
    fives = sum(n for s, n in statuses.items() if s >= 500)
    if fives:
        problems.append(f"{fives} answers were 5xx")
    db = storage.connect(data_dir, migrate=False)
    try:
        stored = db.execute("SELECT count(*) FROM submissions WHERE form_id = ?", [FORM_ID]).fetchone()[0]
        attachments = db.execute("SELECT count(*) FROM attachments").fetchone()[0]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        shas = [r[0] for r in db.execute("SELECT DISTINCT sha256 FROM attachments")]
    finally:
        db.close()
    if stored != sent:
        problems.append(f"the database holds {stored} submissions, {sent} were sent")
    if attachments != photos:
        problems.append(f"the database lists {attachments} attachments, {photos} were sent")
    missing = [s for s in shas if not (data_dir / "blobs" / s[:2] / s).is_file()]
    if missing:
        problems.append(f"{len(missing)} attachment files are missing")
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    log = b"".join(p.read_bytes() for p in data_dir.glob("server-*.log"))
    for marker in (b"database is locked", b"Traceback", b"WORKER TIMEOUT"):
        if marker in log:
            problems.append(f"the server log contains {marker.decode()!r}")
    return problems, {"sent": sent, "stored": stored, "photos": photos, "attachments": attachments,
                      "statuses": statuses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stress", description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=200, help="phones uploading at once (default 200)")
    parser.add_argument("--backlog", default="10-20", metavar="MIN-MAX",
                        help="submissions each phone has kept offline (default 10-20)")
    parser.add_argument("--photos", type=float, default=0.3, metavar="SHARE",
                        help="share of submissions with a 20-60 kB photo (default 0.3)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")),
                        help="gunicorn workers (default 2, as `make run`; WORKERS= sets it too)")
    parser.add_argument("--time-limit", type=float, default=600, metavar="SECONDS",
                        help="stop the devices and fail after this long (default 600)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR and logs")
    args = parser.parse_args(argv)
    low, _, high = args.backlog.partition("-")
    backlog = (int(low), int(high or low))
    if not (1 <= args.devices <= 1000 and 1 <= backlog[0] <= backlog[1] <= 500):
        parser.error("bounded: 1-1000 devices, a backlog of 1-500 each")

    work = Path(tempfile.mkdtemp(prefix="hailong-stress-"))
    data_dir = work / "data"
    print(f"seeding {data_dir}: {args.devices} collector accounts, {backlog[0]}-{backlog[1]} submissions each ...",
          flush=True)
    devices = prepare(data_dir, args.devices, backlog, args.photos,
                      random.Random(args.seed))  # benchmark data, not a secret  # nosec B311
    total = sum(len(d.bodies) for d in devices)
    volume = sum(len(b) for d in devices for b in d.bodies)
    server = LiveServer(data_dir, workers=args.workers)
    load_before = os.getloadavg()
    try:
        server.start()
        print(f"{args.devices} devices upload {total} submissions ({volume / 1e6:.1f} MB) at once to gunicorn "
              f"with {args.workers} workers on 127.0.0.1:{server.port} ...", flush=True)
        start = threading.Barrier(len(devices) + 1)
        deadline = time.monotonic() + args.time_limit
        threads = [threading.Thread(target=upload, args=(d, server.port, start, deadline), daemon=True)
                   for d in devices]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic() + 130))
        wall = time.perf_counter() - t0
        stuck = sum(t.is_alive() for t in threads)
    finally:
        server.stop()
    load_after = os.getloadavg()
    problems, counts = verify(data_dir, devices)
    if stuck:
        problems.append(f"{stuck} devices were still uploading at the time limit")
    latencies = [x for d in devices for x in d.latencies]
    rate = counts["stored"] / wall if wall else 0.0
    figures = {
        "devices": args.devices, "workers": args.workers, "nproc": os.cpu_count(), "submissions": total,
        "photos": counts["photos"], "megabytes": round(volume / 1e6, 1), "seconds": round(wall, 2),
        "submissions_per_s": round(rate, 1), "p50_ms": round(percentile(latencies, 50), 1),
        "p90_ms": round(percentile(latencies, 90), 1), "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies) * 1000 if latencies else 0, 1),
        "head_p99_ms": round(percentile([d.head_latency for d in devices], 99), 1),
        "statuses": counts["statuses"],
    }
    print()
    print(f"machine: nproc={os.cpu_count()}, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"(the {args.devices} client threads share the cores with the server)")
    print(f"{total} submissions ({counts['photos']} with a photo, {volume / 1e6:.1f} MB) from {args.devices} "
          f"devices in {wall:.1f} s: {rate:.1f} submissions/s, {rate * 3600:,.0f} per hour")
    print(f"POST latency under this load: p50 {figures['p50_ms']:.0f} ms, p90 {figures['p90_ms']:.0f} ms, "
          f"p99 {figures['p99_ms']:.0f} ms, max {figures['max_ms']:.0f} ms (mostly waiting for a free worker); "
          f"HEAD p99 {figures['head_p99_ms']:.0f} ms")
    print(f"answers: {counts['statuses']}")
    if problems:
        print("\ncorrectness: FAILED")
        for problem in problems:
            print(f"  - {problem}")
    else:
        print(f"\ncorrectness: ok: every answer 201, no 5xx, no 'database is locked', {counts['stored']} of {total} "
              f"submissions and {counts['attachments']} attachments in the database, integrity_check ok")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**figures, "problems": problems}, indent=2))
    if args.keep or problems:
        print(f"data and server log kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
