"""A form's fields across all its published versions, as one table layout for exports.

Versions are merged so that a form whose questionnaire changed still exports as one table:
the newest version decides the order, the labels, the type and the choices of every field it
has; fields only older versions have follow at the end (the most recent first), so that no
answer ever given is dropped. Choices merge the same way. A field that was an identifier in any
version stays one (its values are kept apart by the receiver in that version, and leaving it
out everywhere is the only way not to leak them).
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote
from dataclasses import dataclass, field

from storage import scores

LANGS = ("vi", "en")
_LANG_WORDS = {"vi": ("vietnamese", "tiếng việt", "tieng viet"), "en": ("english", "tiếng anh")}

# bind types (without prefix) and how exports treat them
INT_TYPES = ("int", "integer", "long", "short")
DECIMAL_TYPES = ("decimal", "double", "float")
CONTAINERS = ("group", "repeat")


_NOT_IN_FILE_NAME = re.compile(r"[^\w.-]+")


def file_stem(text: str) -> str:
    """`text` (a form id, a version: any string ODK accepts) as part of a file name: letters,
    digits, "_", ".", "-" kept, anything else ("/", "\\", quotes, spaces) one "_", no leading dot,
    so a zip member or a download cannot name a path or break a header."""
    return _NOT_IN_FILE_NAME.sub("_", text).lstrip(".") or "_"


def attachment(filename: str) -> str:
    """A Content-Disposition value for a download name that may hold Vietnamese letters: an
    ASCII name for old clients and the exact one as RFC 6266's filename* (headers are Latin-1)."""
    plain = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    plain = _NOT_IN_FILE_NAME.sub("_", plain.encode("ascii", "ignore").decode("ascii"))
    if plain == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def pick_label(labels: dict | None, lang: str) -> str | None:
    """The label in `lang` from an XForm's {language: text}; language names differ between
    tools ("Tiếng Việt (vi)", "vi", "Vietnamese"), so the code in brackets, the code itself and
    the language's name are all accepted, then "default", then whatever there is."""
    if not labels:
        return None
    for name, text in labels.items():
        low = name.lower().strip()
        if low == lang or f"({lang})" in low or any(word in low for word in _LANG_WORDS.get(lang, ())):
            if text:
                return text
    return labels.get("default") or next((t for t in labels.values() if t), None)


@dataclass(frozen=True)
class Field:
    path: str                      # instance path under the root, "/"-joined
    name: str
    type: str                      # bind type, "select1"/"select", or "group"/"repeat"
    repeat: str | None             # the enclosing repeat (for a repeat: its parent repeat)
    labels: dict = field(default_factory=dict, hash=False, compare=False)
    choices: tuple = field(default=(), hash=False, compare=False)   # ((value, {lang: label}), ...)
    sensitive: bool = False
    criterion: str | None = None    # procedure | staff | result for an index item
    versions: tuple[str, ...] = ()  # the versions that have it, oldest first
    note: bool = False              # a note in the newest version that has it: never an answer

    @property
    def is_rating(self) -> bool:
        """An index item or a select_one whose codes are all whole numbers (a rating scale)."""
        return self.type == "select1" and (self.criterion is not None or (
            bool(self.choices) and all(v.lstrip("-").isdigit() for v, _ in self.choices)))

    @property
    def is_container(self) -> bool:
        return self.type in CONTAINERS

    def label(self, lang: str) -> str:
        return pick_label(self.labels, lang) or self.path

    def choice_label(self, value: str, lang: str) -> str:
        for choice_value, labels in self.choices:
            if choice_value == value:
                return pick_label(labels, lang) or value
        return value

    def relative_path(self) -> str:
        """The path inside its repeat ("children/child/name" -> "name")."""
        return self.path[len(self.repeat) + 1:] if self.repeat else self.path


@dataclass
class FormSchema:
    form_id: str
    title: str
    versions: list[str]            # oldest first
    fields: list[Field]            # merged order, containers included
    roles: dict[str, str] = field(default_factory=dict)   # the newest version's named fields

    @property
    def repeats(self) -> list[str]:
        return [f.path for f in self.fields if f.type == "repeat"]

    def get(self, path: str) -> Field | None:
        return next((f for f in self.fields if f.path == path), None)

    def leaves(self, repeat: str | None) -> list[Field]:
        """The answer fields of one table (the top level for None), in merged order."""
        return [f for f in self.fields if not f.is_container and f.repeat == repeat]

    def chain(self, repeat: str) -> list[str]:
        """The repeats from the outermost one down to `repeat`."""
        chain = [repeat]
        while True:
            parent = self.get(chain[0]).repeat
            if parent is None:
                return chain
            chain.insert(0, parent)

    def table_name(self, repeat: str | None) -> str:
        """Central's name for a table: the repeat's element name."""
        return self.form_id if repeat is None else repeat.rsplit("/", 1)[-1]


def merge_versions(form_id: str, versions: list[dict]) -> FormSchema:
    """`versions`: rows with "version", "title", "fields", "conventions", oldest first."""
    if not versions:
        raise ValueError(f"form {form_id!r} has no published version")
    newest_first = list(reversed(versions))
    merged: dict[str, dict] = {}
    order: list[str] = []
    seen_in: dict[str, list[str]] = {}
    sensitive: set[str] = set()
    choices: dict[str, list] = {}
    for version in newest_first:
        conv_sensitive = set(version["conventions"].get("sensitive", []))
        dossier = version["conventions"].get("roles", {}).get("dossier_code")
        for f in version["fields"]:
            path = f["path"]
            seen_in.setdefault(path, []).insert(0, version["version"])
            if f.get("sensitive") or path in conv_sensitive or path == dossier:
                sensitive.add(path)
            if path not in merged:
                merged[path] = f
                order.append(path)
            known = choices.setdefault(path, [])
            values = {v for v, _ in known}
            known += [(v, labels) for v, labels in f.get("choices", []) if v not in values]
    fields = []
    for path in order:
        f = merged[path]
        fields.append(Field(
            path=path, name=f["name"], type=f["type"] or "string", repeat=f.get("repeat"),
            labels=f.get("labels") or {}, choices=tuple((v, labels) for v, labels in choices[path]),
            sensitive=path in sensitive, criterion=f.get("criterion"), versions=tuple(seen_in[path]),
            note=bool(f.get("note"))))
    fields = _parents_first(fields)
    roles: dict[str, str] = {}
    for version in versions:                    # oldest first: newer ones win
        roles.update(version["conventions"].get("roles", {}))
    return FormSchema(form_id=form_id, title=newest_first[0]["title"],
                      versions=[v["version"] for v in versions], fields=fields, roles=roles)


def _parents_first(fields: list[Field]) -> list[Field]:
    """Old fields appended at the end may sit inside a repeat that is itself old; keep every
    repeat before the fields inside it so a table's parent is always known first."""
    ordered, placed = [], set()
    by_path = {f.path: f for f in fields}

    def place(f: Field) -> None:
        if f.path in placed:
            return
        if f.repeat and f.repeat in by_path:
            place(by_path[f.repeat])
        placed.add(f.path)
        ordered.append(f)

    for f in fields:
        place(f)
    return ordered


def load_schema(db, form_id: str) -> FormSchema:
    return merge_versions(form_id, scores.form_versions(db, [form_id]))
