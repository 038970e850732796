"""Rate limits: token buckets shared by every worker; 429 with Retry-After per key (batches count each comment);
a burst of bad keys from one address is throttled while good keys from the same address keep working."""

from __future__ import annotations

import multiprocessing as mp
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from api.ratelimit import PROBE, SLOTS, BucketTable
from moderation import keys
from moderation.settings import Settings
from tests.conftest import LiveServer, WordListScorer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_grants_its_burst_then_its_rate() -> None:
    clock = FakeClock()
    table = BucketTable(clock=clock)
    assert [table.take("keys", "k", rate=1, capacity=3) for _ in range(3)] == [0, 0, 0]
    assert table.take("keys", "k", rate=1, capacity=3) == pytest.approx(1.0)
    clock.now += 0.5
    assert table.take("keys", "k", rate=1, capacity=3) == pytest.approx(0.5)
    clock.now += 0.5
    assert table.take("keys", "k", rate=1, capacity=3) == 0
    assert table.take("keys", "other", rate=1, capacity=3) == 0  # buckets are per name...
    assert table.take("addresses", "k", rate=1, capacity=3) == 0  # ...and per table
    clock.now += 100
    assert table.take("keys", "k", rate=1, capacity=3, cost=50) == 0  # over the size: waits for a full bucket
    assert table.take("keys", "k", rate=1, capacity=3) == pytest.approx(1.0)


def test_a_full_table_reuses_the_fullest_bucket_and_keeps_busy_ones() -> None:
    clock = FakeClock()
    table = BucketTable(clock=clock)
    for _ in range(3):
        table.take("keys", "busy", rate=0.001, capacity=3)
    for n in range(SLOTS * 2):  # far more names than slots: old, refilled buckets are reused
        table.take("keys", f"idle-{n}", rate=0.001, capacity=3)
    assert PROBE > 1 and table.take("keys", "busy", rate=0.001, capacity=3) > 0


def _drain(path: str, count: int) -> None:
    table = BucketTable(Path(path))
    for _ in range(count):
        assert table.take("keys", "shared", rate=0.001, capacity=10) == 0
    table.close()


def test_processes_share_the_buckets_through_the_file(tmp_path: Path) -> None:
    context = mp.get_context("fork")
    children = [context.Process(target=_drain, args=(str(tmp_path / "buckets"), 5)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert BucketTable(tmp_path / "buckets").take("keys", "shared", rate=0.001, capacity=10) > 0


def test_a_take_costs_microseconds(tmp_path: Path) -> None:
    table = BucketTable(tmp_path / "buckets")
    started = time.perf_counter()
    for n in range(5000):
        table.take("keys", f"key-{n % 20}", rate=1e9, capacity=1e9)
    per_take = (time.perf_counter() - started) / 5000
    print(f"rate limit check: {per_take * 1e6:.1f} µs per request (file-backed table, flock)")
    assert per_take < 100e-6


@pytest.fixture
def limited_app(settings: Settings) -> Iterator[Flask]:
    """The app with tight limits: bursts of 10 per key, almost no refill, 20 auth failures a minute."""
    from api import create_app

    tight = replace(settings, rate_limit=0.01, rate_burst=10, auth_failure_limit=20)
    app = create_app({"TESTING": True, "SETTINGS": tight, "SCORER": WordListScorer()})
    yield app
    app.extensions["moderation"].store.close()


def _key(app: Flask, role: str) -> dict[str, str]:
    _, secret = keys.create_key(app.extensions["moderation"].store, role)
    return {"Authorization": f"Bearer {secret}"}


def comment(n: int) -> dict[str, str]:
    return {"id": f"c{n}", "text": "a fair comment", "article_id": "a", "author_id": "u"}


def test_a_key_over_its_limit_gets_429_with_retry_after(limited_app: Flask) -> None:
    client = limited_app.test_client()
    site, other = _key(limited_app, "site"), _key(limited_app, "site")
    statuses = [client.post("/v1/comments", json=comment(n), headers=site).status_code for n in range(12)]
    assert statuses == [201] * 10 + [429] * 2
    refused = client.post("/v1/comments", json=comment(99), headers=site)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"] == "too_many_requests" and "rate limit" in refused.get_json()["message"]
    assert client.get("/v1/comments/c99", headers=other).status_code == 404  # nothing recorded; other keys fine
    assert client.get("/healthz").status_code == 200  # public routes are not limited


def test_each_comment_of_a_batch_counts(limited_app: Flask) -> None:
    client = limited_app.test_client()
    site = _key(limited_app, "site")
    batch = {"comments": [comment(n) for n in range(8)]}
    assert client.post("/v1/comments/batch", json=batch, headers=site).status_code == 200
    again = client.post("/v1/comments/batch", json={"comments": [comment(n) for n in range(10, 13)]}, headers=site)
    assert again.status_code == 429
    assert client.get("/v1/comments/c10", headers=_key(limited_app, "site")).status_code == 404


def bad_key() -> str:
    return f"mod_site_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def test_a_burst_of_bad_keys_is_throttled_while_good_keys_work(limited_app: Flask) -> None:
    limited_app.extensions["moderation.ratelimit"].table.clock = FakeClock()  # no refill while it runs
    client = limited_app.test_client()
    good = _key(limited_app, "moderator")
    revoked_key, revoked_secret = keys.create_key(limited_app.extensions["moderation"].store, "site")
    keys.revoke_key(limited_app.extensions["moderation"].store, revoked_key.id)
    statuses: list[int] = []
    good_statuses: list[int] = []
    for n in range(1000):
        presented = {0: bad_key(), 1: revoked_secret, 2: "not-a-key"}[n % 3]
        statuses.append(client.get("/v1/decisions", headers={"Authorization": f"Bearer {presented}"}).status_code)
        if n % 100 == 0:
            good_statuses.append(client.get("/v1/queue", headers=good).status_code)
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    assert good_statuses == [200] * 10
    throttled = client.get("/v1/decisions")  # no key at all is a failure too
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    other_address = client.get("/v1/decisions", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 401


@pytest.mark.slow
def test_limits_are_shared_across_gunicorn_workers(
    live_server_factory: Callable[..., LiveServer], tiny_model_path: Path
) -> None:
    server = live_server_factory(
        {
            "MODERATION_MODEL": str(tiny_model_path),
            "MODERATION_RATE_LIMIT": "0.01",
            "MODERATION_RATE_BURST": "30",
            "MODERATION_AUTH_FAILURE_LIMIT": "20",
        }
    )
    # Each request opens its own connection, so both workers answer some of them.
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: server.request("GET", "/v1/decisions", key="site")[0], range(80)))
        assert statuses.count(200) == 30 and statuses.count(429) == 50
        started = time.monotonic()
        bad = list(pool.map(lambda _: server.request("GET", "/v1/queue", key=bad_key())[0], range(1000)))
        refilled = (time.monotonic() - started) * 20 / 60  # the allowance refills at 20 a minute meanwhile
        assert 20 <= bad.count(401) <= 20 + refilled + 1 and bad.count(401) + bad.count(429) == 1000
        good = list(pool.map(lambda _: server.request("GET", "/v1/queue", key="moderator")[0], range(16)))
        assert good == [200] * 16
    _, err = server.logs()
    pids = {line.split('"pid": ')[1].split("}")[0] for line in err.splitlines() if "Booting worker" in line}
    assert len(pids) == 2
