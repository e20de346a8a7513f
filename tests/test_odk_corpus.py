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

from tests.harness.site import LiveServer, seed
from tests.harness.collect_client import CollectClient
from conftest import FIXTURES, PASSWORD, cli
from exports.schema import file_stem
from forms.compile import java_available
from forms.xform_schema import read_xform

JR_TEMPLATE = "{http://openrosa.org/javarosa}template"

CORPUS = sorted([*(FIXTURES / "xform").glob("*.xml"), *(FIXTURES / "xlsform").glob("*.xlsx")])
# refused, with the words that must name the cause in the command's output
REFUSED = {
    # ODK Validate (JavaRosa): a select without a single choice cannot be shown by Collect
    "central-selectMultiple.form.xml": ("Validate", "one", "choices"),
    # dependency cycles, an XPath syntax error, an unknown function: the failing field and expression
    "webforms-geoshape.xml": ("Validate", "vòng", "/data/geo"),
    "webforms-geotrace.xml": ("Validate", "vòng", "/data/geo"),
    "webforms-simple-dag-cycle.xml": ("Validate", "vòng", "/data/group/a"),
    "webforms-xpath-syntax-error.xml": ("Validate", "/root/second-question", "/root/first-question ? 2"),
    "webforms-xpath-unknown-function.xml": ("Validate", "/root/first-question", '"nope"'),
}
# the instance envelopes of encrypted forms carry no readable answers to export
ENCRYPTED = {"central-encrypted.form.xml", "collect-encrypted.xml"}
# Some fixtures share a form id ("encrypted", "static-selects", ...): published in this order, the
# later one is a newer version of the same form, and the earlier one stays downloadable and receivable.
PUBLISH_ORDER = CORPUS


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


@dataclass
class Published:
    form_id: str
    version: str             # the version this fixture was published as
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
        form_id = _source_info(path).form_id
        prefix = f"Published {form_id} version "
        line = next(line for line in result.output.splitlines() if prefix in line)
        published[path.name] = Published(form_id, line.split(prefix, 1)[1].rstrip("."), result.output)
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


def _entry_of(collector: CollectClient, server, published: Published) -> dict:
    """The form list's entry when this fixture is the form's newest version; otherwise the entry
    Collect had for it before the newer version came (same URLs, from storage)."""
    entry = _entry(collector, published.form_id)
    if entry["version"] == published.version:
        return entry
    import storage
    from storage import forms as stored
    db = storage.connect(server.data_dir, migrate=False)
    try:
        row = stored.get_version(db, published.form_id, published.version)
        has_media = bool(stored.version_media(db, row["id"])) or bool(row["conventions"].get("media"))
    finally:
        db.close()
    base = (f"{collector.server_url}/forms/{requests.utils.quote(published.form_id, safe='')}"
            f"/versions/{requests.utils.quote(published.version, safe='/')}")
    older = {"formID": published.form_id, "version": published.version, "hash": f"md5:{row['xform_md5']}",
             "downloadUrl": f"{base}/form.xml"}
    if has_media:
        older["manifestUrl"] = f"{base}/manifest"
    return older


@pytest.mark.parametrize("path", [p for p in CORPUS if p.name not in REFUSED], ids=lambda p: p.name)
def test_listed_downloaded_manifest_and_media(corpus, path):
    server, collector, published, _ = corpus
    if path.name not in published:
        pytest.skip("refused (see the refusal test)")
    info = _source_info(path)
    entry = _entry_of(collector, server, published[path.name])
    xform = collector.download_form(entry)          # md5 checked against the list's hash
    served = read_xform(xform)
    assert served.form_id == info.form_id
    # the version listed is the one inside the served XForm: Collect submits exactly that one
    assert entry.get("version") and served.version == entry["version"]
    if info.version:
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


def _source_info(path: Path):
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
    # a choice whose code is a number (a rating) is written to the workbook as that number
    if ftype in ("int", "integer", "long", "short", "decimal", "double", "float") or (
            ftype == "select1" and text.lstrip("-").replace(".", "", 1).isdigit()):
        return repr(float(text))
    if ftype == "dateTime" and len(text) > 19:
        return text[:19]         # the values sent are in +07:00, the exports' local time
    if ftype == "time":
        return text[:8]
    return text


