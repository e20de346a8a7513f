"""A large, realistic data set of the standard questionnaire, for the benchmarks.

    python -m bench.generate --n 1000000 --data-dir bench/out/1m [--seed 1]

makes DATA_DIR the way a real site would be: `setup` (the bundled unit tree and forms/*.xlsx),
commune-level units under every district imported with `units import`, one collector account
per district, then `n` submission records of `forms/tthc_hailong.xlsx`:

- every instance is built by tests/harness/instances.py (`fill_instance`, as Collect fills it) and turned
  into the stored record by the receiver's own code (`parse_instance` then `build_submission`),
  so each row is exactly what the server stores for that XML;
- spread over units (the provincial centre, the district centres, ~15 communes per district with
  uneven sizes, a few too small for `min_n`), two years of interview starts in Asia/Ho_Chi_Minh
  (about 8% outside office hours, so some fall on the other side of a quarter boundary in UTC),
  channels, procedure fields, genders and age groups; answers mostly 4-5, some 0 (no opinion),
  some 1-2, with a quality that differs between units and a mood that differs between
  respondents;
- a few edits (deprecatedID chains, some edited twice) go through `storage.submissions.store`,
  about 1% of the current records are rejected by a reviewer (`storage.reviews.add_review`),
  and 0.5% of the respondents declined consent (no answers);
- the bulk is written with `store_many`, in batches, from one process; XML building and parsing
  run in a process pool.

`n` counts rows of `submissions` (edits included). The result is cached: `bench_dataset.json`
beside the database records n, seed and the generator version, and a later run with the same
values does nothing. The data set depends only on (n, seed, chunk size).
"""
from __future__ import annotations

import argparse
import bisect
import copy
import csv
import gc
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree  # builds an XForm; parses nothing  # nosec B405

import storage
from actions.receive.accept import build_submission
from actions.receive.parse import parse_instance
from storage import forms, reviews, submissions, units
from storage.db import DB_FILENAME
from tests.harness.instances import ITEM_PATHS, STANDARD_ITEMS, XF, fill_instance, primary_instance, standard_answers
from tests.harness.site import ROOT, cli, create_collector, setup
from vocabulary import TIMEZONE

GENERATOR_VERSION = 3     # bump whenever the data a given (n, seed) produces changes
META_FILENAME = "bench_dataset.json"
FORM_ID = "tthc_hailong"
DEFAULT_N = 1_000_000
DEFAULT_CHUNK = 10_000

PERIOD_START = datetime(2025, 1, 1, tzinfo=TIMEZONE)     # two years of interview starts: 2025-Q1 .. 2026-Q4
PERIOD_DAYS = 730
COMMUNE_COUNTS = (15, 14, 16, 15, 13, 17, 15, 16, 14)   # per district, in the seed file's order

EDIT_RATE = 0.005          # originals edited once ...
SECOND_EDIT_RATE = 0.2     # ... of which edited again
REJECT_RATE = 0.01         # current records rejected by a reviewer
REJECT_NOTE = "Phiếu trùng hoặc không hợp lệ / duplicate or invalid questionnaire"
DECLINE_RATE = 0.005       # consent "no": the questionnaire ends there
OFF_HOURS_RATE = 0.08      # starts at any hour of the day (the rest during office hours)

ITEMS = ITEM_PATHS
ANSWER_VALUES = ("5", "4", "3", "2", "1", "0")
# answer weights (5, 4, 3, 2, 1, 0) by respondent mood; a unit's quality shifts the mix of moods
MOODS = {
    "delighted": (70, 24, 3, 0.5, 0.5, 2),
    "content": (30, 52, 9, 2, 1, 6),
    "mixed": (12, 33, 30, 12, 5, 8),
    "unhappy": (3, 12, 25, 33, 22, 5),
}
GENDERS = (("male", 46), ("female", 50), ("other", 1), ("no_answer", 3))
AGE_GROUPS = (("18_30", 24), ("31_45", 36), ("46_60", 27), ("over_60", 13))
RESPONDENT_TYPES = (("individual", 88), ("organisation", 12))
OCCUPATIONS = (("civil_servant", 9), ("business", 18), ("worker", 22), ("farmer", 27),
               ("student", 4), ("retired", 12), ("other", 8))
PROCEDURE_FIELDS = (("land", 30), ("construction", 9), ("justice_civil_status", 26),
                    ("business_registration", 8), ("labour_social", 10), ("transport", 4),
                    ("natural_resources_environment", 3), ("health", 3), ("education", 3),
                    ("other", 4))
