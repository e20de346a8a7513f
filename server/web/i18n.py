"""Language and formats for the web pages: Vietnamese by default, English by a switch.

Texts are written in place as t("tiếng Việt", "English"), so a page's two languages are read
and kept side by side instead of in a catalogue that drifts. Dates are shown dd/mm/yyyy in
Vietnam's time (Asia/Ho_Chi_Minh); numbers in the Vietnamese style 1.234,5 (English: 1,234.5).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import g, session

from aggregate.periods import local_moment
from vocabulary import CHANNEL_LABELS, CRITERION_LABELS, LEVEL_LABELS, REVIEW_LABELS, TIMEZONE

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def lang() -> str:
    # a page without a session (the public results) fixes its language per request in g.page_lang
    chosen = g.get("page_lang") or session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def t(vi: str, en: str) -> str:
    return en if lang() == "en" else vi


# Words the pages use for stored codes.
ROLES = {
    "admin": ("Quản trị viên", "Administrator"),
    "designer": ("Người thiết kế biểu mẫu", "Form designer"),
    "reporter": ("Cán bộ tổng hợp, báo cáo", "Reporting staff"),
    "viewer": ("Người xem (lãnh đạo đơn vị)", "Viewer (unit head)"),
    "collector": ("Điều tra viên", "Surveyor"),
}
FORM_STATES = {"open": ("Đang mở", "Open"), "closed": ("Đã đóng", "Closed")}
AUDIT_ACTIONS = {
    "register.import": ("Nhập sổ theo dõi hồ sơ", "Dossier register imported"),
    "sample.create": ("Chọn mẫu khảo sát", "Sample drawn"),
    "sample.assign": ("Giao mẫu cho điều tra viên", "Sample assigned"),
    "sample.withdraw": ("Huỷ kế hoạch chọn mẫu", "Sample plan withdrawn"),
    "sample.letters_with_names": ("In thư mời có họ tên", "Letters printed with names"),
    "sample.sms_export": ("Xuất tệp SMS (số điện thoại)", "SMS file exported (phone numbers)"),
    "login": ("Đăng nhập", "Login"),
    "login.failed": ("Đăng nhập sai", "Failed login"),
    "login.locked": ("Đăng nhập bị tạm khoá", "Login locked"),
    "login.refused": ("Từ chối đăng nhập web", "Web login refused"),
    "logout": ("Đăng xuất", "Logout"),
    "user.create": ("Tạo tài khoản", "Account created"),
    "user.password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "user.revoke": ("Thu hồi tài khoản", "Account revoked"),
    "units.import": ("Nhập đơn vị", "Units imported"),
    "form.publish": ("Xuất bản biểu mẫu", "Form published"),
    "form.close": ("Đóng biểu mẫu", "Form closed"),
    "form.open": ("Mở lại biểu mẫu", "Form reopened"),
    "submission.review": ("Xem xét phiếu", "Submission reviewed"),
    "submission.sensitive_view": ("Xem thông tin định danh", "Identifier fields viewed"),
    "submission.attachment_upload": ("Gửi tệp đính kèm của phiếu (API)", "Submission attachment uploaded (API)"),
    "kiosk.create": ("Đăng ký ki-ốt", "Kiosk registered"),
    "kiosk.revoke": ("Thu hồi ki-ốt", "Kiosk revoked"),
    "paper.print": ("In phiếu giấy", "Paper sheets printed"),
    "paper.conflict": ("Phiếu giấy nhập trùng khác nội dung", "Paper sheet entered twice, differently"),
    "paper.resolve": ("Xử lý phiếu giấy nhập trùng", "Paper double entry handled"),
    "followup.set": ("Theo dõi phiếu không hài lòng", "Dissatisfied follow-up"),
    "result.publish": ("Công bố kết quả", "Result published"),
    "result.withdraw": ("Gỡ kết quả công bố", "Published result withdrawn"),
}
TERMS = {"role": ROLES, "audit": AUDIT_ACTIONS, "channel": CHANNEL_LABELS, "review": REVIEW_LABELS,
         "form_state": FORM_STATES, "criterion": CRITERION_LABELS, "level": LEVEL_LABELS}


def term(kind: str, code: str | None) -> str:
    """The word for a stored code (term('channel', 'paper') -> 'Phiếu giấy'); the code itself if unknown."""
    pair = TERMS[kind].get(code or "")
    return t(*pair) if pair else (code or "")


def unit_name(row: dict, prefix: str = "unit_") -> str:
    """A unit's name in the page language, from columns <prefix>name_vi / <prefix>name_en."""
    vi, en = row.get(prefix + "name_vi"), row.get(prefix + "name_en")
    return (en or vi or "") if lang() == "en" else (vi or "")


def label(labels: dict | None, fallback: str = "") -> str:
    """A form label in the page language, from XForm labels keyed like 'Tiếng Việt (vi)' or 'default'."""
    if not labels:
        return fallback
    code = lang()
    for key, text in labels.items():
        if key == code or key.endswith(f"({code})"):
            return text
    for key in ("default", *labels):
        if key in labels and labels[key]:
            return labels[key]
    return fallback


# --- formats -------------------------------------------------------------------------------

def _moment(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        value = value.isoformat()
    return local_moment(str(value))


def format_date(value) -> str:
    """Stored UTC text -> dd/mm/yyyy in Vietnam."""
    moment = _moment(value)
    return moment.strftime("%d/%m/%Y") if moment else ""


def format_datetime(value, seconds: bool = False) -> str:
    moment = _moment(value)
    return moment.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M") if moment else ""


def format_number(value, decimals: int = 0) -> str:
    """1234.5 -> '1.234,5' in Vietnamese, '1,234.5' in English."""
    if value is None or value == "":
        return ""
    text = f"{float(value):,.{decimals}f}"
    if lang() == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_answer(value: str | None, kind: str | None) -> str:
    """A stored answer as a reader expects it: dates dd/mm/yyyy, numbers 1.234,5; else as stored."""
    if value in (None, ""):
        return ""
    try:
        if kind == "dateTime":
            return format_datetime(value)
        if kind == "date":
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        if kind == "int":
            return format_number(int(value))
        if kind == "decimal":
            places = len(value.split(".", 1)[1]) if "." in value else 0
            return format_number(float(value), places)
    except ValueError:
        pass
    return value


def day_start_utc(day: date, days_later: int = 0) -> str:
    """Midnight in Vietnam at the start of `day` (+ days_later), as stored UTC text."""
    moment = datetime.combine(day + timedelta(days=days_later), time(0), tzinfo=TIMEZONE)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def init_app(app) -> None:
    app.jinja_env.globals.update(t=t, lang=lang, term=term, unit_name=unit_name, label=label,
                                 LANGUAGES=LANGUAGES)
    app.jinja_env.filters.update(vn_date=format_date, vn_datetime=format_datetime, vn_number=format_number,
                                 vn_answer=format_answer)
