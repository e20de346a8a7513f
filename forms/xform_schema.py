"""Read any XForm (bytes) into a flat description of its fields.

The server needs, for every form it serves: the id and version, where each answer
sits in a submission (its path under the instance root), its type, whether it is
inside a repeat, its labels and choices (for exports), and which media files Collect
will ask for. XForms come from pyxform but also from other tools, so the reader
matches elements by local name and tolerates relative refs, missing binds, repeats
declared only in the body or only with jr:template, and undeclared prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError  # types only; parsing is defusedxml's  # nosec B405

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .bounds import BoundedTreeBuilder, check_xform_size
from .problems import FormProblems, error

JR_NS = "http://openrosa.org/javarosa"


@dataclass(frozen=True)
class Field:
    path: str  # relative to the instance root, '/'-joined, e.g. "main/proc_posted"
    name: str  # last path step
    # Bind type without prefix ("string", "int", "binary", ...). Selects are reported
    # as "select1"/"select" (and "rank") from their body control, because pyxform binds
    # them as "string". "" when there is no bind type; "group"/"repeat" for containers.
    type: str
    repeat: str | None  # innermost *enclosing* repeat (for a repeat itself: its parent repeat)
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    # (value, {lang: label}); inline <item>s and itemsets over an inline secondary
    # instance (pyxform writes every choices list that way). Empty for external files.
    choices: tuple[tuple[str, dict[str, str]], ...] = field(default=(), hash=False)
    # a note: a read-only text input with no calculation, which never holds an answer
    note: bool = False

    @property
    def is_container(self) -> bool:
        return self.type in ("group", "repeat")


@dataclass(frozen=True)
class XFormInfo:
    form_id: str
    version: str | None
    title: str
    root: str  # root element name of the primary instance
    fields: tuple[Field, ...]
    repeats: tuple[str, ...]
    media: tuple[str, ...]
    languages: tuple[str, ...]
    encrypted: bool = False  # submissions arrive as encrypted envelopes

    def get(self, path: str) -> Field | None:
        for f in self.fields:
            if f.path == path:
                return f
        return None

    def leaves(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.is_container)


def _local(tag) -> str:
    if not isinstance(tag, str):  # comments / processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def _attr(el: Element, local_name: str) -> str | None:
    """Attribute by local name, whatever its namespace (id, orx:version, jr:template ...)."""
    if local_name in el.attrib:
        return el.attrib[local_name]
    for key, value in el.attrib.items():
        if _local(key) == local_name:
            return value
    return None


def _children(el: Element, local_name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == local_name]


def _first(el: Element, local_name: str) -> Element | None:
    for c in el:
        if _local(c.tag) == local_name:
            return c
    return None


_RE_UNBOUND = re.compile(r"unbound prefix")
_RE_PREFIX_USE = re.compile(r"<\s*/?\s*([A-Za-z_][\w.-]*):|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=")


_FEED = 64 * 1024


def _bounded_fromstring(data: bytes) -> Element:
    """defusedxml's parser with a builder that stops at the upload limits (forms.bounds),
    fed in pieces so even one enormous text node is refused as it streams in."""
    parser = SafeET.DefusedXMLParser(target=BoundedTreeBuilder(), forbid_dtd=True)
    for start in range(0, len(data), _FEED):
        parser.feed(data[start:start + _FEED])
    return parser.close()


def _parse(data: bytes) -> Element:
    check_xform_size(data)
    try:
        return _bounded_fromstring(data)
    except DefusedXmlException as exc:
        raise FormProblems([
            error(
                "XForm chứa khai báo DTD/thực thể (entity) — không được phép vì lý do an toàn.",
                f"The XForm contains a DTD or entity declaration, which is not allowed: {exc}",
            )
        ]) from None
    except ParseError as exc:
        if _RE_UNBOUND.search(str(exc)):
            patched = _declare_missing_prefixes(data)
            if patched is not None:
                try:
                    return _bounded_fromstring(patched)
                except (ParseError, DefusedXmlException):
                    pass
        raise FormProblems([
            error(
                f"Tệp XForm không phải XML hợp lệ: {exc}",
                f"The XForm is not well-formed XML: {exc}",
            )
        ]) from None
    except (ValueError, TypeError) as exc:
        raise FormProblems([
            error(
                f"Không đọc được tệp XForm: {exc}",
                f"Could not read the XForm: {exc}",
            )
        ]) from None


def _declare_missing_prefixes(data: bytes) -> bytes | None:
    """Some tools write prefixes (orx:, odk:) without declaring them; declare them so
    the form can still be read. Element names are matched by local name anyway."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    declared = set(re.findall(r"xmlns:([A-Za-z_][\w.-]*)\s*=", text))
    used = set()
    for m in _RE_PREFIX_USE.finditer(text):
        used.add(m.group(1) or m.group(2))
    missing = sorted(p for p in used - declared if p not in ("xml", "xmlns"))
    if not missing:
        return None
    m = re.search(r"<(?![?!])[^\s>/]+", text)
    if not m:
        return None
    decl = "".join(f' xmlns:{p}="urn:undeclared-prefix:{p}"' for p in missing)
    return (text[: m.end()] + decl + text[m.end():]).encode("utf-8")


