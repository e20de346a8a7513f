"""How the indices are shown: the JSON shape of the API (and `indices --json`) and the CLI table.

Numbers are computed exactly and rounded only here: indices, intervals, percentages and mean
scores to 2 decimals, half away from zero. A cell or criterion under min_n keeps its counts but
its rates are withheld (null): it is "not enough answers", never published.
"""
from __future__ import annotations

import math
from fractions import Fraction

from storage import scores, units as unit_store
from vocabulary import (CHANNEL_LABELS, CRITERIA, CRITERION_LABELS, LEVEL_LABELS, LEVELS, PERIOD_KINDS, PERIOD_LABELS,
                        SHORT_CRITERION_LABELS)

from . import periods, weighting
from .dissatisfied import DissatisfiedPage, DissatisfiedQuery
from .engine import QUESTION, Cell, IndexQuery
from .rankings import Ranking, RankQuery
from .unit_views import DISSOLVED, RECORDED

KEY_HEADERS = {
    "unit": ("Đơn vị", "Unit"), "level": ("Cấp", "Level"), "tinh": ("Cấp tỉnh", "Province"),
    "huyen": ("Cấp huyện", "District"), "xa": ("Cấp xã", "Commune"), **PERIOD_LABELS,
    "channel": ("Kênh", "Channel"), "procedure_field": ("Lĩnh vực", "Procedure field"),
    "version": ("Phiên bản", "Version"), "form": ("Biểu mẫu", "Form"),
}
UNKNOWN = ("(không rõ)", "(unknown)")
# what a missing value means depends on the key
MISSING = {
    "unit": ("(không ghi đơn vị)", "(no unit given)"),
    "tinh": ("(không thuộc đơn vị cấp tỉnh)", "(not under a province-level unit)"),
    "huyen": ("(không thuộc đơn vị cấp huyện)", "(not under a district-level unit)"),
    "xa": ("(không thuộc đơn vị cấp xã)", "(not under a commune-level unit)"),
    "procedure_field": ("(không trả lời)", "(no answer)"),
}
NOT_ENOUGH = "không đủ số phiếu / not enough answers"


def rounded(value, places: int = 2) -> float | None:
    """Exact rounding, half away from zero, of a Fraction, int or float."""
    if value is None:
        return None
    # floor(|p/q| x scale + 1/2) in integers: a page rounds thousands of numbers
    num, den = value.as_integer_ratio()
    scale = 10 ** places
    magnitude = (2 * abs(num) * scale + den) // (2 * den)
    return math.copysign(magnitude / scale, num) if magnitude else 0.0


def _pair(vi: str, en: str | None) -> dict:
    return {"vi": vi, "en": en or vi}


def _lang(labels: dict | None, lang: str) -> str | None:
    if not labels:
        return None
    for name, text in labels.items():
        low = name.lower()
        if low == lang or f"({lang})" in low or (lang == "vi" and "việt" in low) or (
                lang == "en" and "english" in low):
            return text
    return labels.get("default") or next(iter(labels.values()))


class Labels:
    """Names in Vietnamese and English for units, periods, choices, questions and items."""

    def __init__(self, db, forms: tuple[str, ...], units: str = RECORDED):
        # the keys of the view: version keys as recorded, today's codes on today's units
        self.units = {u["code"]: u for u in unit_store.all_units(db)}
        if units == RECORDED:
            self.units.update({v["key"]: v for v in unit_store.all_versions(db)})
        self.versions = scores.form_versions(db, list(forms))
        self.fields: dict[str, dict] = {}           # path -> newest field with that path
        self.titles: dict[str, str] = {}
        self.procedure_fields: list[str] = []
        for version in self.versions:               # oldest first: newer ones win
            self.titles[version["form_id"]] = version["title"]
            for f in version["fields"]:
                self.fields[f["path"]] = f
            role = version["conventions"].get("roles", {}).get("procedure_field")
            if role and role not in self.procedure_fields:
                self.procedure_fields.append(role)

    def unit(self, code: str | None) -> dict:
        if code and code.startswith(DISSOLVED):
            gone = self.units.get(code[len(DISSOLVED):]) or {"name_vi": code, "name_en": code}
            return _pair(f"{gone['name_vi']} (đơn vị đã giải thể)",
                         f"{gone['name_en'] or gone['name_vi']} (unit no longer exists)")
        unit = self.units.get(code) if code else None
        if unit is None:
            return _pair(*UNKNOWN) if code is None else _pair(code, code)
        return _pair(unit["name_vi"], unit["name_en"])

    def choice(self, path: str, value: str) -> dict | None:
        for choice_value, labels in (self.fields.get(path) or {}).get("choices", []):
            if choice_value == value:
                return _pair(_lang(labels, "vi") or value, _lang(labels, "en"))
        return None

    def question(self, path: str) -> dict:
        labels = (self.fields.get(path) or {}).get("labels")
        return _pair(_lang(labels, "vi") or path, _lang(labels, "en"))

    def key(self, name: str, value: str | None) -> dict:
        if value is None:
            if name.startswith(QUESTION):
                return _pair(*MISSING["procedure_field"])
            return _pair(*MISSING.get(name, UNKNOWN))
        if name in ("unit", *LEVELS):
            return self.unit(value)
        if name == "level":
            return _pair(*LEVEL_LABELS.get(value, (value, value)))
        if name in PERIOD_KINDS:
            period = periods.parse_period(value)
            return _pair(period.label("vi"), period.label("en"))
        if name == "channel":
            return _pair(*CHANNEL_LABELS.get(value, (value, value)))
        if name == "version":
            return _pair(f"Phiên bản {value}", f"Version {value}")
        if name == "form":
            return _pair(self.titles.get(value, value), self.titles.get(value, value))
        paths = self.procedure_fields if name == "procedure_field" else [name[len(QUESTION):]]
        for path in paths:
            label = self.choice(path, value)
            if label:
                return label
        return _pair(value, value)

    def header(self, name: str) -> tuple[str, str]:
        if name.startswith(QUESTION):
            label = self.question(name[len(QUESTION):])
            return label["vi"], label["en"]
        return KEY_HEADERS[name]


