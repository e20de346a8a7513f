"""forms.compile / forms.conventions / forms.problems: fixtures and broken XLSForms."""

from __future__ import annotations

import io
import re
import shutil
import warnings
from pathlib import Path

import openpyxl
import pytest

from forms import compile_file, compile_xform, compile_xlsform
from forms.conventions import conventions_from_xlsform
from forms.problems import FormProblems, Problem, from_pyxform_message

from conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]


FIX = FIXTURES
HAS_JAVA = shutil.which("java") is not None
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


# --- building workbooks ----------------------------------------------------------

SURVEY_HEAD = ["type", "name", "label", "relevant", "constraint", "criterion", "sensitive"]
SCALE_CHOICES = [
    ["list_name", "name", "label"],
    ["s5", 5, "Rất hài lòng"],
    ["s5", 4, "Hài lòng"],
    ["s5", 3, "Bình thường"],
    ["s5", 2, "Không hài lòng"],
    ["s5", 1, "Rất không hài lòng"],
    ["s5", 0, "Không ý kiến"],
    ["yn", "yes", "Có"],
    ["yn", "no", "Không"],
]


def row(type_, name, label=None, relevant=None, constraint=None, criterion=None, sensitive=None):
    return [type_, name, label if label is not None else name, relevant, constraint, criterion, sensitive]


