"""Refusals that only exports have: catalogue.EXPORTS (code, HTTP status, Vietnamese and English).

Everything an export shares with the indices (unknown form, bad date or period, a unit outside
the account's scope, ...) is raised as aggregate's QueryError with catalogue.INDICES, so the
same mistake reads the same everywhere. ExportError is a QueryError, so the API's one error
handler and the commands' one `except` answer both: {"error": {"code", "message_vi",
"message_en"}} with the problem's status.
"""
from __future__ import annotations

from aggregate.problems import Problem, QueryError
from catalogue import EXPORTS as PROBLEMS


class ExportError(QueryError):
    """An export request refused for a reason of its own; `code` is a key of catalogue.EXPORTS."""

    @property
    def problem(self) -> Problem:
        return PROBLEMS[self.code]
