"""Every questionnaire of the ODK fixtures (tests/fixtures/odk, written by others) goes the whole way
through a real server: published with the `forms publish` command, listed to a Collect-like
client, downloaded (md5 checked), its manifest and media fetched, a filled instance submitted, and
every submitted value found again in both exports (XLSX and CSV zip). A form the server refuses
must say why, naming the cause.

The instance is filled from the downloaded XForm itself, one distinct value per field occurrence
chosen by the field's type, so the expected values come from this test and not from the exporter.
"""
from __future__ import annotations

import csv
import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import openpyxl
import pytest
import requests
from defusedxml import ElementTree as SafeET

from bench.site import LiveServer, seed
from collect_client import CollectClient
from conftest import FIXTURES, PASSWORD, cli
from exports.schema import file_stem
from forms.compile import java_available
from forms.xform_schema import read_xform

JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
XF = "{http://www.w3.org/2002/xforms}"

CORPUS = sorted([*(FIXTURES / "xform").glob("*.xml"), *(FIXTURES / "xlsform").glob("*.xlsx")])
# refused, with the words that must name the cause in the command's output
REFUSED = {
    # ODK Validate (JavaRosa): a select without a single choice cannot be shown by Collect
    "central-selectMultiple.form.xml": ("Validate", "one", "choices"),
}
# the instance envelopes of encrypted forms carry no readable answers to export
ENCRYPTED = {"central-encrypted.form.xml", "collect-encrypted.xml"}
# two fixtures share the form id "encrypted"; the later one is a new version of that form
PUBLISH_ORDER = sorted(CORPUS, key=lambda p: p.name == "collect-encrypted.xml")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


@dataclass
class Published:
    path: Path
    form_id: str
    version: str
    xform: bytes
    output: str


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("odk_corpus")
    tokens = seed(data_dir)
    published: dict[str, Published] = {}
    refused: dict[str, str] = {}
    media_dir = FIXTURES / "xform"
    for path in PUBLISH_ORDER:
        result = cli(data_dir, "forms", "publish", str(path), "--media-dir", str(media_dir))
        if result.exit_code != 0:
            refused[path.name] = result.output
            continue
        published[path.name] = Published(path, "", "", b"", result.output)
    server = LiveServer(data_dir).start()
    collector = CollectClient(f"{server.url}/key/{tokens['dtv_hue']}")
    yield server, collector, published, refused
    server.stop()


def test_every_fixture_publishes_or_is_refused_with_its_cause(corpus):
    _, _, published, refused = corpus
    expected_refused = set(REFUSED) if java_available() else set()
    assert set(refused) == expected_refused, {k: v[-600:] for k, v in refused.items()}
    for name, words in REFUSED.items():
        if name in refused:
            out = refused[name]
            assert "LỖI / ERROR" in out and "not published" in out
            for word in words:
                assert word in out, (word, out)
    assert len(published) == len(CORPUS) - len(expected_refused)


def _entry(collector: CollectClient, form_id: str) -> dict:
    [entry] = collector.form_list(form_id)
    return entry


@pytest.mark.parametrize("path", [p for p in CORPUS if p.name not in REFUSED], ids=lambda p: p.name)
def test_listed_downloaded_manifest_and_media(corpus, path):
    _, collector, published, _ = corpus
    if path.name not in published:
        pytest.skip("refused (see the refusal test)")
    info = _source_info(path, published[path.name].output)
    entry = _entry(collector, info.form_id)
    xform = collector.download_form(entry)          # md5 checked against the list's hash
    served = read_xform(xform)
    assert served.form_id == info.form_id
    # the version listed is the one inside the served XForm: Collect submits exactly that one
    assert entry.get("version") and served.version == entry["version"]
    if info.version:
        if path.name != "central-encrypted.form.xml":   # collect-encrypted is published after it
            assert served.version == info.version
    else:
        # a form uploaded without a version: the server gave it one and wrote it in
        assert served.version.isdigit() and len(served.version) == 14
        assert "written into the XForm" in published[path.name].output
    if "manifestUrl" in entry:
        for media in collector.manifest(entry):
            collector.download_media(media)         # md5 checked against the manifest
    else:
        assert not [m for m in served.media if m in ("people.csv", "itemsets.csv")]


