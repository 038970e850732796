"""End to end: real gunicorn on a loopback port, a temporary database, the three roles over HTTP."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from moderation.outbox import SIGNATURE_HEADER, verify_signature
from tests.conftest import SHIPPED_MODEL, LiveServer, free_port, start_server, wait_ready

pytestmark = pytest.mark.slow

WEBHOOK_SECRET = "e2e-webhook-secret"


class Webhooks:
    """A loopback site that receives webhook POSTs and remembers them."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    site = Webhooks()
    yield site
    site.close()


@pytest.fixture
def server(live_server_factory: Callable[..., LiveServer], tiny_model_path: Path, webhooks: Webhooks) -> LiveServer:
    """gunicorn with 2 workers on the tiny model, a fresh database, webhooks to a loopback site."""
    return live_server_factory(
        {
            "MODERATION_MODEL": str(tiny_model_path),
            "MODERATION_WEBHOOK_URL": webhooks.url,
            "MODERATION_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )


def db_count(server: LiveServer, sql: str) -> int:
    with sqlite3.connect(server.db_path) as db:
        return int(db.execute(sql).fetchone()[0])


def test_three_roles_over_http(server: LiveServer, webhooks: Webhooks) -> None:
    # Admin: keys for a site and a moderator, and a policy that sends new authors' first comment to review.
    status, made = server.json("POST", "/v1/keys", {"role": "site", "name": "news"}, key="admin")
    assert status == 201
    site = made["secret"]
    status, made = server.json("POST", "/v1/keys", {"role": "moderator", "name": "mia"}, key="admin")
    moderator = made["secret"]
    status, policy = server.json("PUT", "/v1/policy", {"new_author_reviews": 1}, key="admin")
    assert status == 200 and policy["new_author_reviews"] == 1
    status, history = server.json("GET", "/v1/policy/history", key="admin")
    assert status == 200 and len(history["items"]) == 1 and history["items"][0]["actor_key_id"]

    # Site: a comment from a new author is held for review; the same post again is a replay.
    comment = {
        "id": "e2e-1",
        "text": "The council should publish the budget.",
        "article_id": "a1",
        "author_id": "newbie",
        "ip": "203.0.113.9",
    }
    status, answer = server.json("POST", "/v1/comments", comment, key=site)
    assert status == 201 and answer["status"] == "queued"
    assert any(reason["kind"] == "new_author" for reason in answer["reasons"])
    assert answer["model_version"]
    status, replay = server.json("POST", "/v1/comments", comment, key=site)
    assert status == 200 and replay["replayed"] is True and replay["status"] == "queued"
    status, conflict = server.json("POST", "/v1/comments", {**comment, "text": "changed"}, key=site)
    assert status == 409 and conflict["error"] == "conflict"
    status, toxic = server.json(
        "POST",
        "/v1/comments",
        {
            "id": "e2e-2",
            "text": "you pathetic loser, i will find you and hurt you",
            "article_id": "a1",
            "author_id": "regular",
        },
        key=site,
    )
    assert status == 201 and toxic["status"] in ("rejected", "queued") and toxic["spans"]

    # Moderator: the queue, a claim, a stale decision refused, then the decision.
    status, queue = server.json("GET", "/v1/queue?article_id=a1", key=moderator)
    assert status == 200
    item = next(i for i in queue["items"] if i["comment_id"] == "e2e-1")
    status, claimed = server.json("POST", f"/v1/queue/{item['id']}/claim", key=moderator)
    assert status == 200 and claimed["version"] == item["version"] + 1
    status, stale = server.json(
        "POST", f"/v1/queue/{item['id']}/decision", {"action": "approve", "version": item["version"]}, key=moderator
    )
    assert status == 409
    status, decided = server.json(
        "POST",
        f"/v1/queue/{item['id']}/decision",
        {"action": "approve", "reason": "fine", "version": claimed["version"]},
        key=moderator,
    )
    assert status == 200 and decided["comment"]["status"] == "approved"

    # The site hears about it by webhook (signed) and by polling.
    events = webhooks.wait_for(1)
    assert [e["type"] for e in events] == ["comment.decided"] and events[0]["comment_id"] == "e2e-1"
    headers, body = webhooks.received[0]
    assert verify_signature(WEBHOOK_SECRET, body, headers.get(SIGNATURE_HEADER))
    status, polled = server.json("GET", "/v1/decisions?actor_type=moderator", key=site)
    assert status == 200 and [d["comment_id"] for d in polled["items"]] == ["e2e-1"]
    status, shown = server.json("GET", "/v1/comments/e2e-1", key=site)
    assert shown["status"] == "approved" and [d["kind"] for d in shown["decisions"]] == ["submission", "review"]

    # Roles are enforced over the wire too.
    assert server.json("GET", "/v1/queue", key=site)[0] == 403
    assert server.json("PUT", "/v1/policy", {}, key=moderator)[0] == 403
    assert server.json("GET", "/v1/keys")[0] == 401

    # CSV export, streamed.
    status, headers, csv_body = server.request("GET", "/v1/decisions?format=csv", key=moderator)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert len(csv_body.decode().strip().splitlines()) == 1 + db_count(server, "SELECT count(*) FROM decisions")


def test_appeal_over_http(server: LiveServer, webhooks: Webhooks) -> None:
    status, _ = server.json("PUT", "/v1/policy", {"blocked_terms": ["forbiddenword"]}, key="admin")
    comment = {"id": "ap-1", "text": "this has a forbiddenword in it", "article_id": "a", "author_id": "u"}
    status, answer = server.json("POST", "/v1/comments", comment, key="site")
    assert status == 201 and answer["status"] == "rejected"
    status, item = server.json("POST", "/v1/comments/ap-1/appeal", {"message": "It is a quote."}, key="site")
    assert status == 201 and item["appealed"] is True
    status, decided = server.json(
        "POST", f"/v1/queue/{item['id']}/decision", {"action": "approve", "version": item["version"]}, key="moderator"
    )
    assert status == 200
    events = webhooks.wait_for(1)
    assert events[0]["type"] == "comment.appeal_decided" and events[0]["appeal"]["outcome"] == "overturned"


def test_metrics_sum_both_workers(server: LiveServer) -> None:
    with ThreadPoolExecutor(8) as pool:  # concurrent, so both workers serve some
        assert set(pool.map(lambda _: server.request("GET", "/healthz")[0], range(60))) == {200}
    # Workers write their counts about once a second: scrape until they add up (bounded, for a busy machine).
    deadline = time.monotonic() + 30
    while True:
        text = server.request("GET", "/metrics")[2].decode()
        count = next(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith('moderation_http_requests_total{route="/healthz",method="GET",status="200"}')
        )
        if count >= 60 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert count == 60  # whichever worker answered the scrape, it counts the other's requests too
    time.sleep(0.2)
    access = [json.loads(line) for line in server.logs()[0].splitlines() if line.strip()]
    serving = {entry["pid"] for entry in access if entry["path"] in ("/healthz", "/metrics")}
    workers = next(line for line in text.splitlines() if line.startswith("moderation_workers "))
    assert workers == f"moderation_workers {len(serving)}"


def test_concurrent_posts_of_one_id_record_it_once(server: LiveServer) -> None:
    comment = {"id": "race", "text": "Same text from many retries.", "article_id": "a", "author_id": "u"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: server.json("POST", "/v1/comments", comment, key="site"), range(16)))
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 1 and statuses.count(200) == 15
    assert len({body["decision_id"] for _, body in answers}) == 1
    assert db_count(server, "SELECT count(*) FROM comments") == 1
    assert db_count(server, "SELECT count(*) FROM decisions") == 1


def raw_http(server: LiveServer, payload: bytes) -> bytes:
    """Send raw bytes and read until the server closes (sync workers close after each answer)."""
    port = int(server.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed; its answer is still readable
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def test_hostile_requests_over_the_wire_get_json_4xx(server: LiveServer) -> None:
    key = server.keys["site"]
    big = b"{" + b" " * (1024 * 1024) + b"}"
    answers = {
        "too big": server.request(
            "POST", "/v1/comments", raw=big, key="site", headers={"Content-Type": "application/json"}
        ),
        "deep": server.request(
            "POST", "/v1/comments", raw=b"[" * 50_000, key="site", headers={"Content-Type": "application/json"}
        ),
        "not json": server.request(
            "POST",
            "/v1/comments",
            raw=b"text=hi",
            key="site",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        "bad utf-8": server.request(
            "POST", "/v1/score", raw=b'{"text": "\xff\xfe"}', key="site", headers={"Content-Type": "application/json"}
        ),
        "unknown route": server.request("GET", "/v2/anything", key="site"),
        "wrong method": server.request("PATCH", "/v1/comments", key="site"),
    }
    expected = {
        "too big": 413,
        "deep": 400,
        "not json": 415,
        "bad utf-8": 400,
        "unknown route": 404,
        "wrong method": 405,
    }
    for name, (status, headers, body) in answers.items():
        assert status == expected[name], (name, status, body[:200])
        assert headers["Content-Type"] == "application/json" and json.loads(body)["error"], name
    chunked = (
        b"POST /v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer "
        + key.encode()
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(8))
        + b"0\r\n\r\n"
    )
    answer = raw_http(server, chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert db_count(server, "SELECT count(*) FROM comments") == 0


MANY_HEADERS = b"".join(b"X-%d: y\r\n" % i for i in range(150))


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "malformed"),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, "malformed"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET /healthz HTTP/1.1\r\n" + MANY_HEADERS + b"\r\n", 431, "headers_too_large"),
        (b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400, "malformed"),
    ],
    ids=["request line", "http version", "long uri", "too many headers", "bad header"],
)
def test_requests_gunicorn_refuses_before_flask_get_json_too(
    server: LiveServer, payload: bytes, status: int, code: str
) -> None:
    answer = raw_http(server, payload)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:300]
    assert b"Content-Type: application/json" in head, head
    parsed = json.loads(body)
    assert parsed["message"] and parsed["error"] == code, parsed


