"""Dossier registers: upload, check, import (pages under /registers)."""
from __future__ import annotations

from .common import web_blueprint

bp = web_blueprint("registers", __name__, url_prefix="/registers")
