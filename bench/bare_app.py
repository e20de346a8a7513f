"""The benchmark's baseline: Flask receiving the same multipart body and storing nothing.

Served by gunicorn exactly as the project is (`bench.bare_app:app`), so the difference between the
two is what the project does with a submission beyond HTTP and multipart parsing.
"""
from __future__ import annotations

from flask import Flask, Response, request

RESPONSE = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
            b'<message nature="submit_success">ok</message></OpenRosaResponse>')

app = Flask(__name__)


@app.post("/submission")
@app.post("/key/<token>/submission")
def submission(token: str | None = None):
    files, fields = request.files, request.form
    xml_part = files.get("xml_submission_file")
    xml = xml_part.read() if xml_part is not None else fields.get("xml_submission_file", "").encode()
    received = len(xml)
    for name, part in files.items(multi=True):
        if name != "xml_submission_file":
            received += len(part.read())
    if not received:
        return Response(status=400)
    return Response(RESPONSE, 201, content_type="text/xml; charset=utf-8")
