"""storage.submissions.store_many writes exactly what store() writes for the same submissions.

bench/generate.py loads a million submissions with store_many (one transaction per batch instead
of one per submission), so the benchmark measures the engine over the very rows the receiver would
have stored. Here the same submissions (repeats nested two deep, identifiers, attachments, answers
of every type, a second form version) go into two copies of one database, one through store() one
by one, the other through store_many in one batch, and every table is compared row by row.
"""
from __future__ import annotations

import random
import sqlite3
import uuid
from pathlib import Path

import storage
from actions.receive.accept import build_submission
from actions.receive.parse import parse_instance
from storage import forms, submissions
from storage.db import DB_FILENAME
from tests.harness.instances import fill_instance
# the exports' data directory: units, and the two versions of a questionnaire with every kind of field
from test_exports import FORM, template  # noqa: F401  (a fixture)


def _copy(template: Path, data_dir: Path):
    data_dir.mkdir(parents=True)
    source, target = sqlite3.connect(template / DB_FILENAME), sqlite3.connect(data_dir / DB_FILENAME)
    source.backup(target)
    source.close()
    target.close()
    return storage.connect(data_dir)


def _submissions(db, n: int) -> list[submissions.NewSubmission]:
    rng = random.Random(14)
    made = []
    for i in range(n):
        version = forms.get_version(db, FORM, rng.choice(("1", "2")))
        values = {"start": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:15:00.000+07:00",
                  "unit": rng.choice(("474", "481", "9999")), "q_proc": str(rng.randint(1, 5)),
                  "q_staff": str(rng.randint(0, 5)), "q_result": rng.choice(("", "4", "5")),
                  "kenh_biet": rng.choice(("", "bao", "bao loa")), "dossier_code": f"HS-{i:04d}",
                  "ho_ten": f"Người {i}", "so_lan": str(rng.randint(0, 9)), "phi": f"{rng.random() * 100:.2f}",
                  "ngay_nop": "2026-07-01", "nhom/ghi_chu": rng.choice(("", "ghi chú <&>")),
                  "anh": f"anh{i}.jpg" if i % 3 == 0 else ""}
        members = [{"ten_tv": f"TV {i}.{m}", "dien_thoai": f"0905{i:03d}{m}"} for m in range(rng.randint(0, 3))]
        repeats = {"thanh_vien": members}
        if members:
            # documents under every member: each nested row points at its own member's row
            repeats["thanh_vien/giay_to"] = [{"loai": f"giấy {d}"} for d in range(rng.randint(1, 2))]
        xml = fill_instance(version["xform"], values, f"uuid:{uuid.uuid4()}", repeats=repeats)
        inst = parse_instance(xml)
        sub = build_submission(version, inst, xml, instance_id=inst.instance_id,
                               received_at=f"2026-10-01T00:00:{i % 60:02d}.000Z", arrival_channel="interview",
                               submitter_id=None, device_id=f"collect:{i % 4}")
        if values["anh"]:
            sub.attachments = [(values["anh"], f"{i:064x}", 1000 + i, "image/jpeg")]
        made.append(sub)
    return made


def _tables(db) -> dict[str, list[tuple]]:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: db.execute(f"SELECT * FROM [{name}] ORDER BY 1, 2").fetchall() for name in names}


def test_store_many_writes_every_row_that_store_writes(template, tmp_path):
    one_by_one, batch = _copy(template, tmp_path / "store"), _copy(template, tmp_path / "store_many")
    try:
        subs = _submissions(one_by_one, 40)
        assert any(s.repeat_rows for s in subs) and any(s.attachments for s in subs) and all(s.identifiers for s in subs)
        stored_ids = []
        for sub in subs:
            outcome, sid = submissions.store(one_by_one, sub)
            assert outcome == submissions.CREATED
            stored_ids.append(sid)
        assert submissions.store_many(batch, subs) == stored_ids

        original = storage.connect(template)
        before = _tables(original)
        original.close()
        expected, got = _tables(one_by_one), _tables(batch)
        assert set(expected) == set(got)
        changed = [name for name in expected if expected[name] != before.get(name)]
        # the comparison covers the tables a submission writes, not only unchanged ones
        assert {"submissions", "submission_xml", "identifiers", "attachments"} <= set(changed)
        assert any(name.startswith("data:") and name.count(":") == 2 for name in changed)   # a repeat table
        for name in sorted(expected):
            assert got[name] == expected[name], name
    finally:
        one_by_one.close()
        batch.close()
