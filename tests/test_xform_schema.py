"""forms.xform_schema.read_xform against real XForms (fixtures under tests/fixtures/odk) and pyxform output."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import openpyxl
import pytest

from forms.problems import FormProblems
from forms.xform_schema import XFormInfo, read_xform

from conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]


FIX = FIXTURES
XFORMS = sorted((FIX / "xform").glob("*.xml"))
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


def load(name: str) -> XFormInfo:
    return read_xform((FIX / "xform" / name).read_bytes())


def by_path(info: XFormInfo) -> dict:
    return {f.path: f for f in info.fields}


def test_fixture_xforms_are_present():
    assert len(XFORMS) >= 12, f"ODK fixtures not found under {FIX}"


@pytest.mark.parametrize("path", XFORMS, ids=lambda p: p.name)
def test_every_fixture_xform_reads(path):
    info = read_xform(path.read_bytes())
    assert info.form_id
    assert info.title
    paths = [f.path for f in info.fields]
    assert len(paths) == len(set(paths)), "each instance node is one field"
    for f in info.fields:
        assert f.name == f.path.rsplit("/", 1)[-1]
        assert not f.path.startswith(info.root + "/")
        if f.repeat is not None:
            assert f.repeat in info.repeats
            assert f.path.startswith(f.repeat + "/")
        if f.path in info.repeats:
            assert f.type == "repeat"
    assert list(info.media) == sorted(set(info.media))


def test_double_repeat_nested_repeats_from_body_and_orx_meta():
    info = load("central-doubleRepeat.form.xml")
    assert info.form_id == "doubleRepeat"
    assert info.version == "1.0"  # orx:version
    assert info.root == "data"
    assert info.title == "doubleRepeat"  # no <h:title>: falls back to the id
    assert info.repeats == ("children/child", "children/child/toys/toy")
    f = by_path(info)
    assert f["meta/instanceID"].type == "string"  # orx:meta/orx:instanceID, prefixes dropped
    assert f["children"].type == "group"
    assert f["children/child"].type == "repeat"
    assert f["children/child"].repeat is None
    assert f["children/child/name"].repeat == "children/child"
    assert f["children/child/toys/toy"].repeat == "children/child"
    assert f["children/child/toys/toy/name"].repeat == "children/child/toys/toy"
    assert f["children/child/toys/toy/name"].labels == {"default": "What is the toy's name?"}


def test_withrepeat_template_and_document_order():
    info = load("central-withrepeat.form.xml")
    assert [(x.path, x.type, x.repeat) for x in info.fields] == [
        ("meta", "group", None),
        ("meta/instanceID", "string", None),
        ("name", "string", None),
        ("age", "int", None),
        ("children", "group", None),
        ("children/child", "repeat", None),
        ("children/child/name", "string", "children/child"),
        ("children/child/age", "int", "children/child"),
    ]
    assert info.repeats == ("children/child",)
    assert info.languages == ("default",)


def test_repeat_groups_repeated_instances_give_one_field_and_itext_labels():
    info = load("collect-repeat_groups.xml")
    assert info.repeats == ("repeatGroup", "repeatGroupFieldList")
    f = by_path(info)
    assert f["repeatGroupFieldList/number1"].type == "int"
    assert f["repeatGroupFieldList/number1"].repeat == "repeatGroupFieldList"
    assert f["repeatGroup/text1"].labels == {"English": "text1"}
    assert f["text0"].type == ""  # no bind: default string
    assert info.languages == ("English",)


def test_binary_fields():
    info = load("central-binaryType.form.xml")
    f = by_path(info)
    assert f["file1"].type == "binary" and f["file2"].type == "binary"
    assert info.version is None
    assert info.encrypted is False


def test_select_multiple_in_group_without_items():
    info = load("central-selectMultiple.form.xml")
    f = by_path(info)
    assert f["q1"].type == "select"
    assert f["g1"].type == "group" and f["g1"].labels == {"default": "group"}
    assert f["g1/q2"].type == "select" and f["g1/q2"].choices == ()


def test_relative_bind_nodeset_and_numeric_version():
    info = load("collect-one-question.xml")
    assert info.form_id == "one_question" and info.version == "1"
    assert by_path(info)["age"].type == "int"


def test_external_csv_select_lists_media_and_no_choices():
    info = load("collect-external-csv-select.xml")
    assert info.media == ("people.csv",)
    person = by_path(info)["person"]
    assert person.type == "select1"
    assert person.choices == ()


def test_all_widgets_languages_media_and_inline_choices():
    info = load("collect-all-widgets.xml")
    assert info.version == "2019121101"
    assert info.languages == ("default", "French (fr)")
    assert {"a.jpg", "body.svg", "smile.png"} <= set(info.media)
    assert all("/" not in m and not m.startswith("jr:") for m in info.media)
    f = by_path(info)
    grid = f["select_one_widgets/grid_widget"]
    assert grid.type == "select1"
    assert grid.choices[0] == ("a", {"default": "A", "French (fr)": "-"})
    assert f["select_multi_widgets/select_multi_widget"].type == "select"
    assert f["rank_widget"].type == "rank"
    assert [v for v, _ in f["table_list_test/list_widget"].choices] == ["yes", "no", "dk", "na"]


@pytest.mark.parametrize("name", ["collect-encrypted.xml", "central-encrypted.form.xml"])
def test_encrypted_forms(name):
    info = load(name)
    assert info.encrypted is True


def test_collect_encrypted_root_name():
    info = load("collect-encrypted.xml")
    assert info.root == "encrypted" and info.form_id == "encrypted"
    assert [x.path for x in info.fields] == ["question", "meta", "meta/instanceID"]


# --- pyxform output -----------------------------------------------------------

def _xlsx(sheets: dict) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pyxform(sheets: dict) -> bytes:
    from pyxform.xls2xform import convert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return convert(xlsform=io.BytesIO(_xlsx(sheets)), validate=False).xform.encode("utf-8")


NESTED = {
    "survey": [
        ["type", "name", "label::Tiếng Việt (vi)", "label::English (en)"],
        ["begin_group", "hh", "Hộ", "Household"],
        ["select_one yn", "has_members", "Có thành viên?", "Any members?"],
        ["begin_repeat", "member", "Thành viên", "Member"],
        ["text", "mname", "Tên: ${has_members}", "Name"],
        ["begin_group", "contact", "Liên hệ", "Contact"],
        ["integer", "age", "Tuổi", "Age"],
        ["begin_repeat", "phone", "Điện thoại", "Phone"],
        ["select_multiple yn", "kinds", "Loại", "Kinds"],
        ["end_repeat", "phone", None, None],
        ["end_group", "contact", None, None],
        ["end_repeat", "member", None, None],
        ["end_group", "hh", None, None],
        ["image", "photo", "Ảnh", "Photo"],
    ],
    "choices": [
        ["list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)"],
        ["yn", "yes", "Có", "Yes"],
        ["yn", "no", "Không", "No"],
    ],
    "settings": [["form_id", "version"], ["nested", "7"]],
}


def test_pyxform_nested_groups_and_repeats():
    info = read_xform(_pyxform(NESTED))
    assert info.form_id == "nested" and info.version == "7"
    assert info.repeats == ("hh/member", "hh/member/contact/phone")
    f = by_path(info)
    assert f["hh/member/contact/age"].type == "int"
    assert f["hh/member/contact/age"].repeat == "hh/member"
    assert f["hh/member/contact/phone/kinds"].type == "select"
    assert f["hh/member/contact/phone/kinds"].repeat == "hh/member/contact/phone"
    assert f["hh/member/contact/phone"].repeat == "hh/member"
    assert f["hh/has_members"].type == "select1"
    assert f["hh/has_members"].repeat is None
    assert f["hh/has_members"].choices == (
        ("yes", {"Tiếng Việt (vi)": "Có", "English (en)": "Yes"}),
        ("no", {"Tiếng Việt (vi)": "Không", "English (en)": "No"}),
    )
    assert f["hh/member/mname"].labels["Tiếng Việt (vi)"] == "Tên: ${has_members}"
    assert f["hh/member"].labels == {"Tiếng Việt (vi)": "Thành viên", "English (en)": "Member"}
    assert f["photo"].type == "binary"
    assert info.languages == ("Tiếng Việt (vi)", "English (en)")
    # pyxform writes the repeat twice (jr:template + one instance): still one field each
    assert [x.path for x in info.fields].count("hh/member/mname") == 1


# --- what cannot be read ---------------------------------------------------------

def _assert_vietnamese_problem(exc: FormProblems):
    assert exc.problems
    p = exc.problems[0]
    assert p.severity == "error"
    assert VIETNAMESE.search(p.message_vi), p.message_vi
    assert p.message_en and p.message_en != p.message_vi


def test_malformed_xml():
    with pytest.raises(FormProblems) as ei:
        read_xform(b"<h:html><h:head><model><instance><data id='x'>")
    _assert_vietnamese_problem(ei.value)


def test_not_xml_at_all():
    with pytest.raises(FormProblems) as ei:
        read_xform(b"PK\x03\x04 this is a zip, not an XForm")
    _assert_vietnamese_problem(ei.value)


def test_entities_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<html><head><model><instance><data id="x">&lol2;</data></instance></model></head></html>'
    )
    with pytest.raises(FormProblems) as ei:
        read_xform(bomb)
    _assert_vietnamese_problem(ei.value)
    assert "DTD" in ei.value.problems[0].message_vi


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<html><head><model><instance><data id="x"><a>&x;</a></data></instance></model></head></html>'
    ).encode()
    with pytest.raises(FormProblems):
        read_xform(doc)


def test_no_primary_instance():
    with pytest.raises(FormProblems) as ei:
        read_xform(b'<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head><model/></h:head></h:html>')
    _assert_vietnamese_problem(ei.value)
    assert "instance" in ei.value.problems[0].message_vi


def test_no_form_id():
    with pytest.raises(FormProblems) as ei:
        read_xform(b"<html><head><model><instance><data><a/></data></instance></model></head></html>")
    _assert_vietnamese_problem(ei.value)
    assert '"id"' in ei.value.problems[0].message_vi


def test_undeclared_prefix_and_relative_body_refs():
    doc = b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">
      <h:head><h:title>Odd</h:title><model>
        <instance><data id="odd" orx:version="3"><orx:meta><orx:instanceID/></orx:meta>
          <g><q/><r/></g></data></instance>
        <bind nodeset="/data/g/q" type="xsd:int"/>
        <bind nodeset="g/r" type="odk:decimal"/>
      </model></h:head>
      <h:body><group ref="/data/g"><label>G</label>
        <input ref="q"><label>Q <output value=" /data/g/r "/> end</label></input>
        <input ref="./r"><label>R</label></input>
      </group></h:body></h:html>"""
    info = read_xform(doc)
    assert info.version == "3"
    f = by_path(info)
    assert f["meta/instanceID"].type == ""
    assert f["g/q"].type == "int"
    assert f["g/r"].type == "decimal"
    assert f["g/q"].labels == {"default": "Q ${r} end"}
    assert f["g/r"].labels == {"default": "R"}


