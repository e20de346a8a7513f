"""Every refusal of the Central-compatible API, defined once: status, Central's numeric code and
the message in Vietnamese and English.

Central answers errors as {"code": 404.1, "message": "..."}; clients (pyodk, ruODK) show the
message. Ours carries both languages in `message` and each apart in message_vi / message_en.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    status: int
    code: float
    vi: str
    en: str


PROBLEMS: dict[str, Problem] = {
    "unauthorized": Problem(401, 401.2, "Cần đăng nhập: tên và mật khẩu (Basic) hoặc mã phiên (Bearer) không hợp lệ "
                                        "hoặc đã hết hạn.",
                            "Authentication needed: the user name and password (Basic) or session token (Bearer) "
                            "are missing, wrong or expired."),
    "locked": Problem(429, 429.1, "Đăng nhập sai quá nhiều lần. Vì an toàn, hãy chờ khoảng {minutes} phút rồi thử lại.",
                      "Too many failed logins. For safety, wait about {minutes} minutes and try again."),
    "forbidden_role": Problem(403, 403.1, "Vai trò của tài khoản không được phép làm việc này.",
                              "The account's role may not do this."),
    "forbidden_identifiers": Problem(403, 403.1, "Chỉ quản trị viên mới được xem thông tin định danh (mã hồ sơ, họ tên, "
                                                 "số điện thoại).",
                                     "Only administrators may see identifiers (dossier codes, names, phone numbers)."),
    "not_found": Problem(404, 404.1, "Không tìm thấy: {what}.", "Not found: {what}."),
    "bad_json": Problem(400, 400.1, "Nội dung gửi lên phải là JSON hợp lệ với {fields}.",
                        "The request body must be valid JSON with {fields}."),
    "bad_review_state": Problem(400, 400.8, "Trạng thái duyệt \"{value}\" không hợp lệ; chọn một trong: {allowed}.",
                                "Review state \"{value}\" is not valid; choose one of: {allowed}."),
    "bad_content_type": Problem(415, 415.1, "Phiếu phải gửi dưới dạng application/xml hoặc text/xml.",
                                "The submission must be sent as application/xml or text/xml."),
    "bad_query": Problem(400, 400.18, "Tham số {name} không hợp lệ: {value}.", "Parameter {name} is not valid: {value}."),
    "unsupported_filter": Problem(400, 400.19, "Không hỗ trợ trong $filter: {clause} ({reason}).",
                                  "Not supported in $filter: {clause} ({reason})."),
    "bad_filter": Problem(400, 400.18, "Không đọc được $filter: {detail}.", "The $filter cannot be read: {detail}."),
    "unknown_table": Problem(404, 404.1, "Biểu mẫu không có bảng {table}.", "The form has no table {table}."),
}


class CentralError(Exception):
    def __init__(self, key: str, *, problem: Problem | None = None, **values):
        super().__init__(key)
        self.key = key
        self.values = values
        self._problem = problem

    @property
    def problem(self) -> Problem:
        return self._problem or PROBLEMS[self.key]

    @classmethod
    def from_receiver(cls, outcome: str) -> "CentralError":
        """A refusal of receive(), with the OpenRosa receiver's own status and message."""
        from ..openrosa.problems import PROBLEMS as RECEIVER
        found = RECEIVER.get(outcome, RECEIVER["server_error"])
        code = {409: 409.3, 404: 404.1, 403: 403.1, 413: 413.1}.get(found.status, float(f"{found.status}.1"))
        return cls(outcome, problem=Problem(found.status, code, found.vi.replace("{", "{{").replace("}", "}}"),
                                            found.en.replace("{", "{{").replace("}", "}}")))

    def to_json(self) -> dict:
        problem = self.problem
        vi, en = problem.vi.format(**self.values), problem.en.format(**self.values)
        return {"code": problem.code, "message": f"{vi} / {en}", "message_vi": vi, "message_en": en,
                "details": {k: v for k, v in self.values.items() if isinstance(v, (str, int, float))}}
