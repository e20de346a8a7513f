"""Which unit a counted submission belongs to, in the two views of the past.

A submission names a unit code and has an interview month. The code's version in force that
month is the unit it was recorded for (storage/units.py keeps the versions). Two views:

- `recorded` (the default): each version is its own unit, keyed by its version key (the code
  for a code's first meaning, code@YYYY-MM-DD for each later one), under the version of its
  parent's code in force that month (a district that stayed as it was on 1/1/2025 lay under
  Tỉnh Thừa Thiên Huế in 2024 and under Thành phố Huế in 2025).
- `current`: each version is followed through its successors to the unit in force today, keyed
  by its code; a version whose chain ends without a unit in force (a district desk closed on
  1/7/2025) stays apart under DISSOLVED + its version key.

Lists take effect on the first day of a month (actions/units.check_list_date), so the
interview month decides the version exactly and the monthly rollup can be used as it is.
"""
from __future__ import annotations

from storage import units as unit_store

RECORDED, CURRENT = "recorded", "current"
VIEWS = (RECORDED, CURRENT)
DISSOLVED = "dissolved:"


def _month(day: str | None) -> int:
    return int(day[:4] + day[5:7]) if day else 0


class UnitMap:
    def __init__(self, db, view: str = RECORDED):
        self.view = view
        self.versions = {v["key"]: v for v in unit_store.all_versions(db)}
        self.by_code: dict[str, list[tuple[int, str]]] = {}
        for v in sorted(self.versions.values(), key=lambda v: (v["valid_from"] or "", v["id"])):
            self.by_code.setdefault(v["code"], []).append((_month(v["valid_from"]), v["key"]))
        # without any change of meaning or retirement every key is the code: nothing to map
        self.history = (any(len(found) > 1 for found in self.by_code.values())
                        or any(v["retired_on"] for v in self.versions.values()))
        self.units: dict[str, dict] = {}
        if view == RECORDED:
            for key, v in self.versions.items():
                self.units[key] = {**v, "parent_code": v["parent_key"]}
        else:
            for unit in unit_store.all_units(db, in_force=True):
                self.units[unit["code"]] = dict(unit)
            for key, v in self.versions.items():
                target = self.current_key(key)
                if target.startswith(DISSOLVED) and target not in self.units:
                    parent = self.current_key(v["parent_key"]) if v["parent_key"] in self.versions else None
                    self.units[target] = {**v, "code": v["code"], "parent_code": parent, "dissolved": True}
        self._ancestors: dict[tuple, dict[str, str]] = {}
        self._cache: dict[tuple, str | None] = {}
        self.list_months = sorted({_month(v["valid_from"]) for v in self.versions.values()})

    def same_within_quarters(self) -> bool:
        """Whether every list took effect on a quarter's first day: then a code's unit (and its
        place in the tree) is the same in every month of a quarter, and rows summed by quarter
        (the rollups' by_quarter reads, storage/choices.py) can be mapped as exactly as months."""
        return all(month == 0 or month % 100 in (1, 4, 7, 10) for month in self.list_months)

    def current_key(self, version_key: str) -> str:
        """The unit in force today that a version's work went to, or DISSOLVED + the version
        where the chain of successors ends."""
        seen, key = set(), version_key
        while key not in seen:
            seen.add(key)
            version = self.versions[key]
            if version["retired_on"] is None:
                return version["code"]
            if not version["successor_key"] or version["successor_key"] not in self.versions:
                return DISSOLVED + key
            key = version["successor_key"]
        return DISSOLVED + version_key          # a cycle of successors: nobody chose one

    def version_key(self, code: str, month: int | None) -> str | None:
        found = self.by_code.get(code)
        if not found:
            return None
        if month is None:
            return found[-1][1]
        chosen = found[0][1]
        for start, key in found:
            if start <= month:
                chosen = key
        return chosen

    def key(self, code: str | None, month: int | None) -> str | None:
        """The unit of this view for a submission of `code` in local month YYYYMM."""
        if not code:
            return None
        cached = self._cache.get((code, month))
        if cached is None and (code, month) not in self._cache:
            version = self.version_key(code, month)
            if version is None:
                cached = code                    # a code no list has: shown as it is
            else:
                cached = version if self.view == RECORDED else self.current_key(version)
            self._cache[(code, month)] = cached
        return cached

    def parent(self, key: str, month: int | None) -> str | None:
        row = self.units[key]
        if self.view == RECORDED and month is not None and row["parent_key"] in self.versions:
            return self.version_key(self.versions[row["parent_key"]]["code"], month)
        return row["parent_code"]

    def ancestors(self, key: str, month: int | None = None) -> dict[str, str]:
        """{level: the unit or its ancestor at that level} in this view's tree (as recorded: the
        tree of that month)."""
        found = self._ancestors.get((key, month))
        if found is None:
            found, current, steps = {}, key, 0
            while current in self.units and steps <= len(self.units):
                found.setdefault(self.units[current]["level"], current)
                current, steps = self.parent(current, month), steps + 1
            self._ancestors[(key, month)] = found
        return found

    def within(self, key: str | None, code: str, month: int | None = None) -> bool:
        """Whether the unit `key` of this view lies in the subtree of unit code `code`."""
        current, steps = key, 0
        while current in self.units and steps <= len(self.units):
            if self.units[current]["code"] == code:
                return True
            current, steps = self.parent(current, month), steps + 1
        return False

    def codes_only_within(self, code: str) -> set[str]:
        """The codes every version of which falls inside `code` (at every month of its
        validity): what a filter by code alone may keep without showing anything outside."""
        inside = self.codes_within(code)
        for key, v in self.versions.items():
            if v["code"] in inside:
                start, end = _month(v["valid_from"]), _month(v["retired_on"]) or 999999
                months = [start] + [m for m in self.list_months if start < m < end]
                unit = key if self.view == RECORDED else self.current_key(key)
                if not all(self.within(unit, code, m) for m in months):
                    inside.discard(v["code"])
        return inside

    def codes_within(self, code: str) -> set[str]:
        """Every stored code some version of which falls inside `code` in this view, at some
        month of its validity (the tree only changes on the days lists take effect)."""
        found = set()
        for key, v in self.versions.items():
            start, end = _month(v["valid_from"]), _month(v["retired_on"]) or 999999
            months = [start] + [m for m in self.list_months if start < m < end]
            unit = key if self.view == RECORDED else self.current_key(key)
            if any(self.within(unit, code, m) for m in months):
                found.add(v["code"])
        return found