def _source_info(path: Path, output: str):
    """The form id and version the uploaded file itself holds (version None when it has none)."""
    if path.suffix == ".xml":
        return read_xform(path.read_bytes())
    from forms.compile import compile_file
    form = compile_file(path, validate=False)
    return read_xform(form.xform)


# --- a filled instance, then both exports -----------------------------------------------------

@dataclass
class Answer:
    repeat: str | None       # the enclosing repeat's path
    path: str                # the field's path from the root
    type: str
    value: str


def _value(ftype: str, n: int, choices) -> str:
    if ftype in ("int", "integer", "long", "short"):
        return str(100 + n)
    if ftype in ("decimal", "double", "float"):
        return f"{n}.25"
    if ftype == "date":
        return f"2026-11-{n % 28 + 1:02d}"
    if ftype == "dateTime":
        return f"2026-11-{n % 28 + 1:02d}T09:{n % 60:02d}:00.000+07:00"
    if ftype == "time":
        return f"10:{n % 60:02d}:00.000+07:00"
    if ftype == "geopoint":
        return f"16.{n:03d} 107.5 12.5 4"
    if ftype in ("geotrace", "geoshape"):
        return f"16.{n:03d} 107.5 0 0;16.5 107.{n:03d} 0 0"
    if ftype in ("select1", "select", "rank") and choices:
        values = [v for v, _ in choices if v and " " not in v]
        if values:
            return values[n % len(values)] if ftype == "select1" else " ".join(values[:2])
    if ftype == "binary":
        return f"tep_{n}.jpg"
    if ftype == "boolean":
        return "true"
    return f"giá trị {n} <&> \"x\""


def fill(xform: bytes) -> tuple[bytes, list[Answer]]:
    """An instance with a distinct value in every field (two entries in every repeat)."""
    info = read_xform(xform)
    fields = {f.path: f for f in info.fields}
    repeats = set(info.repeats)
    html = SafeET.fromstring(xform)
    root = next(iter(next(e for e in html.iter() if _local(e.tag) == "instance")))
    answers: list[Answer] = []
    counter = iter(range(1, 1_000_000))

    def children(node, prefix: str, repeat: str | None) -> str:
        parts, done = [], set()
        for child in node:
            name = _local(child.tag)
            path = prefix + name
            if path in repeats or child.get(JR_TEMPLATE) is not None:
                if path not in done:
                    done.add(path)
                    parts += [f"<{name}>{children(child, path + '/', path)}</{name}>" for _ in range(2)]
                continue
            if len(child):
                parts.append(f"<{name}>{children(child, path + '/', repeat)}</{name}>")
                continue
            field = fields.get(path)
            if path == "meta/instanceID":
                value = f"uuid:{uuid.uuid4()}"
            elif path.startswith("meta/") or field is None:
                parts.append(f"<{name}/>")
                continue
            else:
                value = _value(field.type, next(counter), field.choices)
            answers.append(Answer(repeat, path, field.type if field else "", value))
            parts.append(f"<{name}>{escape(value)}</{name}>")
        return "".join(parts)

    attrs = f" id={quoteattr(root.get('id'))}"
    version = root.get("version") or next((v for k, v in root.attrib.items() if _local(k) == "version"), None)
    if version is not None:
        attrs += f" version={quoteattr(version)}"
    name = _local(root.tag)
    xml = f"<?xml version='1.0' ?><{name}{attrs}>{children(root, '', None)}</{name}>"
    return xml.encode("utf-8"), answers


