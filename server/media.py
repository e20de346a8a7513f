"""Files a form version serves beside its XForm: those published with it, and lists made live.

A live list (units.csv from the unit tree) is produced when requested, so its manifest hash
changes as soon as the list does and Collect fetches the new one.
"""
from __future__ import annotations

import hashlib

from storage import forms, units

LIVE_LISTS = {"units.csv": units.units_csv}


def media_files(db, version: dict) -> list[dict]:
    """[{filename, md5}] for every file the version's manifest lists."""
    files = {m["filename"]: m["md5"] for m in forms.version_media(db, version["id"])}
    for name in version["conventions"].get("media", []):
        if name not in files and name in LIVE_LISTS:
            files[name] = hashlib.md5(LIVE_LISTS[name](db), usedforsecurity=False).hexdigest()
    return [{"filename": n, "md5": files[n]} for n in sorted(files)]


def media_content(db, version: dict, filename: str) -> bytes | None:
    content = forms.media_content(db, version["id"], filename)
    if content is None and filename in LIVE_LISTS and filename in version["conventions"].get("media", []):
        content = LIVE_LISTS[filename](db)
    return content
