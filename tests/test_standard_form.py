"""The province's standard questionnaire, forms/tthc_hailong.xlsx."""

from __future__ import annotations

import shutil
import warnings

import defusedxml.ElementTree as SafeET
import openpyxl
import pytest

from tests.harness.instances import STANDARD_ITEMS
from forms import STANDARD_FORM, compile_file

HAS_JAVA = shutil.which("java") is not None
VI = "Tiếng Việt (vi)"
EN = "English (en)"
XF = "{http://www.w3.org/2002/xforms}"


EXPECTED_CONVENTIONS = {
    "criteria": {
        f"main/{crit}/{name}": crit for crit, names in STANDARD_ITEMS.items() for name in names
    },
    "scale": ["1", "2", "3", "4", "5"],
    "satisfied": ["4", "5"],
    "roles": {
        "start": "start",
        "end": "end",
        "today": "today",
        "deviceid": "deviceid",
        "consent": "consent",
        "respondent": "respondent",
        "contact_outcome": "contact_outcome",
        "procedure_field": "main/procedure_field",
        "dossier_code": "main/dossier_code",
        "unit": "main/unit",
        "channel": "main/channel",
    },
    "sensitive": ["respondent", "main/dossier_code"],
}


@pytest.fixture(scope="module")
def form():
    # ODK Validate runs once here when java is present (the form must pass it).
    return compile_file(STANDARD_FORM, validate=HAS_JAVA)


@pytest.fixture(scope="module")
def xml(form):
    return SafeET.fromstring(form.xform, forbid_dtd=True)


@pytest.fixture(scope="module")
def fields(form):
    return {f.path: f for f in form.info.fields}


@pytest.mark.skipif(not HAS_JAVA, reason="ODK Validate needs java")
def test_passes_odk_validate_without_warnings(form):
    assert form.warnings == []


def test_identity(form):
    assert form.form_id == "tthc_hailong"
    assert form.version == "2026120501"
    assert form.title == "Phiếu khảo sát sự hài lòng về giải quyết thủ tục hành chính"
    assert form.info.languages == (VI, EN)
    assert form.itemsets_csv is None


def test_default_language_is_vietnamese(xml):
    translations = xml.iter(f"{XF}translation")
    defaults = [t.get("lang") for t in translations if t.get("default") == "true()"]
    assert defaults == [VI]


def test_conventions_exactly(form):
    assert form.conventions == EXPECTED_CONVENTIONS
    per_criterion = {}
    for path, crit in form.conventions["criteria"].items():
        per_criterion.setdefault(crit, []).append(path)
    assert {c: len(p) for c, p in per_criterion.items()} == {"procedure": 5, "staff": 5, "result": 5}


def test_criterion_items_are_required_likert_on_scale5(form, fields, xml):
    binds = {b.get("nodeset"): b for b in xml.iter(f"{XF}bind")}
    controls = {c.get("ref"): c for c in xml.iter(f"{XF}select1")}
    for path in form.conventions["criteria"]:
        f = fields[path]
        assert f.type == "select1" and f.repeat is None
        assert [v for v, _ in f.choices] == ["5", "4", "3", "2", "1", "0"]
        assert f.choices[0][1] == {VI: "Rất hài lòng", EN: "Very satisfied"}
        assert f.choices[-1][1][VI] == "Không ý kiến / không áp dụng"
        assert f.labels[VI] and f.labels[EN]
        assert binds[f"/data/{path}"].get("required") == "true()"
        assert controls[f"/data/{path}"].get("appearance") == "likert"


def test_scale5_labels_in_both_languages(fields):
    labels = dict(fields["main/procedure/proc_posted"].choices)
    assert labels["4"] == {VI: "Hài lòng", EN: "Satisfied"}
    assert labels["3"] == {VI: "Bình thường", EN: "Neutral"}
    assert labels["2"] == {VI: "Không hài lòng", EN: "Dissatisfied"}
    assert labels["1"] == {VI: "Rất không hài lòng", EN: "Very dissatisfied"}