CHANNELS_BY_LEVEL = {
    "tinh": (("online", 36), ("kiosk", 24), ("interview", 14), ("paper", 14), ("post", 8), ("other", 4)),
    "huyen": (("online", 22), ("kiosk", 20), ("interview", 30), ("paper", 18), ("post", 6), ("other", 4)),
    "xa": (("online", 8), ("kiosk", 4), ("interview", 62), ("paper", 20), ("post", 3), ("other", 3)),
}
NO_CHANNEL_RATE = 0.1      # the channel question left blank: the record takes Collect's "interview"
COMMENTS = ("Cán bộ nhiệt tình, chu đáo.", "Cần rút ngắn thời gian chờ.", "Nên bố trí thêm chỗ ngồi.",
            "Hướng dẫn rõ ràng, dễ hiểu.", "Phải đi lại nhiều lần & chờ lâu.",
            "Trả kết quả trễ hẹn, không được báo trước.", "Phí đúng quy định <niêm yết>.")


@dataclass(frozen=True)
class Unit:
    code: str
    level: str
    district: str          # the district-level unit above it (itself for a district, "tinh" above)
    weight: float          # share of the submissions
    quality: float         # 0 (poor) .. 1 (excellent)


@dataclass
class Plan:
    """Everything a worker needs, sent once to each process."""
    seed: int
    xform: bytes           # a minimal XForm holding only the primary instance (see _fast_xform)
    version: dict
    units: list[Unit]
    cum_unit_weights: list[float]
    submitters: dict[str, int]      # district code -> collector user id
    devices: dict[str, list[str]]   # district code -> device ids


# ---------------------------------------------------------------- units, accounts, form


def commune_rows(districts: list[dict]) -> list[dict]:
    """Synthetic commune-level units, `<district>-NN`, under each district of the seed file."""
    rows = []
    for district, count in zip(districts, COMMUNE_COUNTS):
        for i in range(1, count + 1):
            rows.append({"code": f"{district['code']}-{i:02d}", "parent_code": district["code"],
                         "level": "xa", "name_vi": f"Xã mẫu {i:02d} ({district['name_vi']})",
                         "name_en": f"Sample commune {i:02d} ({district['name_en'] or district['code']})"})
    return rows


def _write_units_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["code", "parent_code", "level", "name_vi", "name_en"])
        writer.writeheader()
        writer.writerows(rows)


def prepare_site(data_dir: Path) -> None:
    """`setup`, then the communes through `units import`, then one collector per district."""
    setup(data_dir)
    db = storage.connect(data_dir)
    districts = [u for u in units.all_units(db) if u["level"] == "huyen"]
    districts.sort(key=lambda u: u["code"])
    csv_path = data_dir / "bench_communes.csv"
    _write_units_csv(csv_path, commune_rows(districts))
    result = cli(data_dir, "units", "import", str(csv_path))
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    # province-wide (no unit): the provincial centre's surveys, and interviews that ended at
    # the consent question, which name no unit (a unit-bound account's upload of one would be
    # refused as forbidden_unit)
    create_collector(data_dir, "dtv_tinh")
    for district in districts:
        create_collector(data_dir, f"dtv_{district['code']}", district["code"])
    db.conn.close()


def respondent_units(db, rng: random.Random) -> list[Unit]:
    """The units that run surveys, with uneven sizes and qualities."""
    rows = {u["code"]: u for u in units.all_units(db)}
    out = []
    for code, row in sorted(rows.items()):
        if row["level"] == "tinh" and row["parent_code"] is None:
            continue                      # the province itself has no desk
        if row["level"] == "tinh":
            weight, district = 6.0, "tinh"
        elif row["level"] == "huyen":
            weight, district = 2.5 * rng.uniform(0.6, 1.6), code
        else:
            district = row["parent_code"]
            weight = rng.lognormvariate(0, 0.7)
            if rng.random() < 0.06:       # a few communes with too few answers to publish
                weight *= 0.004
        quality = min(1.0, max(0.0, rng.betavariate(5, 2)))
        out.append(Unit(code, row["level"], district, weight, quality))
    return out


def _fast_xform(xform: bytes) -> bytes:
    """The same primary instance in a tiny XForm: fill_instance reads nothing else, and parsing
    a 40 kB form for every instance would cost more than everything else put together."""
    html = ElementTree.Element(f"{XF}html")
    model = ElementTree.SubElement(html, f"{XF}model")
    instance = ElementTree.SubElement(model, f"{XF}instance")
    instance.append(copy.deepcopy(primary_instance(xform)))
    return ElementTree.tostring(html, encoding="utf-8")


