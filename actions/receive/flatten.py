"""Turning an instance tree into rows: one for the top level, one per repeat entry.

Only fields the form version declares become columns; anything else stays in the raw XML,
which is always kept whole.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from storage.submissions import RepeatRow

from .parse import Node


@dataclass
class Flat:
    values: dict[str, str] = field(default_factory=dict)
    repeat_rows: list[RepeatRow] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    binaries: list[str] = field(default_factory=list)     # file names named by binary fields


def flatten(root: Node, fields: list[dict]) -> Flat:
    by_path = {f["path"]: f for f in fields}
    flat = Flat()

    def walk(node: Node, prefix: str, row: RepeatRow | None, id_prefix: str) -> None:
        counts: dict[str, int] = {}
        for child in node.children:
            path = prefix + child.name
            spec = by_path.get(path)
            kind = spec["type"] if spec else ("group" if child.children else None)
            if kind == "repeat":
                counts[path] = counts.get(path, 0) + 1
                entry = RepeatRow(len(flat.repeat_rows), row.key if row else None, path,
                                  counts[path], {})
                flat.repeat_rows.append(entry)
                walk(child, path + "/", entry, f"{id_prefix}{child.name}[{counts[path]}]/")
            elif kind == "group":
                walk(child, path + "/", row, f"{id_prefix}{child.name}/")
            elif spec is not None:
                value = child.text.strip()
                if spec.get("sensitive"):
                    # an empty identifier names no one: no row (the raw XML keeps the element)
                    if value:
                        flat.identifiers[id_prefix + child.name] = value
                else:
                    (row.values if row else flat.values)[path] = value
                if spec["type"] == "binary" and value:
                    flat.binaries.append(value)

    walk(root, "", None, "")
    return flat


def top_level_value(root: Node, path: str | None) -> str | None:
    """The text at a path outside repeats (convention fields such as unit or start)."""
    if not path:
        return None
    node: Node | None = root
    for step in path.split("/"):
        node = node.child(step) if node else None
    if node is None:
        return None
    return node.text.strip() or None