def test_units_csv_with_level_filter(form, xml):
    assert form.info.media == ("respondents.csv", "units.csv")
    assert b"jr://file-csv/units.csv" in form.xform
    unit = next(c for c in xml.iter(f"{XF}select1") if c.get("ref") == "/data/main/unit")
    nodeset = unit.find(f"{XF}itemset").get("nodeset")
    assert nodeset.replace(" ", "") == "instance('units')/root/item[level=/data/main/level]"
    level = {v for v, _ in form.info.get("main/level").choices}
    assert level == {"tinh", "huyen", "xa"}


def test_consent_has_no_default_and_gates_the_form(xml, fields):
    primary = xml.find(f".//{XF}instance/{XF}data")
    consent = primary.find(f"{XF}consent")
    assert consent is not None and (consent.text or "").strip() == ""
    assert [v for v, _ in fields["consent"].choices] == ["yes", "no"]
    assert dict(fields["consent"].choices)["yes"][VI] == "Đồng ý"
    binds = {b.get("nodeset"): b for b in xml.iter(f"{XF}bind")}
    assert binds["/data/consent"].get("required") == "true()"
    assert binds["/data/main"].get("relevant").replace(" ", "") == "/data/consent='yes'"
    assert binds["/data/consent_declined"].get("relevant").replace(" ", "") == "/data/consent='no'"
    # the intro note comes before the consent question
    order = [f.path for f in fields.values()]
    assert order.index("intro") < order.index("consent") < order.index("main")


def test_channel_is_optional_with_the_domain_values(xml, fields):
    assert [v for v, _ in fields["main/channel"].choices] == [
        "interview", "online", "kiosk", "paper", "post", "other"]
    binds = {b.get("nodeset"): b for b in xml.iter(f"{XF}bind")}
    assert binds["/data/main/channel"].get("required") in (None, "false()")
    assert binds["/data/main/dossier_code"].get("required") in (None, "false()")


def test_background_questions(fields):
    assert [v for v, _ in fields["main/age_group"].choices] == ["18_30", "31_45", "46_60", "over_60"]
    assert [v for v, _ in fields["main/respondent_type"].choices] == ["individual", "organisation"]
    assert "other" in dict(fields["main/occupation"].choices)
    pf = [v for v, _ in fields["main/procedure_field"].choices]
    assert len(pf) == 10 and pf[-1] == "other" and pf[0] == "land"
    assert fields["main/dossier_code"].type == "string"
    assert fields["main/comment"].type == "string"
    for meta in ("start", "end"):
        assert fields[meta].type == "dateTime"
    assert fields["today"].type == "date"


def test_every_visible_question_has_both_languages(fields):
    for f in fields.values():
        if f.path in ("start", "end", "today", "deviceid", "main") or f.path.startswith("meta"):
            continue
        assert f.labels.get(VI) and f.labels.get(EN), f.path
        for value, labels in f.choices:
            if f.path != "main/unit":  # unit labels come from units.csv
                assert labels.get(VI) and labels.get(EN), (f.path, value)


