"""Rows of a form as Central's OData JSON: nested by group, repeats as navigation links or, with
$expand=*, inline; typed as $metadata says (integers and decimals as numbers, geopoints as
GeoJSON or WKT); __id and __system on every submission.

A table's rows come from one cursor; with $expand=* the repeat rows of each chunk of
submissions are read in one query per repeat and hung under their parents, so memory holds a
chunk, never the page.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from exports.schema import DECIMAL_TYPES, INT_TYPES, Field, FormSchema
from storage import odata_queries as q

from .csdl import _children, parent_key
from .wire import review_state

CHUNK = 500
_META = {name: i for i, name in enumerate(q.ROOT_META)}


def _number(value: str, kind):
    try:
        return kind(value)
    except ValueError:
        return value


def typed(f: Field, value, wkt: bool):
    if value is None or value == "":
        return None
    if f.type in INT_TYPES:
        return _number(value, int)
    if f.type in DECIMAL_TYPES:
        return _number(value, float)
    if f.type == "geopoint":
        parts = value.split()
        try:
            lat, lon, *rest = [float(p) for p in parts]
        except ValueError:
            return value
        coordinates = [lon, lat] + rest[:1]
        if wkt:
            return "POINT (" + " ".join(repr(c) for c in coordinates) + ")"
        point = {"type": "Point", "coordinates": coordinates}
        if len(rest) > 1:
            point["properties"] = {"accuracy": rest[1]}
        return point
    return value


class Shaper:
    """Turns the cursor rows of one table into Central's JSON objects."""

    def __init__(self, schema: FormSchema, repeat: str | None, *, expand: bool, wkt: bool,
                 identifiers: bool, select: list[list[str]] | None):
        self.schema, self.repeat, self.expand, self.wkt = schema, repeat, expand, wkt
        self.identifiers, self.select = identifiers, select
        self.fields = schema.leaves(repeat)
        self._inside: dict[str | None, list[Field]] = {}
        self.columns = [f.path for f in self.fields]
        if repeat is not None:
            chain = schema.chain(repeat)
            self.chain = chain
            self.steps = [chain[0]] + [inner[len(outer) + 1:] for outer, inner in zip(chain, chain[1:])]

    # --- the parts of an object -------------------------------------------------------------------

    def _object(self, values: dict[str, object], parent_path: str | None, link: str,
                hang: dict | None) -> dict:
        out: dict = {}
        inside = self._inside.get(parent_path)
        if inside is None:
            # looked up once per table, not once per row: a row is built for every submission
            inside = self._inside[parent_path] = _children(self.schema, parent_path)
        for f in inside:
            if f.type == "group":
                out[f.name] = self._object(values, f.path, link, hang)
            elif f.type == "repeat":
                relative = f.path[len(self.repeat) + 1:] if self.repeat else f.path
                if hang is not None:
                    out[f.name] = hang.setdefault(f.path, [])
                else:
                    out[f.name + "@odata.navigationLink"] = f"{link}/{relative}"
            else:
                out[f.name] = typed(f, values.get(f.path), self.wkt)
        return out

    def _values(self, record, first: int, identifiers: dict | None, key_path: str) -> dict:
        values = dict(zip(self.columns, record[first:]))
        if identifiers:
            prefix = key_path + "/" if key_path else ""
            for f in self.fields:
                if f.sensitive:
                    found = identifiers.get(prefix + (f.relative_path() if self.repeat else f.path))
                    if found is not None:
                        values[f.path] = found
        return values

    def submission(self, record, identifiers: dict | None, hang: dict | None) -> dict:
        m = lambda name: record[_META[name]]  # noqa: E731
        root_iid = m("root_instance_id")
        link = f"Submissions('{quote(root_iid, safe='')}')"
        body = {"__id": root_iid}
        body.update(self._object(self._values(record, len(q.ROOT_META), identifiers, ""), None, link, hang))
        body["__system"] = {
            "submissionDate": m("submission_date"), "updatedAt": m("updated_at"),
            "deletedAt": None, "submitterId": str(m("submitter_id")) if m("submitter_id") else None,
            "submitterName": m("submitter_name"), "attachmentsPresent": m("attachments_present"),
            "attachmentsExpected": m("attachments_expected"),
            "status": "notDecrypted" if m("encrypted") else None,
            "reviewState": review_state(m("review_state")), "deviceId": m("device_id"),
            "edits": m("edits"), "formVersion": m("form_version"), "unit": m("unit"),
            "unitName": m("unit_name"), "channel": m("channel")}
        return self._pick(body)

    def repeat_row(self, record, identifiers: dict | None, hang: dict | None, inline: bool) -> dict:
        root_iid, index = record[4], record[3]
        ancestors = list(record[len(q.REPEAT_META):len(q.REPEAT_META) + len(self.chain) - 1])
        positions = ancestors + [index]
        segments = [f"{step}[{position}]" for step, position in zip(self.steps, positions)]
        key_path = "/".join(segments)
        own_id = f"{root_iid}/{key_path}"
        link = f"Submissions('{quote(root_iid, safe='')}')/" + "/".join(
            f"{step}('{quote(root_iid + '/' + '/'.join(segments[:n + 1]), safe='')}')" if n < len(segments) - 1
            else step for n, step in enumerate(self.steps))
        body = {"__id": own_id}
        if not inline:
            body[parent_key(self.schema, self.repeat)] = "/".join([root_iid] + segments[:-1])
        first = len(q.REPEAT_META) + len(self.chain) - 1
        body.update(self._object(self._values(record, first, identifiers, key_path), self.repeat, link, hang))
        return body if inline else self._pick(body)

    def _pick(self, body: dict) -> dict:
        if not self.select:
            return body
        return _prune(body, self.select)