def criteria_legend() -> list[dict]:
    return [{"code": c, **_pair(*CRITERION_LABELS[c])} for c in CRITERIA]


def _interval(ci, show: bool):
    return [rounded(ci[0]), rounded(ci[1])] if ci and show else None


def cell_json(cell: Cell, labels: Labels) -> dict:
    show = cell.enough
    result = {
        "key": cell.key,
        "label": {name: labels.key(name, value) for name, value in cell.key.items()},
        "submissions": cell.submissions,
        "declined": cell.declined,
        "n": cell.n,
        "enough": cell.enough,
        "overall": {"index": rounded(cell.overall) if show else None,
                    "ci": _interval(cell.overall_ci, show)},
        "mean_score": rounded(cell.mean_score) if show else None,
        "dissatisfied_pct": rounded(100 * cell.dissatisfied_share) if show and cell.answers else None,
        "criteria": {},
    }
    for code, crit in cell.criteria.items():
        visible = show and crit.enough
        result["criteria"][code] = {
            "n": crit.n, "enough": crit.enough,
            "index": rounded(crit.index) if visible else None,
            "ci": _interval(crit.ci, visible),
            "mean_score": rounded(crit.mean_score) if visible else None,
            "answers": crit.answers, "dissatisfied": crit.dissatisfied,
            "dissatisfied_pct": (rounded(100 * crit.dissatisfied_share)
                                 if visible and crit.answers else None),
        }
    if cell.items:
        result["items"] = [{
            "form": item.form_id, "path": item.path, "criterion": item.criterion,
            "label": labels.question(item.path), "answers": item.answers,
            "satisfied": item.satisfied, "enough": item.enough,
            "index": rounded(item.index) if show and item.enough else None,
        } for item in cell.items]
    return result


def _filters(query) -> dict:
    result = {"unit": query.unit, "channel": query.channel, "versions": list(query.versions) or None}
    if hasattr(query, "units"):
        result["units"] = query.units
    if hasattr(query, "date_from"):
        result = {"from": query.date_from.isoformat() if query.date_from else None,
                  "to": query.date_to.isoformat() if query.date_to else None, **result}
    return result


def _percent(share) -> float | None:
    return rounded(100 * share) if share is not None else None


def weighted_json(weighted: weighting.WeightedCell | None) -> dict | None:
    """A cell's index weighted by dossier volume; None when the register has no dossier of its units."""
    if weighted is None:
        return None
    return {
        "volume": weighted.volume, "units": len(weighted.units), "n": weighted.n,
        "enough": weighted.enough, "volume_share": _percent(weighted.share),
        "overall": {"index": rounded(weighted.overall) if weighted.enough else None},
        "criteria": {code: {"index": rounded(crit.index) if crit.enough else None,
                            "units": len(crit.units), "n": crit.n, "enough": crit.enough,
                            "volume_share": _percent(crit.share)}
                     for code, crit in weighted.criteria.items()},
        "unregistered": list(weighted.unregistered),
        "below_min_n": list(weighted.below_min_n),
    }