def xlsx(survey_rows, settings=None, choices=None, extra=None) -> bytes:
    """Workbook bytes; survey_rows start at Excel row 2 (row 1 is the header)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(SURVEY_HEAD)
    for r in survey_rows:
        ws.append(r)
    ch = wb.create_sheet("choices")
    for r in choices if choices is not None else SCALE_CHOICES:
        ch.append(r)
    if settings is not False:
        st = wb.create_sheet("settings")
        settings = settings or {"form_id": "test_form", "version": "2026010101"}
        st.append(list(settings))
        st.append(list(settings.values()))
    for name, rows_ in (extra or {}).items():
        sh = wb.create_sheet(name)
        for r in rows_:
            sh.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    row("start", "start"),
    row("select_one yn", "consent"),
    row("begin_group", "main", "Main", relevant="${consent}='yes'"),
    row("text", "unit"),
    row("select_one s5", "q1", criterion="procedure"),
    row("select_one s5", "q2", criterion="staff"),
    row("select_one s5", "q3", criterion="result"),
    row("text", "dossier_code"),
    row("text", "phone", sensitive="yes"),
    row("end_group", "main"),
]


def compile_bytes(data, **kw):
    kw.setdefault("validate", False)
    return compile_xlsform(data, "test.xlsx", **kw)


def problems_of(data, **kw) -> list[Problem]:
    with pytest.raises(FormProblems) as ei:
        compile_bytes(data, **kw)
    return ei.value.problems


def only_error(problems, **match) -> Problem:
    errs = [p for p in problems if p.severity == "error"]
    assert len(errs) == 1, [p.describe() for p in errs]
    p = errs[0]
    for k, v in match.items():
        assert getattr(p, k) == v, (k, p)
    assert VIETNAMESE.search(p.message_vi), p.message_vi
    assert p.message_en and p.message_en != p.message_vi
    return p


# --- the six fixture XLSForms -------------------------------------------------------

EXPECTED_XLSFORMS = {
    "ona-nested_repeats.xlsx": ("nested_repeats", "201211121234"),
    "pyxform-UCL_Biomass_Plot_Form.xlsx": ("pyxform-UCL_Biomass_Plot_Form", "2022-04-11 16:26:28.971000"),
    "webforms-all-question-types-v2024091201-3.xlsx": ("all-question-types", "2024091201-3"),
    "webforms-socio-economic-survey-v20240515.xlsx": ("socio-economic-survey", "20240515143545"),
    # no version in settings: compiled with version "", publishing gives it one (actions.publish)
    "pyxform-attribute_columns_test.xlsx": ("Spec test", ""),
    "xlsformoffline-external-itemsets.xlsx": ("cascading_select_test", ""),
}


def test_fixture_xlsforms_are_present():
    assert sorted(p.name for p in (FIX / "xlsform").glob("*.xlsx")) == sorted(EXPECTED_XLSFORMS)


@pytest.mark.parametrize("name", sorted(EXPECTED_XLSFORMS))
def test_fixture_xlsform(name):
    path = FIX / "xlsform" / name
    expected = EXPECTED_XLSFORMS[name]
    if expected is None:
        with pytest.raises(FormProblems) as ei:
            compile_file(path, validate=False)
        errors = ei.value.errors
        assert any(p.column == "version" for p in errors)
        for p in ei.value.problems:
            assert isinstance(p.describe("vi"), str) and isinstance(p.describe("en"), str)
        return
    form = compile_file(path, validate=False)
    assert (form.form_id, form.version) == expected
    assert form.xlsform == path.read_bytes()
    assert form.xform.startswith(b"<?xml")
    assert form.info.form_id == form.form_id
    assert form.conventions["scale"] == ["1", "2", "3", "4", "5"]
    assert form.conventions["criteria"] == {}
    assert all(p.severity == "warning" for p in form.warnings)


def test_missing_version_names_the_settings_sheet():
    form = compile_file(FIX / "xlsform" / "xlsformoffline-external-itemsets.xlsx", validate=False)
    assert form.version == ""
    [p] = [w for w in form.warnings if w.column == "version"]
    assert p.severity == "warning" and (p.sheet, p.row) == ("settings", 2)
    assert "settings" in p.message_vi and "version" in p.message_vi
    assert p.describe("vi").startswith('Trang "settings", dòng 2, cột "version": ')
    assert p.describe("en").startswith('Sheet "settings", row 2, column "version": ')
    assert "2026112601" in p.message_vi


def test_attribute_columns_fixture_lists_id_and_version(tmp_path):
    # "Spec test" is an id ODK accepts (with a space); the missing version is left to publishing
    form = compile_file(FIX / "xlsform" / "pyxform-attribute_columns_test.xlsx", validate=False)
    assert (form.form_id, form.version) == ("Spec test", "")
    assert any(p.sheet == "settings" and p.column == "version" for p in form.warnings)
    # pyxform's warnings come along, with their rows
    assert any(p.sheet == "choices" and p.row == 4 for p in form.warnings)


def test_external_itemsets_fixture_with_version_gives_itemsets_csv(tmp_path):
    wb = openpyxl.load_workbook(FIX / "xlsform" / "xlsformoffline-external-itemsets.xlsx")
    st = wb["settings"]
    st.cell(row=1, column=3, value="version")
    st.cell(row=2, column=3, value="2026112601")
    out = tmp_path / "external.xlsx"
    wb.save(out)
    form = compile_file(out, validate=False)
    assert form.version == "2026112601"
    assert form.itemsets_csv is not None
    assert form.itemsets_csv.startswith(b'"list_name","name"')
    assert b'"counties","king"' in form.itemsets_csv


def test_openpyxl_warnings_are_silenced():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compile_file(FIX / "xlsform" / "pyxform-UCL_Biomass_Plot_Form.xlsx", validate=False)
        compile_file(FIX / "xlsform" / "webforms-socio-economic-survey-v20240515.xlsx", validate=False)
    assert [str(w.message) for w in caught] == []


@pytest.mark.skipif(not HAS_JAVA, reason="ODK Validate needs java")
def test_fixture_passes_odk_validate():
    form = compile_file(FIX / "xlsform" / "ona-nested_repeats.xlsx", validate=True)
    assert form.info.repeats == ("kids/kids_details", "kids/kids_details/kids_immunization")


# --- a good form and its conventions ----------------------------------------------------

def test_good_form_conventions_and_paths():
    form = compile_bytes(xlsx(GOOD))
    assert form.form_id == "test_form" and form.version == "2026010101"
    assert form.conventions == {
        "criteria": {"main/q1": "procedure", "main/q2": "staff", "main/q3": "result"},
        "scale": ["1", "2", "3", "4", "5"],
        "satisfied": ["4", "5"],
        "roles": {"start": "start", "consent": "consent", "unit": "main/unit",
                  "dossier_code": "main/dossier_code"},
        "sensitive": ["main/dossier_code", "main/phone"],
    }
    assert form.warnings == []
    assert form.itemsets_csv is None
    assert form.xform == form.xform.decode("utf-8").encode("utf-8")


def test_custom_scale_and_satisfied():
    choices = [["list_name", "name", "label"]] + [["s7", i, f"m{i}"] for i in range(1, 8)]
    data = xlsx(
        [row("select_one s7", "q", criterion="staff")],
        settings={"form_id": "f7", "version": "3", "scale": "1 2 3 4 5 6 7", "satisfied": "6 7"},
        choices=choices,
    )
    form = compile_bytes(data)
    assert form.conventions["scale"] == ["1", "2", "3", "4", "5", "6", "7"]
    assert form.conventions["satisfied"] == ["6", "7"]
    assert form.conventions["criteria"] == {"q": "staff"}
    assert form.warnings == []


def test_text_scale_values():
    choices = [["list_name", "name", "label"], ["agree", "yes", "Yes"], ["agree", "partly", "Partly"],
               ["agree", "no", "No"]]
    data = xlsx([row("select_one agree", "q", criterion="result")],
                settings={"form_id": "t", "version": "1", "scale": "no partly yes", "satisfied": "yes"},
                choices=choices)
    conv, problems = conventions_from_xlsform(data)
    assert (conv["scale"], conv["satisfied"], problems) == (["no", "partly", "yes"], ["yes"], [])


def test_paths_in_nested_groups_and_repeats():
    survey = [
        row("begin_group", "a", "A"),
        row("begin_group", "b", "B"),
        row("select_one yn", "channel"),
        row("select_one s5", "deep", criterion="procedure"),
        row("end_group", "b"),
        row("begin_repeat", "people", "People"),
        row("text", "unit"),  # inside a repeat: not the form's unit
        row("text", "dossier_code"),
        row("begin_group", "contact", "Contact"),
        row("text", "phone", sensitive="yes"),
        row("end_group", "contact"),
        row("end_repeat", "people"),
        row("end_group", "a"),
        row("begin_group", "private", "Private", sensitive="yes"),
        row("text", "name_of_person"),
        row("begin_group", "inner", "Inner"),
        row("text", "address"),
        row("end_group", "inner"),
        row("end_group", "private"),
        row("text", "after"),
    ]
    form = compile_bytes(xlsx(survey))
    conv = form.conventions
    assert conv["criteria"] == {"a/b/deep": "procedure"}
    assert conv["roles"] == {"channel": "a/b/channel"}
    assert conv["sensitive"] == [
        "a/people/dossier_code", "a/people/contact/phone",
        "private", "private/name_of_person", "private/inner", "private/inner/address",
    ]
    known = {f.path for f in form.info.fields}
    assert set(conv["sensitive"]) <= known
    assert form.info.get("a/people/contact/phone").repeat == "a/people"


def test_choice_list_lacking_scale_values_is_a_warning():
    choices = [["list_name", "name", "label"], ["s3", 1, "x"], ["s3", 2, "y"], ["s3", 3, "z"]]
    form = compile_bytes(xlsx([row("select_one s3", "q", criterion="procedure")], choices=choices))
    [w] = form.warnings
    assert (w.severity, w.sheet, w.row, w.column) == ("warning", "survey", 2, "criterion")
    assert "4 5" in w.message_vi and VIETNAMESE.search(w.message_vi)
    assert form.conventions["criteria"] == {"q": "procedure"}


# --- broken forms: each problem points at its cell, in Vietnamese ----------------------

def test_unknown_question_type():
    data = xlsx([row("text", "a"), row("select_one s5", "b"), row("textt", "c")])
    only_error(problems_of(data), sheet="survey", row=4, column="type")


def test_select_one_without_list_name():
    data = xlsx([row("text", "a"), row("select_one", "b")])
    p = only_error(problems_of(data), sheet="survey", row=3, column="type")
    assert "select_one" in p.message_vi


def test_duplicate_name():
    data = xlsx([row("text", "a"), row("integer", "b"), row("text", "a")])
    p = only_error(problems_of(data), sheet="survey", row=4, column="name")
    assert '"a"' in p.message_vi


def test_bad_reference():
    data = xlsx([row("text", "a"), row("text", "b", relevant="${aa}='x'")])
    p = only_error(problems_of(data), sheet="survey", row=3, column="relevant")
    assert "${aa}" in p.message_vi


def test_missing_name():
    data = xlsx([row("text", "a"), row("text", None)])
    only_error(problems_of(data), sheet="survey", row=3, column="name")


def test_missing_choices_list():
    data = xlsx([row("text", "a"), row("select_one nolist", "b")])
    p = only_error(problems_of(data), sheet="survey", row=3, column="type")
    assert "nolist" in p.message_vi and "choices" in p.message_vi


def test_criterion_on_a_text_question():
    data = xlsx([row("text", "a"), row("text", "b", criterion="procedure")])
    p = only_error(problems_of(data), sheet="survey", row=3, column="criterion")
    assert "select_one" in p.message_vi


def test_criterion_on_a_group():
    data = xlsx([row("begin_group", "g", "G", criterion="staff"), row("select_one s5", "q"),
                 row("end_group", "g")])
    only_error(problems_of(data), sheet="survey", row=2, column="criterion")


def test_unknown_criterion_value():
    data = xlsx([row("select_one s5", "a", criterion="proceduree")])
    p = only_error(problems_of(data), sheet="survey", row=2, column="criterion")
    assert "proceduree" in p.message_vi and "procedure" in p.message_vi


def test_criterion_inside_a_repeat():
    data = xlsx([row("begin_repeat", "r", "R"), row("select_one s5", "q", criterion="result"),
                 row("end_repeat", "r")])
    p = only_error(problems_of(data), sheet="survey", row=3, column="criterion")
    assert '"r"' in p.message_vi


def test_satisfied_not_within_scale():
    data = xlsx([row("select_one s5", "q", criterion="staff")],
                settings={"form_id": "f", "version": "1", "scale": "1 2 3 4 5", "satisfied": "5 6"})
    p = only_error(problems_of(data), sheet="settings", row=2, column="satisfied")
    assert "6" in p.message_vi


def test_satisfied_outside_default_scale():
    data = xlsx([row("text", "a")], settings={"form_id": "f", "version": "1", "satisfied": "9"})
    only_error(problems_of(data), sheet="settings", row=2, column="satisfied")


def test_empty_scale():
    data = xlsx([row("text", "a")],
                settings={"form_id": "f", "version": "1", "scale": " ", "satisfied": "4 5"})
    problems = problems_of(data)
    errs = [p for p in problems if p.severity == "error"]
    assert errs[0].sheet == "settings" and errs[0].row == 2 and errs[0].column == "scale"
    assert VIETNAMESE.search(errs[0].message_vi)


def test_missing_version():
    data = xlsx([row("text", "a")], settings={"form_id": "f", "form_title": "T"})
    form = compile_xlsform(data, validate=False)
    [p] = [w for w in form.warnings if w.column == "version"]
    assert form.version == "" and p.severity == "warning"
    assert p.describe().startswith('Trang "settings", dòng 2, cột "version"')


def test_missing_settings_sheet_means_missing_version():
    data = xlsx([row("text", "a")], settings=False)
    form = compile_xlsform(data, "f.xlsx", validate=False)
    [p] = [w for w in form.warnings if w.column == "version"]
    assert form.version == "" and p.sheet == "settings" and "settings" in p.message_vi


@pytest.mark.parametrize("form_id", ["1_rank", "phiếu 1", "Spec test", "a:b[c]\\"])
def test_form_ids_odk_accepts_are_accepted(form_id):
    data = xlsx([row("text", "a")], settings={"form_id": form_id, "version": "1"})
    assert compile_xlsform(data, validate=False).form_id == form_id


@pytest.mark.parametrize("form_id, why", [("a/b", '"/"'), ("x" * 256, "255"), ("a\u200bb", "ẩn")])
def test_invalid_form_id(form_id, why):
    data = xlsx([row("text", "a")], settings={"form_id": form_id, "version": "1"})
    p = only_error(problems_of(data), sheet="settings", row=2, column="form_id")
    assert form_id in p.message_vi and why in p.message_vi


@pytest.mark.parametrize("version", ["05/12/2026", "1.0 beta", "v=1&x"])
def test_versions_collect_accepts_are_accepted(version):
    data = xlsx([row("text", "a")], settings={"form_id": "f", "version": version})
    assert compile_xlsform(data, validate=False).version == version


def test_form_id_from_file_name():
    data = xlsx([row("text", "a")], settings={"version": "5"})
    assert compile_xlsform(data, "khao_sat-2026.xlsx", validate=False).form_id == "khao_sat-2026"
    assert compile_xlsform(data, "Khảo sát mới.xlsx", validate=False).form_id == "Khảo sát mới"
    long_name = "x" * 300 + ".xlsx"
    with pytest.raises(FormProblems) as ei:
        compile_xlsform(data, long_name, validate=False)
    p = only_error(ei.value.problems, sheet="settings", column="form_id")
    assert long_name in p.message_vi and "255" in p.message_vi


@pytest.mark.parametrize("payload", [
    b"",
    b"hello, this, is, not, a spreadsheet",
    b"PK\x03\x04 a broken zip",
    b"%PDF-1.4 a pdf",
])
def test_not_an_xlsx(payload):
    p = only_error(problems_of(payload))
    assert ".xlsx" in p.message_vi


def test_zip_that_is_not_a_workbook():
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    only_error(problems_of(buf.getvalue()))


def test_errors_from_pyxform_and_conventions_are_reported_together():
    data = xlsx([row("text", "a"), row("text", "a"), row("text", "b", criterion="bogus")])
    problems = problems_of(data)
    assert {(p.row, p.column) for p in problems if p.severity == "error"} == {(3, "name"), (4, "criterion")}


def test_unexpected_exception_never_escapes(monkeypatch):
    import pyxform.xls2xform

    def boom(**kw):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pyxform.xls2xform, "convert", boom)
    p = only_error(problems_of(xlsx([row("text", "a")])))
    assert "kaboom" in p.message_vi and "RuntimeError" in p.message_en


@pytest.mark.skipif(not HAS_JAVA, reason="ODK Validate needs java")
def test_odk_validate_failure_points_at_the_row():
    data = xlsx([row("integer", "a"), row("integer", "b", constraint=". > > 3")])
    p = only_error(problems_of(data, validate=True), sheet="survey", row=3, column="constraint")
    assert "ODK Validate" in p.message_vi
    assert "tmp" not in p.message_en  # the temporary file name is noise


# --- problems.py ---------------------------------------------------------------------

def test_describe_formats():
    p = Problem("error", "Sai", "Wrong", "survey", 12, "criterion")
    assert p.describe() == 'Trang "survey", dòng 12, cột "criterion": Sai'
    assert p.describe("en") == 'Sheet "survey", row 12, column "criterion": Wrong'
    assert Problem("warning", "Chú ý", "Note").describe("en") == "Note"
    exc = FormProblems([p])
    assert str(exc) == p.describe() and exc.errors == [p] and exc.warnings == []


def test_unknown_pyxform_message_keeps_original_text():
    p = from_pyxform_message("[row : 9] Something new went wrong.")
    assert p.message_vi == "Lỗi biểu mẫu: [row : 9] Something new went wrong."
    assert p.message_en == "[row : 9] Something new went wrong."
    assert (p.sheet, p.row) == ("survey", 9)
    w = from_pyxform_message("Odd thing", "warning")
    assert w.message_vi.startswith("Cảnh báo biểu mẫu:")


def test_sheet_and_column_from_pyxform_text():
    p = from_pyxform_message(
        "[row : 5] On the 'choices' sheet, the 'name' value is invalid. Choices must have a name. "
        "Learn more: https://xlsform.org/en/#setting-up-your-worksheets"
    )
    assert (p.sheet, p.row, p.column) == ("choices", 5, "name")
    assert VIETNAMESE.search(p.message_vi)


# --- XForm uploads and compile_file --------------------------------------------------

def test_compile_xform_serves_bytes_unchanged():
    data = (FIX / "xform" / "central-withrepeat.form.xml").read_bytes()
    form = compile_xform(data)
    assert form.xform == data
    assert form.xlsform is None and form.itemsets_csv is None
    assert (form.form_id, form.version) == ("withrepeat", "1.0")
    assert form.conventions == {"criteria": {}, "scale": ["1", "2", "3", "4", "5"],
                                "satisfied": ["4", "5"], "roles": {}, "sensitive": []}


def test_compile_xform_without_version():
    data = (FIX / "xform" / "central-simple.form.xml").read_bytes()
    form = compile_xform(data)
    assert form.version == ""
    [w] = form.warnings
    assert w.severity == "warning" and "version" in w.message_vi
    with pytest.raises(FormProblems):
        compile_xform(data, require_version=True)


def test_compile_xform_roles_and_sensitive():
    doc = b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
      xmlns:jr="http://openrosa.org/javarosa"><h:head><h:title>R</h:title><model>
      <instance><data id="roles" version="2"><start/><g><unit/><dossier_code/></g>
        <r jr:template=""><channel/></r></data></instance></model></h:head><h:body/></h:html>"""
    conv = compile_xform(doc, validate=False).conventions
    assert conv["roles"] == {"start": "start", "unit": "g/unit", "dossier_code": "g/dossier_code"}
    assert conv["sensitive"] == ["g/dossier_code"]


