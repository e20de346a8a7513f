"""Publishing a compiled form: gathering its media files and storing it as a new version."""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from forms.compile import XFORM_SUFFIXES, XLSFORM_SUFFIXES, compile_xform, compile_xlsform, java_available
from forms.conventions import read_xlsform
from forms.problems import FormProblems, Problem, error
from forms.validate import odk_validate
from forms.xform_schema import read_xform
from forms.xform_version import timestamp_version, with_version
from storage import forms


@dataclass
class PublishResult:
    form_id: str
    version: str
    created: bool
    warnings: list[Problem] = field(default_factory=list)


class PublishRefused(Exception):
    """Nothing was published; `problems` (errors first) say why, `problem` is the first."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.problem = self.problems[0]
        super().__init__(self.problem.message_en)


# media files the server makes when Collect asks (server/media.py), never published with a form
LIVE_LISTS = ("units.csv", "respondents.csv")


def field_rows(compiled) -> list[dict]:
    """The version's fields as stored: structure from the XForm, roles from the conventions."""
    conv = compiled.conventions
    sensitive = set(conv.get("sensitive", []))
    criteria = conv.get("criteria", {})
    return [{"path": f.path, "name": f.name, "type": f.type, "repeat": f.repeat,
             "labels": f.labels, "choices": [[v, labels] for v, labels in f.choices],
             "sensitive": f.path in sensitive, "criterion": criteria.get(f.path),
             **({"note": True} if f.note else {})}
            for f in compiled.info.fields]


def find_media(compiled, search_dirs: list[Path], extra: dict[str, bytes] | None = None):
    """The files the form references, from `extra` or the given folders; returns (files, missing)."""
    found: dict[str, bytes] = dict(extra or {})
    if compiled.itemsets_csv is not None:
        found.setdefault("itemsets.csv", compiled.itemsets_csv)
    missing = []
    for name in compiled.info.media:
        if name in found or name in LIVE_LISTS:
            continue
        for folder in search_dirs:
            candidate = folder / name
            if candidate.is_file():
                found[name] = candidate.read_bytes()
                break
        else:
            missing.append(name)
    return found, missing


def _source_md5(compiled) -> str:
    return hashlib.md5(compiled.xform, usedforsecurity=False).hexdigest()


def version_given_before(db, compiled) -> str | None:
    """The version the server already gave these same versionless bytes, if it did."""
    source = _source_md5(compiled)
    return next((row["version"] for row in forms.versions_of(db, compiled.form_id)
                 if row["conventions"].get("source_md5") == source), None)


def _assign_version(db, compiled):
    """A form without a version gets the publishing time as one, written into its XForm
    (forms.xform_version); returns (compiled, the version already given to these same bytes or None)."""
    same = version_given_before(db, compiled)
    if same is not None:
        return compiled, same
    source = _source_md5(compiled)
    taken = {row["version"] for row in forms.versions_of(db, compiled.form_id)}
    version = timestamp_version(taken)
    try:
        xform = with_version(compiled.xform, version)
    except FormProblems as exc:
        raise PublishRefused(exc.problems) from None
    note = Problem(
        "warning",
        f'Biểu mẫu không có phiên bản nên được xuất bản với phiên bản "{version}" (thời điểm xuất bản, giờ UTC), '
        "đã ghi vào XForm mà ODK Collect tải về.",
        f'The form had no version, so it was published as version "{version}" (the publishing time, UTC), '
        "written into the XForm that ODK Collect downloads.")
    info = read_xform(xform)
    conventions = {**compiled.conventions, "source_md5": source, "version_assigned": True}
    return dataclasses.replace(compiled, version=version, xform=xform, info=info, conventions=conventions,
                               warnings=[*compiled.warnings, note]), None


