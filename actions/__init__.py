"""The application layer: every change to the data, with its audit entry, in one transaction.

HTTP views (server/) and CLI commands (server/cli/) only translate a request or arguments into a
call here and the result back into a page, a status or a line of text; they never open a write
transaction nor write the audit log themselves (tests/test_layers.py holds them to it). Below
this layer, storage/ owns the schema and the SQL.

Modules:
  accounts       accounts: create, reset a password, unlock, revoke (`users` commands, admin pages)
  followups      the follow-up status of a dissatisfied citizen's submission
  forms          a form opened or closed; an upload staged between its preview and its publication
  publish        publishing a compiled form as a new version, with its media files
  results        published results: frozen for the public page, withdrawn
  sessions       signing in and out (web, HTTP Basic, /v1): failures counted, sessions opened, audited
  settings       site settings: the report's header and signature, the public address
  units          the unit tree: lists and successors imported, the 2025 upgrade
  receive/       what a submission stores, whatever the door (Collect, /v1, link, kiosk, paper)
  dossiers       one answer per dossier code (public links and kiosks)
  public_links   a public link's request counts (abuse limits) and its answers
  kiosks         registering and revoking kiosks, and their tablets' answers
  paper          print runs, a sheet's entry, a sheet entered twice, its resolution
  attachments    a file added to a stored submission through /v1, audited with it
  reviews        a reviewer's decision on a submission (pages and /v1)
  deletion       the soft delete of a submission (CLI)
  registers      importing a checked dossier register (page and CLI)
  plans          withdrawing a sample plan (page and CLI)
  audited_reads  the audit entry of a read of identifiers (before they are sent)
  scope          unit scope: which forms and units an account may touch (read, not a change)
  credentials    passwords as scrypt hashes, tokens as SHA-256 (made here, checked by server/auth)
"""
