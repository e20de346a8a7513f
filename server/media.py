"""Files a form version serves beside its XForm: those published with it, and lists made live.

A live list is produced when requested, so its manifest hash changes as soon as the list does
and Collect fetches the new one: units.csv from the unit tree, and respondents.csv, the
requesting surveyor's sampled respondents still to ask (sampling/lists.py; for anyone else,
web pages included, its header alone). Each takes (db, version, user); `user` is the account
asking (g.user on the OpenRosa endpoints), None on citizens' pages.
"""
from __future__ import annotations

import hashlib

from sampling.lists import respondents_csv
from storage import forms, units


def _units_csv(db, _version: dict, _user: dict | None) -> bytes:
    return units.units_csv(db)


# one maker for each name publishing leaves to be made live (tests/test_layers.py checks they match)
LIVE_LISTS = {"units.csv": _units_csv, "respondents.csv": respondents_csv}


def has_media(db, version: dict) -> bool:
    """Whether the version has a manifest, without making its live lists."""
    live = [n for n in version["conventions"].get("media", []) if n in LIVE_LISTS]
    return bool(live) or bool(forms.version_media(db, version["id"]))


def media_files(db, version: dict, user: dict | None) -> list[dict]:
    """[{filename, md5}] for every file the version's manifest lists, as this user gets them."""
    files = {m["filename"]: m["md5"] for m in forms.version_media(db, version["id"])}
    for name in version["conventions"].get("media", []):
        if name not in files and name in LIVE_LISTS:
            files[name] = hashlib.md5(LIVE_LISTS[name](db, version, user), usedforsecurity=False).hexdigest()
    return [{"filename": n, "md5": files[n]} for n in sorted(files)]


def media_content(db, version: dict, filename: str, user: dict | None) -> bytes | None:
    content = forms.media_content(db, version["id"], filename)
    if content is None and filename in LIVE_LISTS and filename in version["conventions"].get("media", []):
        content = LIVE_LISTS[filename](db, version, user)
    return content
