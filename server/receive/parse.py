"""Reading a submission's XML safely.

Expat is driven directly, with namespace processing off: Collect and Central accept instances
whose prefixes are undeclared (`<orx:meta>` without xmlns:orx), so element names are reduced to
their local part instead of failing. No DTD, entity declaration or external reference is ever
accepted, which rules out entity expansion bombs and file or network fetches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

ENCRYPTED_NS = "http://www.opendatakit.org/xforms/encrypted"
MAX_DEPTH = 64


@dataclass
class Node:
    name: str                       # local name, prefix removed
    attrs: dict[str, str]
    children: list["Node"] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def child(self, name: str) -> "Node | None":
        return next((c for c in self.children if c.name == name), None)


@dataclass
class Instance:
    root: Node
    form_id: str
    version: str            # "" when the instance names no version
    instance_id: str | None
    deprecated_id: str | None
    encrypted: bool


class InstanceError(ValueError):
    """The XML cannot be accepted; `reason` names the problem for the error catalogue."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def parse_tree(data: bytes) -> Node:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InstanceError("not_utf8", str(exc)) from None

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Node] = []
    root: list[Node] = []

    def forbid(reason):
        def handler(*_args):
            raise InstanceError(reason)
        return handler

    def xml_decl(_version, encoding, _standalone):
        if encoding and encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise InstanceError("not_utf8", f"encoding {encoding}")

    def start(name, attrs):
        if len(stack) >= MAX_DEPTH:
            raise InstanceError("too_deep")
        node = Node(_local(name), attrs)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_name):
        stack.pop()

    def chars(text):
        if stack:
            stack[-1].text_parts.append(text)

    parser.XmlDeclHandler = xml_decl
    parser.StartDoctypeDeclHandler = forbid("dtd")
    parser.EntityDeclHandler = forbid("entity")
    parser.UnparsedEntityDeclHandler = forbid("entity")
    parser.ExternalEntityRefHandler = forbid("entity")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise InstanceError("malformed", str(exc)) from None
    if not root:
        raise InstanceError("malformed", "no root element")
    return root[0]


def parse_instance(data: bytes) -> Instance:
    root = parse_tree(data)
    form_id = root.attrs.get("id", "").strip()
    if not form_id:
        raise InstanceError("no_form_id")
    version = root.attrs.get("version")
    if version is None:
        version = next((v for k, v in root.attrs.items() if _local(k) == "version"), "")
    encrypted = root.attrs.get("encrypted") == "yes" or root.attrs.get("xmlns") == ENCRYPTED_NS
    meta = root.child("meta")
    instance_id = deprecated_id = None
    if meta is not None:
        instance_id = _text_of(meta.child("instanceID"))
        deprecated_id = _text_of(meta.child("deprecatedID"))
    if instance_id is None:
        instance_id = _text_of(root.child("instanceID"))
    return Instance(root, form_id, version.strip(), instance_id, deprecated_id, encrypted)


def _text_of(node: Node | None) -> str | None:
    if node is None:
        return None
    text = node.text.strip()
    return text or None
