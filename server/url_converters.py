"""URL converters for values designers choose freely.

A form version is any string Collect accepts: "05/12/2026", "1.0 beta", or "" for a form
published before the server gave versionless forms a version. `<version:...>` matches all of
them, "/" included (a %2F reaches the application as "/" anyway), and quotes the rest; rules
that use it turn `merge_slashes` off so an empty version still routes.
"""
from __future__ import annotations

from urllib.parse import quote

from werkzeug.routing import BaseConverter


class VersionConverter(BaseConverter):
    regex = ".*?"
    part_isolating = False
    weight = 200

    def to_url(self, value) -> str:
        return quote(str(value), safe="!$&'()*+,/:;=@")


def init_app(app) -> None:
    app.url_map.converters["version"] = VersionConverter
