"""A site with enough answers for the dashboard: the web_site accounts and submissions, two
communes under Huế, and about a hundred standard-form submissions over two quarters.

Respondents (standard form) by unit and quarter of 2026, with min_n = 30:
  Q3: 474 itself 20, commune 47401 32 (enough alone), commune 47402 5, 481 35   (474 subtree 57)
  Q4: 474 itself 10                                                             (481 none)
Answers are random but fixed (seeded), so every run sees the same figures.
"""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import cli
from web_site import UNIT_A, UNIT_B, WebSite, _submit

COMMUNE_A1, COMMUNE_A2 = "47401", "47402"
COMMUNES = (f"code,parent_code,level,name_vi,name_en\n"
            f"{COMMUNE_A1},{UNIT_A},xa,Phường Phú Hội,Phu Hoi Ward\n"
            f"{COMMUNE_A2},{UNIT_A},xa,Phường Vĩnh Ninh,Vinh Ninh Ward\n")
VN = timezone(timedelta(hours=7))
Q3, Q4 = datetime(2026, 7, 1, 8, tzinfo=VN), datetime(2026, 10, 1, 8, tzinfo=VN)
# (unit, level, quarter start, how many)
PLAN = [(UNIT_A, "huyen", Q3, 20), (COMMUNE_A1, "xa", Q3, 32), (COMMUNE_A2, "xa", Q3, 5),
        (UNIT_B, "huyen", Q3, 35), (UNIT_A, "huyen", Q4, 10)]
CHANNELS = ("interview", "online", "kiosk")


def add_submissions(site: WebSite, plan=PLAN, seed: int = 5) -> list[str]:
    """Send the plan's submissions through Collect's endpoint; returns their instance ids."""
    import storage
    from storage import forms

    app = site.app()
    client = app.test_client()
    db = storage.connect(site.data_dir)
    standard = forms.latest_version(db, "tthc_hailong")["xform"]
    db.close()
    rng = random.Random(seed)
    sent = []
    for unit, level, start, count in plan:
        token = site.tokens["dtv_aluoi" if unit == UNIT_B else "dtv_hue"]
        for i in range(count):
            moment = start + timedelta(days=rng.randrange(0, 85), minutes=rng.randrange(0, 600))
            answers = standard_answers(rng, unit, level, start=moment, channel=CHANNELS[i % len(CHANNELS)])
            iid = f"uuid:{uuid.UUID(int=rng.getrandbits(128))}"
            _submit(client, token, fill_instance(standard, answers, iid))
            sent.append(iid)
    return sent


def build(web_site: WebSite, target: Path) -> WebSite:
    site = web_site.copy(target)
    path = target / "communes.csv"
    path.write_text(COMMUNES, encoding="utf-8")
    result = cli(site.data_dir, "units", "import", str(path))
    assert result.exit_code == 0, result.output
    add_submissions(site)
    return site
