"""`make bench`: how the figures grow with the data, at 100,000 and 1,000,000 submissions (and
3,000,000 with `make bench BIG=1`).

    python -m bench.scale [--sizes 100000,1000000] [--runs 5]

For each size it makes (or finds cached) the data set of bench/generate.py in bench/out/<size>,
brings the scores and breakdown rollups up to date once (timed, printed), then times, each the
median of --runs runs after one untimed warm-up:

  baseline   ONE hand-written SQL GROUP BY over every answer (bench/indices.hand_sql: unit x
             quarter criterion indices from the raw answer table): what a single pass over the
             data costs on this machine right now; the other figures are also given as a ratio
             to it, which stays meaningful when the shared machine is slow;
  indices    the engine's unit x quarter table (target <= 0.1 s at 1M);
  dashboard  the whole dashboard page of the form, rendered by the server (Flask test client,
             so server time without the network), every table and every chart's data, as a
             province-wide reporter sees it (all time, the procedure-field breakdown) and as a
             district's reporter sees a quarter broken down by gender (target <= 0.5 s at 1M);
  breakdown  the same breakdown by procedure field read the old way (a pass over the
             submissions, the rollup bypassed), to show what the rollup saves;
  report     the report workbook of one quarter over the whole province (target <= 2 s at 1M).

  ingest     submissions a second through real HTTP into a copy of the data set (gunicorn, 2
             workers, concurrency 8, Collect's multipart POST), beside the bare Flask endpoint of
             bench/submissions.py in the same run, and their ratio (target >= 0.7).
bench/submissions.py measures ingest on an empty database at two concurrencies, in more detail.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import storage
from bench.generate import DEFAULT_CHUNK, FORM_ID, generate
from bench.indices import engine_table, hand_sql, hand_table, standard_items
from bench.submissions import (DEVICE_ID, UNIT, WORKERS, alternating, hit, make_bodies,
                               standard_xform)
from tests.harness.site import PASSWORD, ROOT, LiveServer, create_collector, create_password_user

SIZES = (100_000, 1_000_000)
BIG = 3_000_000
REPORT_PERIOD = "2026-Q3"
DISTRICT = "474"
TARGETS = {"indices": 0.1, "dashboard": 0.5, "dashboard (district)": 0.5, "report": 2.0}
TARGET_SIZE = 1_000_000
INGEST_REQUESTS, INGEST_CONCURRENCY, INGEST_SLICES = 1200, 8, 4
INGEST_TARGET_RATIO = 0.7


def data_dir_for(n: int) -> Path:
    return ROOT / "bench" / "out" / (f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k")


def timed(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _account(data_dir: Path, name: str, role: str, unit: str | None) -> None:
    db = storage.connect(data_dir)
    exists = db.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone()
    db.conn.close()
    if not exists:
        create_password_user(data_dir, name, role, unit)


def _client(data_dir: Path, name: str):
    import re

    from server import create_app
    app = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {name}")
    return client


def _page(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")


def _old_breakdown(db) -> None:
    """The procedure-field breakdown as it was read before the rollup: over the submissions."""
    from aggregate import IndexQuery, breakdowns, compute_indices
    real = breakdowns.rollup_dim
    breakdowns.rollup_dim = lambda *args: None
    try:
        compute_indices(db, IndexQuery(forms=(FORM_ID,), by=("q:main/procedure_field",)))
    finally:
        breakdowns.rollup_dim = real


def _report(db, out: Path) -> None:
    import exports
    plan = exports.prepare_report(db, exports.ReportQuery(FORM_ID, REPORT_PERIOD))
    exports.write_report(db, plan, out)


def ingest(data_dir: Path) -> tuple[float, float]:
    """(project, bare) requests a second, as described above; the data set itself is not changed."""
    with tempfile.TemporaryDirectory(prefix="ingest-", dir=data_dir.parent) as work:
        copy, bare_dir = Path(work) / "data", Path(work) / "bare"
        copy.mkdir()
        bare_dir.mkdir()
        for name in ("hailong.sqlite", "hailong.sqlite-wal", "secret_key"):
            if (data_dir / name).exists():
                shutil.copy2(data_dir / name, copy / name)
        token = create_collector(copy, "dtv_scale", UNIT)
        _, xform = standard_xform(copy)
        bodies = make_bodies(xform, INGEST_REQUESTS + 40, random.Random(7))  # nosec B311: bench data
        path = f"/key/{token}/submission?deviceID={DEVICE_ID}"
        servers = {"project": LiveServer(copy, workers=WORKERS),
                   "bare": LiveServer(bare_dir, workers=WORKERS, app="bench.bare_app:app")}
        try:
            for server in servers.values():
                server.start()
            for name, server in servers.items():
                hit(server.port, path, bodies[:40], 2, name)
            runs = alternating(servers, path, bodies[40:], INGEST_CONCURRENCY, INGEST_SLICES)
        finally:
            for server in servers.values():
                server.stop()
        for run in runs.values():
            if run.failures:
                raise SystemExit(f"ingest: {run.failures} answers of {run.target} were not 201")
        return runs["project"].rate, runs["bare"].rate


def measure(n: int, runs: int) -> dict[str, float]:
    data_dir = data_dir_for(n)
    generate(data_dir, n, 1, chunk=DEFAULT_CHUNK)
    _account(data_dir, "bench_reporter", "reporter", None)
    _account(data_dir, "bench_reporter_474", "reporter", DISTRICT)
    db = storage.connect(data_dir)
    import aggregate
    began = time.perf_counter()
    scored = aggregate.refresh(db)
    if scored:
        print(f"  scored and recorded the {scored:,} submissions not scored yet in "
              f"{time.perf_counter() - began:.1f} s (once; kept in the database)", flush=True)
    sql = hand_sql(standard_items(db))
    province, district = _client(data_dir, "bench_reporter"), _client(data_dir, "bench_reporter_474")
    figures = {}
    figures["baseline"] = timed(lambda: hand_table(db, sql), runs)
    figures["indices"] = timed(lambda: engine_table(db, ["unit", "quarter"]), runs)
    figures["dashboard"] = timed(lambda: _page(province, f"/dashboard/{FORM_ID}"), runs)
    figures["dashboard (district)"] = timed(
        lambda: _page(district, f"/dashboard/{FORM_ID}?period={REPORT_PERIOD}&q=main/gender"), runs)
    figures["breakdown, old way"] = timed(lambda: _old_breakdown(db), max(1, runs // 2))
    with tempfile.TemporaryDirectory(prefix="report-", dir=data_dir.parent) as work:
        figures["report"] = timed(lambda: _report(db, Path(work) / "report.xlsx"), max(1, runs // 2))
    db.conn.close()
    project, bare = ingest(data_dir)
    figures["ingest req/s"], figures["ingest, bare req/s"] = project, bare
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--big", action="store_true", help=f"also {BIG:,} submissions")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([BIG] if args.big else [])
    results = {}
    for n in sizes:
        print(f"\nScale bench: {n:,} submissions of {FORM_ID} in {data_dir_for(n)}", flush=True)
        results[n] = measure(n, args.runs)
        for name, value in results[n].items():
            print(f"  {name:24}{value:10.3f}{'' if name.startswith('ingest') else ' s'}", flush=True)
    names = [name for name in results[sizes[0]] if not name.startswith("ingest")]
    print(f"\nMedian seconds, and x the baseline (one SQL pass over every answer) of the same size and run")
    print(f"{'':24}" + "".join(f"{n:>22,}" for n in sizes) + "   target at 1M")
    for name in names:
        row = f"{name:24}"
        for n in sizes:
            seconds, base = results[n][name], results[n]["baseline"]
            row += f"{seconds:12.3f} s {seconds / base:6.2f}x"
        target = TARGETS.get(name)
        if target is not None and TARGET_SIZE in results:
            row += f"   <= {target:.1f} s {'met' if results[TARGET_SIZE][name] <= target else 'MISSED'}"
        print(row)
    row = f"{'ingest req/s, x bare':24}"
    for n in sizes:
        project, bare = results[n]["ingest req/s"], results[n]["ingest, bare req/s"]
        row += f"{project:12,.0f}   {project / bare:6.2f}x"
    print(row + f"   >= {INGEST_TARGET_RATIO}x bare")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        print(f"\ngrowth {first:,} -> {last:,} ({last / first:.0f}x the submissions):")
        for name in names + ["ingest req/s"]:
            print(f"  {name:24}{results[last][name] / results[first][name]:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
