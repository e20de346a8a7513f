"""Bounded reading of uploaded questionnaires (forms.bounds): an XForm past the element, depth,
attribute or text limits, and an .xlsx that is a zip bomb (too many members, or members that
inflate past the limit), are refused while being read, with a message that says which limit."""
from __future__ import annotations

import io
import struct
import zipfile

import pytest

from forms import bounds, compile_xform, compile_xlsform
from forms.problems import FormProblems
from test_forms_compile import GOOD, xlsx

HEAD = (b'<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">'
        b"<h:head><h:title>T</h:title><model><instance>")
TAIL = b"</instance></model></h:head><h:body/></h:html>"


def xform(inside: bytes, root_attrs: bytes = b'id="big" version="1"') -> bytes:
    return HEAD + b"<data " + root_attrs + b">" + inside + b"</data>" + TAIL


def refusal(data: bytes, compile=compile_xform) -> str:
    with pytest.raises(FormProblems) as ei:
        compile(data, validate=False)
    [problem] = ei.value.problems
    assert problem.is_error and problem.message_vi != problem.message_en
    return problem.message_en


def test_a_form_below_the_limits_is_read():
    form = compile_xform(xform(b"".join(b"<a%d/>" % i for i in range(1000))), validate=False)
    assert [f.path for f in form.info.fields] == [f"a{i}" for i in range(1000)]


def test_too_many_elements():
    assert f"{bounds.MAX_XFORM_ELEMENTS:,}" in refusal(xform(b"<a/>" * (bounds.MAX_XFORM_ELEMENTS + 1)))


def test_too_deep():
    depth = bounds.MAX_XFORM_DEPTH + 5
    message = refusal(xform(b"<a>" * depth + b"</a>" * depth))
    assert f"deeper than {bounds.MAX_XFORM_DEPTH}" in message


def test_too_many_attributes_on_one_element():
    attrs = b" ".join(b'x%d="1"' % i for i in range(bounds.MAX_XFORM_ATTRIBUTES + 1))
    assert f"more than {bounds.MAX_XFORM_ATTRIBUTES} attributes" in refusal(xform(b"<a " + attrs + b"/>"))


def test_one_text_too_long():
    text = b"x" * (bounds.MAX_XFORM_TEXT + 1)
    assert "text longer than" in refusal(xform(b"<a>" + text + b"</a>"))


def test_too_many_bytes():
    data = xform(b"<a/>" + b" " * (bounds.MAX_XFORM_BYTES + 1))
    assert f"{len(data):,} bytes" in refusal(data)


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def test_an_xlsx_bomb_is_refused_before_reading():
    good = xlsx(GOOD)
    assert compile_xlsform(good, "good.xlsx", validate=False).form_id == "test_form"
    # about 100 kB on the wire, more than the limit once inflated
    bomb = _with_member(good, "xl/media/zeros.bin", bytes(bounds.MAX_XLSX_UNCOMPRESSED + 1))
    assert len(bomb) < 200_000
    message = refusal(bomb, lambda data, validate: compile_xlsform(data, "bomb.xlsx", validate=validate))
    assert "inflates to" in message and f"{bounds.MAX_XLSX_UNCOMPRESSED:,}" in message


def test_an_xlsx_of_too_many_members_is_refused():
    data = xlsx(GOOD)
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        for i in range(bounds.MAX_XLSX_MEMBERS):
            archive.writestr(f"xl/media/{i}.txt", b"")
    message = refusal(buffer.getvalue(), lambda d, validate: compile_xlsform(d, "many.xlsx", validate=validate))
    assert "members" in message


def test_an_xlsx_lying_about_its_sizes_inflates_no_further_than_declared():
    """Sizes declared small for a member that inflates to megabytes: the member is read only as far
    as declared (and then fails its checksum), so the upload is read or refused, never inflated."""
    big = bytes(5 * 1024 * 1024)
    data = _with_member(xlsx(GOOD), "xl/media/liar.bin", big)
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = data.rindex(signature)
        data = data[:at + offset] + struct.pack("<I", 1000) + data[at + offset + 4:]
    bounds.check_xlsx_container(data)       # nothing past the declared 1000 bytes was inflated
    try:
        form = compile_xlsform(data, "liar.xlsx", validate=False)
        assert form.form_id == "test_form"
    except FormProblems as exc:
        assert exc.errors


def test_a_form_listing_every_commune_stays_well_within_the_limits():
    """About 10,600 communes in Vietnam: a choice list of 11,000 rows is the largest real case."""
    from test_forms_compile import SCALE_CHOICES, row
    choices = SCALE_CHOICES + [["xa", f"x{i:05d}", f"Xã số {i} thuộc huyện {i // 100}"] for i in range(11_000)]
    data = xlsx(GOOD + [row("select_one xa", "commune")], choices=choices)
    inflated = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert inflated * 4 < bounds.MAX_XLSX_UNCOMPRESSED
    form = compile_xlsform(data, "communes.xlsx", validate=False)
    assert len(form.info.get("commune").choices) == 11_000
    elements = form.xform.count(b"</") + form.xform.count(b"/>")        # each element closes once
    assert elements * 4 < bounds.MAX_XFORM_ELEMENTS