def _validate(compiled) -> list[Problem]:
    """ODK Validate on the bytes about to be served, unless compiling ran it already: no form
    JavaRosa rejects is ever offered to Collect, whichever way it was published."""
    if compiled.validated or not java_available():
        return []
    locate = None
    if compiled.xlsform is not None:
        try:
            locate = read_xlsform(compiled.xlsform).locate
        except FormProblems:
            locate = None
    problems = odk_validate(compiled.xform, compiled.info, locate)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise PublishRefused(errors)
    return problems


def publish(db, compiled, *, media_files: dict[str, bytes], actor: str | None,
            unit_code: str | None = None, missing_media: list[str] = ()) -> PublishResult:
    """Store a compiled form as a new version (or find it already stored); the one way in for
    every publishing path. Raises PublishRefused when it cannot be published."""
    other = forms.form_differing_in_case(db, compiled.form_id)
    if other is not None:
        raise PublishRefused(Problem(
            "error",
            f'Đã có biểu mẫu "{other}", chỉ khác "{compiled.form_id}" ở chữ hoa/chữ thường. Hai mã như vậy bị coi là '
            "một khi lưu trữ; hãy dùng đúng mã đã có hoặc đặt mã khác hẳn.",
            f'A form "{other}" exists, differing from "{compiled.form_id}" only in letter case. Storage would take them '
            "for one; use the existing id exactly or a clearly different one."))
    if not compiled.version:
        compiled, same = _assign_version(db, compiled)
        if same is not None:
            return PublishResult(compiled.form_id, same, False, list(compiled.warnings))
    warnings = list(compiled.warnings) + _validate(compiled)
    for name in missing_media:
        warnings.append(Problem(
            "warning",
            f'Biểu mẫu dùng tệp "{name}" nhưng không tìm thấy tệp này; hãy đặt tệp cạnh tệp XLSForm rồi xuất bản lại.',
            f'The form uses the file "{name}" but it was not found; put it beside the XLSForm and publish again.'))
    conventions = {**compiled.conventions, "media": list(compiled.info.media)}
    xform_md5 = _source_md5(compiled)  # OpenRosa form hash
    existing = forms.get_version(db, compiled.form_id, compiled.version)
    if existing is not None and existing["xform_md5"] != xform_md5 and not (
            compiled.xlsform is not None and existing["xlsform"] == compiled.xlsform):
        raise PublishRefused(version_taken(compiled))
    if existing is not None:
        return PublishResult(compiled.form_id, compiled.version, False, warnings)
    latest = forms.latest_version(db, compiled.form_id)
    if latest is not None and version_lower(compiled.version, latest["version"]):
        raise PublishRefused(version_lower_problem(compiled, latest["version"]))
    try:
        _, created = forms.publish_version(
            db, form_id=compiled.form_id, version=compiled.version, title=compiled.title,
            xlsform=compiled.xlsform, xform=compiled.xform, xform_md5=xform_md5,
            fields=field_rows(compiled), conventions=conventions, media=media_files,
            media_md5={n: hashlib.md5(c, usedforsecurity=False).hexdigest() for n, c in media_files.items()},
            unit_code=unit_code, actor=actor)
    except forms.VersionConflict:
        # another publisher got there first with other content
        return publish(db, compiled, media_files=media_files, actor=actor, unit_code=unit_code,
                       missing_media=missing_media)
    return PublishResult(compiled.form_id, compiled.version, created, warnings)


def _ask_for_version(compiled, said: str, said_en: str, *, xform: tuple[str, str],
                     xlsform: tuple[str, str]) -> Problem:
    """A refusal that asks for another version, in the terms of what was uploaded: the instance
    root's attribute of an XForm (`xform`: what to do, vi and en, after naming the attribute),
    the settings sheet of an XLSForm (`xlsform`: the whole advice)."""
    if compiled.xlsform is None:
        root = compiled.info.root
        return Problem("error", said + xform[0].format(root=root), said_en + xform[1].format(root=root))
    return Problem("error", said + xlsform[0], said_en + xlsform[1], sheet="settings", column="version")


