"""Storage: the only package that knows the SQLite schema and writes to the database.

Modules by what they keep:
  the database      `schema` (every table, declared here only), `db` (opening the file, WAL,
                    write transactions), `group_commit` (overlapping submissions of a process in
                    one commit), `clock` (stored timestamps), `errors` (BilingualError)
  the survey        `forms`, `staging` (uploads awaiting publication), `submissions`, `reviews`,
                    `deletion`, `blobs` (attachment bytes on disk), `scores` (what indices sum),
                    `choices` (the breakdown rollups)
  units, people     `units`, `users`, `web_sessions`, `api_sessions`, `logins`, `audit`
  citizens, plans   `channels` (kiosks, links, paper runs), `registers`, `sampling`, `followups`,
                    `publications`
  reads for others  `browse` (web pages), `export_queries`, `central_queries`, `odata_queries`
  the installation  `settings` (what administrators set in the pages: public address, report header)
  the whole file    `backup`
"""
from .db import connect, write_transaction  # noqa: F401