def _pair_or_none(texts: tuple[str, str] | None) -> dict | None:
    return _pair(*texts) if texts else None


def indices_json(db, query: IndexQuery, cells: list[Cell],
                 weighted: dict[tuple, weighting.WeightedCell | None] | None = None) -> dict:
    """The API's answer; `weighted` (from weighting.weighted_indices, only when asked) adds a
    "weighted" key to every cell and a top-level "weighted_note"."""
    labels = Labels(db, query.forms, query.units)
    result = {
        "forms": list(query.forms),
        "by": list(query.by),
        "filters": _filters(query),
        "scope": query.scope,
        "min_n": query.min_n,
        "criteria": criteria_legend(),
        "cells": [cell_json(cell, labels) for cell in cells],
    }
    if weighted is not None:
        result["weighted_note"] = _pair_or_none(weighting.note(db, weighted))
        for cell, shown in zip(cells, result["cells"]):
            shown["weighted"] = weighted_json(weighted.get(tuple(cell.key.values())))
    return result


def _period_json(period: periods.Period) -> dict:
    return {"key": period.key, **_pair(period.label("vi"), period.label("en")),
            "from": period.start.isoformat(), "to": period.end.isoformat()}


def rankings_json(db, query: RankQuery, ranking: Ranking) -> dict:
    labels = Labels(db, query.forms, query.units)
    rows = []
    for row in ranking.rows:
        cell, old = row.cell, row.previous
        ranked = row.rank is not None
        rows.append({
            "unit": row.unit_code,
            "label": labels.unit(row.unit_code),
            "ranked": ranked,
            "rank": row.rank,
            "submissions": cell.submissions if cell else 0,
            "n": cell.n if cell else 0,
            "enough": bool(cell and cell.enough),
            "index": rounded(cell.overall) if ranked else None,
            "ci": _interval(cell.overall_ci, ranked) if cell else None,
            "criteria": {c: (rounded(k.index) if ranked and k.enough else None)
                         for c, k in cell.criteria.items()} if cell else None,
            "previous": {"rank": row.previous_rank, "n": old.n, "enough": old.enough,
                         "index": rounded(old.overall) if row.previous_rank else None}
            if old else None,
            "change": rounded(row.change),
            "overlaps_above": row.overlaps_above,
            "overlaps_below": row.overlaps_below,
        })
    return {
        "forms": list(query.forms),
        "level": ranking.level,
        "period": _period_json(ranking.period),
        "previous_period": _period_json(ranking.previous_period),
        "filters": _filters(query),
        "scope": query.scope,
        "min_n": query.min_n,
        "units": rows,
    }


def _recorded_key(db, code: str | None, day: str) -> str | None:
    version = unit_store.version_at(db, code, day) if code else None
    return version["key"] if version else code


def dissatisfied_json(db, query: DissatisfiedQuery, page: DissatisfiedPage) -> dict:
    labels = Labels(db, query.forms)
    return {
        "forms": list(query.forms),
        "filters": _filters(query),
        "scope": query.scope,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "submissions": [{
            "submission_id": e.submission_id,
            "instance_id": e.instance_id,
            "form": e.form_id,
            "version": e.version,
            "unit": e.unit_code,
            # the unit as it was on the interview day (474 in 2024: Thành phố Huế)
            "unit_label": labels.unit(_recorded_key(db, e.unit_code, e.local_time.date().isoformat())),
            "started_at": e.started_at,
            "local_time": e.local_time.isoformat(timespec="seconds"),
            "date": e.local_time.date().isoformat(),
            "channel": e.channel,
            "review_state": e.review_state,
            "comment": e.comment,
            "low_answers": [{"criterion": a.criterion, "path": a.path, "value": a.value,
                             "label": labels.question(a.path),
                             "answer_label": labels.choice(a.path, a.value)}
                            for a in e.low_answers],
        } for e in page.entries],
    }


# --- the command-line table -------------------------------------------------------------------

def _with_ci(index, ci) -> str:
    text = f"{rounded(index):.2f}"
    if ci:
        text += f" ({rounded(ci[0]):.2f}–{rounded(ci[1]):.2f})"
    return text


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    return lines + ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]


def _key_texts(labels: Labels, cell: Cell) -> list[str]:
    texts = []
    for name, value in cell.key.items():
        label = labels.key(name, value)["vi"]
        # a unit is known by its code as much as by its name
        texts.append(f"{value} {label}" if value is not None and name in ("unit", *LEVELS)
                     else label)
    return texts


WEIGHTED_PREFIX = ("TS", "W")          # "có trọng số" / "weighted", in the table's headers


