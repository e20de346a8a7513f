"""Backup while the server takes submissions, restore into an empty DATA_DIR, serve it again.

The backup is made with `flask --app server backup` while Collect-like clients keep uploading
(with attachments) to a real gunicorn server; it is restored with `restore` into a new directory,
a server is started on that, and every submission's raw XML and every attachment file is compared
with the original.
"""
from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import sqlite3
import tarfile
import threading

import pytest
import requests

import storage
from tests.harness.instances import fill_instance
from tests.harness.site import PASSWORD, LiveServer, cli, seed
from tests.harness.collect_client import CollectClient
from storage.backup import is_empty_data_dir
from xlsforms import small_form


def _rows(data_dir):
    db = storage.connect(data_dir, migrate=False)
    try:
        subs = {r[0]: (r[1], r[2]) for r in db.execute(
            "SELECT s.instance_id, x.xml, s.id FROM submissions s JOIN submission_xml x ON x.submission_id = s.id")}
        atts = {}
        for instance_id, name, sha, size in db.execute(
                "SELECT s.instance_id, a.name, a.sha256, a.size FROM attachments a "
                "JOIN submissions s ON s.id = a.submission_id"):
            atts.setdefault(instance_id, {})[name] = (sha, size)
        return subs, atts
    finally:
        db.close()


@pytest.fixture
def live(tmp_path):
    data_dir = tmp_path / "live"
    tokens = seed(data_dir)
    assert cli(data_dir, "forms", "publish", str(small_form(tmp_path / "anh.xlsx", "anh", "1"))).exit_code == 0
    server = LiveServer(data_dir).start()
    yield server, tokens
    server.stop()


def test_backup_while_receiving_then_restore_and_serve(live, tmp_path):
    server, tokens = live
    url = f"{server.url}/key/{tokens['dtv_tinh']}"
    xform = CollectClient(url).download_form(CollectClient(url).form_list("anh")[0])
    acknowledged: list[tuple[str, bytes, dict[str, bytes]]] = []
    stop = threading.Event()
    errors = []

    def upload(seed_value):
        rng = random.Random(seed_value)
        client = CollectClient(url, device_id=f"collect:backup{seed_value:012d}")
        while not stop.is_set() and len(acknowledged) < 400:
            name = f"anh-{rng.randrange(10**9)}.jpg"
            files = {name: rng.randbytes(rng.randrange(500, 20000))}
            xml = fill_instance(xform, {"unit": "474", "q_proc": "5", "photo": name})
            response = client.submit(xml, files)[-1]
            if response.status_code != 201:
                errors.append(response.status_code)
                return
            acknowledged.append((xml.split(b"<instanceID>")[1].split(b"<")[0].decode(), xml, files))

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        while len(acknowledged) < 15 and not errors:
            threading.Event().wait(0.05)
        before_backup = len(acknowledged)
        out_dir, out_tar = tmp_path / "sao-luu", tmp_path / "sao-luu.tar.gz"
        result = cli(server.data_dir, "backup", str(out_dir))
        assert result.exit_code == 0, result.output
        assert "Đã sao lưu" in result.output and "Backed up" in result.output
        result = cli(server.data_dir, "backup", str(out_tar))
        assert result.exit_code == 0, result.output
        during_backups = len(acknowledged) - before_backup
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors
    assert during_backups > 0, "no submission arrived while the backups ran: the test proved nothing"

    original_subs, original_atts = _rows(server.data_dir)
    manifest = json.loads((out_dir / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out_dir / name).read_bytes()).hexdigest() == entry["sha256"]

    for source in (out_dir, out_tar):
        restored = tmp_path / f"khoi-phuc-{source.name}"
        result = cli(restored, "restore", str(source))
        assert result.exit_code == 0, result.output
        subs, atts = _rows(restored)
        # everything acknowledged before the backup began is there, byte for byte
        for instance_id, xml, files in acknowledged[:before_backup]:
            assert subs[instance_id][0] == xml
            for name, content in files.items():
                sha = hashlib.sha256(content).hexdigest()
                assert atts[instance_id][name] == (sha, len(content))
        # and everything in the copy is exactly as in the original
        assert set(subs) <= set(original_subs)
        for instance_id, (xml, _) in subs.items():
            assert xml == original_subs[instance_id][0]
            assert atts.get(instance_id, {}) == original_atts.get(instance_id, {})
        on_disk = {p.name: p for p in (restored / "blobs").glob("??/*")}
        assert set(on_disk) == {sha for files in atts.values() for sha, _ in files.values()}
        for sha, path in on_disk.items():
            content = path.read_bytes()
            assert hashlib.sha256(content).hexdigest() == sha
            assert content == (server.data_dir / "blobs" / sha[:2] / sha).read_bytes()
        db = storage.connect(restored)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()

        # a server on the restored directory serves the same records and keeps receiving
        copy = LiveServer(restored).start()
        try:
            instance_id, xml, files = acknowledged[0]
            sid = subs[instance_id][1]
            for name, content in files.items():
                response = requests.get(f"{copy.url}/submissions/{sid}/attachments/{name}",
                                        auth=("admin", PASSWORD), timeout=30)
                assert response.status_code == 200 and response.content == content
            client = CollectClient(f"{copy.url}/key/{tokens['dtv_tinh']}")   # the tokens survive
            assert client.submit(xml, files)[-1].status_code == 201          # an identical resend
            later = [a for a in acknowledged[before_backup:] if a[0] not in subs]
            if later:   # one that reached the original only after the snapshot is new here
                assert client.submit(later[0][1], later[0][2])[-1].status_code == 201
        finally:
            copy.stop()
        assert "Traceback" not in (restored / f"server-{copy.port}.log").read_text()