def version_taken(compiled) -> Problem:
    """The refusal of a version already published with other content."""
    return _ask_for_version(
        compiled,
        f'Phiên bản "{compiled.version}" của biểu mẫu "{compiled.form_id}" đã được xuất bản với nội dung khác. ',
        f'Version "{compiled.version}" of form "{compiled.form_id}" was already published with different content. ',
        xform=('Hãy đổi thuộc tính version của phần tử <{root}> trong <instance> của XForm (ví dụ '
               'version="2026112602"), hoặc xoá thuộc tính đó để máy chủ tự đặt, rồi xuất bản lại.',
               "Change the version attribute of <{root}> in the XForm's <instance> (e.g. version=\"2026112602\"), "
               "or remove it to let the server choose one, and publish again."),
        xlsform=('Hãy tăng giá trị cột "version" ở trang "settings" (ví dụ 2026112602) rồi xuất bản lại.',
                 'Raise the "version" in the "settings" sheet (e.g. 2026112602) and publish again.'))


def version_lower(version: str, published: str) -> bool:
    """Whether `version` reads as older than the published one. Only versions made of digits
    (the yyyymmddnn habit of ODK designers, or the publishing time the server gives a form
    without one) are compared: any other string Collect accepts ("05/12/2026", "v2") has no
    order anyone agreed on, and refusing it would stop forms brought from elsewhere."""
    return version.isdigit() and published.isdigit() and int(version) < int(published)


def version_lower_problem(compiled, published: str) -> Problem:
    """The refusal of a lower version. Phones keep the form they hold when the list offers what
    looks like an older one, so the designer's new questions would never reach them."""
    return _ask_for_version(
        compiled,
        f'Phiên bản "{compiled.version}" thấp hơn phiên bản đang xuất bản "{published}" của biểu mẫu '
        f'"{compiled.form_id}"; điện thoại đang giữ bản mới hơn sẽ không cập nhật. ',
        f'Version "{compiled.version}" is lower than the published version "{published}" of form '
        f'"{compiled.form_id}"; phones holding the newer one would not update. ',
        xform=(f'Hãy đặt thuộc tính version của phần tử <{{root}}> trong <instance> của XForm cao hơn {published}, '
               'hoặc xoá thuộc tính đó để máy chủ tự đặt, rồi xuất bản lại.',
               f"Set the version attribute of <{{root}}> in the XForm's <instance> above {published}, or remove "
               'it to let the server choose one, and publish again.'),
        xlsform=(f'Hãy đặt cột "version" ở trang "settings" cao hơn {published} (ví dụ năm-tháng-ngày và số thứ tự) '
                 'rồi xuất bản lại.',
                 f'Set the "version" in the "settings" sheet above {published} (e.g. year-month-day and a number) '
                 'and publish again.'))


def compile_bytes(data: bytes, filename: str, *, validate: bool | None = None):
    """An uploaded file compiled by its extension, as compile_file does for a path on disk.

    Raises FormProblems (Vietnamese and English, by sheet, row and column) when it cannot be published.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix in XFORM_SUFFIXES:
        return compile_xform(data, validate=validate)
    if suffix in XLSFORM_SUFFIXES:
        return compile_xlsform(data, Path(filename).name, validate=validate)
    raise FormProblems([error(
        f'Không hỗ trợ loại tệp "{Path(filename or "").name}". Hãy tải lên bảng tính XLSForm (.xlsx, .xls) '
        "hoặc XForm (.xml).",
        f'Unsupported file type "{Path(filename or "").name}": upload an XLSForm (.xlsx, .xls) or an XForm (.xml).',
    )])


def publish_compiled(db, compiled, *, actor: str | None, unit_code: str | None = None,
                     search_dirs: list[Path] = ()) -> PublishResult:
    """Gather the form's files from `search_dirs` and publish it; raises PublishRefused."""
    files, missing = find_media(compiled, list(search_dirs))
    return publish(db, compiled, media_files=files, actor=actor, unit_code=unit_code, missing_media=missing)