def _check_fast_xform(full: bytes, fast: bytes, rng: random.Random) -> None:
    for i in range(50):
        values = standard_answers(rng, "474", "huyen", channel=rng.choice([None, "kiosk"]))
        iid = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        dep = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}" if i % 5 == 0 else None
        if fill_instance(full, values, iid, deprecated_id=dep) != fill_instance(fast, values, iid, deprecated_id=dep):
            raise RuntimeError("the reduced XForm fills differently from the published one")


# ---------------------------------------------------------------- one chunk (in a worker)

_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _cum(pairs) -> tuple[list[str], list[float]]:
    values = [p[0] for p in pairs]
    total, cum = 0.0, []
    for _, weight in pairs:
        total += weight
        cum.append(total)
    return values, cum


_CUM_CACHE: dict = {}


def _pick(rng: random.Random, pairs) -> str:
    key = id(pairs)
    if key not in _CUM_CACHE:
        _CUM_CACHE[key] = _cum(pairs)
    values, cum = _CUM_CACHE[key]
    return values[bisect.bisect(cum, rng.random() * cum[-1])]


_MOOD_CUM = {mood: _cum(list(zip(ANSWER_VALUES, weights))) for mood, weights in MOODS.items()}


def _mood(rng: random.Random, quality: float) -> str:
    x = rng.random()
    delighted = 0.15 + 0.35 * quality
    content = delighted + 0.55 - 0.1 * quality
    mixed = content + 0.2 * (1 - quality) + 0.06
    return "delighted" if x < delighted else "content" if x < content else "mixed" if x < mixed else "unhappy"


def _answer(rng: random.Random, mood: str) -> str:
    values, cum = _MOOD_CUM[mood]
    return values[bisect.bisect(cum, rng.random() * cum[-1])]


def _start_time(rng: random.Random) -> datetime:
    day = PERIOD_START + timedelta(days=rng.randrange(PERIOD_DAYS))
    while day.weekday() >= 5 and rng.random() < 0.85:     # few surveys at weekends
        day = PERIOD_START + timedelta(days=rng.randrange(PERIOD_DAYS))
    if rng.random() < OFF_HOURS_RATE:
        seconds = rng.randrange(24 * 3600)
    else:
        seconds = rng.randrange(7 * 3600 + 1800, 17 * 3600)
    return day + timedelta(seconds=seconds, milliseconds=rng.randrange(1000))


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(rng: random.Random) -> str:
    return f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def _answers(rng: random.Random, plan: Plan, unit: Unit, start: datetime) -> dict[str, str]:
    channel = None if rng.random() < NO_CHANNEL_RATE else _pick(rng, CHANNELS_BY_LEVEL[unit.level])
    values = standard_answers(rng, unit.code, unit.level, start, channel)
    values["deviceid"] = rng.choice(plan.devices[unit.district])
    if rng.random() < DECLINE_RATE:
        # consent refused: Collect sends the questions it skipped as empty elements
        return {k: v for k, v in values.items() if not k.startswith("main/")} | {"consent": "no"}
    values["main/respondent_type"] = _pick(rng, RESPONDENT_TYPES)
    values["main/gender"] = _pick(rng, GENDERS)
    values["main/age_group"] = _pick(rng, AGE_GROUPS)
    values["main/occupation"] = _pick(rng, OCCUPATIONS)
    values["main/procedure_field"] = _pick(rng, PROCEDURE_FIELDS)
    if rng.random() < 0.4:
        values["main/dossier_code"] = (f"H46.{rng.randrange(1, 40):02d}-{start:%y%m%d}-"
                                       f"{rng.randrange(1, 10000):04d}")
    mood = _mood(rng, unit.quality)
    skipped = rng.choice(list(STANDARD_ITEMS)) if rng.random() < 0.02 else None
    for item in ITEMS:
        criterion = item.split("/")[1]
        if criterion == skipped:
            values[item] = "0"
        elif item.endswith("result_apology") and rng.random() < 0.6:
            values[item] = "0"            # "if late": mostly not applicable
        else:
            values[item] = _answer(rng, mood)
    unhappy = mood in ("mixed", "unhappy")
    values["main/comment"] = (rng.choice(COMMENTS) if rng.random() < (0.35 if unhappy else 0.08) else "")
    return values


