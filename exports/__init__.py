"""Exports: raw data as an Excel workbook or a Central-style CSV zip, and the report workbook.

A library with no web code: the download API (server/api_exports.py), the `export` command
(server/cli_export.py), the tests and the benchmark call it directly.

    plan = prepare(db, ExportQuery("tthc_hailong", unit="474", lang="vi"))   # checks everything
    write_xlsx(db, plan, "du-lieu.xlsx")                # constant memory, any number of rows
    for piece in stream_csv_zip(db, plan, blobs=store): ...
    report = prepare_report(db, ReportQuery("tthc_hailong", period="2026-Q3", unit="474"))
    write_report(db, report, "bao-cao.xlsx")            # numbers from aggregate/, never recomputed
    record_export(db, actor, "xlsx", plan)              # the audit log entry

Modules: `schema` (a form's fields merged across versions), `rows` (the one row generator every
format writes from), `xlsx`, `csvzip`, `report` (the writers), `query` (what to export, checked
before a byte is written), `excel` (dates, sheet names), `problems` (refusals of their own).
"""
from .csvzip import stream_csv_zip  # noqa: F401
from .problems import ExportError  # noqa: F401
from .query import (ExportPlan, ExportQuery, ReportQuery, export_filename, export_query, prepare,  # noqa: F401
                    report_query)
from .report import prepare_report, write_report  # noqa: F401
from .schema import FormSchema, load_schema, merge_versions  # noqa: F401
from .xlsx import write_xlsx  # noqa: F401
from .audit import record_export  # noqa: F401
