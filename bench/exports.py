"""`make bench`: exports of the 1,000,000-submission data set, against bare xlsxwriter.

    python -m bench.exports [--n 1000000] [--seed 1] [--data-dir bench/out/1m] [--report-runs 3]

Uses the data set of bench/generate.py (made if missing, cached afterwards) and runs, each in a
process of its own so that its peak memory is its own (os.wait4 gives the child's max RSS):

  (a) bare xlsxwriter, constant_memory: the same top-level rows, read by the same query the
      export reads (storage/export_queries.root_rows, every answer column and the metadata),
      each written with one write_row call as it comes from SQLite; the floor any XLSX export
      of this data stands on;
  (b) the project's XLSX export (exports.write_xlsx): the same rows as (a), with labels as
      headers, dates as Excel dates in Vietnam's time, numbers as numbers, the About sheet;
  (c) the project's CSV zip in Central's layout (exports.stream_csv_zip);
  (d) the report workbook (exports.write_report) for one quarter over the whole province,
      best of --report-runs.

It prints rows/s and peak RSS side by side with the targets (XLSX >= 0.6 x bare speed, peak RSS
<= 300 MB, report <= 5 s over 1M submissions), and checks that (a), (b) and (c) hold the same
number of rows; the exit status is 1 when that check fails.

Peak RSS is the child's ru_maxrss from wait4. On Linux a child inherits the high-water mark of
the process it was spawned from (exec keeps the larger of the two), so the children are spawned
by a small launcher started before this process loads anything: what is printed is the
export's own peak, not the benchmark's.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORM_ID = "tthc_hailong"
TARGET_RATIO = 0.6          # project XLSX rows/s over bare xlsxwriter rows/s
TARGET_RSS_MB = 300
TARGET_REPORT_SECONDS = 5.0
REPORT_PERIOD = "2026-Q3"
JOBS = ("bare", "xlsx", "csvzip", "report")


# --- the child processes ----------------------------------------------------------------------------

def _child(job: str, data_dir: Path, out: Path, runs: int) -> dict:
    import storage
    import exports
    from exports import rows as export_rows
    from storage.db import read_snapshot

    db = storage.connect(data_dir, migrate=False)
    plan = exports.prepare(db, exports.ExportQuery(FORM_ID))
    began = time.perf_counter()
    if job == "bare":
        import xlsxwriter
        from storage import export_queries

        table = export_rows.tables(plan)[0]
        columns = [f.path for f in table.fields]
        book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "tmpdir": str(out.parent),
                                               "use_zip64": True})
        sheet = book.add_worksheet(FORM_ID)
        sheet.write_row(0, 0, list(export_queries.ROOT_META) + columns)
        rows = 0
        with read_snapshot(db):
            for rows, values in enumerate(export_queries.root_rows(db, plan.selection, columns), start=1):
                sheet.write_row(rows, 0, values)
        book.close()
        return {"rows": rows, "seconds": time.perf_counter() - began, "bytes": out.stat().st_size}
    if job == "xlsx":
        result = exports.write_xlsx(db, plan, out, tmpdir=str(out.parent))
        return {"rows": result.tables[0].rows, "seconds": time.perf_counter() - began,
                "bytes": out.stat().st_size, "sheets": result.tables[0].sheets}
    if job == "csvzip":
        with open(out, "wb") as target:
            for piece in exports.stream_csv_zip(db, plan):
                target.write(piece)
        seconds = time.perf_counter() - began
        return {"rows": export_rows.count(db, plan, export_rows.tables(plan)[0]), "seconds": seconds,
                "bytes": out.stat().st_size}
    # the report: the scores are brought up to date once, outside the timing (the indices bench
    # does the same; the server keeps them current as submissions arrive)
    import aggregate
    aggregate.refresh(db)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        report = exports.prepare_report(db, exports.ReportQuery(FORM_ID, REPORT_PERIOD))
        exports.write_report(db, report, out)
        times.append(time.perf_counter() - began)
    counted = db.execute("SELECT count(*) FROM submissions WHERE form_id = ? AND current = 1", [FORM_ID]).fetchone()[0]
    return {"rows": counted, "seconds": min(times), "first": times[0], "runs": times, "bytes": out.stat().st_size}


LAUNCHER = """
import json, os, subprocess, sys
for line in sys.stdin:
    job = json.loads(line)
    child = subprocess.Popen(job["argv"], cwd=job["cwd"], stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"exit": child.returncode, "maxrss_kb": usage.ru_maxrss, "stdout": output}), flush=True)
