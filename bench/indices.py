"""`make bench`: the indices engine over 1,000,000 submissions, against one hand-written SQL query.

    python -m bench.indices [--n 1000000] [--seed 1] [--data-dir bench/out/1m] [--runs 5]

Makes the data set of bench/generate.py if it is not there yet (cached afterwards), then times

  (a) the unit x quarter table and (b) the level x year table through the project's engine
      (`aggregate/`), and
  (c) ONE hand-written SQL GROUP BY computing the same criterion indices for unit x quarter
      straight from the raw answer table, written from docs/index-definitions.md and sharing
      no code with the engine,

each run `--runs` times after one untimed warm-up (best and median), prints the ratio
engine/SQL next to the targets (unit x quarter <= 1.0 s over 1M submissions, ratio <= 2), and
checks that the engine's n, criterion index and standard deviation equal the hand SQL's for
every unit x quarter cell to 1e-9. A fast wrong number is worthless: the exit status is 1 when
the check fails.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import storage
from bench.generate import DEFAULT_CHUNK, DEFAULT_N, FORM_ID, generate
from storage import forms
from tests.harness.instances import STANDARD_ITEMS
from tests.harness.site import ROOT

TARGET_SECONDS = 1.0       # unit x quarter over 1M submissions
TARGET_RATIO = 2.0         # engine / hand SQL
TOLERANCE = 1e-9
CRITERIA = ("procedure", "staff", "result")
VALID = "'1', '2', '3', '4', '5'"      # docs/index-definitions.md: the five-point scale; 0 = no opinion
SATISFIED = "'4', '5'"


# ------------------------------------------------------------------ the engine (aggregate/)
# ENGINE CALL: the only place that knows the engine's API (aggregate/__init__.py).
# engine_table returns {(group key...): {criterion: (n, index, sd)}} with index = I_c (0..100)
# and sd the sample standard deviation of the respondent scores (0..1; None when n < 2);
# criteria without a respondent are left out.

def engine_refresh(db) -> int:
    """Bring the engine's stored per-submission scores up to date (once, after generating)."""
    import aggregate
    return aggregate.refresh(db)


def engine_table(db, by: list[str]) -> dict:
    try:
        from aggregate import IndexQuery, compute_indices
    except ImportError as exc:
        raise EngineMissing(f"aggregate.compute_indices is not available ({exc})") from None
    cells = compute_indices(db, IndexQuery(forms=(FORM_ID,), by=tuple(by)))
    return {tuple(cell.key[dim] for dim in by):
            {c: (ci.n, float(ci.index), ci.sd) for c, ci in cell.criteria.items() if ci.n}
            for cell in cells}


class EngineMissing(RuntimeError):
    pass


# ------------------------------------------------------------------ the hand-written SQL

def hand_sql(items: dict[str, list[str]]) -> str:
    """unit x quarter criterion indices from the raw answer table, by docs/index-definitions.md.

    Per submission (innermost): the unit it was recorded against, the month of the interview
    start in UTC+7, and per criterion how many of its items have a valid answer (1..5) and how
    many a satisfied one (4, 5). Then the respondent score s_c = satisfied / valid, undefined
    (NULL) without a valid answer. Per cell: n = count of defined scores, their sum and sum of
    squares (mean and sd). Counted: the latest version of each submission (current = 1), not
    rejected, not deleted. `LIMIT -1` keeps each step a subquery evaluated once per row
    instead of being copied into every aggregate that uses it.
    """
    def count(values: str, column: str) -> str:
        return f"coalesce(d.[{column}] IN ({values}), 0)"

    answers, scores, sums = [], [], []
    for c in CRITERIA:
        answers.append(f"{' + '.join(count(SATISFIED, col) for col in items[c])} AS satisfied_{c}")
        answers.append(f"{' + '.join(count(VALID, col) for col in items[c])} AS valid_{c}")
        scores.append(f"CASE WHEN valid_{c} > 0 THEN 1.0 * satisfied_{c} / valid_{c} END AS s_{c}")
        sums.append(f"count(s_{c}), sum(s_{c}), sum(s_{c} * s_{c})")
    sums_sql = (",\n" + " " * 7).join(sums)
    scores_sql = (",\n" + " " * 11).join(scores)
    answers_sql = (",\n" + " " * 12).join(answers)
    return f"""
SELECT unit, substr(month, 1, 4) || '-Q' || ((substr(month, 6, 2) + 2) / 3) AS quarter,
       {sums_sql}
FROM (
    SELECT unit, month,
           {scores_sql}
    FROM (
        SELECT s.unit_code AS unit, strftime('%Y-%m', s.started_at, '+7 hours') AS month,
            {answers_sql}
        FROM [data:{FORM_ID}] AS d CROSS JOIN submissions AS s ON s.id = d._submission_id
        WHERE s.form_id = '{FORM_ID}' AND s.current = 1 AND s.review_state <> 'rejected'
          AND s.deleted_at IS NULL
        LIMIT -1)
    LIMIT -1)
GROUP BY unit, quarter
"""


def hand_table(db, sql: str) -> dict:
    cells = {}
    for row in db.execute(sql):
        unit, quarter, rest = row[0], row[1], row[2:]
        out = {}
        for i, criterion in enumerate(CRITERIA):
            n, total, total_sq = rest[3 * i: 3 * i + 3]
            if not n:
                continue
            mean = total / n
            sd = math.sqrt(max(0.0, (total_sq - n * mean * mean) / (n - 1))) if n > 1 else None
            out[criterion] = (n, 100 * mean, sd)
        cells[(unit, quarter)] = out
    return cells


