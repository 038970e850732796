"""Slow clients cannot take the service down: the production set-up (`moderation serve --proxy`, what
`make serve-prod` and the container run) keeps answering everyone while 70 connections dribble their requests.

The set-up is started exactly as the make target starts it: real nginx in front, real gunicorn on its private
unix socket, a temporary database, a free loopback port. Without nginx (`apt-get install nginx-light`;
`.ci/run` installs it) these tests fail in CI (CI=true) and are skipped elsewhere with the reason.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from moderation import keys
from moderation.proxy import RUN_DIR_PREFIX, ProxyError, find_nginx
from moderation.rundirs import owner_pid
from moderation.storage.store import Store
from tests.conftest import REPO, LiveServer, free_port, start_server
from tests.fault_fixtures import children, comment_body

pytestmark = pytest.mark.slow

SLOW_HEADER_CONNECTIONS = 50
SLOW_BODY_CONNECTIONS = 20
ATTACK_SECONDS = 30.0
REQUESTS_PER_CLIENT = 200  # each of the two honest clients: /healthz, and POST /v1/comments with a site key
P99_LIMIT_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 10.0


def _require_nginx() -> None:
    try:
        find_nginx()
    except ProxyError as error:
        message = f"{error} (.ci/run installs it)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def start_proxied(directory: Path, model: Path) -> tuple[LiveServer, str]:
    """`moderation serve --proxy` as `make serve-prod` runs it, on a fresh database with a site key made first."""
    _require_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    db_path = directory / "moderation.db"
    store = Store(db_path)
    site_key = keys.create_key(store, "site", "slow-clients site")[1]
    store.close()
    env = {
        "MODERATION_DB": str(db_path),
        "MODERATION_MODEL": str(model),
        "MODERATION_SECRET_KEY": "slow-clients-secret",
        "WEB_CONCURRENCY": "2",
    }
    command = [sys.executable, "-m", "moderation", "serve", "--proxy"]
    return start_server(directory, env, command=command), site_key


def port_of(server: LiveServer) -> int:
    """The loopback port nginx listens on."""
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, tiny_model_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """One proxied service for the module's tests, and its site key."""
    server, site_key = start_proxied(tmp_path_factory.mktemp("proxied"), tiny_model_path)
    yield server, site_key
    server.stop()


@dataclass
class SlowConnections:
    """Connections that send a request one byte a second: half a header block, or a body after full headers."""

    port: int
    site_key: str
    sockets: list[tuple[str, socket.socket]] = field(default_factory=list)
    reconnects: dict[str, int] = field(default_factory=lambda: {"header": 0, "body": 0})
    open_counts: list[int] = field(default_factory=list)

    def _opening(self, kind: str) -> bytes:
        if kind == "header":
            return b"POST /v1/comments HTTP/1.1\r\nHost: slow.example\r\nX-Dribble: "
        return (
            "POST /v1/comments HTTP/1.1\r\nHost: slow.example\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {self.site_key}\r\nContent-Length: 2000\r\n\r\n"
        ).encode()

    def _connect(self, kind: str) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(self._opening(kind))
        sock.setblocking(False)  # from here on one byte at a time, and a peek that must not wait
        return sock

    @staticmethod
    def _still_open(sock: socket.socket) -> bool:
        """False once the server closed the connection or answered it (e.g. a timeout)."""
        try:
            sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
        except BlockingIOError:
            return True  # nothing to read: the server is still waiting for more
        except OSError:
            return False  # reset
        return False  # closed (end of stream) or answered

    def open_all(self) -> None:
        """Open every slow connection."""
        kinds = ["header"] * SLOW_HEADER_CONNECTIONS + ["body"] * SLOW_BODY_CONNECTIONS
        self.sockets = [(kind, self._connect(kind)) for kind in kinds]

    def dribble(self, until: float) -> None:
        """Once a second: one more byte on each connection; reconnect those the server dropped, as attackers do."""
        while time.monotonic() < until:
            tick = time.monotonic()
            still_open = 0
            for index, (kind, sock) in enumerate(self.sockets):
                alive = self._still_open(sock)
                if alive:
                    try:
                        sock.sendall(b"a" if kind == "header" else b" ")
                    except OSError:
                        alive = False
                if alive:
                    still_open += 1
                    continue
                sock.close()
                self.reconnects[kind] += 1
                self.sockets[index] = (kind, self._connect(kind))
            self.open_counts.append(still_open)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))

    def close(self) -> None:
        """Close every slow connection."""
        for _, sock in self.sockets:
            sock.close()


@dataclass
class Timings:
    """What one honest client saw: latencies of its successful requests, and everything else."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        """The latency at this fraction (nearest rank), in seconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

    def summary(self) -> str:
        """p50, p99 and max in milliseconds, with the counts."""
        if not self.latencies:
            return f"0 ok, {len(self.failures)} failed"
        return (
            f"{len(self.latencies)} ok, {len(self.failures)} failed, p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, max {max(self.latencies) * 1000:.1f} ms"
        )