# ---------------------------------------------------------------------------

def _strip_predicates(ref: str) -> str:
    """Drop [...] filters (they may hold paths with '/', and nest) - they do not change
    which node a ref names."""
    out = []
    depth = 0
    for ch in ref:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _norm_steps(ref: str) -> list[str]:
    steps = []
    for raw in _strip_predicates(ref).split("/"):
        s = raw.strip()
        if not s or s == ".":
            continue
        steps.append(s.rsplit(":", 1)[-1])
    return steps


def _resolve(ref: str | None, root: str, context: str) -> str | None:
    """Instance path (relative to root) of a bind nodeset or body ref; None if it points
    elsewhere (a secondary instance, a function call)."""
    if ref is None:
        return None
    ref = ref.strip()
    if not ref or "(" in ref.split("/", 1)[0]:
        return None
    if ref.startswith("/"):
        steps = _norm_steps(ref)
        if not steps or steps[0] != root:
            return None
        steps = steps[1:]
    else:
        steps = [s for s in context.split("/") if s]
        for s in _norm_steps(ref):
            if s == "..":
                if steps:
                    steps.pop()
            else:
                steps.append(s)
    return "/".join(steps)


def _text_with_outputs(el: Element) -> str:
    """Label text, with <output value="/data/x"/> shown as ${x} (as the designer wrote it)."""
    parts = [el.text or ""]
    for child in el:
        if _local(child.tag) == "output":
            value = _attr(child, "value") or _attr(child, "ref") or ""
            name = [s for s in _norm_steps(value) or [] if s != ".."]
            parts.append("${" + (name[-1] if name else value.strip()) + "}")
        else:
            parts.append(_text_with_outputs(child))
        parts.append(child.tail or "")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


_MEDIA_FORMS = {"image", "audio", "video", "big-image", "guidance"}


def _read_itext(model: Element) -> tuple[list[str], dict[str, dict[str, str]]]:
    languages: list[str] = []
    texts: dict[str, dict[str, str]] = {}
    itext = _first(model, "itext")
    if itext is None:
        return languages, texts
    for tr in _children(itext, "translation"):
        lang = _attr(tr, "lang") or "default"
        if lang not in languages:
            languages.append(lang)
        for t in _children(tr, "text"):
            tid = _attr(t, "id")
            if tid is None:
                continue
            chosen = None
            for v in _children(t, "value"):
                form = _attr(v, "form")
                if form is None:
                    chosen = v
                    break
                if form in ("long", "short") and chosen is None:
                    chosen = v
            if chosen is not None:
                texts.setdefault(tid, {})[lang] = _text_with_outputs(chosen)
    return languages, texts


_RE_ITEXT_LITERAL = re.compile(r"""^\s*jr:itext\(\s*['"]([^'"]+)['"]\s*\)\s*$""")
_RE_ITEXT_DYNAMIC = re.compile(r"""^\s*jr:itext\(\s*([A-Za-z_][\w.-]*)\s*\)\s*$""")
_RE_INSTANCE_REF = re.compile(r"""^\s*instance\(\s*['"]([^'"]+)['"]\s*\)(.*)$""")


