"""`flask --app server register ...`: dossier registers from the one-stop system."""
from __future__ import annotations

from flask.cli import AppGroup

register_cli = AppGroup("register", help="Sổ theo dõi hồ sơ / Dossier registers.")
