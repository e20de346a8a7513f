"""The one shape of a refusal a person can act on: a message in Vietnamese and in English.

It lives in storage, the package every other one may import, so that a backup, an account, a
kiosk or a sample plan refused anywhere is caught and shown the same way (CLI: both languages;
pages: the page's language).
"""
from __future__ import annotations


class BilingualError(Exception):
    def __init__(self, vi: str, en: str):
        super().__init__(en)
        self.vi, self.en = vi, en

    def describe(self, lang: str | None = None) -> str:
        """Both messages, or the one of `lang` ('vi' or 'en')."""
        if lang is None:
            return f"{self.vi} / {self.en}"
        return self.en if lang == "en" else self.vi
