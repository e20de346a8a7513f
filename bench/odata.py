"""`make bench`: the OData feed's first page, against a hand-written SQL page of the same rows.

    python -m bench.odata [--n 1000000] [--seed 1] [--data-dir bench/out/1m] [--runs 5] [--big 100000]

Uses the data set of bench/generate.py (made if missing, cached afterwards), starts the server
(gunicorn, one worker) on it and, with a session token from POST /v1/sessions:

  (a) GET …/tthc_hailong.svc/Submissions?$top=1000 — the first page as Excel or pyodk gets it
      (JSON nested by group, typed, __system), best of --runs, timed to the last byte;
  (b) the baseline: the same 1,000 rows read with one hand-written SQL query (the answer table
      joined to submissions, newest first) and written as flat JSON, in this process;
  (c) GET …/Submissions?$top=--big, streamed to the end, and the worker's peak RSS (VmHWM)
      afterwards: a page streams, so memory must stay flat (target < 200 MB).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

import requests

from .generate import DEFAULT_N, generate
from tests.harness.site import PASSWORD, LiveServer, create_password_user

ROOT = Path(__file__).resolve().parents[1]
FORM_ID = "tthc_hailong"
ACCOUNT = "bench_odata"
PAGE = 1000
TARGET_SECONDS = 0.3
TARGET_RSS_MB = 200


def _account(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / "hailong.sqlite")
    try:
        exists = conn.execute("SELECT 1 FROM users WHERE name = ?", [ACCOUNT]).fetchone()
    finally:
        conn.close()
    if not exists:
        create_password_user(data_dir, ACCOUNT, "admin")


def _baseline(data_dir: Path) -> float:
    """The same rows by hand: one query, flat JSON."""
    conn = sqlite3.connect(data_dir / "hailong.sqlite")
    began = time.perf_counter()
    cursor = conn.execute(
        f'SELECT s.instance_id, s.received_at, s.submitter_id, s.review_state, s.version, s.unit_code, '
        f's.channel, d.* FROM "data:{FORM_ID}" d CROSS JOIN submissions s ON s.id = d._submission_id '
        f'WHERE s.form_id = ? AND s.current = 1 AND s.deleted_at IS NULL ORDER BY d._submission_id DESC LIMIT ?',
        [FORM_ID, PAGE])
    names = [d[0] for d in cursor.description]
    body = json.dumps({"value": [dict(zip(names, row)) for row in cursor]}, ensure_ascii=False)
    elapsed = time.perf_counter() - began
    conn.close()
    assert body.count('"instance_id"') == PAGE  # nosec B101  the baseline read what it should
    return elapsed


def _worker_hwm_mb(server: LiveServer) -> float:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "1m")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big", type=int, default=100000)
    args = parser.parse_args(argv)
    generate(args.data_dir, args.n, args.seed)
    _account(args.data_dir)
    server = LiveServer(args.data_dir, workers=1).start()
    try:
        session = requests.Session()
        token = session.post(f"{server.url}/v1/sessions", json={"email": ACCOUNT, "password": PASSWORD},
                             timeout=60).json()["token"]
        session.headers["Authorization"] = f"Bearer {token}"
        url = f"{server.url}/v1/projects/1/forms/{FORM_ID}.svc/Submissions"
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            response = session.get(url, params={"$top": PAGE}, timeout=600)
            body = response.json()
            times.append(time.perf_counter() - began)
            assert response.status_code == 200 and len(body["value"]) == PAGE  # nosec B101
        page = min(times)
        bare = min(_baseline(args.data_dir) for _ in range(args.runs))
        began = time.perf_counter()
        rows = 0
        with session.get(url, params={"$top": args.big}, stream=True, timeout=3600) as response:
            for chunk in response.iter_content(1 << 16):
                rows += chunk.count(b'"__id"')
        big_seconds = time.perf_counter() - began
        rss = _worker_hwm_mb(server)
    finally:
        server.stop()
    print(f"OData first page of {PAGE} rows ({args.n:,} submissions): {page:.3f} s "
          f"(target <= {TARGET_SECONDS} s); hand-written SQL page: {bare:.3f} s; ratio {page / bare:.1f}x the time")
    print(f"OData $top={args.big:,}: {rows:,} rows in {big_seconds:.1f} s ({rows / big_seconds:,.0f} rows/s), "
          f"worker peak RSS {rss:.0f} MB (target < {TARGET_RSS_MB} MB)")
    return 0 if rss < TARGET_RSS_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