def test_compile_xform_bad_id():
    doc = b'<html><head><model><instance><data id="bad/id" version="1"><a/></data></instance></model></head></html>'
    with pytest.raises(FormProblems) as ei:
        compile_xform(doc, validate=False)
    [p] = ei.value.problems
    # said in the XForm's own terms: the id attribute of the instance root, no spreadsheet
    assert "bad/id" in p.message_vi and "<data>" in p.message_vi and "id" in p.message_en
    assert p.sheet is None and "settings" not in p.message_vi
    ok = doc.replace(b"bad/id", b"1_rank")
    assert compile_xform(ok, validate=False).form_id == "1_rank"


def test_compile_xform_not_utf8():
    doc = '<?xml version="1.0" encoding="latin-1"?><html><head><model><instance><data id="x" version="1"><a>é</a></data></instance></model></head></html>'.encode("latin-1")
    with pytest.raises(FormProblems) as ei:
        compile_xform(doc)
    assert "UTF-8" in ei.value.problems[0].message_vi


def test_compile_file_dispatch(tmp_path):
    assert compile_file(FIX / "xform" / "collect-one-question.xml").form_id == "one_question"
    other = tmp_path / "form.pdf"
    other.write_bytes(b"%PDF")
    with pytest.raises(FormProblems) as ei:
        compile_file(other)
    assert VIETNAMESE.search(ei.value.problems[0].message_vi)
    with pytest.raises(FormProblems) as ei:
        compile_file(tmp_path / "missing.xlsx")
    assert VIETNAMESE.search(ei.value.problems[0].message_vi)
    good = tmp_path / "Good.XLSX"
    good.write_bytes(xlsx(GOOD))
    assert compile_file(good, validate=False).form_id == "test_form"