def test_logs_are_json_lines(server: LiveServer) -> None:
    server.request("GET", "/healthz")
    server.request("GET", "/v1/keys", key="admin")
    server.stop()
    out, err = server.logs()
    access = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert any(entry["path"] == "/v1/keys" and entry["status"] == 200 and entry["key_id"] for entry in access)
    assert all({"time", "level", "method", "status", "duration_ms"} <= set(entry) for entry in access)
    for line in err.splitlines():
        if line.strip():
            json.loads(line)  # every error-log line is JSON too


def test_sigterm_stops_gracefully(server: LiveServer) -> None:
    assert (
        server.json(
            "POST", "/v1/comments", {"id": "t", "text": "hello", "article_id": "a", "author_id": "u"}, key="site"
        )[0]
        == 201
    )
    assert server.stop() == 0
    with sqlite3.connect(server.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1


def test_serve_prints_the_first_admin_key_once(tmp_path: Path, tiny_model_path: Path) -> None:
    env = {
        "MODERATION_DB": str(tmp_path / "fresh" / "moderation.db"),
        "MODERATION_MODEL": str(tiny_model_path),
        "WEB_CONCURRENCY": "1",
    }
    command = [sys.executable, "-m", "moderation", "serve"]
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first = start_server(first_dir, env, command=command)
    try:
        out, err = first.logs()
        admin_key = out.splitlines()[0]
        assert admin_key.startswith("mod_adm_") and "shown this once" in err
        first.keys = {"admin": admin_key}
        status, made = first.json("POST", "/v1/keys", {"role": "moderator"}, key="admin")
        assert status == 201
    finally:
        assert first.stop() == 0
    second = start_server(second_dir, env, command=command)
    try:
        out, _ = second.logs()
        assert "mod_adm_" not in out  # printed once only
        second.keys = {"admin": admin_key}
        assert second.json("GET", "/v1/keys", key="admin")[0] == 200
    finally:
        second.stop()


def test_serve_refuses_a_missing_model(tmp_path: Path) -> None:
    env = {"MODERATION_DB": str(tmp_path / "m.db"), "MODERATION_MODEL": str(tmp_path / "nope.model")}
    done = subprocess.run(
        [sys.executable, "-m", "moderation", "serve", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "does not exist" in done.stderr and "MODERATION_MODEL" in done.stderr


@pytest.mark.skipif(not SHIPPED_MODEL.is_file(), reason="models/default.model is not built yet")
def test_make_run_way_on_the_shipped_model(tmp_path: Path) -> None:
    """`moderation serve` as `make run` calls it, with no MODERATION_MODEL: the shipped model answers."""
    from model.artifact import load

    directory = tmp_path / "shipped"
    directory.mkdir()
    env = {"MODERATION_DB": str(tmp_path / "data" / "moderation.db")}
    console_script = Path(sys.executable).with_name("moderation")
    command = [str(console_script)] if console_script.exists() else [sys.executable, "-m", "moderation"]
    server = start_server(directory, env, command=[*command, "serve"], ready=False)
    assert "MODERATION_MODEL" not in server.env
    try:
        wait_ready(server, timeout=90)
        status, ready = server.json("GET", "/readyz")
        assert status == 200 and ready["model_version"] == load(SHIPPED_MODEL).version
        server.keys = {"admin": server.logs()[0].splitlines()[0]}
        status, made = server.json("POST", "/v1/keys", {"role": "site"}, key="admin")
        server.keys["site"] = made["secret"]
        status, answer = server.json(
            "POST",
            "/v1/comments",
            {
                "id": "s1",
                "text": "Thanks for the careful reporting on the budget.",
                "article_id": "a",
                "author_id": "u",
            },
            key="site",
        )
        assert status == 201 and answer["status"] == "approved" and answer["model_version"] == ready["model_version"]
        status, rude = server.json(
            "POST", "/v1/score", {"text": "shut up you stupid idiot, nobody wants your garbage"}, key="site"
        )
        assert status == 200 and rude["status"] in ("queued", "rejected") and rude["scores"]["toxicity"] > 0.5
    finally:
        assert server.stop() == 0


def test_a_newly_activated_model_version_is_served_without_a_restart(server: LiveServer, tmp_path: Path) -> None:
    """An admin activates another registered version (as `moderation models activate` does): both workers
    switch to it within about a second, without a restart."""
    import shutil

    from moderation.settings import Settings
    from moderation.storage.store import Store
    from moderation.training import registry
    from tests.model_fixtures import train_tiny_model

    status, ready = server.json("GET", "/readyz")
    before = ready["model_version"]
    (tmp_path / "other").mkdir()
    trained = train_tiny_model(tmp_path / "other", seed=29)
    settings = Settings.from_env(server.env)
    target = registry.models_dir(settings) / "e2e-other.model"
    shutil.copyfile(trained, target)
    store = Store.from_settings(settings)
    try:
        version = registry.register_file(store, settings, target, source="retrain", actor=None)["version"]
        assert version != before
        registry.activate(store, settings, version, "e2e-admin", force=True, reason="end-to-end hot swap test")
    finally:
        store.close()
    deadline = time.monotonic() + 60  # about a second on a quiet machine
    seen: list[str] = []
    while time.monotonic() < deadline:
        with ThreadPoolExecutor(4) as pool:
            seen = [body["model_version"] for _, body in pool.map(lambda _: server.json("GET", "/readyz"), range(8))]
        if set(seen) == {version}:
            break
        time.sleep(0.2)
    assert set(seen) == {version}, seen
    status, answer = server.json(
        "POST", "/v1/comments", {"id": "hot", "text": "hello there", "article_id": "a", "author_id": "u"}, key="site"
    )
    assert status == 201 and answer["model_version"] == version
