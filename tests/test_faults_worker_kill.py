"""SIGKILL a gunicorn worker mid-request, again and again, while clients keep posting and retry the same comment
id after a cut connection: each comment ends with exactly one decision, gunicorn replaces every killed worker,
and the database passes integrity_check and the hash chain. 5 kills here; 50 in `make soak`."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.fault_fixtures import (
    Tally,
    assert_sound,
    children,
    comment_body,
    database_report,
    make_keys,
    post_until_acknowledged,
    server_env,
    server_log_problems,
    start_group_server,
    submission_decisions,
    wait_for_workers,
)

pytestmark = pytest.mark.slow


@dataclass
class KillRun:
    """What a run of worker kills did and saw."""

    kills: int
    killed_busy: int
    tally: Tally
    seconds: float


def _busy(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
    except OSError:
        return False


def wait_serving(server: LiveServer, pid: int, timeout: float = 60) -> None:
    """Wait until the access log shows a request answered by this worker."""
    mark = f'"pid": {pid}'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(mark in line for line in server.stdout_path.read_text(errors="replace").splitlines()[-400:]):
            return
        time.sleep(0.02)
    raise AssertionError(f"worker {pid} answered nothing in {timeout} s")


def run_worker_kills(directory: Path, model: Path, kills: int, clients: int = 4, seed: int = 3) -> KillRun:
    """Run `clients` posting threads against 2 workers while killing a worker `kills` times; check the database."""
    db_path = directory / "moderation.db"
    made = make_keys(db_path)
    env = server_env(db_path, model, "faults-secret", MODERATION_RATE_LIMIT="0")
    server = start_group_server(directory / "server", env)
    port = int(server.base_url.rsplit(":", 1)[1])
    rng = random.Random(seed)
    tally, lock, stop = Tally(), threading.Lock(), threading.Event()
    next_id = iter(range(10**9))
    failures: list[str] = []

    def client() -> None:
        own = Tally()
        while not stop.is_set():
            with lock:
                n = next(next_id)
            if not post_until_acknowledged(port, made["site"], comment_body(n, "k"), own, time.monotonic() + 60):
                failures.append(f"k{n} never acknowledged")
        with lock:
            tally.acknowledged.update(own.acknowledged)
            tally.replays += own.replays
            tally.retries += own.retries
            tally.transport_errors += own.transport_errors
            tally.server_errors.extend(own.server_errors)
            for status, count in own.statuses.items():
                tally.statuses[status] = tally.statuses.get(status, 0) + count

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    killed_busy = 0
    try:
        for thread in threads:
            thread.start()
        workers = wait_for_workers(server.process.pid, 2)
        for _ in range(kills):
            time.sleep(rng.uniform(0.05, 0.3))
            # Prefer a worker that is on the CPU right now: it is in the middle of a request.
            deadline = time.monotonic() + 1
            victim = rng.choice(sorted(workers))
            while time.monotonic() < deadline and not _busy(victim):
                busy = [pid for pid in workers if _busy(pid)]
                if busy:
                    victim = busy[0]
                    break
                time.sleep(0.001)
            killed_busy += _busy(victim)
            os.kill(victim, signal.SIGKILL)
            workers = wait_for_workers(server.process.pid, 2, other_than={victim})
            for pid in workers:  # both serving again before the next kill, so it cannot hit a booting worker
                wait_serving(server, pid)
    finally:
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(90)
    seconds = time.monotonic() - started
    assert not failures, failures[:5]
    assert children(server.process.pid) == workers and server.process.poll() is None
    assert server.stop() == 0
    problems = server_log_problems(server)
    assert not problems, problems[:5]

    decided = submission_decisions(db_path)
    assert set(decided) == set(tally.acknowledged), "every stored comment was acknowledged, and every one stored"
    assert all(len(ids) == 1 for ids in decided.values()), "exactly one decision per comment"
    assert all(decided[i] == [d] for i, d in tally.acknowledged.items()), "the answer names the stored decision"
    assert not tally.server_errors, tally.server_errors[:5]
    assert_sound(database_report(db_path))
    return KillRun(kills, killed_busy, tally, seconds)


def test_killing_a_worker_mid_request_loses_and_doubles_nothing(tmp_path: Path, tiny_model_path: Path) -> None:
    run = run_worker_kills(tmp_path, tiny_model_path, kills=5)
    print(
        f"{run.kills} worker kills ({run.killed_busy} while running) in {run.seconds:.1f} s: "
        f"{len(run.tally.acknowledged)} comments acknowledged, {run.tally.transport_errors} cut connections, "
        f"{run.tally.replays} retries answered from the stored decision"
    )
    assert run.tally.transport_errors >= 1, "no request was ever cut: the kills missed every request"