def standard_items(db) -> dict[str, list[str]]:
    """The criterion items, written out by hand (tests/harness/instances.py), checked against the form."""
    items = {c: [f"main/{c}/{item}" for item in names] for c, names in STANDARD_ITEMS.items()}
    version = forms.latest_version(db, FORM_ID)
    published: dict[str, list[str]] = {}
    for path, criterion in version["conventions"]["criteria"].items():
        published.setdefault(criterion, []).append(path)
    if {c: sorted(v) for c, v in items.items()} != {c: sorted(v) for c, v in published.items()}:
        raise SystemExit(f"the standard form's criterion items changed: {published}")
    if version["conventions"].get("scale") != ["1", "2", "3", "4", "5"] or \
            version["conventions"].get("satisfied") != ["4", "5"]:
        raise SystemExit("the standard form no longer uses the 1..5 scale with 4, 5 satisfied")
    return items


# ------------------------------------------------------------------ timing and the check

def timed(fn, runs: int):
    fn()                                 # warm-up: the file's pages into the OS cache
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times), result


def compare(engine: dict, hand: dict) -> tuple[list[str], float]:
    """Every difference between the two tables, and the largest gap between numbers that agree.
    A criterion without respondents counts as absent."""
    problems, largest = [], 0.0
    keys = {k for k, v in engine.items() if v} | {k for k, v in hand.items() if v}
    for key in sorted(keys, key=lambda k: tuple("" if x is None else str(x) for x in k)):
        e, h = engine.get(key, {}), hand.get(key, {})
        for criterion in CRITERIA:
            ev, hv = e.get(criterion), h.get(criterion)
            if ev is None or hv is None:
                if ev != hv:
                    problems.append(f"{key} {criterion}: engine {ev}, SQL {hv}")
                continue
            (en, ei, es), (hn, hi, hs) = ev, hv
            gaps = [abs(ei - hi)] + ([abs(es - hs)] if es is not None and hs is not None else [])
            if en != hn or (es is None) != (hs is None) or max(gaps) > TOLERANCE:
                problems.append(f"{key} {criterion}: engine n={en} index={ei} sd={es}, "
                                f"SQL n={hn} index={hi} sd={hs}")
            else:
                largest = max(largest, *gaps)
    return problems, largest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "1m")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    generate(args.data_dir, args.n, args.seed, chunk=DEFAULT_CHUNK)
    db = storage.connect(args.data_dir)
    sql = hand_sql(standard_items(db))
    counted = db.execute(
        "SELECT count(*) FROM submissions WHERE form_id = ? AND current = 1 "
        "AND review_state <> 'rejected' AND deleted_at IS NULL", [FORM_ID]).fetchone()[0]
    print(f"\nIndices bench: {args.n:,} submissions of {FORM_ID} in {args.data_dir} (seed "
          f"{args.seed}; {counted:,} count: latest versions, not rejected); "
          f"best and median of {args.runs} runs after one warm-up")

    engine = None
    try:
        began = time.perf_counter()
        scored = engine_refresh(db)
        if scored:
            print(f"engine: scored the {scored:,} submissions not scored yet in "
                  f"{time.perf_counter() - began:.1f} s (once; kept in the database)")
        uq = timed(lambda: engine_table(db, ["unit", "quarter"]), args.runs)
        ly = timed(lambda: engine_table(db, ["level", "year"]), args.runs)
        engine = (uq, ly)
    except (ImportError, EngineMissing) as exc:
        print(f"ENGINE MISSING: {exc}")
    hand = timed(lambda: hand_table(db, sql), args.runs)

    print(f"\n{'':32}{'best':>9}{'median':>9}{'cells':>8}  target")

    def line(label, result, target=""):
        best, median, table = result
        print(f"{label:32}{best:8.3f}s{median:8.3f}s{len(table):8,}  {target}")

    if engine is None:
        line("(c) hand SQL: unit x quarter", hand)
        print("\ncheck: NOT RUN (no engine)")
        return 1
    uq, ly = engine
    line("(a) engine: unit x quarter", uq,
         f"<= {TARGET_SECONDS:.1f} s  {'met' if uq[1] <= TARGET_SECONDS else 'MISSED'}")
    line("(b) engine: level x year", ly)
    line("(c) hand SQL: unit x quarter", hand)
    ratio_best, ratio_median = uq[0] / hand[0], uq[1] / hand[1]
    print(f"{'ratio engine/SQL (a)/(c)':32}{ratio_best:8.2f}x{ratio_median:8.2f}x{'':8}  "
          f"<= {TARGET_RATIO:.0f}  {'met' if ratio_median <= TARGET_RATIO else 'MISSED'}")

    problems, largest = compare(uq[2], hand[2])
    values = sum(len(v) for v in hand[2].values())
    if problems:
        print(f"\nCHECK FAILED: {len(problems):,} unit x quarter x criterion values differ between "
              "the engine and the hand SQL:")
        for problem in problems[:20]:
            print("  " + problem)
        return 1
    print(f"\ncheck OK: the engine equals the hand SQL on all {values:,} unit x quarter x criterion "
          f"values ({len(hand[2]):,} cells): n exact, index and sd within {largest:.1e} "
          f"(tolerance {TOLERANCE:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
