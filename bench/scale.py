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

Ingest is measured by bench/submissions.py (the database size barely matters to it: one insert
per table per submission).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import storage
from bench.generate import DEFAULT_CHUNK, FORM_ID, generate
from bench.indices import engine_table, hand_sql, hand_table, standard_items
from tests.harness.site import PASSWORD, ROOT, create_password_user

SIZES = (100_000, 1_000_000)
BIG = 3_000_000
REPORT_PERIOD = "2026-Q3"
DISTRICT = "474"
TARGETS = {"indices": 0.1, "dashboard": 0.5, "dashboard (district)": 0.5, "report": 2.0}
TARGET_SIZE = 1_000_000


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
        for name, seconds in results[n].items():
            print(f"  {name:24}{seconds:8.3f} s", flush=True)
    names = list(results[sizes[0]])
    print(f"\nMedian seconds, and x the baseline (one SQL pass over every answer) of the same size and run")
    print(f"{'':24}" + "".join(f"{n:>22,}" for n in sizes) + "   target at 1M")
    missed = False
    for name in names:
        row = f"{name:24}"
        for n in sizes:
            seconds, base = results[n][name], results[n]["baseline"]
            row += f"{seconds:12.3f} s {seconds / base:6.2f}x"
        target = TARGETS.get(name)
        if target is not None and TARGET_SIZE in results:
            met = results[TARGET_SIZE][name] <= target
            missed |= not met
            row += f"   <= {target:.1f} s {'met' if met else 'MISSED'}"
        print(row)
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        print(f"\ngrowth {first:,} -> {last:,} ({last / first:.0f}x the submissions):")
        for name in names:
            print(f"  {name:24}{results[last][name] / results[first][name]:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
