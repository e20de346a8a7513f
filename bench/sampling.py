"""`make bench`: the register import, the draw of a sample plan, and a surveyor's list.

    python -m bench.sampling [--dossiers 150000] [--seed 1] [--runs 5]

On a fresh DATA_DIR (the seed unit tree, ~140 generated communes, the standard form, one
surveyor per district), with a register of --dossiers rows returned in one quarter:

  (a) import: the project (sampling.register_file.read_register, then
      storage.registers.import_dossiers) against a bare baseline: csv.reader over the same
      bytes and one executemany INSERT into a plain table of a second SQLite file with the same
      durability settings; rows/s and the ratio;
  (b) draw: sampling.plans.create (n = N/(1+N·e²) per unit, 20% reserve, stored) against
      random.Random.sample per unit over the same frame, inserted the same way; seconds and ratio;
  (c) a surveyor's respondents.csv (what each manifest request makes) before and after 100 of
      their dossiers were answered through the receiver, against units.csv (the other live list,
      made on the same requests); milliseconds, best of --runs.

Checks that the plan holds the number of members the formula gives (the exit status is 1 if not).
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import storage
from bench.generate import prepare_site
from storage import forms, registers, sampling, units, users
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import create_collector

FIELDS = ("Đất đai", "Xây dựng", "Hộ tịch", "Đăng ký kinh doanh", "Lao động – thương binh – xã hội",
          "Giao thông vận tải", "Tài nguyên – môi trường", "Y tế", "Giáo dục")
HEADER = ["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Mã đơn vị", "Ngày tiếp nhận", "Ngày hẹn trả",
          "Ngày trả kết quả", "Người nộp", "Số điện thoại"]


def register_csv(db, count: int, rng: random.Random) -> bytes:
    """A register as a one-stop system exports it: uneven volumes between units."""
    codes = [u["code"] for u in units.all_units(db)]
    weights = [rng.choice((1, 2, 5, 20)) for _ in codes]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    start = date(2026, 10, 1)
    for i, unit in enumerate(rng.choices(codes, weights, k=count)):
        received = start + timedelta(days=rng.randrange(80))
        returned = received + timedelta(days=rng.randrange(12))
        writer.writerow([f"000.00.{unit}.H57-{i:07d}", "Cấp giấy chứng nhận quyền sử dụng đất",
                         rng.choice(FIELDS), unit, received.strftime("%d/%m/%Y"),
                         (received + timedelta(days=10)).strftime("%d/%m/%Y"), returned.strftime("%d/%m/%Y"),
                         f"Nguyễn Văn {i}", f"09{rng.randrange(10**8):08d}"])
    return out.getvalue().encode("utf-8")


def bare_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def bare_import(content: bytes, path: Path) -> int:
    conn = bare_db(path)
    conn.execute("CREATE TABLE dossiers (code TEXT UNIQUE, procedure TEXT, field TEXT, unit TEXT, received TEXT,"
                 " due TEXT, returned TEXT, name TEXT, phone TEXT)")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))[1:]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO dossiers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return len(rows)


def bare_draw(db, path: Path, seed: str) -> int:
    frame: dict[str, list[int]] = {}
    for dossier_id, unit in db.execute(
            "SELECT id, unit_code FROM dossiers WHERE returned_on BETWEEN '2026-10-01' AND '2026-12-31'"):
        frame.setdefault(unit, []).append(dossier_id)
    chosen = []
    for unit in sorted(frame):
        ids = frame[unit]
        n = math.ceil(len(ids) / (1 + len(ids) * 0.0025))
        take = min(len(ids), n + math.ceil(n * 0.2))
        chosen += [(unit, d) for d in random.Random(f"{seed}{unit}").sample(ids, take)]  # baseline  # nosec B311
    conn = bare_db(path)
    conn.execute("CREATE TABLE members (unit TEXT, dossier_id INTEGER)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO members VALUES (?, ?)", chosen)
    conn.execute("COMMIT")
    conn.close()
    return len(chosen)


def best(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def expected_members(db) -> int:
    """The formula's n plus the reserve, per unit, from the register alone."""
    total = 0
    for (count,) in db.execute("""SELECT count(*) FROM dossiers WHERE returned_on BETWEEN '2026-10-01'
                                  AND '2026-12-31' GROUP BY unit_code"""):
        n = -(-count * 400 // (400 + count))
        total += n + min(count - n, -(-n * 20 // 100))
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from sampling import plans
    from sampling.lists import respondents_csv
    from sampling.register_file import read_register
    from server import create_app

    with tempfile.TemporaryDirectory(prefix="bench-sampling-") as tmp:
        data_dir = Path(tmp) / "site"
        data_dir.mkdir()
        prepare_site(data_dir)
        db = storage.connect(data_dir)
        rng = random.Random(args.seed)  # benchmark data, not a secret  # nosec B311
        content = register_csv(db, args.dossiers, rng)
        print(f"register: {args.dossiers:,} dossiers, {len(content) / 1e6:.1f} MB CSV, "
              f"{len(units.all_units(db))} units")

        started = time.perf_counter()
        bare_rows = bare_import(content, Path(tmp) / "bare-import.sqlite")
        bare_s = time.perf_counter() - started
        started = time.perf_counter()
        check = read_register("so.csv", content, {u["code"]: u for u in units.all_units(db)})
        registers.import_dossiers(db, check.rows, filename="so.csv", sha256="0" * 64, rows_total=check.rows_total,
                                  rows_skipped=0, actor="bench")
        project_s = time.perf_counter() - started
        if check.problems or len(check.rows) != bare_rows:
            print(f"FAIL: {len(check.problems)} problems, {len(check.rows)} rows vs {bare_rows}")
            return 1
        print(f"(a) import   project {bare_rows / project_s:>9,.0f} rows/s ({project_s:.2f} s)   "
              f"bare csv+executemany {bare_rows / bare_s:>9,.0f} rows/s ({bare_s:.2f} s)   "
              f"ratio {bare_s / project_s:.2f}")

        started = time.perf_counter()
        bare_members = bare_draw(db, Path(tmp) / "bare-draw.sqlite", "s")
        bare_s = time.perf_counter() - started
        rule = plans.parse_rule(method="formula", margin="0.05", fixed_size=None, by_field=False,
                                reserve_percent="20", seed="bench")
        started = time.perf_counter()
        plan_id = plans.create(db, form_id="tthc_hailong", period="2026-Q4", unit_code=None, rule=rule, actor="bench")
        project_s = time.perf_counter() - started
        members = sampling.plan_members(db, plan_id)
        expected = expected_members(db)
        print(f"(b) draw     project {project_s:.3f} s ({len(members):,} members)   "
              f"bare random.sample {bare_s:.3f} s ({bare_members:,})   ratio {project_s / bare_s:.2f}")
        if len(members) != expected:
            print(f"FAIL: the plan has {len(members)} members, the formula gives {expected}")
            return 1

        # the district with the most sampled dossiers, all given to one new surveyor
        districts = [u["code"] for u in units.all_units(db) if u["level"] == "huyen"]
        within = {d: units.subtree_codes(db, d) for d in districts}
        district = max(districts, key=lambda d: sum(m["unit_code"] in within[d] for m in members))
        token = create_collector(data_dir, "dtv_bench", district)
        collector = users.get_user_by_name(db, "dtv_bench")
        size = sampling.assign(db, plan_id, [collector["id"]], "bench", unit_codes=within[district])
        version = forms.latest_version(db, "tthc_hailong")
        list_before = best(args.runs, lambda: respondents_csv(db, version, collector))
        units_s = best(args.runs, lambda: units.units_csv(db))

        app = create_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": None})
        client = app.test_client()
        rows = list(csv.DictReader(io.StringIO(respondents_csv(db, version, collector).decode("utf-8"))))
        for row in rows[:100]:
            answers = {**standard_answers(rng, row["unit"], row["level"]), "respondent": row["name"],
                       "contact_outcome": "interviewed", "main/dossier_code": row["dossier_code"]}
            xml = fill_instance(version["xform"], answers, f"uuid:{uuid.uuid4()}")
            response = client.post(f"/key/{token}/submission",
                                   data={"xml_submission_file": (io.BytesIO(xml), "x.xml", "text/xml")},
                                   content_type="multipart/form-data")
            assert response.status_code == 201, response.data  # nosec B101
        list_after = best(args.runs, lambda: respondents_csv(db, version, collector))
        left = len(respondents_csv(db, version, collector).decode("utf-8").splitlines()) - 1
        print(f"(c) list     dtv_bench ({district}): {size} members; respondents.csv {list_before * 1000:.1f} ms, after 100 answers "
              f"{list_after * 1000:.1f} ms ({left} rows left)   units.csv {units_s * 1000:.1f} ms   "
              f"ratio {list_after / units_s:.2f}")
        if left != len(rows) - 100:
            print(f"FAIL: {left} rows left on the list, expected {len(rows) - 100}")
            return 1
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
