"""The webhook outbox: events written in the deciding transaction, POSTed signed until the site says 2xx.

Delivery is at least once: a site must treat `event_id` (also sent as `X-Moderation-Delivery`) as
idempotent. Failed attempts are retried forever, waiting 5 s, 10 s, 20 s... up to the configured cap. A redirect
is never followed (the signed body and headers would go to another address, or be dropped as a GET): a 3xx is a
failed attempt, recorded with its status and `Location`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moderation.errors import Unavailable
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store, Transaction

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Moderation-Signature"
BACKOFF_BASE_SECONDS = 5
DELIVERY_BATCH = 20

MAX_LOCATION_CHARS = 2000


@dataclass(frozen=True)
class SiteAnswer:
    """What the site answered one webhook POST: the HTTP status and, for a redirect, where it pointed."""

    status: int
    location: str | None = None


# send(url, body, headers, timeout) -> the site's answer; raises OSError when no answer came back.
Send = Callable[[str, bytes, Mapping[str, str], float], SiteAnswer]


def event_body(event_type: str, payload: Mapping[str, Any], at: str) -> str:
    """The exact JSON text that is stored, signed and sent for one event."""
    document = {"event_id": secrets.token_hex(16), "type": event_type, "created_at": at, **payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def enqueue_event(db: Transaction, event_type: str, payload: Mapping[str, Any], at: str) -> int:
    """Queue one event inside the caller's write transaction, so it exists exactly when the change does."""
    return st.insert_outbox_event(db, event_type, event_body(event_type, payload, at), at)


def sign(secret: str, body: bytes) -> str:
    """The signature header value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether a signature header matches the body (what a receiving site does)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib then raises HTTPError with the 3xx status and its headers."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Without the default redirect handler (replaced by the one above); proxies from the environment still apply.
_OPENER = urllib.request.build_opener(_RefuseRedirects)


def http_send(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> SiteAnswer:
    """POST the body with urllib, never following a redirect; the site's answer, or OSError when unreachable."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65536)
            return SiteAnswer(int(response.status))
    except urllib.error.HTTPError as error:
        location = error.headers.get("Location") if error.headers is not None else None
        return SiteAnswer(int(error.code), location[:MAX_LOCATION_CHARS] if location else None)
    except http.client.HTTPException as error:
        raise ConnectionError(f"bad HTTP answer: {error!r}") from error


def _failure(answer: SiteAnswer) -> str | None:
    """What was wrong with the site's answer (None for a 2xx, the only answer that delivers)."""
    if 200 <= answer.status < 300:
        return None
    if 300 <= answer.status < 400:
        return f"HTTP {answer.status} redirect to {answer.location or '(no Location)'}, not followed"
    return f"HTTP {answer.status}"


def backoff(attempts: int, cap_seconds: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling from 5 s, never more than the cap."""
    exponent = min(max(attempts - 1, 0), 32)
    return timedelta(seconds=min(cap_seconds, BACKOFF_BASE_SECONDS * 2**exponent))


def _headers(row: st.Row, body: bytes, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "comment-moderation-webhook/1",
        "X-Moderation-Event": row["event_type"],
        "X-Moderation-Delivery": str(row["id"]),
        SIGNATURE_HEADER: sign(secret, body),
    }


def deliver_due(
    store: Store,
    send: Send,
    now: datetime,
    settings: Settings,
    *,
    limit: int = DELIVERY_BATCH,
) -> dict[str, int]:
    """Lease the due events, POST each to the webhook, record the outcome; counts of delivered and failed."""
    counts = {"delivered": 0, "failed": 0, "leased": 0}
    if not settings.webhook_url or not settings.webhook_secret:
        return counts  # events wait in the outbox: nothing leaves unsigned
    owner = secrets.token_hex(8)
    at = st.iso(now)
    # The lease outlasts the worst case of sending the whole batch, so no other worker sends these meanwhile.
    lease_until = st.iso(now + timedelta(seconds=limit * settings.webhook_timeout + 30))
    with store.write() as db:
        leased = st.lease_due_outbox_events(db, at, owner, lease_until, limit)
    counts["leased"] = len(leased)
    for index, row in enumerate(leased):
        body = row["body"].encode("utf-8")
        answer: SiteAnswer | None = None
        try:
            answer = send(
                settings.webhook_url,
                body,
                _headers(row, body, settings.webhook_secret),
                settings.webhook_timeout,
            )
            error = _failure(answer)
        except OSError as failure:
            error = f"{type(failure).__name__}: {failure}"
        status = None if answer is None else answer.status
        location = None if answer is None else answer.location
        with store.write() as db:
            if error is None:
                st.mark_outbox_delivered(db, row["id"], owner, at, status)
            else:
                retry_at = st.iso(now + backoff(row["attempts"] + 1, settings.webhook_max_backoff))
                st.mark_outbox_failed(db, row["id"], owner, at, error, retry_at, status=status, location=location)
        if error is None:
            counts["delivered"] += 1
            continue
        counts["failed"] += 1
        log.warning("webhook delivery of outbox event %s failed: %s", row["id"], error)
        # The site is failing: hand back the rest of the batch untried rather than wait on each in turn.
        rest = [r["id"] for r in leased[index + 1 :]]
        if rest:
            with store.write() as db:
                st.release_outbox_leases(db, rest, owner)
        break
    return counts


def run_delivery_loop(
    store: Store,
    settings: Settings,
    stop_event: threading.Event,
    *,
    send: Send = http_send,
    interval: float = 1.0,
    clock: Callable[[], datetime] = st.utcnow,
) -> None:
    """Deliver due events until `stop_event` is set; for a background thread (sharing the Store is safe)."""
    while not stop_event.is_set():
        try:
            counts = deliver_due(store, send, clock(), settings)
        except Unavailable as error:
            log.warning("webhook delivery paused: %s", error.message)
            counts = {"delivered": 0, "failed": 1, "leased": 0}
        if counts["delivered"] == 0 or counts["failed"]:
            stop_event.wait(interval)


# What `moderation outbox` shows of each pending event: its last attempt's outcome and when it is tried again.
_PENDING_EVENT_FIELDS = (
    "id",
    "event_type",
    "created_at",
    "attempts",
    "last_attempt_at",
    "last_status",
    "last_location",
    "last_error",
    "next_attempt_at",
)


def outbox_status(store: Store, limit: int = 100) -> dict[str, Any]:
    """Counts of delivered and pending events, and the pending ones with their attempts and last answer."""
    with store.read() as db:
        counts = st.outbox_counts(db)
        pending = st.outbox_rows(db, pending_only=True, limit=limit)
    return {
        **counts,
        "pending_events": [{k: r[k] for k in _PENDING_EVENT_FIELDS} for r in pending],
    }