def test_blank_rows_keep_excel_row_numbers():
    data = xlsx([row("text", "a"), [None] * 7, [None] * 7, row("text", "b", criterion="staff"),
                 row("text", "a")])
    problems = problems_of(data)
    assert {(p.row, p.column) for p in problems if p.severity == "error"} == {(5, "criterion"), (6, "name")}


def test_settings_problems_reported_even_when_pyxform_fails():
    data = xlsx([row("textt", "a")], settings={"form_id": "bad/id", "form_title": "T"})
    problems = problems_of(data)
    errs = {(p.sheet, p.row, p.column) for p in problems if p.severity == "error"}
    assert errs == {("survey", 2, "type"), ("settings", 2, "form_id")}
    assert any((p.sheet, p.column) == ("settings", "version") for p in problems if not p.is_error)


# --- pyxform messages that name no place get one -------------------------------------------------

def test_include_row_is_named_by_its_cell():
    p = only_error(problems_of(xlsx(GOOD + [row("include", "other_form")])), sheet="survey", column="type")
    assert p.row == len(GOOD) + 2 and "include" in p.message_vi


@pytest.mark.parametrize("sheet", ["survey", "choices", "settings"])
def test_duplicate_column_header_names_its_sheet(sheet):
    book = openpyxl.load_workbook(io.BytesIO(xlsx(GOOD)))
    ws = book[sheet]
    header = [c.value for c in ws[1]][1]          # the second column's header, written again
    ws.cell(row=1, column=ws.max_column + 1, value=header)
    buffer = io.BytesIO()
    book.save(buffer)
    p = only_error(problems_of(buffer.getvalue()), sheet=sheet, row=1, column=header)
    assert f'"{header}"' in p.message_vi