def _prune(body: dict, paths: list[list[str]]) -> dict:
    out = {}
    for key, value in body.items():
        name = key.split("@", 1)[0]
        inner = [p[1:] for p in paths if p[0] == name]
        if not inner:
            continue
        if any(not p for p in inner) or not isinstance(value, dict):
            out[key] = value
        else:
            out[key] = _prune(value, inner)
    return out


def submissions(db, rows: q.Rows, shaper: Shaper, identifiers: bool) -> Iterator[tuple[int, dict]]:
    """(submission id, JSON object) of each submission of the page, repeats inlined when expanding."""
    cursor = q.root_page(db, rows, shaper.columns)
    repeat_shapers = {r: Shaper(shaper.schema, r, expand=True, wkt=shaper.wkt, identifiers=identifiers,
                                select=None) for r in shaper.schema.repeats} if shaper.expand else {}
    while True:
        chunk = cursor.fetchmany(CHUNK) if hasattr(cursor, "fetchmany") else []
        if not chunk:
            return
        ids = [record[0] for record in chunk]
        found = q.identifiers_of(db, ids) if identifiers else {}
        if not shaper.expand:
            for record in chunk:
                yield record[0], shaper.submission(record, found.get(record[0]), None)
            continue
        # every list a repeat's rows hang in, by (owner, repeat path): owner is a submission id
        # or a repeat row id of the parent repeat
        hangs: dict[tuple, list] = {}
        out = []
        for record in chunk:
            hang: dict = {}
            out.append((record[0], shaper.submission(record, found.get(record[0]), hang)))
            for path, target in hang.items():
                hangs[("s", record[0], path)] = target
        for repeat, sub in repeat_shapers.items():
            parent = shaper.schema.get(repeat).repeat
            scoped = q.Rows(form_id=rows.form_id, repeat=repeat, scope=rows.scope)
            for record in q.repeat_page(db, scoped, sub.chain, sub.columns, submission_ids=ids):
                hang: dict = {}
                body = sub.repeat_row(record, found.get(record[1]), hang, inline=True)
                owner = ("s", record[1], repeat) if parent is None else ("r", record[2], repeat)
                target = hangs.get(owner)
                if target is not None:
                    target.append(body)
                for path, inner in hang.items():
                    hangs[("r", record[0], path)] = inner
        yield from out


def repeat_rows(db, rows: q.Rows, shaper: Shaper, identifiers: bool) -> Iterator[dict]:
    cursor = q.repeat_page(db, rows, shaper.chain, shaper.columns)
    while True:
        chunk = cursor.fetchmany(CHUNK) if hasattr(cursor, "fetchmany") else []
        if not chunk:
            return
        found = q.identifiers_of(db, sorted({r[1] for r in chunk})) if identifiers else {}
        for record in chunk:
            yield shaper.repeat_row(record, found.get(record[1]), None, inline=False)