@pytest.fixture
def small_backup(tmp_path):
    data_dir = tmp_path / "data"
    tokens = seed(data_dir)
    assert cli(data_dir, "forms", "publish", str(small_form(tmp_path / "anh.xlsx", "anh", "1"))).exit_code == 0
    server = LiveServer(data_dir).start()
    try:
        client = CollectClient(f"{server.url}/key/{tokens['dtv_hue']}")
        xform = client.download_form(client.form_list("anh")[0])
        for n in range(3):
            xml = fill_instance(xform, {"unit": "474", "q_proc": "4", "photo": f"p{n}.jpg"})
            assert client.submit(xml, {f"p{n}.jpg": bytes([n]) * 5000})[-1].status_code == 201
    finally:
        server.stop()
    out = tmp_path / "b"
    assert cli(data_dir, "backup", str(out)).exit_code == 0
    return data_dir, out


def test_restore_refuses_a_data_dir_with_data(small_backup, tmp_path):
    data_dir, out = small_backup
    result = cli(data_dir, "restore", str(out))
    assert result.exit_code == 1
    assert "chỉ khôi phục vào thư mục trống" in result.output and "empty one only" in result.output
    # nor over a backup that already exists
    again = cli(data_dir, "backup", str(out))
    assert again.exit_code == 1 and "already exists" in again.output


@pytest.mark.parametrize("damage", ["blob", "database", "manifest", "missing"])
def test_a_damaged_backup_restores_nothing(small_backup, tmp_path, damage):
    _, out = small_backup
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    blob = next(broken.glob("blobs/??/*"))
    if damage == "blob":
        data = blob.read_bytes()
        blob.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])
    elif damage == "database":
        with open(broken / "hailong.sqlite", "r+b") as f:
            f.seek(5000)
            f.write(b"\xff" * 16)
    elif damage == "manifest":
        manifest = json.loads((broken / "manifest.json").read_text())
        manifest["files"]["../../etc/cron.d/x"] = {"sha256": "0" * 64, "size": 1}
        (broken / "manifest.json").write_text(json.dumps(manifest))
    else:
        blob.unlink()
    target = tmp_path / "target"
    result = cli(target, "restore", str(broken))
    assert result.exit_code == 1, result.output
    assert "LỖI / ERROR" in result.output
    assert is_empty_data_dir(target)
    assert not list(target.glob(".restore-*"))


def test_a_crafted_tar_cannot_write_outside(small_backup, tmp_path):
    _, out = small_backup
    crafted = tmp_path / "crafted.tar"
    with tarfile.open(crafted, "w") as tar:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(out)))
        evil = tarfile.TarInfo("../../escaped.txt")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))
        link = tarfile.TarInfo("blobs/ln")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    target = tmp_path / "deep" / "target"
    result = cli(target, "restore", str(crafted))
    assert result.exit_code == 0, result.output          # the listed files restore; the rest is ignored
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "deep" / "escaped.txt").exists()
    assert not (target / "blobs" / "ln").exists()
    conn = sqlite3.connect(target / "hailong.sqlite")
    assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 3
    conn.close()
