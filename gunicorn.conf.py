"""gunicorn settings shared by `make run`, the tests, the benchmarks and production.

    gunicorn -c gunicorn.conf.py 'server:create_app()'

Command-line options override these; the environment sets the common ones.
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "2"))

# one line per request on stdout ("-"), or to the file ACCESS_LOG names; ACCESS_LOG= (empty) for none
accesslog = os.environ.get("ACCESS_LOG", "-") or None
# collector tokens are part of their URLs: this logger writes /key/[redacted] (server/access_log.py)
logger_class = "server.access_log.RedactingLogger"

# X-Forwarded-Proto and friends are believed by the app alone, and only when TRUSTED_PROXIES says
# a proxy stands in front (server/security.py); gunicorn's own default would trust any local process
forwarded_allow_ips = ""

# gunicorn's control socket (for gunicornc) lives at one path per user, so the servers the tests,
# the benchmarks or several provinces on one machine start would take it from each other; unused here
control_socket_disable = True

# A sync worker that answers nothing for `timeout` seconds is killed. Building a province-wide
# Excel export takes minutes, so the limit is generous; Collect's uploads are short either way.
timeout = int(os.environ.get("WORKER_TIMEOUT", "600"))

# Threads in each worker (THREADS=1, the default, is gunicorn's sync worker). With more, requests
# that overlap in a worker share one commit and its fsync (storage/group_commit.py); measured on
# 2 cores that saved fsyncs (3 submissions a commit) but cost more in threads than it saved, so
# the default stays one request at a time per worker (README, "Ingest").
threads = int(os.environ.get("THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
