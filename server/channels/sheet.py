"""The printed questionnaire: a form version's stored fields laid out for paper.

The fields (labels, choices, groups) come from what was stored at publication; what the stored
fields do not say — which text fields are notes, which fields the device fills itself (start,
end, deviceid, instanceID), which appear only under a condition — is read from the version's
binds. Runs of rating questions that share their choices (the 5-point scale and "no opinion")
become one table with a tick box per answer, as paper questionnaires are usually printed; an
answer outside the form's scale ("Không ý kiến / không áp dụng") is set apart from the grades.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET

JR = "{http://openrosa.org/javarosa}"


@dataclass
class Item:
    kind: str                       # heading, note, grid, choice, text, unit
    label: str = ""
    path: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    rows: list["Item"] = field(default_factory=list)     # grid rows
    multiple: bool = False
    lines: int = 1
    depth: int = 0
    prefilled: str | None = None    # a value printed in (the print run's unit, its level)
    conditional: bool = False
    apart: tuple[str, ...] = ()     # grid answers outside the scale, printed apart from the grades


def vi_label(labels: dict | None, fallback: str = "") -> str:
    """The Vietnamese label: paper goes to citizens in Vietnamese whatever the clerk's language."""
    if not labels:
        return fallback
    for key, text in labels.items():
        if key == "vi" or key.endswith("(vi)"):
            return text
    return labels.get("default") or next(iter(labels.values()), fallback) or fallback


def bind_info(xform: bytes) -> dict[str, dict]:
    """path (relative to the instance root) -> {readonly, preload, relevant, appearance, multiline}."""
    root = SafeET.fromstring(xform)
    info: dict[str, dict] = {}
    instance_root = None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag == "instance" and el.get("id") is None and instance_root is None and len(el):
            instance_root = next(iter(el)).tag.rsplit("}", 1)[-1]
    prefix = f"/{instance_root}/" if instance_root else "/"

    def rel(ref: str | None) -> str | None:
        if not ref:
            return None
        ref = ref.strip()
        return ref[len(prefix):] if ref.startswith(prefix) else None

    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag == "bind":
            path = rel(el.get("nodeset"))
            if path is None:
                continue
            entry = info.setdefault(path, {})
            entry["readonly"] = (el.get("readonly") or "").replace(" ", "") in ("true()", "true")
            entry["preload"] = el.get(f"{JR}preload")
            entry["relevant"] = "".join((el.get("relevant") or "").split())   # without spaces; "" if none
            entry["calculate"] = bool((el.get("calculate") or "").strip())
        elif tag in ("input", "select1", "select", "upload", "range", "rank", "trigger"):
            path = rel(el.get("ref"))
            if path is None:
                continue
            entry = info.setdefault(path, {})
            appearance = (el.get("appearance") or "").split()
            entry["appearance"] = appearance
            entry["control"] = tag
    return info


def sheet_items(version: dict, *, unit: dict | None = None) -> list[Item]:
    """What a sheet of this version shows, in form order; `unit` is printed in when given."""
    binds = bind_info(version["xform"])
    roles = version["conventions"].get("roles", {})
    skip_paths = {roles.get("channel")} - {None}
    # a surveyor's respondent list (respondents.csv) has no place on paper: the pick, its contact
    # outcome, and what is shown only once someone is picked (relevant "${respondent} != ''")
    respondent = roles.get("respondent")
    skip_paths |= {respondent, roles.get("contact_outcome")} - {None}
    picked_only = f"/{respondent}!=''" if respondent else None
    fields = [f for f in version["fields"] if f["path"] != "meta" and not f["path"].startswith("meta/")]
    unit_path = roles.get("unit")
    level_path = (unit_path.rpartition("/")[0] + "/level") if unit_path and "/" in unit_path else "level"
    items: list[Item] = []
    for f in fields:
        path = f["path"]
        b = binds.get(path, {})
        depth = path.count("/")
        if path in skip_paths or b.get("preload") or b.get("calculate") or (
                picked_only and b.get("relevant", "").endswith(picked_only)):
            continue
        if f["type"] in ("group", "repeat"):
            title = vi_label(f.get("labels"))
            if title:
                items.append(Item("heading", title, path, depth=depth))
            continue
        label = vi_label(f.get("labels"), f["name"])
        conditional = bool(b.get("relevant"))
        if f["type"] == "string" and b.get("readonly"):
            if not conditional:   # a note shown only after some answer has no place on paper
                items.append(Item("note", label, path, depth=depth))
            continue
        if path == unit_path:
            items.append(Item("unit", label, path, depth=depth,
                              prefilled=f"{unit['name_vi']} ({unit['code']})" if unit else None))
            continue
        if f["type"] in ("select1", "select") and f.get("choices"):
            choices = [(value, vi_label(labels, value)) for value, labels in f["choices"]]
            prefilled = unit["level"] if unit and path == level_path else None
            items.append(Item("choice", label, path, choices=choices, multiple=f["type"] == "select",
                              depth=depth, prefilled=prefilled, conditional=conditional))
            continue
        if f["type"] == "binary":
            continue
        multiline = "multiline" in b.get("appearance", []) or f["name"] in ("comment", "comments", "feedback")
        items.append(Item("text", label, path, lines=3 if multiline else 1, depth=depth, conditional=conditional))
    scale = [str(v) for v in version["conventions"].get("scale") or ()]
    return _grids(items, scale)


def _grids(items: list[Item], scale: list[str]) -> list[Item]:
    """Consecutive single-choice questions of one group with the same choices become a table."""
    out: list[Item] = []
    run: list[Item] = []

    def group_of(item: Item) -> str:
        return item.path.rpartition("/")[0]

    def close():
        if len(run) >= 2:
            choices = run[0].choices
            apart = tuple(value for value, _ in choices if scale and value not in scale)
            if apart:   # the grades first, in the form's order, then what is not a grade
                choices = [c for c in choices if c[0] not in apart] + [c for c in choices if c[0] in apart]
            out.append(Item("grid", choices=choices, rows=list(run), depth=run[0].depth, path=run[0].path,
                            apart=apart))
        else:
            out.extend(run)
        run.clear()

    for item in items:
        if (item.kind == "choice" and not item.multiple and item.prefilled is None
                and run and item.choices == run[0].choices and group_of(item) == group_of(run[0])):
            run.append(item)
            continue
        close()
        if item.kind == "choice" and not item.multiple and item.prefilled is None:
            run.append(item)
        else:
            out.append(item)
    close()
    return out