class _Reader:
    def __init__(self, html: Element):
        self.html = html
        self.model = next((e for e in html.iter() if _local(e.tag) == "model"), None)
        if self.model is None:
            raise FormProblems([error(
                "XForm không có phần <model> nên không có dữ liệu để thu thập.",
                "The XForm has no <model> element.",
            )])
        instances = _children(self.model, "instance")
        primary = next((c for inst in instances[:1] for c in inst if _local(c.tag)), None)
        if primary is None:
            raise FormProblems([error(
                "XForm không có instance chính (phần <instance> đầu tiên trong <model> phải chứa phần tử gốc của dữ liệu).",
                "The XForm has no primary instance (the first <instance> in <model> must hold the data root element).",
            )])
        self.primary = primary
        self.root = _local(primary.tag)
        self.secondary = {
            _attr(inst, "id"): inst for inst in instances[1:] if _attr(inst, "id")
        }
        self.languages, self.itext = _read_itext(self.model)
        self.used_default = False
        self.bind_types: dict[str, str] = {}
        self.bound: set[str] = set()
        self.read_only: set[str] = set()
        for b in _children(self.model, "bind"):
            path = _resolve(_attr(b, "nodeset") or _attr(b, "ref"), self.root, "")
            if path is not None:
                self.bound.add(path)
            btype = _attr(b, "type")
            if path is not None and btype:
                self.bind_types.setdefault(path, btype.rsplit(":", 1)[-1])
            if path is not None and (_attr(b, "readonly") or "").replace(" ", "") == "true()" \
                    and not _attr(b, "calculate"):
                self.read_only.add(path)
        # body facts keyed by path
        self.controls: dict[str, str] = {}
        self.labels: dict[str, dict[str, str]] = {}
        self.choices: dict[str, tuple] = {}
        self.body_groups: set[str] = set()
        self.body_repeats: list[str] = []
        self.appearance_files: set[str] = set()
        body = next((e for e in html if _local(e.tag) == "body"), None)
        if body is not None:
            self._walk_body(body, "", None)

    # -- labels & choices ---------------------------------------------------
    def _label(self, el: Element | None, item: Element | None = None) -> dict[str, str]:
        if el is None:
            return {}
        ref = _attr(el, "ref")
        if ref:
            m = _RE_ITEXT_LITERAL.match(ref)
            if m:
                return dict(self.itext.get(m.group(1), {}))
            m = _RE_ITEXT_DYNAMIC.match(ref)
            if m and item is not None:
                key = _first(item, m.group(1))
                if key is not None and key.text:
                    return dict(self.itext.get(key.text.strip(), {}))
                return {}
            if item is not None:
                target = _first(item, ref.strip())
                if target is not None:
                    self.used_default = True
                    return {"default": _text_with_outputs(target)}
            return {}
        text = _text_with_outputs(el)
        if text:
            self.used_default = True
            return {"default": text}
        return {}

    def _items(self, control: Element) -> tuple:
        out = []
        for item in _children(control, "item"):
            value_el = _first(item, "value")
            value = (value_el.text or "").strip() if value_el is not None else ""
            out.append((value, self._label(_first(item, "label"))))
        itemset = _first(control, "itemset")
        if itemset is not None:
            out.extend(self._itemset(itemset))
        return tuple(out)

    def _itemset(self, itemset: Element) -> list:
        m = _RE_INSTANCE_REF.match(_attr(itemset, "nodeset") or "")
        if not m:
            return []
        inst = self.secondary.get(m.group(1))
        if inst is None or _attr(inst, "src"):
            return []  # external file: the server cannot know its rows here
        steps = [s for s in _norm_steps(m.group(2)) if s]
        nodes = [inst]
        for s in steps:
            nodes = [c for n in nodes for c in n if _local(c.tag) == s or s == "*"]
        value_el = _first(itemset, "value")
        value_ref = (_attr(value_el, "ref") if value_el is not None else None) or "name"
        label_el = _first(itemset, "label")
        out = []
        for node in nodes:
            v = _first(node, value_ref.strip())
            value = (v.text or "").strip() if v is not None else ""
            out.append((value, self._label(label_el, node)))
        return out

    # -- body -----------------------------------------------------------------
    _CONTROLS = {"input", "select1", "select", "upload", "trigger", "range", "rank",
                 "textarea", "secret", "odk:rank"}

    def _walk_body(self, el: Element, context: str, repeat_ctx: str | None) -> None:
        for child in el:
            tag = _local(child.tag)
            if tag == "group":
                path = _resolve(_attr(child, "ref") or _attr(child, "nodeset"), self.root, context)
                if path:
                    self.body_groups.add(path)
                    labels = self._label(_first(child, "label"))
                    if labels:
                        self.labels.setdefault(path, labels)
                self._walk_body(child, path if path else context, repeat_ctx)
            elif tag == "repeat":
                path = _resolve(_attr(child, "nodeset") or _attr(child, "ref"), self.root, context)
                if path:
                    if path not in self.body_repeats:
                        self.body_repeats.append(path)
                    labels = self._label(_first(child, "label"))
                    if labels:
                        self.labels[path] = labels
                self._walk_body(child, path if path else context, path or repeat_ctx)
            elif tag in self._CONTROLS:
                path = _resolve(_attr(child, "ref") or _attr(child, "bind"), self.root, context)
                if not path:
                    continue
                self.controls.setdefault(path, tag)
                labels = self._label(_first(child, "label"))
                if labels:
                    self.labels.setdefault(path, labels)
                if tag in ("select1", "select", "rank"):
                    self.choices.setdefault(path, self._items(child))
                appearance = _attr(child, "appearance") or ""
                for m in re.finditer(r"""search\(\s*['"]([^'"]+)['"]""", appearance):
                    self.appearance_files.add(m.group(1) + ".csv")

    # -- instance ---------------------------------------------------------------
    def fields(self) -> tuple[tuple[Field, ...], tuple[str, ...]]:
        repeats: list[str] = []
        seen_repeat = set()
        order: list[tuple[str, Element]] = []
        seen: set[str] = set()

        def visit(el: Element, prefix: str) -> None:
            for c in el:
                name = _local(c.tag)
                if not name:
                    continue
                path = f"{prefix}/{name}" if prefix else name
                is_template = _attr(c, "template") is not None
                if is_template and path not in seen_repeat:
                    seen_repeat.add(path)
                    repeats.append(path)
                if path in seen:
                    # pyxform writes a repeat twice (template + first instance) and
                    # Collect's fixtures repeat a group several times: one field each.
                    continue
                seen.add(path)
                order.append((path, c))
                visit(c, path)

        visit(self.primary, "")
        for p in self.body_repeats:
            if p not in seen_repeat:
                seen_repeat.add(p)
                repeats.append(p)
        repeat_set = set(repeats)
        # keep document order of the instance for the repeats tuple
        instance_pos = {p: i for i, (p, _) in enumerate(order)}
        repeats.sort(key=lambda p: instance_pos.get(p, len(instance_pos)))

        def enclosing_repeat(path: str) -> str | None:
            steps = path.split("/")
            for i in range(len(steps) - 1, 0, -1):
                cand = "/".join(steps[:i])
                if cand in repeat_set:
                    return cand
            return None

        out = []
        for path, el in order:
            has_children = any(_local(c.tag) for c in el)
            if path in repeat_set:
                ftype = "repeat"
            elif has_children or (path in self.body_groups and path not in self.bound
                                  and not (el.text or "").strip()):
                # A childless node a body group points at is still a field when a bind or a
                # default gives it a value (a calculate used as a group's ref): keep its answer.
                ftype = "group"
            else:
                ftype = self.bind_types.get(path, "")
                control = self.controls.get(path)
                if control in ("select1", "select", "rank") and ftype in ("", "string"):
                    ftype = control
            out.append(Field(
                path=path,
                name=path.rsplit("/", 1)[-1],
                type=ftype,
                repeat=enclosing_repeat(path),
                labels=dict(self.labels.get(path, {})),
                choices=self.choices.get(path, ()) if ftype not in ("group", "repeat") else (),
                note=(path in self.read_only and self.controls.get(path) == "input"
                      and ftype in ("", "string")),
            ))
        return tuple(out), tuple(repeats)