def _edited(rng: random.Random, values: dict[str, str]) -> dict[str, str]:
    """A surveyor's correction: one to three answers changed, the rest as they were."""
    values = dict(values)
    if values.get("consent") == "no":
        values["main/comment"] = "Người được hỏi đồng ý sau khi giải thích lại."
        return values
    for item in rng.sample(ITEMS, rng.randint(1, 3)):
        values[item] = rng.choice(ANSWER_VALUES)
    return values


def _record(plan: Plan, unit_district: str, values: dict[str, str], instance_id: str,
            received: datetime, deprecated_id: str | None = None) -> submissions.NewSubmission:
    xml = fill_instance(plan.xform, values, instance_id, deprecated_id=deprecated_id)
    inst = parse_instance(xml)
    return build_submission(plan.version, inst, xml, instance_id=inst.instance_id,
                            received_at=_utc_text(received), arrival_channel="interview",
                            submitter_id=plan.submitters[unit_district])


def make_chunk(index: int, rows: int):
    """Records for one chunk: (originals, edits in order, instance ids to reject)."""
    # the records hold no reference cycles; the cyclic collector would only rescan the growing
    # chunk again and again (it more than doubled the time of parsing)
    gc.disable()
    try:
        return _make_chunk(index, rows)
    finally:
        gc.enable()


def _make_chunk(index: int, rows: int):
    plan = _PLAN
    rng = random.Random(f"hailong-bench/{plan.seed}/{index}")  # benchmark data, not a secret  # nosec B311
    originals, edits, currents = [], [], []
    while len(originals) + len(edits) < rows:
        unit = plan.units[bisect.bisect(plan.cum_unit_weights, rng.random() * plan.cum_unit_weights[-1])]
        start = _start_time(rng)
        values = _answers(rng, plan, unit, start)
        delay = (timedelta(minutes=rng.randrange(5, 3 * 24 * 60)) if not values.get("main/channel")
                 or values["main/channel"] in ("interview", "paper") else timedelta(seconds=rng.randrange(2, 120)))
        received = start + delay
        who = "tinh" if values.get("consent") == "no" else unit.district
        sub = _record(plan, who, values, _new_id(rng), received)
        originals.append(sub)
        latest = sub
        if rng.random() < EDIT_RATE:
            for _ in range(2 if rng.random() < SECOND_EDIT_RATE else 1):
                if len(originals) + len(edits) >= rows:
                    break
                values = _edited(rng, values)
                received += timedelta(minutes=rng.randrange(30, 5 * 24 * 60))
                latest = _record(plan, who, values, _new_id(rng), received,
                                 deprecated_id=latest.instance_id)
                edits.append(latest)
        currents.append(latest.instance_id)
    rejected = [iid for iid in currents if rng.random() < REJECT_RATE]
    return originals, edits, rejected


# ---------------------------------------------------------------- the whole data set


def _read_meta(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / META_FILENAME).read_text())
    except (OSError, ValueError):
        return None


