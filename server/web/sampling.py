"""Sample plans, assignments to surveyors, coverage and invitations (pages under /sampling)."""
from __future__ import annotations

from .common import web_blueprint

bp = web_blueprint("sampling", __name__, url_prefix="/sampling")
