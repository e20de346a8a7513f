"""A zip of CSV files in ODK Central's export layout, so the scripts and tools
people already run on Central exports read ours unchanged.

    {form}.csv            SubmissionDate, the fields (group paths joined by "-"), KEY,
                          SubmitterID, SubmitterName, AttachmentsPresent, AttachmentsExpected,
                          Status, ReviewState, DeviceID, Edits, FormVersion
    {form}-{repeat}.csv   the repeat's fields (paths inside the repeat), PARENT_KEY, KEY
    media/                the attachments, when asked for

Values are written as the device sent them (dates, numbers, choice names), a geopoint as its
four parts, a select_multiple as its space-separated answer plus, when asked, a 0/1 column per
choice named "field/choice". UTF-8 without a byte order mark and "\\n" line ends, as Central.
A text cell that a spreadsheet would read as a formula gets a leading "'" unless the query asks
for raw cells (exports/csvcells.py).

`stream_csv_zip` yields the zip in pieces while it is being made: the HTTP response starts at
once and memory stays constant, however many rows there are.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from operator import itemgetter

from storage import export_queries as q
from storage.blobs import BlobCorrupt
from storage.db import read_snapshot

from . import csvcells
from .query import ExportPlan
from .rows import GEO_PARTS, Table, count, iter_rows, tables
from .schema import file_stem

CHUNK = 1 << 20
ZIP64_FROM = 1 << 30
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MISSING_NOTE = "media/THIEU-TEP_MISSING-FILES.txt"


class _Sink:
    """A write-only file that keeps what zipfile writes until the generator hands it on.
    It has no tell(), so zipfile writes a streamable zip (sizes after each entry)."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def _dashed(path: str) -> str:
    return path.replace("/", "-")


def layout(plan: ExportPlan, table: Table) -> tuple[list[str], Callable[[list], list]]:
    """The header of a table's CSV and the function making a CSV row from a generator row."""
    split = {f.path: values for f, values in table.split}
    geo = {f.path for f in table.geo}
    headers, slots = [], []
    for f in table.fields:
        name = _dashed(f.path if table.repeat is None else f.relative_path())
        if f.path in geo:
            headers += [f"{name}-{part}" for part in GEO_PARTS]
            slots += [table.slots[f"geo:{f.path}:{part}"] for part in GEO_PARTS]
            continue
        headers.append(name)
        slots.append(table.slots[f"f:{f.path}"])
        for value in split.get(f.path, ()):
            headers.append(f"{name}/{value}")
            slots.append(table.slots[f"flag:{f.path}:{value}"])
    fields = _getter(slots)
    s = table.slots
    if table.repeat is not None:
        parent_key, key = s["PARENT_KEY"], s["KEY"]
        return headers + ["PARENT_KEY", "KEY"], lambda row: [*fields(row), row[parent_key], row[key]]
    headers = ["SubmissionDate"] + headers + [
        "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
        "ReviewState", "DeviceID", "Edits", "FormVersion"]
    (received, instance_id, submitter_id, submitter, present, expected, encrypted, review, device,
     edits, version) = (s[f"m:{name}"] for name in (
        "received_at", "instance_id", "submitter_id", "submitter", "attachments_present",
        "attachments_expected", "encrypted", "review_state", "device_id", "edits", "version"))

    def make(row):
        state = row[review]
        # Central has no "received": a submission nobody reviewed is blank, or "edited" once edited
        state = ("edited" if row[edits] else None) if state == "received" else state
        return [row[received], *fields(row), row[instance_id], row[submitter_id], row[submitter],
                row[present], row[expected], "not decrypted" if row[encrypted] else None, state,
                row[device], row[edits], row[version]]
    return headers, make


def _getter(slots: list[int]) -> Callable[[list], tuple]:
    if not slots:
        return lambda row: ()
    if len(slots) == 1:
        only = slots[0]
        return lambda row: (row[only],)
    return itemgetter(*slots)


def file_names(plan: ExportPlan, all_tables: list[Table]) -> list[str]:
    """{form}.csv and {form}-{repeat name}.csv; two repeats of one name get their whole path."""
    form_id = file_stem(plan.schema.form_id)
    short = [plan.schema.table_name(t.repeat) for t in all_tables[1:]]
    names = [f"{form_id}.csv"]
    for table, name in zip(all_tables[1:], short):
        if short.count(name) > 1:
            name = _dashed(table.repeat)
        names.append(f"{form_id}-{name}.csv")
    return names


def stream_csv_zip(db, plan: ExportPlan, *, blobs=None, progress: Callable[[int], None] | None = None,
                   chunk: int = CHUNK) -> Iterator[bytes]:
    """The zip, in pieces of about `chunk` bytes. `blobs` (storage.blobs.BlobStore) is needed
    for the media folder."""
    sink = _Sink()
    all_tables = tables(plan)
    with read_snapshot(db):
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for table, name in zip(all_tables, file_names(plan, all_tables)):
                headers, make = layout(plan, table)
                # a streamed entry cannot be widened to ZIP64 once written: decide from its size at
                # most (a cell is far below 64 bytes), and keep small files plain for old unzippers
                large = count(db, plan, table) * len(headers) * 64 > ZIP64_FROM
                with archive.open(name, "w", force_zip64=large) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                    writer = csvcells.writer(text, raw=plan.query.raw_cells)
                    writer.writerow(headers)
                    for row in iter_rows(db, plan, table, progress):
                        writer.writerow(make(row))
                        if sink.size >= chunk:
                            yield sink.take()
                    text.flush()
                    text.detach()
                if sink.size >= chunk:
                    yield sink.take()
            if plan.query.media and blobs is not None:
                yield from _media(db, plan, archive, sink, blobs, chunk)
    yield sink.take()


def _media(db, plan: ExportPlan, archive: zipfile.ZipFile, sink: _Sink, blobs, chunk: int):
    """Each attachment once under media/; a second file of the same name but other content
    goes to media/<instance id>/<name>, and a file missing or damaged on disk is listed."""
    missing: list[str] = []
    previous: tuple[str, str] | None = None
    for _, instance_id, name, sha256, _size in q.attachment_rows(db, plan.selection):
        if previous == (name, sha256):
            continue
        path = f"media/{name}" if previous is None or previous[0] != name else (
            f"media/{_UNSAFE.sub('_', instance_id)}/{name}")
        previous = (name, sha256)
        try:
            data = blobs.read_verified(sha256)
        except (OSError, BlobCorrupt):
            missing.append(f"{instance_id}\t{name}\t{sha256}")
            continue
        # photos and recordings are compressed already
        archive.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data,
                         compress_type=zipfile.ZIP_STORED)
        if sink.size >= chunk:
            yield sink.take()
    if missing:
        note = ("Các tệp đính kèm sau không có hoặc bị hỏng trên máy chủ / These attachments are "
                "missing or damaged on the server (instanceID, name, sha256):\n" + "\n".join(missing) + "\n")
        archive.writestr(MISSING_NOTE, note.encode("utf-8"))
