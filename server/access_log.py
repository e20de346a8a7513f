"""gunicorn's access log without credentials in it.

A collector's token is part of its server URL (`/key/<token>/submission`), so a plain access log
would keep every surveyor's credential in a file that is rotated, copied and mailed around. This
logger class (named in gunicorn.conf.py) writes `/key/[redacted]` instead, and never writes the
headers that carry passwords or sessions, whatever access_log_format asks for.
"""
from __future__ import annotations

import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# `/key/` also when percent-encoded: werkzeug decodes the path before routing, so
# /%6Bey/<token> reaches the same view and its token must not reach the log either
_TOKEN_PATH = re.compile(r"(/(?:k|%6b)(?:e|%65)(?:y|%79)/)[^/?#\s\"]+", re.IGNORECASE)
# request headers (i), response headers (o) and their WSGI environ names (e)
_SECRET_ATOMS = {"{authorization}i", "{proxy-authorization}i", "{cookie}i", "{x-csrf-token}i",
                 "{set-cookie}o", "{http_authorization}e", "{http_proxy_authorization}e",
                 "{http_cookie}e", "{http_x_csrf_token}e"}


# a dossier code in a public link's query identifies a citizen's case. The name too may come
# percent-encoded (werkzeug decodes `?%64ossier=` to `dossier` for the view), and so may the `?`,
# `&` or `=` around it when a link was encoded twice: each is matched in either form.
_DOSSIER_QUERY = re.compile(
    r"((?:[?&;]|%3f|%26|%3b)(?:d|%[46]4)(?:o|%[46]f)(?:s|%[57]3)(?:s|%[57]3)(?:i|%[46]9)(?:e|%[46]5)(?:r|%[57]2)(?:=|%3d))"
    r"(?:[^&#\s\"%]|%(?!26))+", re.IGNORECASE)


def redact(text: str) -> str:
    return _DOSSIER_QUERY.sub(r"\1" + REDACTED, _TOKEN_PATH.sub(r"\1" + REDACTED, text))


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in _SECRET_ATOMS:
                atoms[key] = REDACTED
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