def _write_meta(data_dir: Path, meta: dict) -> None:
    tmp = data_dir / (META_FILENAME + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    os.replace(tmp, data_dir / META_FILENAME)


def is_complete(data_dir: Path, n: int, seed: int, chunk: int = DEFAULT_CHUNK) -> bool:
    meta = _read_meta(Path(data_dir))
    return bool(meta and meta.get("complete") and meta.get("n") == n and meta.get("seed") == seed
                and meta.get("chunk") == chunk and meta.get("generator") == GENERATOR_VERSION
                and (Path(data_dir) / DB_FILENAME).is_file())


def build_plan(db, seed: int) -> Plan:
    """Units with their sizes and qualities, accounts, devices and the form, from a prepared site."""
    version = forms.latest_version(db, FORM_ID)
    if version is None:
        raise RuntimeError(f"{FORM_ID} was not published by setup")
    version["xform"] = bytes(version["xform"])
    rng = random.Random(f"hailong-bench/{seed}/site")  # benchmark data, not a secret  # nosec B311
    fast = _fast_xform(version["xform"])
    _check_fast_xform(version["xform"], fast, random.Random(0))  # benchmark data  # nosec B311
    unit_list = respondent_units(db, rng)
    cum, total = [], 0.0
    for unit in unit_list:
        total += unit.weight
        cum.append(total)
    users = {u["name"]: u["id"] for u in db.query("SELECT id, name FROM users")}
    districts = sorted({u.district for u in unit_list})
    return Plan(
        seed=seed, xform=fast,
        version={k: version[k] for k in ("id", "version", "fields", "conventions")},
        units=unit_list, cum_unit_weights=cum,
        submitters={d: users[f"dtv_{d}"] for d in districts},
        devices={d: [f"collect:{rng.getrandbits(64):016x}" for _ in range(3)] for d in districts})


def store_chunk(db, originals, edits, rejected) -> None:
    """What make_chunk made, into the database: the originals in one batch, then each edit and
    each rejection as the server would record them."""
    ids = dict(zip((s.instance_id for s in originals), submissions.store_many(db, originals)))
    for sub in edits:
        outcome, sid = submissions.store(db, sub)
        if outcome != submissions.CREATED:
            raise RuntimeError(f"edit {sub.instance_id}: {outcome}")
        ids[sub.instance_id] = sid
    for iid in rejected:
        reviews.add_review(db, ids[iid], "rejected", REJECT_NOTE, "bench")


def generate(data_dir: str | Path, n: int = DEFAULT_N, seed: int = 1, *, workers: int | None = None,
             chunk: int = DEFAULT_CHUNK, force: bool = False, log=None) -> dict:
    """Make (or find already made) the data set; returns its metadata."""
    data_dir = Path(data_dir)
    log = log or (lambda text: print(text, flush=True))
    if is_complete(data_dir, n, seed, chunk):
        meta = _read_meta(data_dir)
        log(f"bench data set already in {data_dir} (n={n}, seed={seed}): nothing to do")
        return meta
    if data_dir.exists() and any(data_dir.iterdir()):
        if _read_meta(data_dir) is None and not force:
            raise SystemExit(f"{data_dir} holds files that are not a bench data set; "
                             "choose another --data-dir or pass --force to replace them")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    meta = {"generator": GENERATOR_VERSION, "n": n, "seed": seed, "chunk": chunk, "complete": False,
            "form_id": FORM_ID}
    _write_meta(data_dir, meta)

    began = time.perf_counter()
    prepare_site(data_dir)
    db = storage.connect(data_dir)
    # bulk-load settings for this connection only; the data set counts only once the meta
    # file says complete, so a crash halfway simply means generating again
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.execute("PRAGMA cache_size = -524288")
    plan = build_plan(db, seed)
    log(f"setup, {len(plan.units)} responding units: {time.perf_counter() - began:.1f} s")

    chunks = [(i, min(chunk, n - i * chunk)) for i in range((n + chunk - 1) // chunk)]
    workers = workers or os.cpu_count() or 1
    counts = {"submissions": 0, "edits": 0, "rejected": 0}
    t_store = 0.0
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    gc.disable()     # as in make_chunk: each batch is ~10,000 records free of cycles
    with ctx.Pool(workers, initializer=_init_worker, initargs=(plan,)) as pool:
        for originals, edits, rejected in pool.imap(_star_make_chunk, chunks):
            t0 = time.perf_counter()
            store_chunk(db, originals, edits, rejected)
            t_store += time.perf_counter() - t0
            counts["submissions"] += len(originals) + len(edits)
            counts["edits"] += len(edits)
            counts["rejected"] += len(rejected)
            done = counts["submissions"]
            if done % (chunk * 10) == 0 or done == n:
                elapsed = time.perf_counter() - began
                log(f"  {done:>9,} submissions  {elapsed:7.1f} s  ({done / elapsed:,.0f}/s; "
                    f"writing {t_store:.1f} s)")
    gc.enable()
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    assert counts["submissions"] == n  # a benchmark's self-check  # nosec B101
    meta.update(complete=True, counts=counts, seconds=round(time.perf_counter() - began, 1),
                form_version=plan.version["version"], workers=workers)
    _write_meta(data_dir, meta)
    log(f"generated {n:,} submissions ({counts['edits']:,} edits, {counts['rejected']:,} rejected) "
        f"in {meta['seconds']:.1f} s into {data_dir}")
    return meta


def _star_make_chunk(args):
    return make_chunk(*args)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="submission records (edits included)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="processes building XML (default: CPUs)")
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="submissions per write batch")
    parser.add_argument("--force", action="store_true", help="replace a DATA_DIR that is not a bench data set")
    args = parser.parse_args(argv)
    if args.n < 1 or args.chunk < 1:
        parser.error("--n and --chunk must be positive")
    generate(args.data_dir, args.n, args.seed, workers=args.workers, chunk=args.chunk, force=args.force)


if __name__ == "__main__":
    main()
