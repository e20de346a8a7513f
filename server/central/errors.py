"""Refusing a request of the Central-compatible API: a Problem of catalogue.CENTRAL (or of the
receiver's catalogue) rendered as Central renders errors, with Central's numeric code.

Central answers errors as {"code": 404.1, "message": "..."}; clients (pyodk, ruODK) show the
message. Ours carries both languages in `message` and each apart in message_vi / message_en.
"""
from __future__ import annotations

from catalogue import CENTRAL as PROBLEMS, RECEIVER, Problem

# Central's numeric codes of our own refusals (catalogue.CENTRAL); a receiver refusal's number
# follows from its status (CentralError.from_receiver)
NUMERIC_CODES = {
    "unauthorized": 401.2, "locked": 429.1, "forbidden_role": 403.1, "forbidden_identifiers": 403.1,
    "not_found": 404.1, "bad_json": 400.1, "bad_review_state": 400.8, "bad_content_type": 415.1,
    "bad_query": 400.18, "unsupported_filter": 400.19, "bad_filter": 400.18, "unknown_table": 404.1,
    "attachment_exists": 409.3, "attachment_too_large": 413.1,
}
# an import-time check of two constant tables; it guards no input, so -O may drop it
assert set(NUMERIC_CODES) == set(PROBLEMS)  # nosec B101


class CentralError(Exception):
    def __init__(self, key: str, *, problem: Problem | None = None, numeric: float | None = None, **values):
        super().__init__(key)
        self.key = key
        self.values = values
        self._problem = problem
        self.numeric = numeric if numeric is not None else NUMERIC_CODES[key]

    @property
    def problem(self) -> Problem:
        return self._problem or PROBLEMS[self.key]

    @classmethod
    def from_receiver(cls, outcome: str) -> "CentralError":
        """A refusal of receive(), with the OpenRosa receiver's own status and message."""
        found = RECEIVER.get(outcome, RECEIVER["server_error"])
        code = {409: 409.3, 404: 404.1, 403: 403.1, 413: 413.1}.get(found.status, float(f"{found.status}.1"))
        return cls(outcome, numeric=code,
                   problem=Problem(found.code, found.status, found.vi.replace("{", "{{").replace("}", "}}"),
                                   found.en.replace("{", "{{").replace("}", "}}")))

    def to_json(self) -> dict:
        problem = self.problem
        vi, en = problem.vi.format(**self.values), problem.en.format(**self.values)
        return {"code": self.numeric, "message": f"{vi} / {en}", "message_vi": vi, "message_en": en,
                "details": {k: v for k, v in self.values.items() if isinstance(v, (str, int, float))}}
