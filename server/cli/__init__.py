"""Command-line tools under `flask --app server`, one module per command group.

`init_app` registers every group:

  forms.py        `forms publish|list|close|open`
  units.py        `units import|seed|successors|upgrade-2025`
  users.py        `users create|revoke|unlock|password|list`
  setup.py        `setup` (the first run)
  backup.py       `backup OUT`, `restore IN`
  export.py       `export FORM_ID --format xlsx|csvzip|report --out FILE`
  indices.py      `indices FORM_ID --by ...`
  maintenance.py  `maintenance sweep-blobs`
  registers.py    `register import|list`
  sampling.py     `sample draw|list|assign|...`
  submissions.py  `submissions delete`
  common.py       what every command shares: `_db`, `_fail`, `_echo_problem`

(The kiosks and links group lives with the channels, server/channels/cli.py.) Commands only turn
arguments into calls of the application layer (actions/) and of the readers (storage/,
sampling/, exports/), and their results into messages.

Every failure ends with a message in Vietnamese and English and a non-zero exit code, never a
traceback: the people running these are form designers and provincial IT staff.
"""
from __future__ import annotations


def init_app(app) -> None:
    from .forms import forms_cli
    from .setup import setup_command
    from .units import units_cli
    from .users import users_cli
    for group in (forms_cli, units_cli, users_cli):
        app.cli.add_command(group)
    app.cli.add_command(setup_command)
    from .indices import indices_command
    app.cli.add_command(indices_command)
    from .maintenance import maintenance_cli
    app.cli.add_command(maintenance_cli)
    from .export import export_command
    app.cli.add_command(export_command)
    from .backup import backup_command, restore_command
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from .submissions import submissions_cli
    app.cli.add_command(submissions_cli)
    from .registers import register_cli
    app.cli.add_command(register_cli)
    from .sampling import sample_cli
    app.cli.add_command(sample_cli)