def _canon(value, ftype: str) -> str:
    """A value as text one way, whether it comes from the XML, a CSV cell or an XLSX cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # openpyxl reads every date cell as a datetime
        return value.date().isoformat() if ftype == "date" else value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, (int, float)):
        return repr(float(value))
    text = str(value)
    if ftype in ("int", "integer", "long", "short", "decimal", "double", "float"):
        return repr(float(text))
    if ftype == "dateTime" and len(text) > 19:
        return text[:19]         # the values sent are in +07:00, the exports' local time
    if ftype == "time":
        return text[:8]
    return text


def _exports(server, form_id: str):
    auth = ("admin", PASSWORD)
    base = f"{server.url}/api/v1/forms/{requests.utils.quote(form_id, safe='')}"
    xlsx = requests.get(base + "/export.xlsx", params={"headers": "names", "identifiers": "1", "lang": "en"},
                        auth=auth, timeout=60)
    assert xlsx.status_code == 200, xlsx.text
    zipped = requests.get(base + "/export.csv.zip", params={"identifiers": "1"}, auth=auth, timeout=60)
    assert zipped.status_code == 200, zipped.text
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    xlsx_columns: dict[str, list] = {}
    for ws in book.worksheets[1:]:
        rows = list(ws.iter_rows(values_only=True))
        for i, header in enumerate(rows[0] if rows else ()):
            xlsx_columns.setdefault(header, []).extend(r[i] for r in rows[1:])
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    csv_tables = {}
    for member in archive.namelist():
        if member.endswith(".csv"):
            csv_tables[member] = list(csv.DictReader(io.StringIO(archive.read(member).decode("utf-8"), newline="")))
    return xlsx_columns, csv_tables


def _csv_table(csv_tables: dict, form_id: str, repeat: str | None) -> list[dict]:
    stem = file_stem(form_id)
    if repeat is None:
        return csv_tables[f"{stem}.csv"]
    short = f"{stem}-{repeat.rsplit('/', 1)[-1]}.csv"
    return csv_tables.get(short) or csv_tables[f"{stem}-{repeat.replace('/', '-')}.csv"]


def _found_in_xlsx(columns: dict, answer: Answer) -> bool:
    if answer.type == "geopoint":
        parts = answer.value.split()
        got = [columns.get(f"{answer.path}-{p}", []) for p in ("Latitude", "Longitude", "Altitude", "Accuracy")]
        return any([_canon(c, "decimal") for c in row] == [_canon(p, "decimal") for p in parts]
                   for row in zip(*got))
    return _canon(answer.value, answer.type) in [_canon(c, answer.type) for c in columns.get(answer.path, [])]


def _found_in_csv(rows: list[dict], answer: Answer) -> bool:
    relative = answer.path[len(answer.repeat) + 1:] if answer.repeat else answer.path
    name = relative.replace("/", "-")
    if answer.type == "geopoint":
        parts = answer.value.split()
        return any([row.get(f"{name}-{p}") for p in ("Latitude", "Longitude", "Altitude", "Accuracy")] == parts
                   for row in rows)
    return any(row.get(name) == answer.value for row in rows)


@pytest.mark.parametrize("path", [p for p in CORPUS if p.name not in REFUSED and p.name not in ENCRYPTED],
                         ids=lambda p: p.name)
def test_submitted_values_reach_both_exports(corpus, path):
    server, collector, published, _ = corpus
    if path.name not in published:
        pytest.skip("refused (see the refusal test)")
    form_id = _source_info(path, "").form_id
    entry = _entry(collector, form_id)
    xml, answers = fill(collector.download_form(entry))
    assert answers, "the form has fields to answer"
    responses = collector.submit(xml)
    assert responses[-1].status_code == 201, responses[-1].text
    xlsx_columns, csv_tables = _exports(server, form_id)
    missing_xlsx = [a for a in answers if not _found_in_xlsx(xlsx_columns, a)]
    missing_csv = [a for a in answers if not _found_in_csv(_csv_table(csv_tables, form_id, a.repeat), a)]
    assert not missing_xlsx, missing_xlsx
    assert not missing_csv, missing_csv
    # the export names the version Collect was given
    root_rows = _csv_table(csv_tables, form_id, None)
    assert entry["version"] in {row["FormVersion"] for row in root_rows}
