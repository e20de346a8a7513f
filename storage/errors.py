"""The one shape of a refusal a person can act on: a catalogue.Problem, Vietnamese and English.

It lives in storage, the package every other one may import, so that a backup, an account, a
kiosk or a sample plan refused anywhere is caught and shown the same way (CLI: both languages;
pages: the page's language). Its messages are written where the refusal is decided (they name
the file, row or account at fault); each subclass names its code.
"""
from __future__ import annotations

from catalogue import Problem


class BilingualError(Exception):
    code = "refused"
    status = 400

    def __init__(self, vi: str, en: str):
        super().__init__(en)
        self.problem = Problem(self.code, self.status, vi, en)

    @property
    def vi(self) -> str:
        return self.problem.vi

    @property
    def en(self) -> str:
        return self.problem.en

    def describe(self, lang: str | None = None) -> str:
        """Both messages, or the one of `lang` ('vi' or 'en')."""
        if lang is None:
            return self.problem.message
        return self.en if lang == "en" else self.vi
