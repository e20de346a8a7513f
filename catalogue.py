"""Every refusal (and every message of an outcome) the product gives a person, defined once.

A Problem is a code, the HTTP status that goes with it and the message in Vietnamese and English;
messages may hold {placeholders} the raiser fills. The codes are part of the interfaces (clients
and tests read them), so they never change. Each layer only renders a Problem its own way: the
OpenRosa receiver as an XML <OpenRosaResponse> (server/openrosa/), the indices and export APIs as
{"error": {"code", "message_vi", "message_en"}} (aggregate/problems.py, exports/problems.py), the
Central-compatible API with Central's numeric codes (server/central/errors.py), citizens' pages as
JSON or an HTML page in the page's language (server/channels/), the command line both languages.

The same code may read differently to different people: a surveyor's Collect gets the precise
receiver message, a citizen on a public link a plainer one. So the catalogue holds one table per
audience, each keyed by code:

  RECEIVER  what receive() refuses, as ODK Collect shows it (every door falls back to it)
  CITIZEN   the public link, the kiosk and paper entry: what the person at the screen is told
  INDICES   the indices API and `flask indices`
  EXPORTS   what only exports refuse (the rest is INDICES)
  CENTRAL   the Central-compatible API (/v1)
  PAGES     the public pages a citizen opens (survey link, kiosk)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    status: int
    vi: str
    en: str

    @property
    def message(self) -> str:
        """Both languages, Vietnamese first, for a reader who may read either (Collect, the CLI)."""
        return f"{self.vi} / {self.en}"

    def text(self, lang: str, **values) -> str:
        """The message in `lang` ('vi' or 'en'), its {placeholders} filled from `values`."""
        return (self.en if lang == "en" else self.vi).format(**values)


def _table(*problems: Problem) -> dict[str, Problem]:
    table = {p.code: p for p in problems}
    # an import-time check of constant tables; it guards no input, so -O may drop it
    assert len(table) == len(problems), "a code is listed twice"  # nosec B101
    return table


BY_KEYS_HELP = ("unit, level, tinh, huyen, xa, month, quarter, half, year, channel, "
                "procedure_field, version, form, q:<câu hỏi / question path>")

RECEIVER = _table(
    Problem("no_xml_part", 400, "Thiếu phần xml_submission_file trong yêu cầu gửi phiếu.",
                           "Required multipart POST field xml_submission_file missing."),
    Problem("not_multipart", 400, "Yêu cầu gửi phiếu phải ở dạng multipart/form-data.",
                             "The submission must be sent as multipart/form-data."),
    Problem("bad_multipart", 400, "Dữ liệu gửi lên bị hỏng hoặc không đầy đủ; vui lòng gửi lại.",
                             "The multipart body is broken or truncated; please send again."),
    Problem("malformed", 400, "Nội dung phiếu không phải XML hợp lệ.",
                         "The submission is not well-formed XML."),
    Problem("not_utf8", 400, "Nội dung phiếu phải được mã hóa UTF-8.",
                        "The submission text must be UTF-8."),
    Problem("dtd", 400, "Phiếu không được chứa khai báo DOCTYPE/DTD.",
                   "Submissions may not contain a DOCTYPE or DTD."),
    Problem("entity", 400, "Phiếu không được chứa khai báo thực thể (entity).",
                      "Submissions may not declare or reference entities."),
    Problem("too_deep", 400, "Cấu trúc phiếu lồng nhau quá sâu.",
                        "The submission is nested too deeply."),
    Problem("too_many_nodes", 400, "Phiếu có quá nhiều phần tử so với biểu mẫu của nó; máy chủ không đọc tiếp.",
                              "The submission holds far more elements than its form has; the server stopped "
                              "reading it."),
    Problem("too_many_attributes", 400, "Một phần tử của phiếu có quá nhiều thuộc tính.",
                                   "An element of the submission has too many attributes."),
    Problem("text_too_long", 400, "Một câu trả lời trong phiếu dài quá mức cho phép (1.000.000 ký tự).",
                             "An answer in the submission is longer than allowed (1,000,000 characters)."),
    Problem("no_form_id", 400, "Phiếu không ghi mã biểu mẫu (thuộc tính id của phần tử gốc).",
                          "The submission's root element has no id attribute."),
    Problem("no_instance_id", 400, "Phiếu mã hóa phải có instanceID.",
                              "An encrypted submission must carry an instanceID."),
    Problem("bad_instance_id", 400, "instanceID của phiếu không hợp lệ (quá dài hoặc có ký tự điều khiển).",
                               "The submission's instanceID is invalid (too long or has control characters)."),
    Problem("bad_attachment_name", 400, "Tên tệp đính kèm không hợp lệ (chỉ được là tên tệp, không chứa đường dẫn).",
                                   "Invalid attachment file name (a plain file name is required, no path)."),
    Problem("unknown_form", 404, "Không tìm thấy biểu mẫu này trên máy chủ.",
                            "The form this submission belongs to does not exist on this server."),
    Problem("unknown_version", 404, "Phiên bản biểu mẫu của phiếu này không có trên máy chủ; hãy tải lại biểu mẫu.",
                               "The form version specified in this submission does not exist."),
    Problem("form_closed", 409, "Biểu mẫu này đã đóng, không nhận thêm phiếu.",
                           "This form is not currently accepting submissions."),
    Problem("conflict", 409, "Đã có phiếu khác với cùng mã (instanceID) nhưng nội dung khác.",
                        "A submission already exists with this ID, but with different XML."),
    Problem("edit_unknown", 404, "Không tìm thấy phiếu gốc cần sửa (deprecatedID).",
                            "The submission this edit replaces (deprecatedID) does not exist."),
    Problem("edit_replaced", 409, "Phiếu gốc này đã được sửa trước đó; hãy sửa từ bản mới nhất.",
                             "The submission this edit replaces has already been replaced."),
    Problem("edit_public", 403, "Đường dẫn khảo sát công khai không nhận bản sửa của phiếu đã gửi.",
                           "A public survey link does not accept edits of submitted answers."),
    Problem("edit_forbidden", 403, "Chỉ tài khoản (hoặc ki-ốt) đã gửi phiếu gốc, hoặc điều tra viên phụ trách đơn vị "
                                   "của phiếu, mới được gửi bản sửa; nhập phiếu giấy chỉ sửa được phiếu mình đã nhập.",
                              "Only the account (or kiosk) that sent the original, or a surveyor whose units "
                              "include the original's unit, may send an edit of it; paper entry edits only the "
                              "clerk's own entries."),
    Problem("edit_rejected", 409, "Phiếu gốc đã bị từ chối khi duyệt; chỉ người duyệt mới thay đổi được quyết định "
                                  "đó, nên không gửi bản sửa được.",
                             "The original was rejected in review; only a reviewer can change that decision, so "
                             "it cannot be edited."),
    Problem("edit_deleted", 409, "Phiếu gốc đã bị xóa nên không gửi bản sửa được.",
                            "The original submission has been deleted and cannot be edited."),
    Problem("unknown_unit", 400, "Mã đơn vị trong phiếu không có trong danh mục đơn vị, hoặc đơn vị đó không dùng "
                                 "biểu mẫu này.",
                            "The unit code in the submission is not in the unit list, or that unit does not use "
                            "this form."),
    Problem("unexpected_attachment", 400, "Phiếu gửi kèm tệp mà các câu hỏi của biểu mẫu không yêu cầu; chỉ được gửi "
                                          "các tệp (ảnh, chữ ký...) có tên trong câu trả lời.",
                                     "The submission came with a file its questions do not ask for; only the files "
                                     "named in the answers (photos, signatures...) may be sent."),
    Problem("too_large", 413, "Dữ liệu gửi lên vượt quá dung lượng cho phép.",
                         "The submission is larger than this server accepts."),
    Problem("unauthorized", 401, "Cần đăng nhập để dùng máy chủ này.",
                            "Authentication is required."),
    Problem("forbidden_unit", 403, "Tài khoản này không được gửi phiếu cho đơn vị ngoài phạm vi được giao.",
                              "This account may not submit for a unit outside its scope."),
    Problem("retired_unit", 409, "Đơn vị được chọn đã giải thể trước ngày phỏng vấn; hãy tải lại biểu mẫu "
                                 "(danh sách đơn vị mới) và chọn đơn vị hiện hành.",
                            "The unit chosen was retired before the interview date; get the form again "
                            "(the new unit list) and choose a unit in force."),
    Problem("forbidden_form", 403, "Tài khoản này không được dùng biểu mẫu này.",
                              "This account may not use this form."),
    Problem("forbidden_role", 403, "Vai trò của tài khoản này không được gửi phiếu.",
                              "This account's role may not submit."),
    Problem("not_found", 404, "Không tìm thấy.", "Not found."),
    Problem("server_error", 500, "Máy chủ gặp lỗi, phiếu chưa được lưu; hãy gửi lại sau.",
                            "The server failed and the submission was not stored; please send it again later."),
)

# receive()'s other outcomes fall back to RECEIVER, whose texts are precise if more technical
CITIZEN = _table(
    Problem("created", 201, "Cảm ơn Ông/Bà! Phiếu khảo sát đã được ghi nhận.",
                       "Thank you! Your answers have been recorded."),
    Problem("resent", 201, "Cảm ơn Ông/Bà! Phiếu khảo sát đã được ghi nhận.",
                      "Thank you! Your answers have been recorded."),
    Problem("rate_ip", 429, "Có quá nhiều phiếu được gửi từ cùng một địa chỉ mạng trong thời gian ngắn, "
                            "nên phiếu này chưa được ghi nhận. Vui lòng đợi khoảng {minutes} phút rồi bấm gửi lại; "
                            "câu trả lời của Ông/Bà vẫn còn trên trang.",
                       "Too many answers were sent from the same network address in a short time, so this one "
                       "was not recorded. Please wait about {minutes} minutes and send again; your answers are "
                       "still on the page."),
    Problem("rate_link", 429, "Đường dẫn khảo sát này đang nhận quá nhiều phiếu trong thời gian ngắn, nên phiếu "
                              "này chưa được ghi nhận. Vui lòng đợi khoảng {minutes} phút rồi bấm gửi lại; câu trả "
                              "lời của Ông/Bà vẫn còn trên trang.",
                         "This survey link is receiving too many answers in a short time, so this one was not "
                         "recorded. Please wait about {minutes} minutes and send again; your answers are still "
                         "on the page."),
    Problem("honeypot", 400, "Phiếu không được ghi nhận vì ô ẩn chống thư rác có nội dung. Nếu Ông/Bà điền phiếu "
                             "bình thường, vui lòng tải lại trang và trả lời lại.",
                        "The answers were not recorded because the hidden anti-spam field was filled in. If you "
                        "answered normally, please reload the page and answer again."),
    Problem("dossier_answered", 409, "Hồ sơ {dossier} đã được đánh giá trước đây; mỗi hồ sơ chỉ được đánh giá "
                                     "một lần. Cảm ơn Ông/Bà đã quan tâm.",
                                "Dossier {dossier} has already been rated; each dossier can be rated once. "
                                "Thank you for your interest."),
    Problem("dossier_invalid", 400, "Mã hồ sơ trong phiếu không hợp lệ: chỉ gồm chữ không dấu, số và các dấu "
                                    ". _ / : -, tối đa 64 ký tự. Vui lòng kiểm tra lại mã trên phiếu hẹn.",
                               "The dossier code in the answers is not valid: letters without accents, digits "
                               "and . _ / : -, at most 64 characters. Please check the code on the receipt."),
    Problem("wrong_form", 400, "Phiếu gửi lên không thuộc biểu mẫu của trang này; vui lòng tải lại trang.",
                          "The answers sent belong to another form than this page's; please reload the page."),
    Problem("form_closed", 409, "Đợt khảo sát này đã kết thúc, phiếu không được ghi nhận. Cảm ơn Ông/Bà.",
                           "This survey has ended and no longer records answers. Thank you."),
    Problem("unknown_form", 404, "Không tìm thấy phiếu khảo sát này; có thể đường dẫn đã sai hoặc đợt khảo sát "
                                 "đã thay đổi. Vui lòng tải lại trang.",
                            "This survey was not found; the link may be wrong or the survey may have changed. "
                            "Please reload the page."),
    Problem("unknown_version", 409, "Phiếu khảo sát vừa được cập nhật. Vui lòng tải lại trang và trả lời lại.",
                               "The questionnaire has just been updated. Please reload the page and answer again."),
    Problem("forbidden_unit", 403, "Đơn vị được chọn không thuộc phạm vi của đường dẫn (hoặc ki-ốt) này. Vui lòng "
                                   "chọn lại cơ quan đã giải quyết hồ sơ, hoặc dùng đường dẫn của cơ quan đó.",
                              "The unit chosen is outside the scope of this link (or kiosk). Please choose the "
                              "agency that handled your dossier again, or use that agency's link."),
    Problem("forbidden_form", 403, "Phiếu khảo sát này không dùng cho đơn vị của đường dẫn (hoặc ki-ốt) này.",
                              "This questionnaire is not used by this link's (or kiosk's) unit."),
    Problem("conflict", 409, "Phiếu này đã được gửi trước đó với nội dung khác nên không được ghi đè. Vui lòng "
                             "tải lại trang nếu muốn trả lời lại.",
                        "These answers were already sent with other content and are not overwritten. Reload "
                        "the page to answer again."),
    Problem("too_large", 413, "Dữ liệu gửi lên (ảnh, tệp đính kèm) quá lớn; vui lòng chọn ảnh nhỏ hơn rồi gửi lại.",
                         "What was sent (photos, files) is too large; please choose a smaller photo and send again."),
    Problem("server_error", 500, "Máy chủ gặp lỗi, phiếu chưa được lưu. Câu trả lời vẫn còn trên trang; vui lòng "
                                 "gửi lại sau ít phút.",
                            "The server failed and the answers were not stored. They are still on the page; "
                            "please send again in a few minutes."),
    Problem("kiosk_unknown", 403, "Thiết bị này chưa được đăng ký làm ki-ốt khảo sát, hoặc đã bị thu hồi.",
                             "This device is not registered as a survey kiosk, or it has been revoked."),
    Problem("kiosk_header", 400, "Yêu cầu không đến từ trang ki-ốt.", "The request did not come from the kiosk page."),
    Problem("paper_unknown_sheet", 404, "Số phiếu {sheet} không có trong các lần in phiếu giấy của biểu mẫu này. "
                                        "Hãy kiểm tra lại số in trên phiếu.",
                                   "Sheet {sheet} was not given out in any paper print of this form. Check the "
                                   "number printed on the sheet."),
    Problem("paper_wrong_version", 409, "Phiếu số {sheet} được in theo phiên bản {printed}, nhưng nội dung nhập theo "
                                        "phiên bản {entered}. Hãy tải lại trang nhập liệu.",
                                   "Sheet {sheet} was printed from version {printed} but was entered with version "
                                   "{entered}. Reload the entry page."),
    Problem("paper_created", 201, "Đã lưu phiếu giấy số {sheet}.", "Paper sheet {sheet} saved."),
    Problem("paper_same", 200, "Phiếu số {sheet} đã được nhập trước đó với đúng các câu trả lời này; không lưu thêm.",
                          "Sheet {sheet} was already entered with exactly these answers; nothing more was stored."),
    Problem("paper_conflict", 202, "Phiếu số {sheet} đã được nhập trước đó với câu trả lời KHÁC. Lần nhập này không "
                                   "được tính mà được lưu riêng và đánh dấu để xem xét; phiếu nhập lần đầu được "
                                   "chuyển sang trạng thái \"Có vấn đề\". Các câu khác nhau: {differences}.",
                              "Sheet {sheet} was already entered with DIFFERENT answers. This entry is not counted; "
                              "it is kept apart and flagged for review, and the first entry is marked \"Has "
                              "issues\". Questions that differ: {differences}."),
)

INDICES = _table(
    Problem(
        "unauthorized", 401, "Cần đăng nhập để xem số liệu.", "Log in to read the figures."),
    Problem(
        "forbidden_role", 403, "Tài khoản này không được xem số liệu tổng hợp.",
        "This account may not read the figures."),
    Problem(
        "forbidden_unit", 403, 'Tài khoản này chỉ xem được đơn vị {scope} và các đơn vị trực thuộc, không xem được "{unit}".',
        'This account sees unit {scope} and the units under it only, not "{unit}".'),
    Problem(
        "unknown_form", 404, 'Không có biểu mẫu "{form}".', 'There is no form "{form}".'),
    Problem(
        "no_forms", 400, "Cần ít nhất một mã biểu mẫu (forms=...).", "Name at least one form (forms=...)."),
    Problem(
        "unknown_parameter", 400, 'Không có tham số "{name}". Các tham số dùng được: {allowed}.',
        'Unknown parameter "{name}". Allowed: {allowed}.'),
    Problem(
        "missing_parameter", 400, 'Thiếu tham số "{name}".', 'The parameter "{name}" is required.'),
    Problem(
        "bad_by", 400, 'Không nhóm được theo "{value}". Dùng: ' + BY_KEYS_HELP + ".",
        'Cannot group by "{value}". Use: ' + BY_KEYS_HELP + "."),
    Problem(
        "repeated_by", 400, 'Khoá nhóm "{value}" bị lặp lại.', 'The grouping key "{value}" is repeated.'),
    Problem(
        "bad_question", 400, '"{path}" không phải câu hỏi chọn một (select_one) nằm ngoài nhóm lặp của biểu mẫu.',
        '"{path}" is not a select_one question outside repeats in the form.'),
    Problem(
        "bad_date", 400, 'Ngày "{value}" ({name}) không hợp lệ; dùng dạng YYYY-MM-DD, ví dụ 2026-07-01.',
        'Invalid date "{value}" ({name}); use YYYY-MM-DD, e.g. 2026-07-01.'),
    Problem(
        "bad_range", 400, "Ngày bắt đầu {date_from} sau ngày kết thúc {date_to}.",
        "The start date {date_from} is after the end date {date_to}."),
    Problem(
        "bad_period", 400, 'Kỳ "{value}" không hợp lệ; dùng 2026-07 (tháng), 2026-Q3 (quý), 2026-H2 (6 tháng) '
             "hoặc 2026 (năm).",
        'Invalid period "{value}"; use 2026-07 (month), 2026-Q3 (quarter), 2026-H2 (half year) '
        "or 2026 (year)."),
    Problem(
        "bad_units", 400, 'units="{value}" không hợp lệ; dùng recorded (như đã ghi nhận) hoặc current (theo đơn vị hiện nay).',
        'Invalid units="{value}"; use recorded (as recorded) or current (on today\'s units).'),
    Problem(
        "no_level", 400, 'Cây đơn vị hiện hành không có cấp "{value}" (từ 1/7/2025 không còn cấp huyện); hãy nhóm theo '
             "tinh, xa hoặc unit. Số liệu cũ của các huyện xem theo unit.",
        'The unit tree in force has no "{value}" level (there is no district level since 1 July 2025); '
        "group by tinh, xa or unit. Figures of the former districts are under unit."),
    Problem(
        "bad_level", 400, 'Cấp "{value}" không hợp lệ; dùng tinh, huyen hoặc xa.',
        'Invalid level "{value}"; use tinh, huyen or xa.'),
    Problem(
        "bad_min_n", 400, 'min_n phải là số nguyên dương; nhận được "{value}".',
        'min_n must be a positive whole number; got "{value}".'),
    Problem(
        "bad_number", 400, '{name} phải là số nguyên từ {low} đến {high}; nhận được "{value}".',
        '{name} must be a whole number from {low} to {high}; got "{value}".'),
    Problem(
        "bad_flag", 400, '{name} chỉ nhận 1/0 hoặc true/false; nhận được "{value}".',
        '{name} takes 1/0 or true/false; got "{value}".'),
    Problem(
        "weighted_by", 400, 'Chỉ số có trọng số chỉ tính được khi nhóm theo cấp và đơn vị hành chính (level, tinh, huyen, '
             'xa) và theo kỳ (month, quarter, half, year); không nhóm theo "{value}" được. (Theo từng '
             "đơn vị (unit), chỉ số có trọng số chính là chỉ số của đơn vị.)",
        'The weighted index needs a breakdown by level and administrative unit (level, tinh, huyen, xa) '
        'and by period (month, quarter, half, year) only; it cannot group by "{value}". (By unit, the '
        "weighted index is just the unit's own index.)"),
    Problem(
        "bad_channel", 400, 'Kênh "{value}" không hợp lệ; dùng {allowed}.',
        'Invalid channel "{value}"; use {allowed}.'),
    Problem(
        "unknown_unit", 400, 'Không có đơn vị mã "{value}".', 'There is no unit with code "{value}".'),
    Problem(
        "bad_criterion", 400, 'Tiêu chí "{value}" không hợp lệ; dùng {allowed}.',
        'Invalid criterion "{value}"; use {allowed}.'),
    Problem(
        "bad_followup_status", 400, 'Trạng thái "{value}" không hợp lệ; dùng {allowed}.',
        'Invalid status "{value}"; use {allowed}.'),
    Problem(
        "unknown_version", 400, 'Biểu mẫu {form} không có phiên bản "{value}".',
        'Form {form} has no version "{value}".'),
)

# everything an export shares with the indices (unknown form, bad date or period, a unit outside
# the account's scope, ...) is an INDICES problem, so the same mistake reads the same everywhere
EXPORTS = _table(
    Problem(
        "forbidden_identifiers", 403, "Chỉ quản trị viên mới được xuất thông tin định danh (mã hồ sơ, họ tên, số điện thoại).",
        "Only administrators may export identifiers (dossier codes, names, phone numbers)."),
    Problem(
        "bad_choice", 400, '{name} chỉ nhận một trong các giá trị {allowed}; nhận được "{value}".',
        '{name} takes one of {allowed}; got "{value}".'),
    Problem(
        "period_and_dates", 400, "Dùng kỳ (period) hoặc khoảng ngày (from, to), không dùng cả hai.",
        "Give a period or a date range (from, to), not both."),
    Problem(
        "export_failed", 500, "Không tạo được tệp xuất ({detail}). Chưa có dữ liệu nào được gửi; hãy thử lại.",
        "The export could not be made ({detail}). Nothing was sent; please try again."),
)

# a citizen's page that cannot be shown (the survey link, the kiosk); the page's title is the page's
PAGES = _table(
    Problem("survey_not_found", 404, "Không tìm thấy phiếu khảo sát này. Vui lòng kiểm tra lại đường dẫn hoặc mã QR.",
            "This survey was not found. Please check the link or QR code."),
    Problem("survey_ended", 410, "Đợt khảo sát này đã kết thúc. Cảm ơn Ông/Bà đã quan tâm.",
            "This survey has ended. Thank you for your interest."),
    Problem("unit_not_found", 404, 'Không tìm thấy đơn vị "{code}" cho phiếu khảo sát này. Vui lòng kiểm tra lại '
            "đường dẫn hoặc mã QR.",
            'Unit "{code}" was not found for this survey. Please check the link or QR code.'),
    Problem("bad_dossier_link", 400, "Mã hồ sơ trong đường dẫn không hợp lệ. Vui lòng kiểm tra lại mã QR trên phiếu "
            "hẹn.",
            "The dossier code in the link is not valid. Please check the QR code on the receipt."),
    Problem("file_not_found", 404, "Không tìm thấy tệp.", "File not found."),
    Problem("no_unit", 404, 'Không có đơn vị "{code}".', 'No unit "{code}".'),
)

CENTRAL = _table(
    Problem("unauthorized", 401, "Cần đăng nhập: tên và mật khẩu (Basic) hoặc mã phiên (Bearer) không hợp lệ "
            "hoặc đã hết hạn.",
            "Authentication needed: the user name and password (Basic) or session token (Bearer) "
            "are missing, wrong or expired."),
    Problem("locked", 429, "Đăng nhập sai quá nhiều lần. Vì an toàn, hãy chờ khoảng {minutes} phút rồi thử lại.",
            "Too many failed logins. For safety, wait about {minutes} minutes and try again."),
    Problem("forbidden_role", 403, "Vai trò của tài khoản không được phép làm việc này.",
            "The account's role may not do this."),
    Problem("forbidden_identifiers", 403, "Chỉ quản trị viên mới được xem thông tin định danh (mã hồ sơ, họ tên, "
            "số điện thoại).",
            "Only administrators may see identifiers (dossier codes, names, phone numbers)."),
    Problem("not_found", 404, "Không tìm thấy: {what}.", "Not found: {what}."),
    Problem("bad_json", 400, "Nội dung gửi lên phải là JSON hợp lệ với {fields}.",
            "The request body must be valid JSON with {fields}."),
    Problem("bad_review_state", 400, "Trạng thái duyệt \"{value}\" không hợp lệ; chọn một trong: {allowed}.",
            "Review state \"{value}\" is not valid; choose one of: {allowed}."),
    Problem("bad_content_type", 415, "Phiếu phải gửi dưới dạng application/xml hoặc text/xml.",
            "The submission must be sent as application/xml or text/xml."),
    Problem("bad_query", 400, "Tham số {name} không hợp lệ: {value}.", "Parameter {name} is not valid: {value}."),
    Problem("unsupported_filter", 400, "Không hỗ trợ trong $filter: {clause} ({reason}).",
            "Not supported in $filter: {clause} ({reason})."),
    Problem("bad_filter", 400, "Không đọc được $filter: {detail}.", "The $filter cannot be read: {detail}."),
    Problem("unknown_table", 404, "Biểu mẫu không có bảng {table}.", "The form has no table {table}."),
    Problem("attachment_exists", 409, "Phiếu đã nhận tệp {name} với nội dung khác; tệp đã nhận được giữ nguyên.",
            "The submission already holds a different file {name}; the file received first is kept."),
    Problem("attachment_too_large", 413, "Tệp đính kèm vượt quá {limit} byte.",
            "The attachment is larger than {limit} bytes."),
)
