"""Taking a submission from a web page (public link, kiosk, paper entry) into `receive()`.

Web Forms posts the same multipart body as ODK Collect (`xml_submission_file` plus one part per
attachment), so the submission goes through the very same `receive()` and is stored exactly as
Collect's would be. Only the answer differs: JSON with a message the page shows as it is,
written for the person in front of the screen.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from flask import current_app, jsonify

from forms.conventions import DOSSIER_RE, dossier_key
from storage import channels, forms

from ..dbconn import get_blobs, get_db
from ..openrosa.problems import PROBLEMS
from ..receive import accept, multipart
from ..receive.accept import Result, receive
from ..receive.multipart import Posted
from ..receive.flatten import top_level_value
from ..receive.parse import Instance, InstanceError
from ..web.i18n import t

# A field no person fills: the page keeps it out of sight and sends it empty; form-filling bots
# that post every field they find give themselves away.
HONEYPOT_FIELD = "hl_website"


@dataclass(frozen=True)
class Message:
    status: int
    vi: str
    en: str


# What a citizen (or a clerk entering paper sheets) is told; receive()'s other outcomes fall
# back to the OpenRosa catalogue, whose texts are precise if more technical.
MESSAGES: dict[str, Message] = {
    "created": Message(201, "Cảm ơn Ông/Bà! Phiếu khảo sát đã được ghi nhận.",
                       "Thank you! Your answers have been recorded."),
    "resent": Message(201, "Cảm ơn Ông/Bà! Phiếu khảo sát đã được ghi nhận.",
                      "Thank you! Your answers have been recorded."),
    "rate_ip": Message(429, "Có quá nhiều phiếu được gửi từ cùng một địa chỉ mạng trong thời gian ngắn, "
                            "nên phiếu này chưa được ghi nhận. Vui lòng đợi khoảng {minutes} phút rồi bấm gửi lại; "
                            "câu trả lời của Ông/Bà vẫn còn trên trang.",
                       "Too many answers were sent from the same network address in a short time, so this one "
                       "was not recorded. Please wait about {minutes} minutes and send again; your answers are "
                       "still on the page."),
    "rate_link": Message(429, "Đường dẫn khảo sát này đang nhận quá nhiều phiếu trong thời gian ngắn, nên phiếu "
                              "này chưa được ghi nhận. Vui lòng đợi khoảng {minutes} phút rồi bấm gửi lại; câu trả "
                              "lời của Ông/Bà vẫn còn trên trang.",
                         "This survey link is receiving too many answers in a short time, so this one was not "
                         "recorded. Please wait about {minutes} minutes and send again; your answers are still "
                         "on the page."),
    "honeypot": Message(400, "Phiếu không được ghi nhận vì ô ẩn chống thư rác có nội dung. Nếu Ông/Bà điền phiếu "
                             "bình thường, vui lòng tải lại trang và trả lời lại.",
                        "The answers were not recorded because the hidden anti-spam field was filled in. If you "
                        "answered normally, please reload the page and answer again."),
    "dossier_answered": Message(409, "Hồ sơ {dossier} đã được đánh giá trước đây; mỗi hồ sơ chỉ được đánh giá "
                                     "một lần. Cảm ơn Ông/Bà đã quan tâm.",
                                "Dossier {dossier} has already been rated; each dossier can be rated once. "
                                "Thank you for your interest."),
    "dossier_invalid": Message(400, "Mã hồ sơ trong phiếu không hợp lệ: chỉ gồm chữ không dấu, số và các dấu "
                                    ". _ / : -, tối đa 64 ký tự. Vui lòng kiểm tra lại mã trên phiếu hẹn.",
                               "The dossier code in the answers is not valid: letters without accents, digits "
                               "and . _ / : -, at most 64 characters. Please check the code on the receipt."),
    "wrong_form": Message(400, "Phiếu gửi lên không thuộc biểu mẫu của trang này; vui lòng tải lại trang.",
                          "The answers sent belong to another form than this page's; please reload the page."),
    "form_closed": Message(409, "Đợt khảo sát này đã kết thúc, phiếu không được ghi nhận. Cảm ơn Ông/Bà.",
                           "This survey has ended and no longer records answers. Thank you."),
    "unknown_form": Message(404, "Không tìm thấy phiếu khảo sát này; có thể đường dẫn đã sai hoặc đợt khảo sát "
                                 "đã thay đổi. Vui lòng tải lại trang.",
                            "This survey was not found; the link may be wrong or the survey may have changed. "
                            "Please reload the page."),
    "unknown_version": Message(409, "Phiếu khảo sát vừa được cập nhật. Vui lòng tải lại trang và trả lời lại.",
                               "The questionnaire has just been updated. Please reload the page and answer again."),
    "forbidden_unit": Message(403, "Đơn vị được chọn không thuộc phạm vi của đường dẫn (hoặc ki-ốt) này. Vui lòng "
                                   "chọn lại cơ quan đã giải quyết hồ sơ, hoặc dùng đường dẫn của cơ quan đó.",
                              "The unit chosen is outside the scope of this link (or kiosk). Please choose the "
                              "agency that handled your dossier again, or use that agency's link."),
    "forbidden_form": Message(403, "Phiếu khảo sát này không dùng cho đơn vị của đường dẫn (hoặc ki-ốt) này.",
                              "This questionnaire is not used by this link's (or kiosk's) unit."),
    "conflict": Message(409, "Phiếu này đã được gửi trước đó với nội dung khác nên không được ghi đè. Vui lòng "
                             "tải lại trang nếu muốn trả lời lại.",
                        "These answers were already sent with other content and are not overwritten. Reload "
                        "the page to answer again."),
    "too_large": Message(413, "Dữ liệu gửi lên (ảnh, tệp đính kèm) quá lớn; vui lòng chọn ảnh nhỏ hơn rồi gửi lại.",
                         "What was sent (photos, files) is too large; please choose a smaller photo and send again."),
    "server_error": Message(500, "Máy chủ gặp lỗi, phiếu chưa được lưu. Câu trả lời vẫn còn trên trang; vui lòng "
                                 "gửi lại sau ít phút.",
                            "The server failed and the answers were not stored. They are still on the page; "
                            "please send again in a few minutes."),
    "kiosk_unknown": Message(403, "Thiết bị này chưa được đăng ký làm ki-ốt khảo sát, hoặc đã bị thu hồi.",
                             "This device is not registered as a survey kiosk, or it has been revoked."),
    "kiosk_header": Message(400, "Yêu cầu không đến từ trang ki-ốt.", "The request did not come from the kiosk page."),
    "paper_unknown_sheet": Message(404, "Số phiếu {sheet} không có trong các lần in phiếu giấy của biểu mẫu này. "
                                        "Hãy kiểm tra lại số in trên phiếu.",
                                   "Sheet {sheet} was not given out in any paper print of this form. Check the "
                                   "number printed on the sheet."),
    "paper_wrong_version": Message(409, "Phiếu số {sheet} được in theo phiên bản {printed}, nhưng nội dung nhập theo "
                                        "phiên bản {entered}. Hãy tải lại trang nhập liệu.",
                                   "Sheet {sheet} was printed from version {printed} but was entered with version "
                                   "{entered}. Reload the entry page."),
    "paper_created": Message(201, "Đã lưu phiếu giấy số {sheet}.", "Paper sheet {sheet} saved."),
    "paper_same": Message(200, "Phiếu số {sheet} đã được nhập trước đó với đúng các câu trả lời này; không lưu thêm.",
                          "Sheet {sheet} was already entered with exactly these answers; nothing more was stored."),
    "paper_conflict": Message(202, "Phiếu số {sheet} đã được nhập trước đó với câu trả lời KHÁC. Lần nhập này không "
                                   "được tính mà được lưu riêng và đánh dấu để xem xét; phiếu nhập lần đầu được "
                                   "chuyển sang trạng thái \"Có vấn đề\". Các câu khác nhau: {differences}.",
                              "Sheet {sheet} was already entered with DIFFERENT answers. This entry is not counted; "
                              "it is kept apart and flagged for review, and the first entry is marked \"Has "
                              "issues\". Questions that differ: {differences}."),
}


class Refusal(Exception):
    """An answer other than success, decided before or instead of receive()."""

    def __init__(self, key: str, headers: dict | None = None, **values):
        super().__init__(key)
        self.key = key
        self.headers = headers or {}
        self.values = values


def answer(key: str, headers: dict | None = None, **values):
    """The JSON answer for an outcome: {"outcome", "message"} plus any extra values."""
    message = MESSAGES.get(key)
    if message is None:
        problem = PROBLEMS.get(key, PROBLEMS["server_error"])
        status, vi, en = problem.status, problem.vi, problem.en
    else:
        status, vi, en = message.status, message.vi, message.en
    text = t(vi, en)
    try:
        text = text.format(**values)
    except (KeyError, IndexError):
        pass
    body = {"outcome": key, "message": text}
    body.update({k: v for k, v in values.items() if k in ("instance_id", "sheet", "differences") and v is not None})
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal_answer(exc: Refusal):
    return answer(exc.key, exc.headers, **exc.values)


def read_posted(request) -> Posted:
    """The submission in a multipart request, read exactly as the OpenRosa receiver reads Collect's."""
    try:
        return multipart.read_posted(request)
    except multipart.PostRefused as exc:
        raise Refusal(exc.key) from None


