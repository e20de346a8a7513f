"""A questionnaire with one question of every kind ODK Web Forms 0.22 draws, for the citizens'
pages tests: Vietnamese and English labels, required questions with and without their own
message, a constraint without one, a repeat, so every banner and message of Web Forms shows."""
from __future__ import annotations

from pathlib import Path

import openpyxl

FORM_ID = "moi_loai_cau_hoi"

SURVEY = [
    # type, name, label vi, label en, required, constraint, appearance, required_message vi
    ("note", "intro", "Phiếu thử mọi loại câu hỏi", "A form with every kind of question", "", "", "", ""),
    ("text", "ten_goi", "Tên gọi", "Name", "yes", "", "", ""),
    ("text", "nhan_xet", "Nhận xét dài", "Long comment", "", "", "multiline", ""),
    ("integer", "so_lan", "Số lần đến", "Number of visits", "yes", ". > 0", "", ""),
    ("decimal", "so_tien", "Số tiền đã nộp", "Amount paid", "", ". >= 0", "", ""),
    ("select_one yes_no", "dong_y", "Ông/Bà có đồng ý không?", "Do you agree?", "yes", "", "", ""),
    ("select_one yes_no", "chon_nhanh", "Chọn trong danh sách", "Pick from a list", "", "", "minimal", ""),
    ("select_one fruits", "tim_kiem", "Tìm và chọn", "Search and pick", "", "", "autocomplete", ""),
    ("select_multiple fruits", "nhieu", "Chọn nhiều", "Pick several", "yes", "", "", "Vui lòng chọn ít nhất một."),
    ("select_multiple fruits", "nhieu_gon", "Chọn nhiều (gọn)", "Pick several (compact)", "", "", "minimal", ""),
    ("select_one scale5", "muc_do", "Mức độ hài lòng", "Satisfaction", "yes", "", "likert", ""),
    ("rank fruits", "xep_hang", "Xếp thứ tự ưa thích", "Rank by preference", "", "", "", ""),
    ("date", "ngay", "Ngày nộp hồ sơ", "Date submitted", "", "", "", ""),
    ("time", "gio", "Giờ nộp", "Time submitted", "", "", "", ""),
    ("dateTime", "luc", "Thời điểm nhận kết quả", "When the result came", "", "", "", ""),
    ("image", "anh", "Ảnh chụp giấy hẹn", "Photo of the receipt", "", "", "", ""),
    ("geopoint", "vi_tri", "Vị trí", "Location", "", "", "", ""),
    ("trigger", "xac_nhan", "Xác nhận đã đọc", "Confirm you have read", "", "", "", ""),
    ("begin_repeat", "lan_den", "Lần đến", "Visit", "", "", "", ""),
    ("text", "muc_dich", "Mục đích", "Purpose", "", "", "", ""),
    ("end_repeat", "lan_den", "", "", "", "", "", ""),
]
CHOICES = [
    ("yes_no", "yes", "Có", "Yes"), ("yes_no", "no", "Không", "No"),
    ("fruits", "cam", "Cam", "Orange"), ("fruits", "xoai", "Xoài", "Mango"), ("fruits", "buoi", "Bưởi", "Pomelo"),
    ("scale5", "5", "Rất hài lòng", "Very satisfied"), ("scale5", "4", "Hài lòng", "Satisfied"),
    ("scale5", "3", "Bình thường", "Neutral"), ("scale5", "2", "Không hài lòng", "Dissatisfied"),
    ("scale5", "1", "Rất không hài lòng", "Very dissatisfied"),
    ("scale5", "0", "Không ý kiến / không áp dụng", "No opinion / not applicable"),
]


def write_every_kind_form(path: Path) -> Path:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "required", "constraint",
                   "appearance", "required_message::Tiếng Việt (vi)", "required_message::English (en)"])
    for row in SURVEY:
        survey.append([*row, "Please choose at least one." if row[7] else ""])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)"])
    for row in CHOICES:
        choices.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append(["Phiếu thử mọi loại câu hỏi", FORM_ID, "2026120501", "Tiếng Việt (vi)"])
    book.save(path)
    return path
