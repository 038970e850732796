"""Gunicorn settings for the moderation service: `gunicorn -c gunicorn.conf.py api.wsgi:app`.

Address, port and worker count come from the same settings table as everything else
(MODERATION_HOST, PORT, WEB_CONCURRENCY). Each worker imports the app itself (no preload), so it loads
the model and opens its own SQLite connection after the fork; migrations and the first admin key are
done once before gunicorn starts, by `moderation serve`.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from moderation.settings import Settings

_settings = Settings.from_env()

bind = [f"{_settings.host}:{_settings.port}"]
workers = _settings.workers
# Sync workers: scoring is CPU-bound, so one request at a time per process and one process per core.
worker_class = "sync"
preload_app = False
timeout = 30
graceful_timeout = 10
# Heartbeat files on tmpfs where there is one (in containers /tmp may be on a slow overlay disk).
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
# Each run's metrics and rate-limit files: `<prefix><master pid>-<pid namespace>-<random>` in worker_tmp_dir.
METRICS_DIR_PREFIX = "moderation-metrics-"
# The control socket defaults to one path per user; several servers (tests, benchmarks) would collide.
control_socket_disable = True
# Request size limits in front of Flask's own (64 KB bodies, 1 MB for batches).
limit_request_line = 8190
limit_request_fields = 100

# One JSON object per line: access log on stdout, everything else on stderr.
logger_class = "api.logs.GunicornLogger"
accesslog = "-"
errorlog = "-"
loglevel = "info"


def on_starting(server: Any) -> None:
    """Answer malformed requests as JSON; give this server run a fresh directory for workers' metrics counts."""
    from api import wire_errors
    from moderation.rundirs import make_run_directory, remove_stale_run_directories

    wire_errors.install()
    # A kill -9 skips on_exit: first remove the directories of servers (of this user) whose master is gone.
    for stale in remove_stale_run_directories(METRICS_DIR_PREFIX, worker_tmp_dir):
        server.log.info("removed the stale run directory %s (its master is gone)", stale)
    directory = str(make_run_directory(METRICS_DIR_PREFIX, worker_tmp_dir))  # the name records this master's pid
    os.environ["MODERATION_METRICS_DIR"] = directory  # inherited by every worker forked later
    server.log.info("metrics directory %s", directory)


def post_worker_init(worker: Any) -> None:
    """In each worker, once the app is loaded: start webhook delivery and metrics flushing threads."""
    app = worker.wsgi
    if not hasattr(app, "extensions"):
        worker.log.warning("the WSGI app is not the Flask app itself: no webhook delivery or metrics flushing")
        return
    from api import background

    background.start(app)


def worker_exit(server: Any, worker: Any) -> None:
    """Stop the worker's background threads and write its last metrics."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        from api import background

        background.stop(app)


def on_exit(server: Any) -> None:
    """Remove this run's metrics directory."""
    directory = os.environ.get("MODERATION_METRICS_DIR")
    if directory and os.path.basename(directory).startswith(METRICS_DIR_PREFIX):
        shutil.rmtree(directory, ignore_errors=True)
