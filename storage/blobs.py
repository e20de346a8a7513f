"""Attachment bytes on disk, named by their SHA-256, written durably before they are referenced."""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

_CHUNK = 1 << 16


def copy_hashing(source, target) -> tuple[str, int]:
    """Copy one open binary file into another, fsynced; returns (sha256, size) of what was copied."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        target.write(chunk)
    target.flush()
    os.fsync(target.fileno())
    return digest.hexdigest(), size


class BlobStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, stream) -> tuple[str, int]:
        """Copy a readable stream in; returns (sha256, size) once the file and its name are on disk."""
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                sha, size = copy_hashing(stream, out)
            final = self.path(sha)
            if final.exists():
                os.unlink(tmp_name)
                # a fresh mtime keeps the sweep's age rule from removing it before our row commits
                os.utime(final)
            else:
                final.parent.mkdir(exist_ok=True)
                os.replace(tmp_name, final)
                _fsync_dir(final.parent)
            return sha, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def read_verified(self, sha256: str) -> bytes:
        """The bytes, after checking they still hash to their name (disk rot, tampering)."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobCorrupt(sha256)
        return data

    def all_hashes(self):
        for sub in self.root.iterdir():
            if sub.is_dir() and len(sub.name) == 2:
                for f in sub.iterdir():
                    yield f.name, f


    def sweep(self, referenced: set[str], min_age_seconds: float) -> list[Path]:
        """Remove files no row names (left by a crash between the write and the commit).

        Only files older than `min_age_seconds` go, so a sweep while the server runs never takes a
        file whose row is about to commit; with the server stopped an age of 0 is safe.
        """
        cutoff = time.time() - min_age_seconds
        removed = []
        candidates = [p for p in self.tmp.iterdir()]
        candidates += [path for sha, path in self.all_hashes() if sha not in referenced]
        for path in candidates:
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                pass
        return removed


class BlobCorrupt(Exception):
    pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
