"""Nothing acknowledged is lost: submissions under SIGKILL of the whole server, several times,
with gunicorn's sync workers (the default) and with threaded workers, where submissions that
overlap share a commit (storage/group_commit.py) and each 201 must still wait for its own."""
from __future__ import annotations

import hashlib
import random
import threading
import time

import pytest
import requests

import storage
from tests.harness.instances import fill_instance
from tests.harness.site import LiveServer, cli, seed
from tests.harness.collect_client import CollectClient
from xlsforms import small_form

KILLS = 4
CLIENTS = 6


@pytest.mark.parametrize("threads", [1, 8], ids=["sync-workers", "threads-group-commit"])
def test_sigkill_during_concurrent_uploads_loses_nothing(tmp_path, threads):
    tokens = seed(tmp_path)
    assert cli(tmp_path, "forms", "publish", str(small_form(tmp_path / "anh.xlsx", "anh", "1"))).exit_code == 0
    server = LiveServer(tmp_path, env={"THREADS": str(threads)}).start()
    client = CollectClient(f"{server.url}/key/{tokens['dtv_tinh']}")
    xform = client.download_form(client.form_list("anh")[0])

    acknowledged: dict[str, tuple[bytes, dict[str, bytes]]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    shared_photo = b"\xff\xd8same-photo" * 300      # the same bytes in many submissions
    interrupted = []

    def worker(seed_value: int) -> None:
        rng = random.Random(seed_value)
        pending = None
        while not stop.is_set():
            if pending is None:
                name = f"{rng.randrange(10**12)}.jpg"
                content = shared_photo if rng.random() < 0.3 else rng.randbytes(rng.randrange(2000, 30000))
                xml = fill_instance(xform, {"unit": "474", "q_proc": "5", "photo": name})
                pending = (xml, {name: content})
            xml, files = pending
            try:
                c = CollectClient(client.server_url)
                response = c.submit(xml, files)[-1]
            except requests.RequestException:
                interrupted.append(1)
                time.sleep(0.05)
                continue                      # not acknowledged: Collect keeps it and resends
            if response.status_code in (201, 202):
                instance_id = xml.split(b"<instanceID>")[1].split(b"<")[0].decode()
                with lock:
                    acknowledged[instance_id] = pending
                pending = None
            elif response.status_code >= 500 or response.status_code == 401:
                time.sleep(0.05)
            else:
                raise AssertionError(f"unexpected {response.status_code}: {response.text}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        rng = random.Random(99)
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.8, 1.6))
            server.stop(kill=True)
            time.sleep(0.2)
            server.start()
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        server.stop()

    assert len(acknowledged) > 20, "too few submissions got through to test anything"
    assert interrupted, "no upload was cut by a kill: the test proved nothing"
    assert cli(tmp_path, "maintenance", "sweep-blobs", "--min-age", "0").exit_code == 0
    db = storage.connect(tmp_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT instance_id, id FROM submissions WHERE form_id = 'anh'").fetchall()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids))                       # none duplicated
    by_instance = dict(rows)
    referenced = set()
    for instance_id, (xml, files) in acknowledged.items():
        sid = by_instance[instance_id]
        stored_xml = db.execute("SELECT xml FROM submission_xml WHERE submission_id = ?", [sid]).fetchone()[0]
        assert stored_xml == xml
        atts = {r[0]: r[1] for r in db.execute("SELECT name, sha256 FROM attachments WHERE submission_id = ?", [sid])}
        for name, content in files.items():
            sha = hashlib.sha256(content).hexdigest()
            assert atts.get(name) == sha
            assert (tmp_path / "blobs" / sha[:2] / sha).read_bytes() == content
    for (sha,) in db.execute("SELECT sha256 FROM attachments"):
        referenced.add(sha)
    on_disk = {p.name for p in (tmp_path / "blobs").glob("??/*")}
    assert on_disk == referenced                           # no orphaned attachment file
    assert not list((tmp_path / "blobs" / "tmp").iterdir())
