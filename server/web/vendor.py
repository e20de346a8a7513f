"""Front-end files from npm (node_modules/, installed by `make run` from the lock file), served
from this server under /static/vendor/ so that no page ever loads a script from another origin.

Only the files named in FILES are reachable: the rest of node_modules (sources, tests, package
metadata) is never served.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_file

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
# URL name -> file under node_modules
FILES = {
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}

bp = Blueprint("vendor", __name__)


@bp.get("/static/vendor/<name>")
def vendor_file(name):
    relative = FILES.get(name)
    path = NODE_MODULES / relative if relative else None
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="text/javascript", max_age=24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