"""


def start_launcher() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def _run(launcher: subprocess.Popen, job: str, data_dir: Path, work: Path, runs: int) -> dict:
    """One job in a child process; its result, and its own peak RSS from wait4."""
    out = work / f"{job}.{'zip' if job == 'csvzip' else 'xlsx'}"
    argv = [sys.executable, "-m", "bench.exports", "--child", job, "--data-dir", str(data_dir), "--out", str(out),
            "--report-runs", str(runs)]
    launcher.stdin.write(json.dumps({"argv": argv, "cwd": str(ROOT)}) + "\n")
    launcher.stdin.flush()
    done = json.loads(launcher.stdout.readline())
    if done["exit"] != 0:
        raise SystemExit(f"the {job} run failed (exit {done['exit']})")
    result = json.loads(done["stdout"].strip().splitlines()[-1])
    result["rss_mb"] = done["maxrss_kb"] / 1024        # kilobytes on Linux
    result["path"] = out
    return result


# --- checks on the files ------------------------------------------------------------------------------

def xlsx_rows(path: Path, sheet_index: int) -> int:
    """Data rows of a sheet, from the <dimension> at the top of its XML (no full read)."""
    with zipfile.ZipFile(path) as archive, archive.open(f"xl/worksheets/sheet{sheet_index}.xml") as part:
        head = part.read(4096).decode("utf-8", "replace")
    match = re.search(r'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
    return int(match.group(1)) - 1 if match and match.group(1) else 0


def csv_rows(path: Path) -> int:
    with zipfile.ZipFile(path) as archive, archive.open(f"{FORM_ID}.csv") as part:
        return sum(1 for _ in csv.reader(io.TextIOWrapper(part, encoding="utf-8", newline=""))) - 1


# --- the report ------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--report-runs", type=int, default=3)
    parser.add_argument("--child", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.data_dir, args.out, args.report_runs)))
        return 0
    launcher = start_launcher()          # first, while this process is still small
    from bench.generate import DEFAULT_CHUNK, generate
    data_dir = args.data_dir or ROOT / "bench" / "out" / ("1m" if args.n == 1_000_000 else f"{args.n // 1000}k")
    generate(data_dir, args.n, args.seed, chunk=DEFAULT_CHUNK)
    print(f"\nExports bench: {args.n:,} submissions of {FORM_ID} in {data_dir} (seed {args.seed}); "
          f"each run in its own process")
    results = {}
    with tempfile.TemporaryDirectory(dir=data_dir.parent, prefix="exports-") as work:
        for job in JOBS:
            results[job] = _run(launcher, job, data_dir, Path(work), args.report_runs)
            print(f"  {job:7} done in {results[job]['seconds']:.1f} s", flush=True)
        checks = {"bare": xlsx_rows(results["bare"]["path"], 1),
                  "xlsx": xlsx_rows(results["xlsx"]["path"], 2),        # sheet 1 is "Thông tin"
                  "csvzip": csv_rows(results["csvzip"]["path"])}
    launcher.stdin.close()
    launcher.wait()

    bare, xlsx, csvzip, report = (results[job] for job in JOBS)
    print(f"\n{'':34}{'rows':>11}{'seconds':>10}{'rows/s':>10}{'peak RSS':>11}  file")

    def line(label, result, extra=""):
        rate = result["rows"] / result["seconds"] if result["seconds"] else 0
        print(f"{label:34}{result['rows']:>11,}{result['seconds']:>10.1f}{rate:>10,.0f}"
              f"{result['rss_mb']:>8.0f} MB  {result['bytes'] / 1e6:,.0f} MB{extra}")

    line("(a) bare xlsxwriter (constant_mem)", bare)
    line("(b) export.xlsx", xlsx)
    line("(c) export.csv.zip", csvzip)
    ratio = (xlsx["rows"] / xlsx["seconds"]) / (bare["rows"] / bare["seconds"])
    peak = max(r["rss_mb"] for r in results.values())
    print(f"{'ratio xlsx/bare speed (b)/(a)':34}{ratio:>31.2f}x   target >= {TARGET_RATIO}  "
          f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    print(f"{'peak RSS, any run':34}{peak:>39.0f} MB  target <= {TARGET_RSS_MB} MB  "
          f"{'met' if peak <= TARGET_RSS_MB else 'MISSED'}")
    print(f"{'(d) report.xlsx ' + REPORT_PERIOD + ', best of ' + str(len(report['runs'])):34}"
          f"{report['seconds']:>31.2f} s   target <= {TARGET_REPORT_SECONDS:.0f} s  "
          f"{'met' if report['seconds'] <= TARGET_REPORT_SECONDS else 'MISSED'}  "
          f"(first run {report['first']:.2f} s; {report['rss_mb']:.0f} MB)")

    expected = bare["rows"]
    wrong = {job: rows for job, rows in checks.items() if rows != expected} | (
        {"xlsx (reported)": xlsx["rows"]} if xlsx["rows"] != expected else {})
    if wrong:
        print(f"\nCHECK FAILED: the files do not hold the {expected:,} rows of the bare run: {wrong}")
        return 1
    print(f"\ncheck OK: the bare workbook, the export workbook and the CSV zip each hold {expected:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
