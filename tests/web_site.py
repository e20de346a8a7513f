"""A seeded site for the web page tests: accounts of every role in two units, and submissions.

Units from the seed tree: 474 (Huế city) and 481 (A Lưới district), both under the province.
Submissions arrive through the OpenRosa endpoint (in-process test client), as Collect sends them.
"""
from __future__ import annotations

import io
import random
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, cli, create_password_user, seed
from xlsforms import small_form

UNIT_A, UNIT_B = "474", "481"

# name: (role, unit)
ACCOUNTS = {
    "admin": ("admin", None),           # made by seed()
    "admin_hue": ("admin", UNIT_A),
    "designer": ("designer", None),
    "designer_hue": ("designer", UNIT_A),
    "reporter": ("reporter", None),
    "reporter_hue": ("reporter", UNIT_A),
    "xem_hue": ("viewer", UNIT_A),      # made by seed()
    "xem_aluoi": ("viewer", UNIT_B),
    "thu_ky": ("collector", UNIT_A),    # made by seed(): a collector with a password
}
PHOTO = random.Random(11).randbytes(3000)          # one generator: 3,000 varied bytes, not one repeated


@dataclass
class WebSite:
    data_dir: Path
    tokens: dict[str, str]
    # unit code -> ids of the stored submissions (current versions) in that unit
    by_unit: dict[str, list[int]] = field(default_factory=dict)
    instance_ids: dict[int, str] = field(default_factory=dict)
    photo_submission: dict[str, int] = field(default_factory=dict)   # unit -> id with an attachment
    edited: int | None = None   # current id of an edit chain in unit A
    edited_root: int | None = None

    def app(self, **config):
        from server import create_app
        return create_app({"DATA_DIR": str(self.data_dir), "PUBLIC_URL": None, **config})

    def copy(self, target: Path) -> "WebSite":
        """The same site in another directory, for tests that change it."""
        shutil.copytree(self.data_dir, target)
        (target / "secret_key").unlink(missing_ok=True)
        clone = WebSite(target, dict(self.tokens), {k: list(v) for k, v in self.by_unit.items()},
                        dict(self.instance_ids), dict(self.photo_submission), self.edited, self.edited_root)
        return clone


def _submit(client, token: str, xml: bytes, files: dict[str, bytes] | None = None) -> None:
    data = {"xml_submission_file": (io.BytesIO(xml), "xml_submission_file", "text/xml")}
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "image/jpeg")
    response = client.post(f"/key/{token}/submission", data=data, content_type="multipart/form-data",
                           headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 201, response.data


def build(data_dir: Path) -> WebSite:
    import storage
    from storage import forms, submissions

    tokens = seed(data_dir)
    for name, (role, unit) in ACCOUNTS.items():
        if name not in ("admin", "xem_hue", "thu_ky"):
            create_password_user(data_dir, name, role, unit)
    path = small_form(data_dir / "anh.xlsx", "anh", "1")
    assert cli(data_dir, "forms", "publish", str(path)).exit_code == 0
    site = WebSite(data_dir, tokens)
    app = site.app()
    client = app.test_client()
    db = storage.connect(data_dir)
    standard = forms.latest_version(db, "tthc_hailong")["xform"]
    small = forms.latest_version(db, "anh")["xform"]
    rng = random.Random(3)
    for unit, token in ((UNIT_A, tokens["dtv_hue"]), (UNIT_B, tokens["dtv_aluoi"])):
        for _ in range(4):
            iid = f"uuid:{uuid.uuid4()}"
            answers = standard_answers(rng, unit, "huyen")
            answers["main/dossier_code"] = f"HS-{unit}-BI-MAT"
            _submit(client, token, fill_instance(standard, answers, iid))
        iid = f"uuid:{uuid.uuid4()}"
        _submit(client, token, fill_instance(small, {"unit": unit, "q_proc": "5", "q_staff": "4",
                                                      "photo": f"anh-{unit}.jpg"}, iid), {f"anh-{unit}.jpg": PHOTO})
    # an edit chain in unit A: the original and one edit
    original, edit = f"uuid:{uuid.uuid4()}", f"uuid:{uuid.uuid4()}"
    answers = standard_answers(rng, UNIT_A, "huyen")
    _submit(client, tokens["dtv_hue"], fill_instance(standard, answers, original))
    answers["main/comment"] = "Đã sửa & bổ sung <góp ý>"
    _submit(client, tokens["dtv_hue"], fill_instance(standard, answers, edit, deprecated_id=original))
    for row in db.query("SELECT id, instance_id, unit_code, form_id, current, root_id FROM submissions ORDER BY id"):
        site.instance_ids[row["id"]] = row["instance_id"]
        if row["current"]:
            site.by_unit.setdefault(row["unit_code"], []).append(row["id"])
        if row["form_id"] == "anh":
            site.photo_submission[row["unit_code"]] = row["id"]
        if row["instance_id"] == edit:
            site.edited, site.edited_root = row["id"], row["root_id"]
    assert submissions.count_submissions(db) == 12
    db.close()
    return site


def csrf_token(client) -> str:
    """The session's CSRF token; every page carries it (at least in the language switch)."""
    with client.session_transaction() as session:
        token = session.get("csrf")
    if token is None:
        page = client.get("/login", follow_redirects=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        assert match, "no CSRF field on the page"
        token = match.group(1)
    return token


def login(client, name: str, password: str = PASSWORD, **environ):
    token = csrf_token(client)
    extra = {"environ_base": environ} if environ else {}
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}, **extra)


def signed_in(app, name: str):
    """A test client with a session of this account."""
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def logged_in(site, name: str, **config):
    """A signed-in client of the site's app (made with `config`)."""
    return signed_in(site.app(**config), name)


def post(client, url: str, data: dict | None = None, **kwargs):
    """A form POST carrying the session's CSRF token, as the pages' forms do."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)
