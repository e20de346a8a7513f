"""Refusals that only exports have, defined once: code, HTTP status, Vietnamese and English.

Everything an export shares with the indices (unknown form, bad date or period, a unit outside
the account's scope, ...) is raised as aggregate's QueryError with aggregate's catalogue, so the
same mistake reads the same everywhere. ExportError is a QueryError, so the API's one error
handler and the commands' one `except` answer both: {"error": {"code", "message_vi",
"message_en"}} with the status below.
"""
from __future__ import annotations

from aggregate.problems import Problem, QueryError

PROBLEMS: dict[str, Problem] = {
    "forbidden_identifiers": Problem(
        403, "Chỉ quản trị viên mới được xuất thông tin định danh (mã hồ sơ, họ tên, số điện thoại).",
        "Only administrators may export identifiers (dossier codes, names, phone numbers)."),
    "bad_choice": Problem(
        400, '{name} chỉ nhận một trong các giá trị {allowed}; nhận được "{value}".',
        '{name} takes one of {allowed}; got "{value}".'),
    "period_and_dates": Problem(
        400, "Dùng kỳ (period) hoặc khoảng ngày (from, to), không dùng cả hai.",
        "Give a period or a date range (from, to), not both."),
    "export_failed": Problem(
        500, "Không tạo được tệp xuất ({detail}). Chưa có dữ liệu nào được gửi; hãy thử lại.",
        "The export could not be made ({detail}). Nothing was sent; please try again."),
}


class ExportError(QueryError):
    """An export request refused for a reason of its own; `code` is a key of PROBLEMS above."""

    @property
    def problem(self) -> Problem:
        return PROBLEMS[self.code]