def test_rating_instructions_name_the_words_the_citizen_sees(form, fields, xml):
    """The instruction, the error message and the hints of the rating items speak of the answers
    as the citizen reads them ("Rất hài lòng" … "Không ý kiến / không áp dụng"), never of the
    stored codes 5 … 0, which no screen or sheet shows."""
    path = next(iter(form.conventions["criteria"]))
    choices = fields[path].choices
    texts = {lang: [] for lang in (VI, EN)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(STANDARD_FORM, read_only=True)
    rows = list(wb["survey"].iter_rows(values_only=True))
    wb.close()
    header = rows[0]
    for row in rows[1:]:
        cells = dict(zip(header, row))
        if cells["type"] == "select_one scale5" or cells["name"] == "scale_intro":
            for lang in (VI, EN):
                for column in (f"required_message::{lang}", f"hint::{lang}", f"label::{lang}"):
                    if cells.get(column) and (column.startswith("label") is (cells["name"] == "scale_intro")):
                        texts[lang].append(cells[column])
    for lang in (VI, EN):
        best, worst, no_opinion = choices[0][1][lang], choices[-2][1][lang], choices[-1][1][lang]
        # the introduction, one error message per rating item, the two hints
        assert len(texts[lang]) == 1 + len(form.conventions["criteria"]) + 2
        for text in texts[lang]:
            assert f"“{no_opinion}”" in text, text
            assert not any(ch.isdigit() for ch in text), text
        intro = texts[lang][0]
        assert f"“{best}”" in intro and f"“{worst}”" in intro


def test_workbook_columns():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(STANDARD_FORM, read_only=True)
    settings = list(wb["settings"].iter_rows(values_only=True))
    assert dict(zip(settings[0], settings[1])) == {
        "form_title": "Phiếu khảo sát sự hài lòng về giải quyết thủ tục hành chính",
        "form_id": "tthc_hailong",
        "version": "2026120501",
        "default_language": VI,
        "scale": "1 2 3 4 5",
        "satisfied": "4 5",
    }
    header = next(wb["survey"].iter_rows(values_only=True))
    assert "default" not in header  # nothing pre-filled, consent included
    assert {"criterion", "sensitive", f"label::{VI}", f"label::{EN}", f"hint::{VI}", f"hint::{EN}"} <= set(header)
    wb.close()


def test_respondent_from_the_surveyors_list_fills_the_dossier_in(form, xml, fields):
    """respondents.csv (sampling/lists.py) feeds `respondent`; picking one sets five fields."""
    binds = {b.get("nodeset"): b for b in xml.iter(f"{XF}bind")}
    assert b'<instance id="respondents" src="jr://file-csv/respondents.csv"/>' in form.xform
    respondent = next(c for c in xml.iter(f"{XF}select1") if c.get("ref") == "/data/respondent")
    assert respondent.get("appearance") == "autocomplete"
    assert respondent.find(f"{XF}itemset").get("nodeset") == "instance('respondents')/root/item"
    # shown only when the device has a list: web pages get the header alone and never see it
    assert binds["/data/respondent"].get("relevant") == "count(instance('respondents')/root/item) > 0"
    assert binds["/data/respondent"].get("required") in (None, "false()")
    assert "respondent" in form.conventions["sensitive"]
    # the fill-ins are setvalue actions on the respondent's change, so they stay editable
    filled = {s.get("ref"): s.get("value").replace(" ", "") for s in respondent.iter(f"{XF}setvalue")}
    assert {s.get("event") for s in respondent.iter(f"{XF}setvalue")} == {"xforms-value-changed"}
    lookup = "instance('respondents')/root/item[name=/data/respondent]/"
    assert filled == {"/data/main/dossier_code": lookup + "dossier_code", "/data/main/level": lookup + "level",
                      "/data/main/unit": lookup + "unit", "/data/main/procedure_field": lookup + "procedure_field",
                      "/data/main/procedure_name": lookup + "procedure"}
    for path in ("main/dossier_code", "main/level", "main/unit", "main/procedure_field"):
        assert binds[f"/data/{path}"].get("readonly") in (None, "false()")
        assert binds[f"/data/{path}"].get("calculate") is None
    assert fields["main/procedure_name"].labels == {VI: "Tên thủ tục hành chính", EN: "Name of the procedure"}
    assert binds["/data/main/procedure_name"].get("relevant").replace(" ", "") == "/data/respondent!=''"


def test_contact_outcome_gates_consent(xml, fields):
    binds = {b.get("nodeset"): b for b in xml.iter(f"{XF}bind")}
    assert [v for v, _ in fields["contact_outcome"].choices] == ["interviewed", "refused", "unreachable"]
    assert dict(fields["contact_outcome"].choices)["refused"] == {VI: "Từ chối trả lời", EN: "Refused"}
    assert binds["/data/contact_outcome"].get("required") == "true()"
    assert binds["/data/contact_outcome"].get("relevant").replace(" ", "") == "/data/respondent!=''"
    # someone not on the list, or a listed person who agreed to an interview, is asked for consent
    assert binds["/data/consent"].get("relevant").replace(" ", "") == (
        "/data/respondent=''or/data/contact_outcome='interviewed'")
    order = [f.path for f in fields.values()]
    assert order.index("respondent") < order.index("contact_outcome") < order.index("consent")
