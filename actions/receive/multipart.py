"""Reading a submission POST: the XML part and the attachments, as Collect and Web Forms send them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from werkzeug.exceptions import RequestEntityTooLarge

from .accept import Upload


class PostRefused(Exception):
    """The request is not a readable submission; `key` names the problem in the catalogue."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


@dataclass
class Posted:
    xml: bytes
    uploads: list[Upload]
    fields: dict


def read_posted(request) -> Posted:
    if request.mimetype != "multipart/form-data":
        raise PostRefused("not_multipart")
    try:
        files = request.files
        fields = request.form
    except RequestEntityTooLarge:
        raise PostRefused("too_large") from None
    except Exception:  # werkzeug raises ValueError and others on truncated bodies
        raise PostRefused("bad_multipart") from None
    part = files.get("xml_submission_file")
    if part is not None:
        xml = part.read()
    elif "xml_submission_file" in fields:
        # some clients send the XML as a plain field rather than a file part
        xml = fields["xml_submission_file"].encode("utf-8")
    else:
        raise PostRefused("no_xml_part")
    uploads = [Upload(p.filename or name, p.stream, p.mimetype or None)
               for name, p in files.items(multi=True) if name != "xml_submission_file"]
    if len(xml) + sum(_size(u.stream) for u in uploads) > current_app.config["SUBMISSION_MAX_BYTES"]:
        # the advertised limit counts the files, as Collect does when it splits an upload; the
        # multipart framing around them is what MAX_CONTENT_LENGTH's slack is for
        raise PostRefused("too_large")
    return Posted(xml, uploads, {k: v for k, v in fields.items()})


def _size(stream) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size