def check_honeypot(posted: Posted) -> None:
    if posted.fields.get(HONEYPOT_FIELD, "").strip():
        current_app.logger.info("public submission refused: honeypot field filled")
        raise Refusal("honeypot")


def read_instance(xml: bytes) -> Instance:
    """The posted instance, read once within its form's limits; a Refusal saying why it cannot be."""
    try:
        return accept.read_instance(get_db(), xml)
    except InstanceError as exc:
        raise Refusal(exc.reason) from None


def dossier_code(db, inst: Instance) -> tuple[str | None, str | None]:
    """(dossier path, dossier code) of the instance; Nones when absent."""
    version = forms.receiving_version(db, inst.form_id, inst.version)
    if version is None or inst.encrypted:
        return None, None
    path = version["conventions"].get("roles", {}).get("dossier_code")
    return path, top_level_value(inst.root, path)


def receive_once_per_dossier(posted: Posted, inst: Instance, *, submitter: dict | None,
                             device_id: str | None, arrival_channel: str) -> Result:
    """receive(), refusing a second answer for a dossier code already answered.

    The check and the store happen under one lock, so two answers for one dossier sent at the
    same moment cannot both pass; an identical resend (same instanceID) is still a success.
    """
    db = get_db()
    path, code = dossier_code(db, inst)
    # compared by key: a different case, a space or a zero-width character is the same dossier
    key = dossier_key(code)
    if key and not DOSSIER_RE.match(key):
        raise Refusal("dossier_invalid")
    guard = channels.exclusive(db, "dossier") if key else contextlib.nullcontext()
    with guard:
        if key:
            earlier = [i for i in channels.dossier_answered(db, inst.form_id, path, key) if i != inst.instance_id]
            if earlier:
                raise Refusal("dossier_answered", dossier=key)
        return receive(db, get_blobs(), xml=posted.xml, uploads=posted.uploads, submitter=submitter,
                       device_id=device_id, arrival_channel=arrival_channel, inst=inst)


def result_answer(result: Result, **values):
    return answer(result.outcome, instance_id=result.instance_id, **values)
