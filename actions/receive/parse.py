"""Reading a submission's XML safely.

Expat is driven directly, with namespace processing off: Collect and Central accept instances
whose prefixes are undeclared (`<orx:meta>` without xmlns:orx), so element names are reduced to
their local part instead of failing. No DTD, entity declaration or external reference is ever
accepted, which rules out entity expansion bombs and file or network fetches.

The size of what is built is bounded while expat reads (`Limits`): a document of a million empty
elements is refused at the first element over the limit, before the tree holds it, instead of
being turned into a million nodes and then refused. The limits can depend on the form, which is
known from the root element's attributes before anything else is read (`accept.limits_for`).
"""
from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

ENCRYPTED_NS = "http://www.opendatakit.org/xforms/encrypted"
MAX_DEPTH = 64
# bytes handed to expat (and to the UTF-8 check) at a time
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How much of a document is read before it is refused."""
    elements: int       # elements in the whole document
    attributes: int     # attributes on one element
    text: int           # characters of text inside one element
    nodes: int          # elements + attributes + text nodes in the whole document


# Without a form to size them from: still far above any instance a questionnaire produces, and
# far below what would hold a worker for seconds.
DEFAULT_LIMITS = Limits(elements=100_000, attributes=64, text=1_000_000, nodes=300_000)


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


def form_of_root(attrs: dict[str, str]) -> tuple[str, str]:
    """(form id, version) named by the root element's attributes; "" for what is missing."""
    version = attrs.get("version")
    if version is None:
        version = next((v for k, v in attrs.items() if _local(k) == "version"), "")
    return attrs.get("id", "").strip(), version.strip()


LimitsFor = Callable[[dict[str, str]], Limits]


def parse_tree(data: bytes, limits: Limits | LimitsFor = DEFAULT_LIMITS) -> Node:
    """The element tree of `data`; `limits` may be a function of the root element's attributes."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    # contiguous text arrives in one call, so a text node is counted once
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    stack: list[Node] = []
    root: list[Node] = []
    text_sizes: list[int] = []          # characters so far in each open element
    bound = limits if isinstance(limits, Limits) else None
    elements = nodes = 0
    in_text = False         # a text node has begun since the last tag

    def over(what: str):
        return InstanceError("too_many_nodes", f"more than {what}")

    def forbid(reason):
        def handler(*_args):
            raise InstanceError(reason)
        return handler

    def xml_decl(_version, encoding, _standalone):
        if encoding and encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise InstanceError("not_utf8", f"encoding {encoding}")

    def start(name, attrs):
        nonlocal bound, elements, nodes, in_text
        if bound is None:
            bound = limits(attrs)
        if len(stack) >= MAX_DEPTH:
            raise InstanceError("too_deep")
        if len(attrs) > bound.attributes:
            raise InstanceError("too_many_attributes", f"{len(attrs)} attributes on <{name}>")
        elements += 1
        nodes += 1 + len(attrs)
        if elements > bound.elements:
            raise over(f"{bound.elements} elements")
        if nodes > bound.nodes:
            raise over(f"{bound.nodes} nodes")
        in_text = False
        node = Node(_local(name), attrs)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        text_sizes.append(0)

    def end(_name):
        nonlocal in_text
        in_text = False
        stack.pop()
        text_sizes.pop()

    def chars(text):
        nonlocal nodes, in_text
        if not stack:
            return
        if not in_text:
            in_text = True
            nodes += 1
            if nodes > bound.nodes:
                raise over(f"{bound.nodes} nodes")
        text_sizes[-1] += len(text)
        if text_sizes[-1] > bound.text:
            raise InstanceError("text_too_long", f"more than {bound.text} characters in <{stack[-1].name}>")
        stack[-1].text_parts.append(text)

    parser.XmlDeclHandler = xml_decl
    parser.StartDoctypeDeclHandler = forbid("dtd")
    parser.EntityDeclHandler = forbid("entity")
    parser.UnparsedEntityDeclHandler = forbid("entity")
    parser.ExternalEntityRefHandler = forbid("entity")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    # the UTF-8 check and the parse go chunk by chunk, so a refusal comes as soon as its
    # cause has been read and no decoded copy of the whole document is ever made
    utf8 = codecs.getincrementaldecoder("utf-8")()
    try:
        for offset in range(0, len(data), CHUNK):
            chunk = data[offset:offset + CHUNK]
            utf8.decode(chunk)
            parser.Parse(chunk, False)
        utf8.decode(b"", True)
        parser.Parse(b"", True)
    except UnicodeDecodeError as exc:
        raise InstanceError("not_utf8", str(exc)) from None
    except expat.ExpatError as exc:
        raise InstanceError("malformed", str(exc)) from None
    if not root:
        raise InstanceError("malformed", "no root element")
    return root[0]


def parse_instance(data: bytes, limits: Limits | LimitsFor = DEFAULT_LIMITS) -> Instance:
    root = parse_tree(data, limits)
    form_id, version = form_of_root(root.attrs)
    if not form_id:
        raise InstanceError("no_form_id")
    encrypted = root.attrs.get("encrypted") == "yes" or root.attrs.get("xmlns") == ENCRYPTED_NS
    meta = root.child("meta")
    instance_id = deprecated_id = None
    if meta is not None:
        instance_id = _text_of(meta.child("instanceID"))
        deprecated_id = _text_of(meta.child("deprecatedID"))
    if instance_id is None:
        instance_id = _text_of(root.child("instanceID"))
    return Instance(root, form_id, version, instance_id, deprecated_id, encrypted)


def _text_of(node: Node | None) -> str | None:
    if node is None:
        return None
    text = node.text.strip()
    return text or None
