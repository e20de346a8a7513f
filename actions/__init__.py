"""The application layer: every change to the data, with its audit entry, in one transaction.

HTTP views (server/) and CLI commands (server/cli/) only translate a request or arguments into a
call here and the result back into a page, a status or a line of text; they never open a write
transaction nor write the audit log themselves (tests/test_layers.py holds them to it). Below
this layer, storage/ owns the schema and the SQL.

Modules:
  accounts.py   accounts: create, reset a password, unlock, revoke (`users` commands, admin pages)
  followups.py  the follow-up status of a dissatisfied citizen's submission
  forms.py      a form opened or closed; an upload staged between its preview and its publication
  publish.py    publishing a compiled form as a new version, with its media files
  results.py    published results: frozen for the public page, withdrawn
  sessions.py   signing in and out (web, HTTP Basic, /v1): failures counted, sessions opened, audited
  settings.py   site settings: the report's header and signature, the public address
  units.py      the unit tree: lists and successors imported, the 2025 upgrade
"""