def test_media_kinds_deduplicated():
    doc = b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
      xmlns:jr="http://openrosa.org/javarosa"><h:head><h:title>M</h:title><model>
      <itext><translation lang="en"><text id="t"><value>T</value>
        <value form="image">jr://images/sub/pic.png</value><value form="audio">jr://audio/a.mp3</value>
        <value form="video">jr://video/v.mp4</value></text></translation></itext>
      <instance><data id="m" version="1"><a/><b/></data></instance>
      <instance id="units" src="jr://file-csv/units.csv"/>
      <instance id="geo" src="jr://file/shapes.geojson"/>
      <bind nodeset="/data/b" calculate="pulldata('prices', 'p', 'k', /data/a)"/>
      </model></h:head><h:body><input ref="/data/a"><label ref="jr:itext('t')"/></input>
      <select1 ref="/data/a" appearance="search('fruits')"><label>x</label></select1>
      <input ref="/data/b"><label ref="jr:itext('t')"/></input></h:body></h:html>"""
    info = read_xform(doc)
    assert info.media == (
        "a.mp3", "fruits.csv", "pic.png", "prices.csv", "shapes.geojson", "units.csv", "v.mp4",
    )
    assert info.languages == ("en", "default")
    assert by_path(info)["a"].labels == {"en": "T"}


def test_repeat_known_only_from_jr_template():
    doc = b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
      xmlns:jr="http://openrosa.org/javarosa"><h:head><h:title>T</h:title><model>
      <instance><data id="tpl"><visit jr:template=""><when/></visit><visit><when/></visit><n/></data></instance>
      <bind nodeset="/data/visit/when" type="date"/></model></h:head><h:body/></h:html>"""
    info = read_xform(doc)
    assert info.repeats == ("visit",)
    assert [(f.path, f.type, f.repeat) for f in info.fields] == [
        ("visit", "repeat", None), ("visit/when", "date", "visit"), ("n", "", None)]
