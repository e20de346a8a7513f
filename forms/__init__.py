"""Forms: turn a questionnaire (XLSForm or XForm) into what the server serves.

Public API:
    compile_xlsform(data, filename="form.xlsx", *, validate=None) -> CompiledForm
    compile_xform(data, *, validate=None, require_version=False) -> CompiledForm  (validate=None: iff java)
    compile_file(path, *, validate=None) -> CompiledForm
    read_xform(data) -> XFormInfo
    conventions_from_xlsform(data) -> (dict, [Problem]); conventions_from_xform(info) -> dict
    Problem, FormProblems
"""

from pathlib import Path

from .compile import CompiledForm, compile_file, compile_xform, compile_xlsform
from .conventions import (
    CRITERIA,
    DEFAULT_SATISFIED,
    DEFAULT_SCALE,
    ROLE_NAMES,
    conventions_from_xform,
    conventions_from_xlsform,
)
from .problems import FormProblems, Problem
from .xform_schema import Field, XFormInfo, read_xform

STANDARD_FORM = Path(__file__).with_name("tthc_hailong.xlsx")  # the province's standard questionnaire

__all__ = [
    "CompiledForm", "compile_file", "compile_xform", "compile_xlsform",
    "conventions_from_xform", "conventions_from_xlsform",
    "CRITERIA", "DEFAULT_SCALE", "DEFAULT_SATISFIED", "ROLE_NAMES",
    "FormProblems", "Problem", "Field", "XFormInfo", "read_xform", "STANDARD_FORM",
]
