"""ODK Validate (JavaRosa, the engine of ODK Collect) run over an XForm, its verdict worded for
the designer: the spreadsheet cell for an XLSForm, the XForm's own paths for an XForm."""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace

import defusedxml.ElementTree as SafeET

from .problems import ERROR, WARNING, Locator, Problem, from_exception, from_pyxform_message
from .xform_schema import XFormInfo

_RE_NAME = re.compile(r"\$\{([^}\s]+)\}")


def odk_validate(xform: bytes, info: XFormInfo, locate: Locator | None = None) -> list[Problem]:
    """Problems ODK Validate finds (errors refuse the form); needs java (forms.compile.java_available).

    pyxform's wrapper names fields as ${name}, the XLSForm way; for an XForm (no `locate`) each
    name is put back as the path the designer wrote in the XForm's binds."""
    from pyxform.validators import odk_validate as validator

    fd, tmp = tempfile.mkstemp(suffix=".xml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(xform)
        try:
            messages, severity = validator.check_xform(tmp), WARNING
        except Exception as exc:
            if not type(exc).__name__ == "ODKValidateError":
                return [from_exception(exc)]
            messages, severity = [str(exc)], ERROR
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    if locate is not None:
        return [from_pyxform_message(m, severity, locate) for m in messages if str(m).strip()]
    problems = []
    for message in (_as_xform_paths(m, info) for m in messages if str(m).strip()):
        problem = from_pyxform_message(message, severity)
        expression = _failing_expression(message, xform)
        if expression and expression not in problem.message_vi:
            problem = replace(problem, message_vi=f'{problem.message_vi} Biểu thức: "{expression}".',
                              message_en=f'{problem.message_en} Expression: "{expression}".')
        problems.append(problem)
    return problems


_RE_LOCATED = re.compile(r"located in (\w+) expression for (/\S+)")
_BIND_ATTRIBUTES = {"calculate": "calculate", "relevant": "relevant", "constraint": "constraint",
                    "required": "required", "readonly": "readonly"}


def _failing_expression(message: str, xform: bytes) -> str | None:
    """The text of the bind attribute ODK Validate names ("located in Calculate expression for
    /data/b"), so the designer sees the expression, not only the field."""
    m = _RE_LOCATED.search(message)
    if not m:
        return None
    attribute = _BIND_ATTRIBUTES.get(m.group(1).lower())
    path = m.group(2).split("[", 1)[0]
    if attribute is None:
        return None
    try:
        html = SafeET.fromstring(xform, forbid_dtd=True)  # already read once within the limits
    except Exception:
        return None
    for element in html.iter():
        if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "bind":
            nodeset = element.get("nodeset") or element.get("ref")
            if nodeset and nodeset.strip() == path:
                for key, value in element.attrib.items():
                    if key.rsplit("}", 1)[-1] == attribute:
                        return value
    return None


def _as_xform_paths(text: str, info: XFormInfo) -> str:
    by_name: dict[str, list[str]] = {}
    for f in info.fields:
        by_name.setdefault(f.name, []).append(f"/{info.root}/{f.path}")

    def path(m: re.Match) -> str:
        paths = by_name.get(m.group(1), [])
        return paths[0] if len(paths) == 1 else m.group(0)
    return _RE_NAME.sub(path, text)