def _weighted_headers() -> list[str]:
    vi, en = WEIGHTED_PREFIX
    return ([f"{vi} {SHORT_CRITERION_LABELS[c][0]} / {en} {SHORT_CRITERION_LABELS[c][1]}"
             for c in CRITERIA]
            + [f"{vi} Chung / {en} Overall", "Hồ sơ / Dossiers", "% hồ sơ / % dossiers"])


def _weighted_texts(weighted: weighting.WeightedCell | None) -> list[str]:
    """The weighted columns of a cell: "–" for an index no unit qualifies for."""
    if weighted is None:
        return ["–"] * len(CRITERIA) + ["–", "0", "–"]
    texts = [f"{rounded(weighted.criteria[c].index):.2f}" if weighted.criteria[c].enough else "–"
             for c in CRITERIA]
    texts.append(f"{rounded(weighted.overall):.2f}" if weighted.enough else NOT_ENOUGH)
    return texts + [str(weighted.volume), f"{_percent(weighted.share):.2f}"]


def _weighted_notes(db, query: IndexQuery, weighted: dict[tuple, weighting.WeightedCell | None]) -> list[str]:
    vi, en = WEIGHTED_PREFIX
    lines = ["",
             f"{vi}: chỉ số có trọng số theo số hồ sơ trả kết quả trong kỳ (sổ hồ sơ); đơn vị có dưới "
             f"{query.min_n} người trả lời một tiêu chí không được tính ở tiêu chí đó; % hồ sơ: phần số hồ sơ "
             "của các đơn vị được tính.",
             f"{en}: weighted by the dossiers returned in the period (the register); a unit with fewer than "
             f"{query.min_n} respondents on a criterion is left out of it; % dossiers: the share of the "
             "dossiers held by the units weighted."]
    unregistered = sorted({code or "?" for w in weighted.values() if w for code in w.unregistered})
    if unregistered:
        lines.append("Có người trả lời nhưng không có hồ sơ, không tính trọng số / respondents but no "
                     "dossiers, not weighted: " + ", ".join(unregistered))
    why = weighting.note(db, weighted)
    if why:
        lines += list(why)
    return lines


def text_table(db, query: IndexQuery, cells: list[Cell],
               weighted: dict[tuple, weighting.WeightedCell | None] | None = None) -> str:
    """A plain-text table, Vietnamese / English headers, one line per cell (and per item);
    with `weighted`, the weighted indices as more columns."""
    labels = Labels(db, query.forms, query.units)
    key_headers = ["{} / {}".format(*labels.header(name)) for name in query.by]
    headers = key_headers + ["Số phiếu / Subm.", "n"]
    headers += ["{} / {}".format(*SHORT_CRITERION_LABELS[c]) for c in CRITERIA]
    headers += ["Chung / Overall"]
    if weighted is not None:
        headers += _weighted_headers()
    rows = []
    for cell in cells:
        row = _key_texts(labels, cell) + [str(cell.submissions), str(cell.n)]
        for c in CRITERIA:
            crit = cell.criteria[c]
            shown = cell.enough and crit.enough and crit.index is not None
            row.append(_with_ci(crit.index, crit.ci) if shown else "–")
        row.append(_with_ci(cell.overall, cell.overall_ci) if cell.enough and cell.overall is not None
                   else NOT_ENOUGH)
        if weighted is not None:
            row += _weighted_texts(weighted.get(tuple(cell.key.values())))
        rows.append(row)
    lines = _table(headers, rows)
    if not rows:
        lines.append("Không có phiếu nào. / No submissions.")
    if query.items and cells:
        item_rows = []
        for cell in cells:
            for item in cell.items:
                shown = cell.enough and item.enough and item.index is not None
                item_rows.append(_key_texts(labels, cell) + [
                    labels.question(item.path)["vi"], SHORT_CRITERION_LABELS[item.criterion][0],
                    str(item.answers), f"{rounded(item.index):.2f}" if shown else NOT_ENOUGH])
        lines += [""] + _table(key_headers + ["Câu hỏi / Item", "Tiêu chí / Criterion",
                                              "Số trả lời / Answers", "Chỉ số / Index"], item_rows)
    vi, en = NOT_ENOUGH.split(" / ")
    lines += ["",
              f"Chỉ số hài lòng (%) và khoảng tin cậy 95%; ô có dưới {query.min_n} người trả lời: {vi}.",
              f"Satisfaction index (%) with its 95% interval; cells with fewer than {query.min_n} "
              f"respondents: {en}."]
    if weighted is not None:
        lines += _weighted_notes(db, query, weighted)
    return "\n".join(lines)
