"""Every answer the OpenRosa receiver can give other than success, defined once.

Collect shows the message to the surveyor, so each reads Vietnamese first, then English.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    status: int
    vi: str
    en: str

    @property
    def message(self) -> str:
        return f"{self.vi} / {self.en}"


PROBLEMS: dict[str, Problem] = {
    "no_xml_part": Problem(400, "Thiếu phần xml_submission_file trong yêu cầu gửi phiếu.",
                           "Required multipart POST field xml_submission_file missing."),
    "not_multipart": Problem(400, "Yêu cầu gửi phiếu phải ở dạng multipart/form-data.",
                             "The submission must be sent as multipart/form-data."),
    "bad_multipart": Problem(400, "Dữ liệu gửi lên bị hỏng hoặc không đầy đủ; vui lòng gửi lại.",
                             "The multipart body is broken or truncated; please send again."),
    "malformed": Problem(400, "Nội dung phiếu không phải XML hợp lệ.",
                         "The submission is not well-formed XML."),
    "not_utf8": Problem(400, "Nội dung phiếu phải được mã hóa UTF-8.",
                        "The submission text must be UTF-8."),
    "dtd": Problem(400, "Phiếu không được chứa khai báo DOCTYPE/DTD.",
                   "Submissions may not contain a DOCTYPE or DTD."),
    "entity": Problem(400, "Phiếu không được chứa khai báo thực thể (entity).",
                      "Submissions may not declare or reference entities."),
    "too_deep": Problem(400, "Cấu trúc phiếu lồng nhau quá sâu.",
                        "The submission is nested too deeply."),
    "too_many_nodes": Problem(400, "Phiếu có quá nhiều phần tử so với biểu mẫu của nó; máy chủ không đọc tiếp.",
                              "The submission holds far more elements than its form has; the server stopped "
                              "reading it."),
    "too_many_attributes": Problem(400, "Một phần tử của phiếu có quá nhiều thuộc tính.",
                                   "An element of the submission has too many attributes."),
    "text_too_long": Problem(400, "Một câu trả lời trong phiếu dài quá mức cho phép (1.000.000 ký tự).",
                             "An answer in the submission is longer than allowed (1,000,000 characters)."),
    "no_form_id": Problem(400, "Phiếu không ghi mã biểu mẫu (thuộc tính id của phần tử gốc).",
                          "The submission's root element has no id attribute."),
    "no_instance_id": Problem(400, "Phiếu mã hóa phải có instanceID.",
                              "An encrypted submission must carry an instanceID."),
    "bad_instance_id": Problem(400, "instanceID của phiếu không hợp lệ (quá dài hoặc có ký tự điều khiển).",
                               "The submission's instanceID is invalid (too long or has control characters)."),
    "bad_attachment_name": Problem(400, "Tên tệp đính kèm không hợp lệ (chỉ được là tên tệp, không chứa đường dẫn).",
                                   "Invalid attachment file name (a plain file name is required, no path)."),
    "unknown_form": Problem(404, "Không tìm thấy biểu mẫu này trên máy chủ.",
                            "The form this submission belongs to does not exist on this server."),
    "unknown_version": Problem(404, "Phiên bản biểu mẫu của phiếu này không có trên máy chủ; hãy tải lại biểu mẫu.",
                               "The form version specified in this submission does not exist."),
    "form_closed": Problem(409, "Biểu mẫu này đã đóng, không nhận thêm phiếu.",
                           "This form is not currently accepting submissions."),
    "conflict": Problem(409, "Đã có phiếu khác với cùng mã (instanceID) nhưng nội dung khác.",
                        "A submission already exists with this ID, but with different XML."),
    "edit_unknown": Problem(404, "Không tìm thấy phiếu gốc cần sửa (deprecatedID).",
                            "The submission this edit replaces (deprecatedID) does not exist."),
    "edit_replaced": Problem(409, "Phiếu gốc này đã được sửa trước đó; hãy sửa từ bản mới nhất.",
                             "The submission this edit replaces has already been replaced."),
    "edit_public": Problem(403, "Đường dẫn khảo sát công khai không nhận bản sửa của phiếu đã gửi.",
                           "A public survey link does not accept edits of submitted answers."),
    "edit_forbidden": Problem(403, "Chỉ tài khoản (hoặc ki-ốt) đã gửi phiếu gốc, hoặc điều tra viên phụ trách đơn vị "
                                   "của phiếu, mới được gửi bản sửa; nhập phiếu giấy chỉ sửa được phiếu mình đã nhập.",
                              "Only the account (or kiosk) that sent the original, or a surveyor whose units "
                              "include the original's unit, may send an edit of it; paper entry edits only the "
                              "clerk's own entries."),
    "edit_rejected": Problem(409, "Phiếu gốc đã bị từ chối khi duyệt; chỉ người duyệt mới thay đổi được quyết định "
                                  "đó, nên không gửi bản sửa được.",
                             "The original was rejected in review; only a reviewer can change that decision, so "
                             "it cannot be edited."),
    "edit_deleted": Problem(409, "Phiếu gốc đã bị xóa nên không gửi bản sửa được.",
                            "The original submission has been deleted and cannot be edited."),
    "unknown_unit": Problem(400, "Mã đơn vị trong phiếu không có trong danh mục đơn vị, hoặc đơn vị đó không dùng "
                                 "biểu mẫu này.",
                            "The unit code in the submission is not in the unit list, or that unit does not use "
                            "this form."),
    "unexpected_attachment": Problem(400, "Phiếu gửi kèm tệp mà các câu hỏi của biểu mẫu không yêu cầu; chỉ được gửi "
                                          "các tệp (ảnh, chữ ký...) có tên trong câu trả lời.",
                                     "The submission came with a file its questions do not ask for; only the files "
                                     "named in the answers (photos, signatures...) may be sent."),
    "too_large": Problem(413, "Dữ liệu gửi lên vượt quá dung lượng cho phép.",
                         "The submission is larger than this server accepts."),
    "unauthorized": Problem(401, "Cần đăng nhập để dùng máy chủ này.",
                            "Authentication is required."),
    "forbidden_unit": Problem(403, "Tài khoản này không được gửi phiếu cho đơn vị ngoài phạm vi được giao.",
                              "This account may not submit for a unit outside its scope."),
    "retired_unit": Problem(409, "Đơn vị được chọn đã giải thể trước ngày phỏng vấn; hãy tải lại biểu mẫu "
                                 "(danh sách đơn vị mới) và chọn đơn vị hiện hành.",
                            "The unit chosen was retired before the interview date; get the form again "
                            "(the new unit list) and choose a unit in force."),
    "forbidden_form": Problem(403, "Tài khoản này không được dùng biểu mẫu này.",
                              "This account may not use this form."),
    "forbidden_role": Problem(403, "Vai trò của tài khoản này không được gửi phiếu.",
                              "This account's role may not submit."),
    "not_found": Problem(404, "Không tìm thấy.", "Not found."),
    "server_error": Problem(500, "Máy chủ gặp lỗi, phiếu chưa được lưu; hãy gửi lại sau.",
                            "The server failed and the submission was not stored; please send it again later."),
}

SUCCESS = "Đã nhận đủ phiếu. / Full submission upload was successful!"
PARTIAL = "Đã nhận một phần phiếu; các tệp còn lại sẽ được gửi tiếp. / Partial submission upload was successful!"
