"""An instance's XML for reading, with its identifiers hidden.

Identifier fields (the form's `sensitive` fields, and the dossier code always) are kept out of
the answer tables and shown only to an administrator who asks, audited. A page or download that
hands out an instance's XML would bypass that, so it gives this copy instead: the same elements
and attributes, each identifier element emptied and marked with a comment. The document is
written again from the parsed tree (actions.receive.parse: no DTD, no entities), so namespace
prefixes are dropped and the whitespace between elements is not kept; the stored bytes stay as
they were, for the administrator who asks for them.
"""
from __future__ import annotations

from html import escape

from actions.receive.parse import Node, parse_tree

HIDDEN = "<!-- đã ẩn: thông tin định danh / hidden: identifier -->"


def identifier_paths(version: dict | None) -> set[str]:
    """Field paths (repeat indices left out) whose answers identify a person."""
    if version is None:
        return set()
    conventions = version.get("conventions") or {}
    paths = set(conventions.get("sensitive") or ())
    dossier = (conventions.get("roles") or {}).get("dossier_code")
    if dossier:
        paths.add(dossier)
    return paths


def without_identifiers(xml: bytes, version: dict | None) -> bytes:
    """The instance with every identifier element emptied. With no version to tell which fields
    identify someone, every answer is hidden: better an empty copy than a leaked one."""
    root = parse_tree(xml)
    hidden = identifier_paths(version)
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def write(node: Node, path: str, hide_all: bool) -> None:
        out.append(f"<{node.name}{_attributes(node)}>")
        hide = hide_all or path in hidden
        if hide and (node.text.strip() or node.children):
            out.append(HIDDEN)
        else:
            out.append("" if node.children else escape(node.text, quote=False))   # indentation around children dropped
            for child in node.children:
                write(child, f"{path}/{child.name}" if path else child.name, hide_all)
        out.append(f"</{node.name}>")

    out.append(f"<{root.name}{_attributes(root)}>")
    for child in root.children:
        # the meta block (instanceID, deprecatedID) is no answer: always shown
        write(child, child.name, version is None and child.name != "meta")
    out.append(f"</{root.name}>\n")
    return "".join(out).encode("utf-8")


def _attributes(node: Node) -> str:
    # escaped as XML wants it (html.escape's &quot; &#x27; &lt; &gt; &amp; are XML too)
    return "".join(f' {name}="{escape(value)}"' for name, value in node.attrs.items())
