"""Refusing an indices request: QueryError names a Problem of catalogue.INDICES (code, HTTP
status, Vietnamese and English).

The library raises QueryError(code, **details); the JSON API answers with the status and
{"error": {"code", "message_vi", "message_en"}}; the command line prints both messages.
"""
from __future__ import annotations

from catalogue import INDICES as PROBLEMS, Problem


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
        return self.problem.text(lang, **self.details)

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message_vi": self.message("vi"),
                          "message_en": self.message("en")}}
