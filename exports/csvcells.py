"""CSV cells a spreadsheet cannot run: the one place that neutralises formula injection.

Answers come from anyone (a public link, a kiosk), register cells from another system's export:
a cell such as `=HYPERLINK("http://…", "bấm vào đây")` or `@SUM(…)` opened in Excel or
LibreOffice is a formula, not text. As OWASP recommends ("CSV Injection"), a cell that starts with
= + - @, a tab or a carriage return is written with a single quote in front, which a spreadsheet
shows as text and does not evaluate; the csv module already quotes separators and quotes inside.

A plain number ("-5", "+84", "-105.75", "1e-3") is left as it is, although it starts with - or +:
a number cannot carry a formula, and the numeric columns analysts sum (decimal answers, geopoint
longitudes and altitudes below zero) would otherwise turn into text. OWASP's rule quotes every
leading "-"; we quote every leading "-" that is not the whole of a number.

`raw=True` writes every value as stored, for analysts who read the files with code (pandas, R),
not with a spreadsheet: the API's `raw_cells=1`, the command's `--raw-cells`.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable

FORMULA_STARTS = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def formula_safe(value):
    """The value as a spreadsheet may show it: a text starting like a formula gets a leading "'"."""
    if value.__class__ is str and value[:1] in FORMULA_STARTS and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose rows go through formula_safe (unless raw)."""

    def __init__(self, out, *, raw: bool = False, **options):
        self._writer = csv.writer(out, **options)
        self.raw = raw

    def writerow(self, row: Iterable):
        return self._writer.writerow(row if self.raw else [formula_safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, *, raw: bool = False, lineterminator: str = "\n") -> SafeWriter:
    return SafeWriter(out, raw=raw, lineterminator=lineterminator)
