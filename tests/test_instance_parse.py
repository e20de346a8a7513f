"""Reading submission XML: real instances from the ODK ecosystem and hostile ones."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from actions.receive.flatten import flatten
from actions.receive.parse import InstanceError, parse_instance, parse_tree

from conftest import FIXTURES

SUBMISSIONS = FIXTURES / "submissions"


@pytest.mark.parametrize("name, form_id, version, instance_id", [
    ("central-simple.one.submission.xml", "simple", "", "one"),
    ("central-withrepeat.two.submission.xml", "withrepeat", "1.0", "rtwo"),
    # orx: prefix used without a declaration, as Central's own test data does
    ("central-doubleRepeat.double.submission.xml", "doubleRepeat", "1.0", "double"),
    ("central-encrypted.one.submission.xml", "encrypted", "working3",
     "uuid:dcf4a151-5088-453f-99e6-369d67828f7a"),
    ("collect-One_Question_2021-06-22_15-55-50.xml", "one_question", "1", None),
    ("ona-nested_repeats_01.xml", "nested_repeats", "", "uuid:0a2a8ef5-5d82-4e43-a267-74037b0e9ea4"),
])
def test_real_instances(name, form_id, version, instance_id):
    inst = parse_instance((SUBMISSIONS / name).read_bytes())
    assert (inst.form_id, inst.version, inst.instance_id) == (form_id, version, instance_id)
    assert inst.encrypted == (form_id == "encrypted")


def test_flatten_nested_repeats_links_rows_to_parents():
    inst = parse_instance((SUBMISSIONS / "central-doubleRepeat.double.submission.xml").read_bytes())
    fields = [{"path": "name", "type": "string"}, {"path": "children", "type": "group"},
              {"path": "children/child", "type": "repeat", "repeat": None},
              {"path": "children/child/name", "type": "string", "repeat": "children/child"},
              {"path": "children/child/toys", "type": "group", "repeat": "children/child"},
              {"path": "children/child/toys/toy", "type": "repeat", "repeat": "children/child"},
              {"path": "children/child/toys/toy/name", "type": "string", "repeat": "children/child/toys/toy"}]
    flat = flatten(inst.root, fields)
    assert flat.values == {"name": "Vick"}
    children = [r for r in flat.repeat_rows if r.repeat == "children/child"]
    toys = [r for r in flat.repeat_rows if r.repeat == "children/child/toys/toy"]
    assert [c.values["children/child/name"] for c in children] == ["Alice", "Bob", "Chelsea"]
    assert [c.index for c in children] == [1, 2, 3]
    bob, chelsea = children[1], children[2]
    assert [t.values["children/child/toys/toy/name"] for t in toys if t.parent_key == bob.key] == [
        "Twilight Sparkle", "Pinkie Pie", "Applejack", "Spike"]
    assert [t.index for t in toys if t.parent_key == chelsea.key] == [1, 2, 3, 4]
    assert not [t for t in toys if t.parent_key == children[0].key]


def test_sensitive_fields_go_to_identifiers_not_answers():
    inst = parse_instance(b"<d id='f'><name>Nguyen Van A</name><q>5</q><meta><instanceID>x</instanceID></meta></d>")
    flat = flatten(inst.root, [{"path": "name", "type": "string", "sensitive": True},
                               {"path": "q", "type": "select1"}])
    assert flat.values == {"q": "5"}
    assert flat.identifiers == {"name": "Nguyen Van A"}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="x"><q>&lol3;</q></data>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><data id="x"><q>&e;</q></data>"""
PARAM = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><data id="x"/>"""


@pytest.mark.parametrize("data, reason", [
    (BILLION_LAUGHS, "dtd"),
    (EXTERNAL, "dtd"),
    (PARAM, "dtd"),
    (b"<data id='x'><q>&undefined;</q></data>", "malformed"),
    (b"<data id='x'><q>unclosed</data>", "malformed"),
    (b"", "malformed"),
    (b"<data><q>1</q></data>", "no_form_id"),
    ("<data id='x'><q>Cà phê Huế</q></data>".encode("utf-16"), "not_utf8"),
    ("<data id='x'><q>Café</q></data>".encode("latin-1"), "not_utf8"),
    (b"<?xml version='1.0' encoding='ISO-8859-1'?><data id='x'/>", "not_utf8"),
    (b"<a id='x'>" + b"<b>" * 100 + b"</b>" * 100 + b"</a>", "too_deep"),
])
def test_hostile_xml_is_refused_with_a_reason(data, reason):
    with pytest.raises(InstanceError) as caught:
        parse_instance(data)
    assert caught.value.reason == reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: f"<data id='f'>{t}</data>".encode()))
def test_parser_never_fails_other_than_instance_error(data):
    try:
        inst = parse_instance(data)
    except InstanceError:
        return
    assert inst.form_id


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=50))
def test_text_values_survive_escaping(value):
    from xml.sax.saxutils import escape
    tree = parse_tree(f"<d id='f'><q>{escape(value)}</q></d>".encode("utf-8"))
    assert tree.child("q").text == value


def test_limits_stop_the_parser_at_the_first_element_over_them():
    from actions.receive.parse import Limits
    small = Limits(elements=10, attributes=2, text=5, nodes=30)
    assert parse_tree(b"<d id='f'>" + b"<e/>" * 9 + b"</d>", small).children[8].name == "e"
    for data, reason in [(b"<d id='f'>" + b"<e/>" * 10 + b"</d>", "too_many_nodes"),
                         (b"<d id='f'><e a='1' b='2' c='3'/></d>", "too_many_attributes"),
                         (b"<d id='f'><e>123456</e></d>", "text_too_long"),
                         # 5 characters in two runs around a child still count as one element's text
                         (b"<d id='f'><e>123<x/>456</e></d>", "text_too_long"),
                         # 9 elements, but 34 nodes with their attributes and text
                         (b"<d id='f'>" + b"<e a='1' b='2'>1</e>" * 8 + b"</d>", "too_many_nodes")]:
        with pytest.raises(InstanceError) as caught:
            parse_tree(data, small)
        assert caught.value.reason == reason, data
    # the limits can depend on the form the root element names, read before anything else
    seen = []

    def by_form(attrs):
        seen.append(dict(attrs))
        return small if attrs.get("id") == "nho" else Limits(1000, 64, 1000, 3000)

    assert len(parse_tree(b"<d id='lon' version='2'>" + b"<e/>" * 20 + b"</d>", by_form).children) == 20
    with pytest.raises(InstanceError):
        parse_tree(b"<d id='nho'>" + b"<e/>" * 20 + b"</d>", by_form)
    assert seen == [{"id": "lon", "version": "2"}, {"id": "nho"}]
