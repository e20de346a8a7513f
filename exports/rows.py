"""The one generator of rows every export format writes from.

    for table in tables(plan):                 # the top level, then each repeat (parents first)
        for row in iter_rows(db, plan, table):   # a list; row[table.slots[key]] is one value
            ...

A row holds values as stored (text as the device sent it: dates, numbers, choice names), the
submission's metadata, and what is derived from them the same way for every format: Central's
KEY and PARENT_KEY, Kobo's running _index and _parent_index, a 0/1 per choice of a
select_multiple, the four parts of a geopoint, and the identifier answers when they were asked
for. How a value is shown (an Excel date, a label) is the writer's business.

Memory stays constant: each table is one cursor in a fixed order, and the other readers a row
needs (identifiers, the parent's positions) are cursors walked alongside it in the same order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from forms.conventions import consent_declined
from storage import export_queries as q

from .query import ExportPlan
from .schema import Field

GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
PROGRESS_EVERY = 1000
_OWN_INDEX = q.REPEAT_META.index("index")
_PARENT_ROW = q.REPEAT_META.index("parent_row_id")
# a submission without consent = yes stays in every export, flagged: 1 in this column (the
# indices leave it out); the column follows the consent question when the form asks for consent
DECLINED = Field(path="_consent_declined", name="_consent_declined", type="int", repeat=None,
                 labels={"vi": "Không đồng ý (không tính vào chỉ số)",
                         "en": "Declined consent (not counted in the indices)"})


@dataclass
class Table:
    repeat: str | None                 # None: the top level
    chain: list[str]                   # repeats from the outermost to this one ([] at the top)
    fields: list[Field]                # the answer fields exported, in merged order
    slots: dict[str, int] = field(default_factory=dict)
    split: list[tuple[Field, list[str]]] = field(default_factory=list)   # select_multiple, choices
    geo: list[Field] = field(default_factory=list)
    consent: Field | None = None       # the consent question the DECLINED flag is read from

    @property
    def parent(self) -> str | None:
        return self.chain[-2] if len(self.chain) > 1 else None

    def slot(self, key: str) -> int:
        return self.slots[key]


def _exported(plan: ExportPlan, repeat: str | None, notes: bool | set[str]) -> list[Field]:
    return [f for f in plan.schema.leaves(repeat)
            if (not f.sensitive or plan.query.include_identifiers)
            and (notes is True or not f.note or (notes is not False and f.path in notes))]


def filled_notes(db, plan: ExportPlan) -> set[str]:
    """The paths of the notes that hold a value in some exported row. A note of the form never
    holds an answer, but an instance may carry one (a client other than Collect, a form that
    gives it a default); every value sent must reach the export."""
    found: set[str] = set()
    for repeat in [None] + plan.schema.repeats:
        notes = [f.path for f in plan.schema.leaves(repeat) if f.note]
        if notes:
            found |= q.filled_columns(db, plan.selection, repeat, notes)
    return found


def tables(plan: ExportPlan, split_select: bool | None = None, notes: bool | set[str] = True) -> list[Table]:
    """The tables of an export with the slot of every value their rows carry; a select_multiple
    gets a 0/1 value per choice when `split_select` (default: what the query asks). `notes`: keep
    every note (True), none (False), or those whose paths are in the set."""
    split_select = plan.query.split_select if split_select is None else split_select
    result = []
    for repeat in [None] + plan.schema.repeats:
        chain = plan.schema.chain(repeat) if repeat else []
        fields = _exported(plan, repeat, notes)
        consent = plan.schema.get(plan.schema.roles.get("consent", "")) if repeat is None else None
        if consent is not None and consent in fields:
            at = fields.index(consent) + 1           # beside the answer it is read from
            fields = fields[:at] + [DECLINED] + fields[at:]
        else:
            consent = None
        table = Table(repeat=repeat, chain=chain, fields=fields, consent=consent)
        meta = q.ROOT_META if repeat is None else q.REPEAT_META
        keys = [f"m:{name}" for name in meta]
        keys += [f"ancestor:{a}" for a in chain[:-1]]
        keys += [f"f:{f.path}" for f in fields]
        keys += ["_index"] + ([] if repeat is None else ["_parent_index", "KEY", "PARENT_KEY"])
        for f in fields:
            if f.type == "select" and f.choices and split_select:
                table.split.append((f, [value for value, _ in f.choices]))
            elif f.type == "geopoint":
                table.geo.append(f)
        # derived values follow in this order: every choice flag, then every geopoint part
        for f, values in table.split:
            keys += [f"flag:{f.path}:{value}" for value in values]
        for f in table.geo:
            keys += [f"geo:{f.path}:{part}" for part in GEO_PARTS]
        table.slots = {key: i for i, key in enumerate(keys)}
        result.append(table)
    return result


def count(db, plan: ExportPlan, table: Table) -> int:
    return q.count_rows(db, plan.selection, table.repeat)


class _Positions:
    """Positions (1-based) of a parent table's rows in export order, found by walking its keys
    alongside the child rows, which come in the same order; a row met out of order (never the
    case for rows stored by the receiver, which writes them in document order) is counted."""

    def __init__(self, db, plan: ExportPlan, repeat: str | None):
        self.db, self.plan, self.repeat = db, plan, repeat
        self.keys = iter(q.row_keys(db, plan.selection, repeat))
        self.current: tuple | None = None
        self.position = 0

    def of(self, key: tuple[int, int]) -> int | None:
        while self.current is None or self.current < key:
            following = next(self.keys, None)
            if following is None:
                break
            self.current = (following[0], following[1])
            self.position += 1
        if self.current == key:
            return self.position
        return q.position_of(self.db, self.plan.selection, self.repeat, *key)


class _Identifiers:
    """The identifier answers of one submission at a time, read alongside the rows."""

    def __init__(self, db, plan: ExportPlan):
        self.rows = iter(q.identifier_rows(db, plan.selection))
        self.pending = next(self.rows, None)
        self.submission: int | None = None
        self.values: dict[str, str] = {}

    def of(self, submission_id: int) -> dict[str, str]:
        if submission_id != self.submission:
            self.values = {}
            while self.pending is not None and self.pending[0] < submission_id:
                self.pending = next(self.rows, None)
            while self.pending is not None and self.pending[0] == submission_id:
                self.values[self.pending[1]] = self.pending[2]
                self.pending = next(self.rows, None)
            self.submission = submission_id
        return self.values


def iter_rows(db, plan: ExportPlan, table: Table,
              progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """The rows of one table; `progress(n)` is told every PROGRESS_EVERY rows."""
    columns = [f.path for f in table.fields]
    if table.repeat is None:
        cursor = q.root_rows(db, plan.selection, columns)
        first_field = len(q.ROOT_META)
    else:
        cursor = q.repeat_rows(db, plan.selection, table.chain, columns)
        first_field = len(q.REPEAT_META) + len(table.chain) - 1
        # "children/child" inside nothing, "toys/toy" inside "children/child": the steps of a KEY
        steps = [table.chain[0]] + [inner[len(outer) + 1:] for outer, inner in zip(table.chain, table.chain[1:])]
        parents = _Positions(db, plan, table.parent)
    identifiers = _Identifiers(db, plan) if any(f.sensitive for f in table.fields) else None
    sensitive = [(first_field + i, f.path if table.repeat is None else f.relative_path())
                 for i, f in enumerate(table.fields) if f.sensitive]
    split = [(table.slots[f"f:{f.path}"], values) for f, values in table.split]
    geo_sources = [table.slots[f"f:{f.path}"] for f in table.geo]
    if table.consent is not None:
        consent_slot, declined_slot = table.slots[f"f:{table.consent.path}"], table.slots[f"f:{DECLINED.path}"]
        version_slot, asking = table.slots["m:version"], set(table.consent.versions)
    index = 0
    for record in cursor:
        row = list(record)
        index += 1
        if table.repeat is None:
            row.append(index)
            key_path = ""
        else:
            sid, instance_id = record[0], record[1]
            positions = record[len(q.REPEAT_META):first_field] + (record[_OWN_INDEX],)
            segments = [f"{step}[{position}]" for step, position in zip(steps, positions)]
            key_path = "/".join(segments)
            parent_key = "/".join([instance_id] + segments[:-1])
            parent_position = parents.of((sid, sid) if table.parent is None else (sid, record[_PARENT_ROW]))
            row += [index, parent_position, f"{instance_id}/{key_path}", parent_key]
        if table.consent is not None:
            row[declined_slot] = int(consent_declined(row[version_slot] in asking, row[consent_slot]))
        if identifiers is not None:
            found = identifiers.of(record[0])
            prefix = key_path + "/" if key_path else ""
            for slot, path in sensitive:
                value = found.get(prefix + path)
                if value is not None:
                    row[slot] = value
        for source, values in split:
            answer = row[source]
            if answer:
                chosen = set(answer.split())
                row += [1 if value in chosen else 0 for value in values]
            else:
                row += [None] * len(values)
        for source in geo_sources:
            parts = row[source].split()[:len(GEO_PARTS)] if row[source] else []
            row += parts + [None] * (len(GEO_PARTS) - len(parts))
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        yield row
    if progress is not None and index % PROGRESS_EVERY:
        progress(index % PROGRESS_EVERY)