_RE_MEDIA = re.compile(r"jr://(?:file|file-csv|images|audio|video)/([^\s'\"<>)]+)")
_RE_PULLDATA = re.compile(r"""pulldata\(\s*['"]([^'"]+)['"]""")


def _media(html: Element, extra: set[str]) -> tuple[str, ...]:
    names = set(extra)
    for el in html.iter():
        values = list(el.attrib.values())
        if el.text:
            values.append(el.text)
        for v in values:
            for m in _RE_MEDIA.finditer(v):
                base = m.group(1).rstrip("/").rsplit("/", 1)[-1]
                if base:
                    names.add(base)
            for m in _RE_PULLDATA.finditer(v):
                names.add(m.group(1) + ".csv")
    return tuple(sorted(names))


def read_xform(data: bytes) -> XFormInfo:
    """Describe an XForm. Raises FormProblems when it cannot serve as a form."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    html = _parse(data)
    reader = _Reader(html)
    form_id = (_attr(reader.primary, "id") or "").strip()
    if not form_id:
        raise FormProblems([error(
            f'Phần tử gốc <{reader.root}> của instance chính thiếu thuộc tính "id" (mã biểu mẫu).',
            f'The primary instance root <{reader.root}> has no "id" attribute (form id).',
        )])
    version = _attr(reader.primary, "version")
    version = version.strip() if version and version.strip() else None
    title_el = next((e for e in html.iter() if _local(e.tag) == "title"), None)
    title = _text_with_outputs(title_el) if title_el is not None else ""
    fields, repeats = reader.fields()
    languages = list(reader.languages)
    if reader.used_default and "default" not in languages:
        languages.append("default")
    encrypted = any(
        _attr(s, "base64RsaPublicKey") for s in _children(reader.model, "submission")
    )
    return XFormInfo(
        form_id=form_id,
        version=version,
        title=title or form_id,
        root=reader.root,
        fields=fields,
        repeats=repeats,
        media=_media(html, reader.appearance_files),
        languages=tuple(languages),
        encrypted=encrypted,
    )
