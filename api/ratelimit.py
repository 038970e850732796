"""Rate limits shared by every gunicorn worker: per API key, and per client address for failed authentication.

Each limit is a token bucket. The buckets live in a small table mapped into every worker from one file in
the server run's directory (tmpfs `/dev/shm` where there is one, as for the metrics); `flock` serializes the
few microseconds of read-modify-write on it, so all workers count against the same buckets. The table is
fixed-size (open addressing over a short probe window); when a window is full, the bucket closest to full is
reused, since a full bucket is the same as no bucket. Without a run directory (tests, a single process) the
table is process memory.

- A key may spend `MODERATION_RATE_LIMIT` work units a second, with bursts up to `MODERATION_RATE_BURST`. A
  request costs one unit or, when it carries comments, one unit per started 1,000 characters of each comment's
  text (`text_units`), for single posts, each comment of a batch and `/v1/score` alike: what is charged is the
  scoring work, so a key within its allowance cannot keep the workers busy with a few huge batches. Over it:
  429 with `Retry-After`.
- A client address may fail authentication (no key, unknown or revoked key) `MODERATION_AUTH_FAILURE_LIMIT`
  times a minute; past that its failures are answered 429 instead of 401. A valid key from the same address
  (a proxy, a site's own servers) is never held back by other clients' bad keys.
- The web app's sign-in form counts every attempt from an address against the same allowance, before it
  checks anything: a throttled address gets 429 even with the right password, so guessing passwords stays
  slow (sign-ins are rare, so honest moderators behind one address do not reach it).
- Failed password sign-ins are also counted per user name (`MODERATION_ACCOUNT_FAILURE_LIMIT` an hour), from
  any address: past it that account is locked until its allowance refills, even for the right password, so
  guessing from many addresses stays slow too.

Time comes from the app's clock (`CLOCK` in the factory's config), so tests hold it still or move it.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import TooManyRequests

from api.errors import error_response
from moderation import users
from moderation.errors import Unauthorized

View = TypeVar("View", bound=Callable[..., Any])

_SLOT = struct.Struct("<Qdd")  # name hash (0 = empty), tokens, last update (CLOCK_MONOTONIC seconds)
SLOTS = 4096
PROBE = 16
TABLES = ("keys", "addresses")
FILE_NAME = "ratelimit.buckets"
_TABLE_BYTES = SLOTS * _SLOT.size


CHARS_PER_UNIT = 1000


def text_units(text: object) -> int:
    """The work units a comment's text costs: one per started 1,000 characters (at least one)."""
    if not isinstance(text, str):
        return 1
    return max(1, math.ceil(len(text) / CHARS_PER_UNIT))


def _name_hash(name: str) -> int:
    value = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")
    return value or 1


class BucketTable:
    """Token buckets in shared memory: one region per table, one lock over the whole mapping."""

    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self._thread_lock = threading.Lock()
        size = len(TABLES) * _TABLE_BYTES
        self._fd: int | None = None
        if path is None:
            self._map = mmap.mmap(-1, size)
            return
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with self._file_lock():
            if os.fstat(self._fd).st_size < size:
                os.ftruncate(self._fd, size)  # zero-filled: every slot empty
        self._map = mmap.mmap(self._fd, size)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        # The thread lock first: flock is held per open file, so it would not keep this process's threads apart.
        with self._thread_lock:
            if self._fd is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def take(
        self, table: str, name: str, rate: float, capacity: float, cost: float = 1.0, *, peek: bool = False
    ) -> float:
        """Take `cost` tokens from the named bucket; 0 when granted, else the seconds until it could be.

        With `peek`, only say how long until `cost` tokens would be there, taking nothing.
        """
        cost = min(cost, capacity)  # a cost above the bucket's size waits for a full bucket instead of forever
        wanted = _name_hash(name)
        base = TABLES.index(table) * _TABLE_BYTES
        start = wanted % SLOTS
        now = self.clock()
        with self._file_lock():
            chosen, tokens, fullest = -1, capacity, -1.0
            for step in range(PROBE):
                offset = base + ((start + step) % SLOTS) * _SLOT.size
                held, held_tokens, updated = _SLOT.unpack_from(self._map, offset)
                if held == wanted:
                    chosen, tokens = offset, min(capacity, held_tokens + max(0.0, now - updated) * rate)
                    break
                if held == 0:
                    chosen, tokens = offset, capacity
                    break
                level = min(capacity, held_tokens + max(0.0, now - updated) * rate) / capacity
                if level > fullest:
                    chosen, fullest = offset, level
            if peek:
                return 0.0 if tokens >= cost else (cost - tokens) / rate
            if tokens >= cost:
                _SLOT.pack_into(self._map, chosen, wanted, tokens - cost, now)
                return 0.0
            _SLOT.pack_into(self._map, chosen, wanted, tokens, now)
            return (cost - tokens) / rate

    def close(self) -> None:
        """Unmap the table (and close its file)."""
        self._map.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Limiter:
    """The service's limits over one bucket table."""

    def __init__(
        self,
        table: BucketTable,
        per_key_rate: float,
        per_key_burst: int,
        failures_per_minute: int,
        account_failures_per_hour: int = 0,
    ) -> None:
        self.table = table
        self.per_key_rate = per_key_rate
        self.per_key_burst = per_key_burst
        self.failures_per_minute = failures_per_minute
        self.account_failures_per_hour = account_failures_per_hour

    def wait_for_key(self, key_id: str, cost: int = 1, *, peek: bool = False) -> float:
        """Charge a key `cost` work units (with `peek`, only look); 0 if within its limit, else seconds to wait."""
        if self.per_key_rate <= 0:
            return 0.0
        return self.table.take("keys", key_id, self.per_key_rate, self.per_key_burst, cost, peek=peek)

    def wait_after_failure(self, address: str) -> float:
        """Count one failed authentication from an address; 0 if within its allowance, else seconds to wait."""
        if self.failures_per_minute <= 0:
            return 0.0
        return self.table.take("addresses", address, self.failures_per_minute / 60, self.failures_per_minute)

    def wait_for_sign_in(self, address: str) -> float:
        """Count one web sign-in attempt from an address; 0 if within its allowance, else seconds to wait."""
        if self.failures_per_minute <= 0:
            return 0.0
        rate = self.failures_per_minute / 60
        return self.table.take("addresses", f"sign-in {address}", rate, self.failures_per_minute)

    def _account(self, name: str) -> tuple[str, float, int]:
        per_hour = self.account_failures_per_hour
        return f"account {users.normalize_name(name)}", per_hour / 3600, per_hour

    def account_locked_for(self, name: str) -> float:
        """Seconds until a user name may try its password again (0: it may now); takes nothing."""
        if self.account_failures_per_hour <= 0:
            return 0.0
        bucket, rate, capacity = self._account(name)
        return self.table.take("addresses", bucket, rate, capacity, peek=True)

    def count_failed_sign_in(self, name: str) -> None:
        """Count one failed password sign-in against a user name (whether or not such a user exists)."""
        if self.account_failures_per_hour > 0:
            bucket, rate, capacity = self._account(name)
            self.table.take("addresses", bucket, rate, capacity)


def retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header (at least 1)."""
    return max(1, math.ceil(seconds))


def too_many(seconds: float, message: str) -> TooManyRequests:
    """The 429 to raise: JSON `{error, message}` with `Retry-After` (see api/errors.py)."""
    return TooManyRequests(description=message, retry_after=retry_after(seconds))


def limiter() -> Limiter:
    """The current application's limiter."""
    return current_app.extensions["moderation.ratelimit"]  # type: ignore[no-any-return]


def charged_by_size(view: View) -> View:
    """Declare a view that charges its key by the size of the comments it scores (`charge_comments`)."""
    view.charged_by_size = True  # type: ignore[attr-defined]
    return view


def charge_comments(documents: Sequence[object]) -> None:
    """Charge the current request's key for scoring these comments' texts (at least one unit), or 429."""
    key = g.get("key")
    units = sum(text_units(document.get("text") if isinstance(document, dict) else None) for document in documents)
    if key is None:
        return
    g.charged_by_size = True
    wait = limiter().wait_for_key(key.id, max(1, units))
    if wait > 0:
        raise too_many(
            wait,
            f"This key is over its rate limit: this request costs {units} units (one per started "
            f"{CHARS_PER_UNIT:,} characters of each text) and the key may spend {limiter().per_key_rate:g} a second.",
        )


def _charge_key() -> None:
    key = g.get("key")  # set by api/auth.py for every route that needs a key
    if key is None:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "charged_by_size", False):
        # Charged whole once its body is read, in one step; an empty bucket is refused before reading it.
        wait = limiter().wait_for_key(key.id, 1, peek=True)
        g.charged_by_size = wait > 0  # refused here: like any refused request, it costs nothing
    else:
        wait = limiter().wait_for_key(key.id)
    if wait > 0:
        raise too_many(wait, f"This key is over its rate limit ({limiter().per_key_rate:g} units a second).")


def _charge_unread_body(_error: BaseException | None) -> None:
    # A request refused before its comments were charged (malformed, too large, invalid) still costs a unit.
    key = g.get("key")
    view = current_app.view_functions.get(request.endpoint or "")
    if key is not None and getattr(view, "charged_by_size", False) and not g.get("charged_by_size"):
        limiter().wait_for_key(key.id)


def _failed_authentication(error: Unauthorized) -> Response:
    address = request.remote_addr or "unknown"
    wait = limiter().wait_after_failure(address)
    if wait > 0:
        response = error_response(429, "too_many_requests", "Too many failed authentications from this address.")
        response.headers["Retry-After"] = str(retry_after(wait))
        return response
    return error_response(401, error.code, error.message, error.fields)


def register(app: Flask) -> None:
    """Build the limiter from the settings (its table in the run directory, if any); check it on every request.

    Call after `auth.register`, so the key is known when the key's bucket is charged.
    """
    settings = app.extensions["moderation"].settings
    directory = app.config.get("RATE_LIMIT_DIR") or app.config.get("METRICS_DIR")
    clock = app.config["CLOCK"]
    table = BucketTable(Path(directory) / FILE_NAME if directory else None, clock=clock.monotonic)
    app.extensions["moderation.ratelimit"] = Limiter(
        table, settings.rate_limit, settings.rate_burst, settings.auth_failure_limit, settings.account_failure_limit
    )
    app.before_request(_charge_key)
    app.teardown_request(_charge_unread_body)
    app.register_error_handler(Unauthorized, _failed_authentication)
