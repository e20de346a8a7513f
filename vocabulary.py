"""The words of the survey, defined once: channels, unit levels, criteria, review states and
reporting periods, each with its Vietnamese and English label, and Vietnam's time zone.

A top-level module of constants that imports nothing of the project, so forms/, storage/,
aggregate/, exports/, sampling/, server/ and bench/ can all import it without a cycle. Labels are
(vi, en) pairs; each layer renders them its own way (a web page picks one by the session's
language, a workbook joins them, the API returns both).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# Vietnam's time: UTC+7 all year, no summer time since 1975.
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# SQLite knows no time zones: SQL that needs a local date or month shifts the stored UTC text by
# this modifier ("+7 hours"), the zone's offset, which agrees with the zone for every date since 1975
SQL_LOCAL_SHIFT = f"{int(TIMEZONE.utcoffset(datetime(2000, 1, 1)).total_seconds()) // 3600:+d} hours"

# How an answer reached the server (the `channel` field of a submission).
CHANNELS = ("interview", "online", "kiosk", "paper", "post", "other")
CHANNEL_LABELS = {
    "interview": ("Phỏng vấn trực tiếp", "Interview"),
    "online": ("Trực tuyến", "Online"),
    "kiosk": ("Ki-ốt, máy tính bảng", "Kiosk"),
    "paper": ("Phiếu giấy", "Paper"),
    "post": ("Bưu chính", "Post"),
    "other": ("Khác", "Other"),
}

# Levels of the units, from the province down.
LEVELS = ("tinh", "huyen", "xa")
LEVEL_LABELS = {
    "tinh": ("Cấp tỉnh", "Province level"),
    "huyen": ("Cấp huyện", "District level"),
    "xa": ("Cấp xã", "Commune level"),
}

# The three criteria of Decision 2709 a question may count towards.
CRITERIA = ("procedure", "staff", "result")
CRITERION_LABELS = {
    "procedure": ("Giải quyết thủ tục hành chính", "Handling of the procedure"),
    "staff": ("Sự phục vụ của công chức", "Service of the civil servants"),
    "result": ("Kết quả, tiến độ giải quyết", "Result and timeliness"),
}
# where a table's column has no room for the full label
SHORT_CRITERION_LABELS = {
    "procedure": ("Giải quyết TTHC", "Procedure"),
    "staff": ("Công chức", "Staff"),
    "result": ("Kết quả", "Result"),
}

# A submission's review state (ODK Central's words); every submission starts `received`.
REVIEW_STATES = ("received", "approved", "hasIssues", "rejected")
# the states a reviewer may set
REVIEWED_STATES = ("approved", "hasIssues", "rejected")
REVIEW_LABELS = {
    "received": ("Mới nhận", "Received"),
    "approved": ("Đã duyệt", "Approved"),
    "hasIssues": ("Có vấn đề", "Has issues"),
    "rejected": ("Bị loại", "Rejected"),
}

# Reporting periods, each in Vietnam's time (aggregate/periods.py reads and names them).
PERIOD_KINDS = ("month", "quarter", "half", "year")
PERIOD_LABELS = {
    "month": ("Tháng", "Month"),
    "quarter": ("Quý", "Quarter"),
    "half": ("6 tháng", "Half year"),
    "year": ("Năm", "Year"),
}

# an import-time check of constant tables; it guards no input, so -O may drop it
assert (set(CHANNEL_LABELS) == set(CHANNELS) and set(LEVEL_LABELS) == set(LEVELS)  # nosec B101
        and set(CRITERION_LABELS) == set(SHORT_CRITERION_LABELS) == set(CRITERIA)
        and set(REVIEW_LABELS) == set(REVIEW_STATES) and set(PERIOD_LABELS) == set(PERIOD_KINDS))
