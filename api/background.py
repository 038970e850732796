"""Per-worker background threads: webhook delivery from the outbox, and flushing metrics to disk.

gunicorn.conf.py starts them in each worker after it loads the app (`post_worker_init`) and stops them at
`worker_exit`. Every worker runs a delivery loop; the outbox leases events, so no event is sent twice at once.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from api import Services
from api.metrics import FLUSH_SECONDS
from moderation.outbox import run_delivery_loop

log = logging.getLogger(__name__)


class Background:
    """The running threads of one worker and the event that stops them."""

    def __init__(self, found: Services) -> None:
        self.services = found
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start webhook delivery (when a webhook URL is set) and metrics flushing (when they go to disk)."""
        settings = self.services.settings
        if settings.webhook_url:
            self._spawn("webhook-delivery", lambda: run_delivery_loop(self.services.store, settings, self.stop_event))
        if self.services.metrics.directory is not None:
            self._spawn("metrics-flush", self._flush_metrics)

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self.threads.append(thread)

    def _flush_metrics(self) -> None:
        while not self.stop_event.wait(FLUSH_SECONDS):
            self.services.metrics.flush()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the threads to stop, wait a little for them, and write the last metrics."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)
        self.services.metrics.flush(force=True)


def start(app: Flask) -> Background:
    """Start this worker's background threads for the app; kept in app.extensions to stop them later."""
    background = Background(app.extensions["moderation"])
    background.start()
    app.extensions["moderation.background"] = background
    log.info("background threads started", extra={"threads": [t.name for t in background.threads]})
    return background


def stop(app: Flask) -> None:
    """Stop this worker's background threads, if any were started."""
    background = app.extensions.get("moderation.background")
    if background is not None:
        background.stop()
