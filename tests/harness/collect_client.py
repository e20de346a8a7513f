"""A client that talks to the server the way ODK Collect does.

Collect sends no credentials until challenged, adds `?deviceID=` to every URL, sends HEAD before
each submission to learn the size limit, and splits uploads above it into several POSTs marked
`*isIncomplete*=yes`, each repeating the same XML.
"""
from __future__ import annotations

import hashlib
from email.utils import formatdate

import requests
from defusedxml import ElementTree

LIST_NS = "{http://openrosa.org/xforms/xformsList}"
MANIFEST_NS = "{http://openrosa.org/xforms/xformsManifest}"
RESPONSE_NS = "{http://openrosa.org/http/response}"


class CollectClient:
    def __init__(self, server_url: str, username: str | None = None, password: str | None = None,
                 device_id: str = "collect:Zt5rQJ7kqH3wYw2T"):
        self.server_url = server_url.rstrip("/")
        self.credentials = (username, password) if username else None
        self.device_id = device_id
        self.session = requests.Session()
        self.challenges = 0

    def _headers(self) -> dict:
        return {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/v2024.3.1 test",
                "Accept-Encoding": "gzip", "Date": formatdate(usegmt=True)}

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        params = dict(kwargs.pop("params", {}) or {})
        params["deviceID"] = self.device_id
        response = self.session.request(method, url, params=params, headers=self._headers(), **kwargs)
        if response.status_code == 401 and self.credentials and "WWW-Authenticate" in response.headers:
            self.challenges += 1
            response = self.session.request(method, url, params=params, headers=self._headers(),
                                            auth=self.credentials, **kwargs)
        return response

    def form_list(self, form_id: str | None = None) -> list[dict]:
        response = self.request("GET", f"{self.server_url}/formList",
                                params={"formID": form_id} if form_id else None)
        assert response.status_code == 200, response.text
        assert "text/xml" in response.headers["Content-Type"]
        assert response.headers["X-OpenRosa-Version"] == "1.0"
        root = ElementTree.fromstring(response.content)
        forms = []
        for xform in root.findall(f"{LIST_NS}xform"):
            entry = {child.tag.replace(LIST_NS, ""): child.text for child in xform}
            for required in ("formID", "name", "downloadUrl"):
                assert entry.get(required), f"form list entry without {required}"
            forms.append(entry)
        return forms

    def download_form(self, entry: dict) -> bytes:
        response = self.request("GET", entry["downloadUrl"])
        assert response.status_code == 200
        expected = entry["hash"][4:]          # Collect drops the "md5:" prefix unread
        assert hashlib.md5(response.content, usedforsecurity=False).hexdigest() == expected, "hash does not match the XForm"
        return response.content

    def manifest(self, entry: dict) -> list[dict]:
        response = self.request("GET", entry["manifestUrl"])
        assert response.status_code == 200 and "text/xml" in response.headers["Content-Type"]
        root = ElementTree.fromstring(response.content)
        return [{c.tag.replace(MANIFEST_NS, ""): c.text for c in f} for f in root.findall(f"{MANIFEST_NS}mediaFile")]

    def download_media(self, media: dict) -> bytes:
        response = self.request("GET", media["downloadUrl"])
        assert response.status_code == 200
        assert hashlib.md5(response.content, usedforsecurity=False).hexdigest() == media["hash"][4:]
        return response.content

    def submit(self, xml: bytes, attachments: dict[str, bytes] | None = None) -> list[requests.Response]:
        """HEAD, then one or more POSTs; returns every POST's response."""
        url = f"{self.server_url}/submission"
        head = self.request("HEAD", url)
        if head.status_code != 204:
            return [head]
        limit = int(head.headers.get("X-OpenRosa-Accept-Content-Length", 10_000_000))
        batches, batch, size = [], [], len(xml)
        for name, content in (attachments or {}).items():
            if batch and size + len(content) > limit:
                batches.append(batch)
                batch, size = [], len(xml)
            batch.append((name, content))
            size += len(content)
        batches.append(batch)
        responses = []
        for number, files in enumerate(batches):
            parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
            parts += [(name, (name, content, "application/octet-stream")) for name, content in files]
            data = {"*isIncomplete*": "yes"} if number < len(batches) - 1 else None
            response = self.request("POST", url, files=parts, data=data)
            responses.append(response)
            if response.status_code not in (201, 202):
                break
        return responses


def message_of(response: requests.Response) -> str:
    root = ElementTree.fromstring(response.content)
    return root.find(f"{RESPONSE_NS}message").text