def _exports(server, form_id: str):
    auth = ("admin", PASSWORD)
    base = f"{server.url}/api/v1/forms/{requests.utils.quote(form_id, safe='')}"
    # values=codes: the answers as sent (the workbook's default shows a choice's label)
    xlsx = requests.get(base + "/export.xlsx", params={"headers": "names", "identifiers": "1", "lang": "en",
                                                       "values": "codes"},
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
    form_id = published[path.name].form_id
    entry = _entry_of(collector, server, published[path.name])
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


# --- the cases the corpus showed, made from its forms ----------------------------------------------

def _variant(fixture: str, *replacements: tuple[str, str]) -> bytes:
    text = (FIXTURES / "xform" / fixture).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def _publish(server, tmp_path: Path, name: str, xform: bytes, *media: Path):
    path = tmp_path / name
    path.write_bytes(xform)
    for file in media:
        (tmp_path / file.name).write_bytes(file.read_bytes())
    return cli(server.data_dir, "forms", "publish", str(path))


def test_a_calculated_field_used_as_a_groups_ref_keeps_its_value(corpus, tmp_path):
    server, collector, _, _ = corpus
    # central-simple with `total` calculated from age, and the age question inside a group whose
    # ref is `total` (JavaRosa accepts it; the node stays a field with a value)
    xform = _variant(
        "central-simple.form.xml",
        ('id="simple"', 'id="simple_calc_group" version="1"'),
        ("<age/>", "<age/><total/>"),
        ('<bind nodeset="/data/age" type="int"/>',
         '<bind nodeset="/data/age" type="int"/><bind nodeset="/data/total" type="string" calculate="/data/age * 2"/>'),
        ('<input ref="/data/age">', '<group ref="/data/total"><label>Total</label><input ref="/data/age">'),
        ("</h:body>", "</group></h:body>"))
    result = _publish(server, tmp_path, "calc_group.xml", xform)
    assert result.exit_code == 0, result.output
    xml, answers = fill(collector.download_form(_entry(collector, "simple_calc_group")))
    assert "total" in {a.path for a in answers}
    assert collector.submit(xml)[-1].status_code == 201
    xlsx_columns, csv_tables = _exports(server, "simple_calc_group")
    for answer in answers:
        assert _found_in_xlsx(xlsx_columns, answer), answer
        assert _found_in_csv(_csv_table(csv_tables, "simple_calc_group", None), answer), answer


@pytest.mark.parametrize("form_id, version", [("2_xep_hang", "05/12/2026"), ("Phiếu số 1", "v1.0 beta?#&%")])
def test_ids_and_versions_odk_accepts_work_from_list_to_export(corpus, tmp_path, form_id, version):
    server, collector, _, _ = corpus
    # collect-external-csv-select, whose manifest carries people.csv, under another id and version
    xform = _variant("collect-external-csv-select.xml",
                     ('id="external_csv_select" version="1"', f"id={quoteattr(form_id)} version={quoteattr(version)}"))
    result = _publish(server, tmp_path, "variant.xml", xform, FIXTURES / "xform" / "people.csv")
    assert result.exit_code == 0, result.output
    entry = _entry(collector, form_id)
    assert entry["version"] == version
    assert read_xform(collector.download_form(entry)).version == version
    [media] = collector.manifest(entry)
    assert collector.download_media(media) == (FIXTURES / "xform" / "people.csv").read_bytes()
    xml, answers = fill(collector.download_form(entry))
    assert collector.submit(xml)[-1].status_code == 201
    xlsx_columns, csv_tables = _exports(server, form_id)
    assert all(_found_in_xlsx(xlsx_columns, a) for a in answers)
    rows = _csv_table(csv_tables, form_id, None)
    assert all(_found_in_csv(rows, a) for a in answers) and [r["FormVersion"] for r in rows] == [version]


def test_a_versionless_form_is_used_by_collect_from_start_to_finish(corpus, tmp_path):
    server, collector, _, _ = corpus
    xform = _variant("central-simple.form.xml", ('id="simple"', 'id="simple_no_version"'))
    first = _publish(server, tmp_path, "nv.xml", xform)
    assert first.exit_code == 0, first.output
    entry = _entry(collector, "simple_no_version")
    served = collector.download_form(entry)
    assert read_xform(served).version == entry["version"] and entry["version"].isdigit()
    # publishing the same bytes again changes nothing; other bytes make a new version
    again = _publish(server, tmp_path, "nv.xml", xform)
    assert again.exit_code == 0 and entry["version"] in again.output and "unchanged" in again.output
    assert _entry(collector, "simple_no_version") == entry
    xml, answers = fill(served)
    assert collector.submit(xml)[-1].status_code == 201
    # an instance filled elsewhere from the versionless original (no version attribute) still lands
    plain = (f"<data id=\"simple_no_version\"><meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta>"
             "<name>Không phiên bản</name><age>41</age></data>").encode("utf-8")
    assert collector.submit(plain)[-1].status_code == 201
    changed = _variant("central-simple.form.xml", ('id="simple"', 'id="simple_no_version"'),
                       ("What is your age?", "How old are you?"))
    second = _publish(server, tmp_path, "nv2.xml", changed)
    assert second.exit_code == 0, second.output
    newer = _entry(collector, "simple_no_version")
    assert newer["version"] != entry["version"]
    assert read_xform(collector.download_form(newer)).version == newer["version"]
    _, csv_tables = _exports(server, "simple_no_version")
    rows = _csv_table(csv_tables, "simple_no_version", None)
    assert {r["name"] for r in rows} == {a.value for a in answers if a.path == "name"} | {"Không phiên bản"}


def test_a_form_validate_rejects_is_not_published_through_the_web_either(corpus, tmp_path):
    if not java_available():
        pytest.skip("ODK Validate needs java")
    server, collector, _, _ = corpus
    xform = _variant("central-simple.form.xml", ('id="simple"', 'id="simple_bad_xpath" version="1"'),
                     ('<bind nodeset="/data/age" type="int"/>',
                      '<bind nodeset="/data/age" type="int" constraint=". &gt; 3 and (("/>'))
    result = _publish(server, tmp_path, "bad.xml", xform)
    assert result.exit_code == 1
    # the designer's language, the XForm's own path and the failing expression
    assert "/data/age" in result.output and ". > 3 and ((" in result.output and "ngoặc" in result.output
    upload = _web_upload(server, "bad.xml", xform)
    assert upload.status_code == 422 and "/data/age" in upload.text
    assert collector.form_list("simple_bad_xpath") == []


def _web_upload(server, filename: str, content: bytes, web: requests.Session | None = None) -> requests.Response:
    """The questionnaire upload page, as an administrator in a browser would use it."""
    web = web or requests.Session()

    def token(path: str) -> str:
        page = web.get(f"{server.url}{path}", timeout=30)
        return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = web.post(f"{server.url}/login", data={"name": "admin", "password": PASSWORD, "csrf_token": token("/login")},
                      timeout=30, allow_redirects=False)
    assert signed.status_code == 302
    return web.post(f"{server.url}/questionnaires/upload", data={"csrf_token": token("/questionnaires/upload")},
                    files={"file": (filename, content, "application/octet-stream")}, timeout=120)


def test_a_zip_bomb_uploaded_on_the_web_page_is_refused(corpus):
    from forms import bounds
    from test_forms_compile import GOOD, xlsx
    server, _, _, _ = corpus
    buffer = io.BytesIO(xlsx(GOOD, settings={"form_id": "bom_zip", "version": "1"}))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", bytes(bounds.MAX_XLSX_UNCOMPRESSED + 1))
    upload = _web_upload(server, "bom.xlsx", buffer.getvalue())
    assert upload.status_code == 422
    assert "giải nén ra" in upload.text and "inflates to" not in upload.text     # Vietnamese page


def test_a_version_published_empty_before_still_downloads(corpus):
    """Databases from before versions were given out may hold a version "": it is listed with
    URLs that route (…/versions//form.xml) and its download and manifest answer."""
    import hashlib

    import storage
    from actions.publish import field_rows
    from forms import compile_xform
    from storage import forms as stored

    server, collector, _, _ = corpus
    xform = _variant("collect-external-csv-select.xml", ('id="external_csv_select" version="1"', 'id="legacy_empty"'))
    compiled = compile_xform(xform, validate=False)
    people = (FIXTURES / "xform" / "people.csv").read_bytes()
    db = storage.connect(server.data_dir)
    try:
        stored.publish_version(
            db, form_id="legacy_empty", version="", title=compiled.title, xlsform=None, xform=xform,
            xform_md5=hashlib.md5(xform).hexdigest(), fields=field_rows(compiled),
            conventions={**compiled.conventions, "media": ["people.csv"]}, media={"people.csv": people},
            media_md5={"people.csv": hashlib.md5(people).hexdigest()}, unit_code=None, actor="test")
    finally:
        db.close()
    entry = _entry(collector, "legacy_empty")
    assert "/versions//form.xml" in entry["downloadUrl"]
    assert collector.download_form(entry) == xform
    [media] = collector.manifest(entry)
    assert collector.download_media(media) == people


def test_a_taken_version_is_explained_in_the_xforms_own_terms(corpus, tmp_path):
    server, collector, _, _ = corpus
    first = _variant("central-simple.form.xml", ('id="simple"', 'id="simple_taken" version="7"'))
    assert _publish(server, tmp_path, "v7.xml", first).exit_code == 0
    other = _variant("central-simple.form.xml", ('id="simple"', 'id="simple_taken" version="7"'),
                     ("What is your name?", "Your name?"))
    result = _publish(server, tmp_path, "v7b.xml", other)
    assert result.exit_code == 1
    assert "<data>" in result.output and "version" in result.output and "settings" not in result.output
    assert read_xform(collector.download_form(_entry(collector, "simple_taken"))).title == "Simple"


def test_a_versionless_form_published_on_the_web_page(corpus):
    server, collector, _, _ = corpus
    xform = _variant("central-simple.form.xml", ('id="simple"', 'id="simple_web_nv"'))
    web = requests.Session()
    preview = _web_upload(server, "nv.xml", xform, web)
    assert preview.status_code == 200 and "máy chủ đặt khi xuất bản" in preview.text
    action = next(part.split('"', 1)[0] for part in preview.text.split('action="')[1:] if "/publish" in part.split('"', 1)[0])
    token = preview.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = web.post(f"{server.url}{action}", data={"csrf_token": token}, timeout=120)
    assert done.status_code == 200
    entry = _entry(collector, "simple_web_nv")
    assert entry["version"] in done.text and read_xform(collector.download_form(entry)).version == entry["version"]
    # the same file again: the preview names the version it already has, and says nothing changes
    again = _web_upload(server, "nv.xml", xform, web)
    assert entry["version"] in again.text and "không thay đổi gì" in again.text