def honest_client(port: int, site_key: str | None, until: float, timings: Timings, prefix: str) -> None:
    """Up to REQUESTS_PER_CLIENT requests, each on a fresh connection, spread evenly until `until`."""
    interval = max(0.0, until - time.monotonic()) / REQUESTS_PER_CLIENT
    for n in range(REQUESTS_PER_CLIENT):
        started = time.monotonic()
        if started >= until:
            break
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            if site_key is None:
                connection.request("GET", "/healthz")
                expected = 200
            else:
                body = json.dumps(comment_body(n, prefix))
                headers = {"Authorization": f"Bearer {site_key}", "Content-Type": "application/json"}
                connection.request("POST", "/v1/comments", body=body, headers=headers)
                expected = 201
            response = connection.getresponse()
            response.read()
            elapsed = time.monotonic() - started
            if response.status == expected:
                timings.latencies.append(elapsed)
            else:
                timings.failures.append(f"{response.status} after {elapsed:.2f} s")
        except (OSError, http.client.HTTPException) as error:
            timings.failures.append(f"{type(error).__name__} after {time.monotonic() - started:.2f} s")
        finally:
            connection.close()
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def test_slow_clients_do_not_starve_the_workers(proxied: tuple[LiveServer, str]) -> None:
    server, site_key = proxied
    port = port_of(server)
    slow = SlowConnections(port, site_key)
    slow.open_all()
    attack_ends = time.monotonic() + ATTACK_SECONDS
    dribbler = threading.Thread(target=slow.dribble, args=(attack_ends,), daemon=True)
    dribbler.start()
    try:
        time.sleep(1.5)  # every slow connection has sent its opening and a byte or so more
        health, comments = Timings(), Timings()
        clients = [
            threading.Thread(target=honest_client, args=(port, None, attack_ends - 1.0, health, "h-")),
            threading.Thread(target=honest_client, args=(port, site_key, attack_ends - 1.0, comments, "slow-c-")),
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(ATTACK_SECONDS + 2 * REQUEST_TIMEOUT_SECONDS)
        dribbler.join(ATTACK_SECONDS + 10)
    finally:
        slow.close()

    print(
        f"\nslow clients: {SLOW_HEADER_CONNECTIONS} slow-header + {SLOW_BODY_CONNECTIONS} slow-body connections "
        f"for {ATTACK_SECONDS:.0f} s; open each second: min {min(slow.open_counts)}, "
        f"median {statistics.median(slow.open_counts):.0f}; reconnected after nginx dropped them: "
        f"{slow.reconnects['header']} slow-header, {slow.reconnects['body']} slow-body"
    )
    print(f"GET /healthz meanwhile: {health.summary()}")
    print(f"POST /v1/comments meanwhile: {comments.summary()}")
    assert not health.failures and not comments.failures, (health.failures[:5], comments.failures[:5])
    # Paced to ~200 each over ~27 s, all sent during the attack (fewer if answers are slow; half at least).
    assert len(health.latencies) >= REQUESTS_PER_CLIENT / 2 and len(comments.latencies) >= REQUESTS_PER_CLIENT / 2
    assert health.percentile(0.99) < P99_LIMIT_SECONDS, health.summary()
    assert comments.percentile(0.99) < P99_LIMIT_SECONDS, comments.summary()
    # The attack was really there: nearly all 70 connections open at every tick, the header dribblers cut
    # off by nginx's 10 s client_header_timeout and back at once, the body dribblers held (1 byte < 10 s apart).
    total = SLOW_HEADER_CONNECTIONS + SLOW_BODY_CONNECTIONS
    assert statistics.median(slow.open_counts) >= 0.9 * total, slow.open_counts
    assert slow.reconnects["header"] >= SLOW_HEADER_CONNECTIONS, slow.reconnects
    assert slow.reconnects["body"] == 0, slow.reconnects


def raw_request(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read one answer (headers, then Content-Length bytes); (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received and (chunk := sock.recv(65536)):
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        while len(body) < int(headers.get("Content-Length", "0")) and (chunk := sock.recv(65536)):
            body += chunk
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /healthz?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 414, "uri_too_long"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
        (b"GARBAGE\r\n\r\n", 400, "malformed"),
        (
            b"POST /v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1048577\r\nConnection: close\r\n\r\n",
            413,
            "too_large",
        ),
    ],
    ids=["long-uri", "big-header", "garbage", "body-over-1mb"],
)
def test_what_nginx_refuses_is_a_json_4xx(
    proxied: tuple[LiveServer, str], request_bytes: bytes, status: int, code: str
) -> None:
    server, _ = proxied
    answered, headers, body = raw_request(port_of(server), request_bytes)
    assert (answered, json.loads(body)["error"]) == (status, code), body
    assert headers["Content-Type"] == "application/json"


def test_a_forged_forwarded_for_does_not_change_the_client_address(proxied: tuple[LiveServer, str]) -> None:
    server, _ = proxied
    port = port_of(server)
    statuses = []
    for n in range(25):  # over the default allowance of 20 failed authentications a minute per address
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": "Bearer mod_site_nope", "X-Forwarded-For": f"203.0.113.{n}"}
        connection.request("GET", f"/v1/decisions?forged={n}", headers=headers)
        statuses.append(connection.getresponse().status)
        connection.close()
    # One address however many it claims: 401s up to the allowance (plus what refilled meanwhile), then 429s.
    assert statuses[:20] == [401] * 20 and statuses.count(429) >= 3 and set(statuses) == {401, 429}, statuses
    out, _ = server.logs()
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    addresses = {record["remote_addr"] for record in records if "forged=" in (record.get("query") or "")}
    # The address nginx saw, passed on by X-Forwarded-For; over the unix socket gunicorn alone would give "".
    assert addresses == {"127.0.0.1"}


def _process_exists(pid: int) -> bool:
    """Whether the pid names a process that has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: set[int], timeout: float) -> bool:
    """Wait until none of the processes exists; whether that happened in time."""
    deadline = time.monotonic() + timeout
    while any(_process_exists(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _run_directory(err: str) -> Path:
    found = re.search(r"unix:(/\S+)/gunicorn\.sock", err)
    assert found, "gunicorn did not log its unix socket"
    return Path(found.group(1))


# The last test on the module's service: it stops it.
def test_sigterm_stops_nginx_and_gunicorn_and_removes_the_run_directory(proxied: tuple[LiveServer, str]) -> None:
    server, _ = proxied
    supervisor = server.process.pid
    pair = children(supervisor)
    assert len(pair) == 2  # gunicorn's master and nginx's master
    run_directory = _run_directory(server.logs()[1])
    assert owner_pid(run_directory.name, RUN_DIR_PREFIX) == supervisor
    assert run_directory.stat().st_mode & 0o777 == 0o700  # only this user reaches gunicorn's socket
    assert server.stop() == 0
    assert _wait_gone(pair, 5)
    assert not run_directory.exists()


# A stand-in for gunicorn: listens on the unix socket it is given with --bind until a signal ends it.
STAND_IN_BACKEND = """
import socket, sys, time
path = sys.argv[sys.argv.index("--bind") + 1].removeprefix("unix:")
listener = socket.socket(socket.AF_UNIX)
listener.bind(path)
listener.listen()
time.sleep(3600)
"""
SUPERVISOR = """
import os, sys
from moderation.proxy import find_nginx, serve_behind_nginx
backend = [sys.executable, "-c", sys.argv[2]]
sys.exit(serve_behind_nginx("127.0.0.1", int(sys.argv[1]), backend, os.environ, find_nginx()))
"""


def _start_supervisor(run_parent: Path, err_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The supervisor of `moderation serve --proxy` over the stand-in backend, once nginx listens; (process, port)."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(run_parent)}
    with err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", SUPERVISOR, str(port), STAND_IN_BACKEND], cwd=REPO, env=env, stderr=err
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0 and len(children(process.pid)) == 2:
                return process, port
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the supervisor did not start nginx: {err_path.read_text()}")


def test_a_killed_supervisor_takes_both_along_and_the_next_start_cleans_up(tmp_path: Path) -> None:
    _require_nginx()
    run_parent = Path(tempfile.mkdtemp(prefix="mp-"))  # short: a unix socket path holds 107 bytes
    started: set[int] = set()
    try:
        first, _ = _start_supervisor(run_parent, tmp_path / "first.err")
        pair = children(first.pid)
        started |= {first.pid, *pair}
        (run_directory,) = run_parent.iterdir()
        first.kill()  # SIGKILL, the supervisor alone (as the OOM killer would): no handler, no clean-up
        first.wait(10)
        assert _wait_gone(pair, 10), "the backend or nginx outlived its supervisor"
        assert run_directory.exists()

        second, _ = _start_supervisor(run_parent, tmp_path / "second.err")
        second_pair = children(second.pid)
        started |= {second.pid, *second_pair}
        assert not run_directory.exists(), "the next start left the dead supervisor's run directory"
        assert f"removed the stale run directory {run_directory}" in (tmp_path / "second.err").read_text()
        second.terminate()
        assert second.wait(20) == 0
        assert _wait_gone(second_pair, 5)
        assert list(run_parent.iterdir()) == []
    finally:
        for pid in started:  # only when an assertion failed: whatever of this test still runs
            if _process_exists(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(run_parent, ignore_errors=True)
