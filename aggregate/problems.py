"""Every refusal of an indices request, defined once: code, HTTP status, Vietnamese and English.

The library raises QueryError(code, **details); the JSON API answers with the status and
{"error": {"code", "message_vi", "message_en"}}; the command line prints both messages.
"""
from __future__ import annotations

from dataclasses import dataclass

BY_KEYS_HELP = ("unit, level, tinh, huyen, xa, month, quarter, half, year, channel, "
                "procedure_field, version, form, q:<câu hỏi / question path>")


@dataclass(frozen=True)
class Problem:
    status: int
    vi: str
    en: str


PROBLEMS: dict[str, Problem] = {
    "unauthorized": Problem(
        401, "Cần đăng nhập để xem số liệu.", "Log in to read the figures."),
    "forbidden_role": Problem(
        403, "Tài khoản này không được xem số liệu tổng hợp.",
        "This account may not read the figures."),
    "forbidden_unit": Problem(
        403, 'Tài khoản này chỉ xem được đơn vị {scope} và các đơn vị trực thuộc, không xem được "{unit}".',
        'This account sees unit {scope} and the units under it only, not "{unit}".'),
    "unknown_form": Problem(
        404, 'Không có biểu mẫu "{form}".', 'There is no form "{form}".'),
    "no_forms": Problem(
        400, "Cần ít nhất một mã biểu mẫu (forms=...).", "Name at least one form (forms=...)."),
    "unknown_parameter": Problem(
        400, 'Không có tham số "{name}". Các tham số dùng được: {allowed}.',
        'Unknown parameter "{name}". Allowed: {allowed}.'),
    "missing_parameter": Problem(
        400, 'Thiếu tham số "{name}".', 'The parameter "{name}" is required.'),
    "bad_by": Problem(
        400, 'Không nhóm được theo "{value}". Dùng: ' + BY_KEYS_HELP + ".",
        'Cannot group by "{value}". Use: ' + BY_KEYS_HELP + "."),
    "repeated_by": Problem(
        400, 'Khoá nhóm "{value}" bị lặp lại.', 'The grouping key "{value}" is repeated.'),
    "bad_question": Problem(
        400, '"{path}" không phải câu hỏi chọn một (select_one) nằm ngoài nhóm lặp của biểu mẫu.',
        '"{path}" is not a select_one question outside repeats in the form.'),
    "bad_date": Problem(
        400, 'Ngày "{value}" ({name}) không hợp lệ; dùng dạng YYYY-MM-DD, ví dụ 2026-07-01.',
        'Invalid date "{value}" ({name}); use YYYY-MM-DD, e.g. 2026-07-01.'),
    "bad_range": Problem(
        400, "Ngày bắt đầu {date_from} sau ngày kết thúc {date_to}.",
        "The start date {date_from} is after the end date {date_to}."),
    "bad_period": Problem(
        400, 'Kỳ "{value}" không hợp lệ; dùng 2026-07 (tháng), 2026-Q3 (quý), 2026-H2 (6 tháng) '
             "hoặc 2026 (năm).",
        'Invalid period "{value}"; use 2026-07 (month), 2026-Q3 (quarter), 2026-H2 (half year) '
        "or 2026 (year)."),
    "bad_units": Problem(
        400, 'units="{value}" không hợp lệ; dùng recorded (như đã ghi nhận) hoặc current (theo đơn vị hiện nay).',
        'Invalid units="{value}"; use recorded (as recorded) or current (on today\'s units).'),
    "no_level": Problem(
        400, 'Cây đơn vị hiện hành không có cấp "{value}" (từ 1/7/2025 không còn cấp huyện); hãy nhóm theo '
             "tinh, xa hoặc unit. Số liệu cũ của các huyện xem theo unit.",
        'The unit tree in force has no "{value}" level (there is no district level since 1 July 2025); '
        "group by tinh, xa or unit. Figures of the former districts are under unit."),
    "bad_level": Problem(
        400, 'Cấp "{value}" không hợp lệ; dùng tinh, huyen hoặc xa.',
        'Invalid level "{value}"; use tinh, huyen or xa.'),
    "bad_min_n": Problem(
        400, 'min_n phải là số nguyên dương; nhận được "{value}".',
        'min_n must be a positive whole number; got "{value}".'),
    "bad_number": Problem(
        400, '{name} phải là số nguyên từ {low} đến {high}; nhận được "{value}".',
        '{name} must be a whole number from {low} to {high}; got "{value}".'),
    "bad_flag": Problem(
        400, '{name} chỉ nhận 1/0 hoặc true/false; nhận được "{value}".',
        '{name} takes 1/0 or true/false; got "{value}".'),
    "weighted_by": Problem(
        400, 'Chỉ số có trọng số chỉ tính được khi nhóm theo cấp và đơn vị hành chính (level, tinh, huyen, '
             'xa) và theo kỳ (month, quarter, half, year); không nhóm theo "{value}" được. (Theo từng '
             "đơn vị (unit), chỉ số có trọng số chính là chỉ số của đơn vị.)",
        'The weighted index needs a breakdown by level and administrative unit (level, tinh, huyen, xa) '
        'and by period (month, quarter, half, year) only; it cannot group by "{value}". (By unit, the '
        "weighted index is just the unit's own index.)"),
    "bad_channel": Problem(
        400, 'Kênh "{value}" không hợp lệ; dùng {allowed}.',
        'Invalid channel "{value}"; use {allowed}.'),
    "unknown_unit": Problem(
        400, 'Không có đơn vị mã "{value}".', 'There is no unit with code "{value}".'),
    "unknown_version": Problem(
        400, 'Biểu mẫu {form} không có phiên bản "{value}".',
        'Form {form} has no version "{value}".'),
}


class QueryError(Exception):
    """A request the indices cannot answer; `code` is a key of PROBLEMS."""

    def __init__(self, code: str, **details):
        super().__init__(code, details)
        self.code = code
        self.details = details

    @property
    def problem(self) -> Problem:
        return PROBLEMS[self.code]

    @property
    def status(self) -> int:
        return self.problem.status

    def message(self, lang: str) -> str:
        text = self.problem.vi if lang == "vi" else self.problem.en
        return text.format(**self.details)

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message_vi": self.message("vi"),
                          "message_en": self.message("en")}}
