"""Publishing a compiled form: gathering its media files and storing it as a new version."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from forms.compile import XFORM_SUFFIXES, XLSFORM_SUFFIXES, compile_xform, compile_xlsform
from forms.problems import FormProblems, Problem, error
from storage import forms

from .media import LIVE_LISTS


@dataclass
class PublishResult:
    form_id: str
    version: str
    created: bool
    warnings: list[Problem] = field(default_factory=list)


class PublishRefused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message_en)
        self.problem = problem


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


def publish(db, compiled, *, media_files: dict[str, bytes], actor: str | None,
            unit_code: str | None = None, missing_media: list[str] = ()) -> PublishResult:
    warnings = list(compiled.warnings)
    for name in missing_media:
        warnings.append(Problem(
            "warning",
            f'Biểu mẫu dùng tệp "{name}" nhưng không tìm thấy tệp này; hãy đặt tệp cạnh tệp XLSForm rồi xuất bản lại.',
            f'The form uses the file "{name}" but it was not found; put it beside the XLSForm and publish again.'))
    conventions = {**compiled.conventions, "media": list(compiled.info.media)}
    xform_md5 = hashlib.md5(compiled.xform, usedforsecurity=False).hexdigest()  # OpenRosa form hash
    existing = forms.get_version(db, compiled.form_id, compiled.version)
    if existing is not None and existing["xform_md5"] != xform_md5 and not (
            compiled.xlsform is not None and existing["xlsform"] == compiled.xlsform):
        raise PublishRefused(Problem(
            "error",
            f'Phiên bản "{compiled.version}" của biểu mẫu "{compiled.form_id}" đã được xuất bản với nội dung khác. '
            'Hãy tăng giá trị cột "version" ở trang "settings" (ví dụ 2026112602) rồi xuất bản lại.',
            f'Version "{compiled.version}" of form "{compiled.form_id}" was already published with different '
            'content. Raise the "version" in the "settings" sheet (e.g. 2026112602) and publish again.',
            sheet="settings", column="version"))
    if existing is not None:
        return PublishResult(compiled.form_id, compiled.version, False, warnings)
    latest = forms.latest_version(db, compiled.form_id)
    if latest is not None and version_key(compiled.version) < version_key(latest["version"]):
        # Collect takes the highest version as the current one: a lower one would look older
        # than the form phones already hold, and they would not update to it
        raise PublishRefused(Problem(
            "error",
            f'Phiên bản "{compiled.version}" thấp hơn phiên bản đang xuất bản "{latest["version"]}" của biểu mẫu '
            f'"{compiled.form_id}". ODK Collect coi phiên bản cao nhất là bản mới nhất nên sẽ không cập nhật. '
            f'Hãy đặt cột "version" ở trang "settings" cao hơn {latest["version"]} (ví dụ theo dạng '
            'năm-tháng-ngày + số thứ tự) rồi xuất bản lại.',
            f'Version "{compiled.version}" is lower than the published version "{latest["version"]}" of form '
            f'"{compiled.form_id}". ODK Collect takes the highest version as the newest, so phones would not '
            f'update. Set the "version" in the "settings" sheet above {latest["version"]} (e.g. year-month-day '
            'plus a number) and publish again.',
            sheet="settings", column="version"))
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


def version_key(version: str) -> tuple:
    """Versions compared as people read them: numbers by value (9 < 10), other parts as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|[^\d.\-_]+", version or ""))


def compile_bytes(data: bytes, filename: str, *, validate: bool | None = None):
    """An uploaded file compiled by its extension, as compile_file does for a path on disk.

    Raises FormProblems (Vietnamese and English, by sheet, row and column) when it cannot be published.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix in XFORM_SUFFIXES:
        return compile_xform(data, validate=bool(validate))
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
