"""`flask --app server sample ...`: sample plans, assignments, coverage and invitations."""
from __future__ import annotations

from flask.cli import AppGroup

sample_cli = AppGroup("sample", help="Chọn mẫu khảo sát / Sample plans.")