# --- ODK Validate on XForms ------------------------------------------------------------------------

BAD_XFORM = (b'<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">'
             b'<h:head><h:title>B</h:title><model><instance><data id="bad" version="1"><a/><b/></data></instance>'
             b"%s</model></h:head><h:body><input ref=\"/data/a\"><label>A</label></input></h:body></h:html>")


@pytest.mark.skipif(not shutil.which("java"), reason="ODK Validate needs java")
@pytest.mark.parametrize("binds, said", [
    (b'<bind nodeset="/data/a" type="int" constraint=". &gt; 3 and (("/>', ('/data/a', '". > 3 and (("', "ngoặc")),
    (b'<bind nodeset="/data/a" type="string" calculate="/data/b"/><bind nodeset="/data/b" type="string" '
     b'calculate="/data/a"/>', ("/data/a", "/data/b", "vòng")),
    (b'<bind nodeset="/data/b" type="string" calculate="nosuchfn(/data/a)"/>', ("/data/b", '"nosuchfn(/data/a)"', "hàm")),
])
def test_xforms_go_through_odk_validate_by_default(binds, said):
    with pytest.raises(FormProblems) as ei:
        compile_xform(BAD_XFORM % binds)           # validate=None: Validate runs when java is there
    [p] = ei.value.errors
    assert p.sheet is None and "ODK Validate" in p.message_en
    for words in said:
        assert words in p.message_vi, (words, p.message_vi)
