"""The webhook outbox against a real HTTP server on loopback: down, failing, then up; signed bodies."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moderation import outbox
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from tests.conftest import ModerationRunner


class Site:
    """A loopback HTTP server standing in for the news site's webhook endpoint."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.status = 200
        self.location: str | None = None  # sent as `Location` with the status, for a redirect
        self.delay = 0.0
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.methods: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                site.methods.append(self.command)
                site.received.append((dict(self.headers), body))
                time.sleep(site.delay)
                self.send_response(site.status)
                if site.location is not None:
                    self.send_header("Location", site.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site(_free_port())
    yield server
    server.stop()


@pytest.fixture
def hook_settings(settings: Settings, site: Site) -> Settings:
    return replace(settings, webhook_url=site.url, webhook_timeout=2.0)


def _enqueue(store: Store, now: datetime, comment_id: str = "c1") -> int:
    with store.write() as db:
        return outbox.enqueue_event(
            db, "comment.decided", {"comment_id": comment_id, "status": "rejected"}, st.iso(now)
        )


def _row(store: Store, event_id: int) -> st.Row:
    with store.read() as db:
        row = st.outbox_row(db, event_id)
    assert row is not None
    return row


def test_event_arrives_signed_after_the_site_recovers(
    store: Store, hook_settings: Settings, site: Site, now: datetime
) -> None:
    event_id = _enqueue(store, now)

    # The site is down: connection refused, retry in 5 s.
    assert outbox.deliver_due(store, outbox.http_send, now, hook_settings)["failed"] == 1
    row = _row(store, event_id)
    assert row["attempts"] == 1 and row["delivered_at"] is None
    assert "Connection" in row["last_error"] or "refused" in row["last_error"]
    assert row["last_status"] is None and row["last_location"] is None  # nothing answered
    assert row["next_attempt_at"] == st.iso(now + timedelta(seconds=5))
    assert outbox.deliver_due(store, outbox.http_send, now + timedelta(seconds=1), hook_settings)["leased"] == 0

    # The site answers 500: retry in 10 s.
    site.status = 500
    site.start()
    later = now + timedelta(seconds=5)
    assert outbox.deliver_due(store, outbox.http_send, later, hook_settings)["failed"] == 1
    row = _row(store, event_id)
    assert row["attempts"] == 2 and row["last_error"] == "HTTP 500" and row["last_status"] == 500
    assert row["next_attempt_at"] == st.iso(later + timedelta(seconds=10))

    # The site recovers.
    site.status = 204
    recovered = later + timedelta(seconds=10)
    assert outbox.deliver_due(store, outbox.http_send, recovered, hook_settings)["delivered"] == 1
    row = _row(store, event_id)
    assert row["attempts"] == 3 and row["delivered_at"] == st.iso(recovered) and row["last_error"] is None

    headers, body = site.received[-1]
    assert body == row["body"].encode()
    signature = headers["X-Moderation-Signature"]
    assert outbox.verify_signature("test-webhook-secret", body, signature)
    assert not outbox.verify_signature("another-secret", body, signature)
    assert not outbox.verify_signature("test-webhook-secret", body + b" ", signature)
    assert headers["X-Moderation-Event"] == "comment.decided"
    assert headers["X-Moderation-Delivery"] == str(event_id)
    event = json.loads(body)
    assert event["type"] == "comment.decided" and event["comment_id"] == "c1" and len(event["event_id"]) == 32
    # Every attempt carried the same bytes, so the site can deduplicate on event_id.
    assert {b for _, b in site.received} == {body}

    assert outbox.deliver_due(store, outbox.http_send, recovered + timedelta(hours=2), hook_settings)["leased"] == 0


@pytest.fixture
def elsewhere() -> Iterator[Site]:
    server = Site(_free_port())
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_but_retried_and_shown(
    store: Store,
    hook_settings: Settings,
    site: Site,
    elsewhere: Site,
    now: datetime,
    runner: ModerationRunner,
    status: int,
) -> None:
    site.status, site.location = status, elsewhere.url
    site.start()
    event_id = _enqueue(store, now)

    assert outbox.deliver_due(store, outbox.http_send, now, hook_settings) == {"delivered": 0, "failed": 1, "leased": 1}
    later = now + timedelta(seconds=5)
    assert outbox.deliver_due(store, outbox.http_send, later, hook_settings)["failed"] == 1

    # The site got each signed POST; the address it pointed to got nothing: no GET, no body, no signature.
    assert site.methods == ["POST", "POST"]
    assert elsewhere.received == []
    row = _row(store, event_id)
    assert row["delivered_at"] is None and row["attempts"] == 2
    assert row["next_attempt_at"] == st.iso(later + timedelta(seconds=10))  # backed off: 5 s, then 10 s
    assert row["last_status"] == status and row["last_location"] == elsewhere.url
    assert row["last_error"] == f"HTTP {status} redirect to {elsewhere.url}, not followed"

    shown = runner.invoke("outbox")
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["pending"] == 1 and report["delivered"] == 0
    [pending] = report["pending_events"]
    assert pending["id"] == event_id and pending["attempts"] == 2
    assert pending["last_status"] == status and pending["last_location"] == elsewhere.url
    assert pending["next_attempt_at"] == st.iso(later + timedelta(seconds=10))

    # Once the site answers 2xx itself, the event is delivered and the redirect's Location is cleared.
    site.status, site.location = 200, None
    recovered = later + timedelta(seconds=10)
    assert outbox.deliver_due(store, outbox.http_send, recovered, hook_settings)["delivered"] == 1
    row = _row(store, event_id)
    assert row["delivered_at"] == st.iso(recovered) and row["last_status"] == 200 and row["last_location"] is None
    assert elsewhere.received == []


def test_a_leased_event_is_not_sent_by_a_second_worker(
    store: Store, hook_settings: Settings, site: Site, now: datetime
) -> None:
    site.start()
    event_id = _enqueue(store, now)
    with store.write() as db:
        leased = st.lease_due_outbox_events(db, st.iso(now), "other-worker", st.iso(now + timedelta(seconds=60)), 10)
    assert [r["id"] for r in leased] == [event_id]
    assert outbox.deliver_due(store, outbox.http_send, now, hook_settings)["leased"] == 0
    assert site.received == []
    # The other worker died: once its lease lapses, the event is delivered.
    assert outbox.deliver_due(store, outbox.http_send, now + timedelta(seconds=61), hook_settings)["delivered"] == 1


def test_a_failing_site_stops_the_batch_and_releases_the_rest(
    store: Store, hook_settings: Settings, site: Site, now: datetime
) -> None:
    ids = [_enqueue(store, now, f"c{n}") for n in range(3)]
    assert outbox.deliver_due(store, outbox.http_send, now, hook_settings) == {
        "delivered": 0,
        "failed": 1,
        "leased": 3,
    }
    rows = [_row(store, i) for i in ids]
    assert [r["attempts"] for r in rows] == [1, 0, 0]
    assert all(r["lease_owner"] is None for r in rows)
    site.start()
    assert outbox.deliver_due(store, outbox.http_send, now, hook_settings)["delivered"] == 2


def test_a_slow_site_times_out_and_is_retried(store: Store, hook_settings: Settings, site: Site, now: datetime) -> None:
    site.delay = 1.0
    site.start()
    event_id = _enqueue(store, now)
    quick = replace(hook_settings, webhook_timeout=0.2)
    assert outbox.deliver_due(store, outbox.http_send, now, quick)["failed"] == 1
    assert "timed out" in _row(store, event_id)["last_error"]


def test_back_off_doubles_up_to_the_cap() -> None:
    assert [outbox.backoff(n, 3600).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert outbox.backoff(10, 3600).total_seconds() == 2560
    assert outbox.backoff(11, 3600).total_seconds() == 3600
    assert outbox.backoff(500, 3600).total_seconds() == 3600


def test_nothing_is_sent_without_a_webhook_url(store: Store, settings: Settings, now: datetime) -> None:
    _enqueue(store, now)
    calls: list[str] = []

    def send(url: str, body: bytes, headers: object, timeout: float) -> outbox.SiteAnswer:
        calls.append(url)
        return outbox.SiteAnswer(200)

    assert outbox.deliver_due(store, send, now, settings)["leased"] == 0
    assert calls == []
    assert outbox.outbox_status(store)["pending"] == 1


def test_nothing_leaves_unsigned_without_a_webhook_secret(store: Store, hook_settings: Settings, now: datetime) -> None:
    _enqueue(store, now)
    sent: list[tuple[bytes, dict[str, str]]] = []

    def send(url: str, body: bytes, headers: dict[str, str], timeout: float) -> outbox.SiteAnswer:
        sent.append((body, dict(headers)))
        return outbox.SiteAnswer(200)

    counts = outbox.deliver_due(store, send, now, replace(hook_settings, webhook_secret=None))
    assert counts["leased"] == 0 and sent == []
    assert outbox.outbox_status(store)["pending"] == 1
    outbox.deliver_due(store, send, now, hook_settings)
    assert hook_settings.webhook_secret
    body, headers = sent[0]
    assert outbox.verify_signature(hook_settings.webhook_secret, body, headers[outbox.SIGNATURE_HEADER])


def test_delivery_loop_in_a_background_thread(store: Store, hook_settings: Settings, site: Site, now: datetime) -> None:
    site.start()
    stop = threading.Event()
    worker = threading.Thread(
        target=outbox.run_delivery_loop, args=(store, hook_settings, stop), kwargs={"interval": 0.05}
    )
    worker.start()
    try:
        _enqueue(store, st.utcnow())
        deadline = time.monotonic() + 5
        while not site.received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(site.received) == 1
    assert outbox.outbox_status(store)["delivered"] == 1
