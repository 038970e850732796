"""SIGKILL the whole service (master and workers at once) while sites post and moderators decide, then start it
again on the same database, round after round: integrity_check passes, the hash chain holds, every acknowledged
decision is there, and nothing is half-written. 3 rounds here; 20 in `make soak`."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fault_fixtures import (
    Tally,
    assert_sound,
    call,
    comment_body,
    database_report,
    decision_ids,
    kill_group,
    make_keys,
    post_until_acknowledged,
    server_env,
    start_group_server,
    submission_decisions,
)

pytestmark = pytest.mark.slow

PROGRESS_TIMEOUT = 60.0  # seconds a round may take to acknowledge its work before it is killed regardless


@dataclass
class CrashRun:
    """What the rounds of whole-service kills did and saw."""

    rounds: int
    tally: Tally = field(default_factory=Tally)
    moderator_decisions: set[int] = field(default_factory=set)
    cut_requests: int = 0
    seconds: float = 0.0


@dataclass
class RoundProgress:
    """What this round has had acknowledged so far; the main thread waits on it to choose the kill moment."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    comments: int = 0
    moderator_decisions: int = 0

    def add(self, comments: int = 0, moderator_decisions: int = 0) -> None:
        """Count acknowledged work and wake the waiting main thread."""
        with self.changed:
            self.comments += comments
            self.moderator_decisions += moderator_decisions
            self.changed.notify_all()

    def wait_for(self, comments: int, moderator_decisions: int, timeout: float) -> bool:
        """Block until this much was acknowledged in the round (progress, not wall-clock, picks the kill moment)."""
        with self.changed:
            return self.changed.wait_for(
                lambda: self.comments >= comments and self.moderator_decisions >= moderator_decisions, timeout
            )


def _moderate(
    port: int, key: str, stop: threading.Event, run: CrashRun, lock: threading.Lock, progress: RoundProgress
) -> None:
    while not stop.is_set():
        claimed = call(port, "POST", "/v1/queue/next", key=key, timeout=10)
        if claimed.status != 200:
            time.sleep(0.02)
            continue
        item = claimed.body
        action = "reject" if item["id"] % 2 else "approve"
        decided = call(
            port, "POST", f"/v1/queue/{item['id']}/decision", {"action": action, "version": item["version"]}, key
        )
        with lock:
            if decided.status == 200:
                run.moderator_decisions.add(int(decided.body["decision"]["id"]))
                progress.add(moderator_decisions=1)
            elif decided.status is None:
                run.cut_requests += 1


def _post(
    port: int,
    key: str,
    prefix: str,
    stop: threading.Event,
    run: CrashRun,
    lock: threading.Lock,
    progress: RoundProgress,
) -> None:
    own = Tally()
    n = 0
    while not stop.is_set():
        # One attempt each: a request cut by the kill is simply not acknowledged (it may or may not have landed).
        if post_until_acknowledged(port, key, comment_body(n, prefix), own, time.monotonic() + 0.001):
            progress.add(comments=1)
        n += 1
    with lock:
        run.tally.acknowledged.update(own.acknowledged)
        run.cut_requests += own.transport_errors
        run.tally.server_errors.extend(own.server_errors)


def _check_served(port: int, key: str, acknowledged: dict[str, int], rng: random.Random) -> None:
    """The restarted service answers acknowledged comments with the decision it acknowledged."""
    for comment_id in rng.sample(sorted(acknowledged), min(20, len(acknowledged))):
        answer = call(port, "GET", f"/v1/comments/{comment_id}", key=key)
        assert answer.status == 200 and answer.body["decisions"][0]["id"] == acknowledged[comment_id]


def run_service_kills(
    directory: Path, model: Path, rounds: int, seed: int = 11, final_restart: bool = False
) -> CrashRun:
    """`rounds` times: start gunicorn on the database the last kill left, check it serves what was acknowledged,
    write until a random number of comments and at least one moderator decision were acknowledged in the round
    (bounded by `PROGRESS_TIMEOUT`), SIGKILL its process group. Then check the database (and, if asked, serve it once
    more)."""
    db_path = directory / "moderation.db"
    made = make_keys(db_path)
    env = server_env(db_path, model, "faults-secret", MODERATION_RATE_LIMIT="0")
    rng = random.Random(seed)
    run = CrashRun(rounds)
    started = time.monotonic()
    for round_ in range(rounds):
        server = start_group_server(directory / f"round{round_}", env)
        port = int(server.base_url.rsplit(":", 1)[1])
        _check_served(port, made["site"], run.tally.acknowledged, rng)
        stop, lock, progress = threading.Event(), threading.Lock(), RoundProgress()
        threads = [
            threading.Thread(target=_post, args=(port, made["site"], f"r{round_}-p{n}-", stop, run, lock, progress))
            for n in range(3)
        ] + [threading.Thread(target=_moderate, args=(port, made["moderator"], stop, run, lock, progress))]
        for thread in threads:
            thread.start()
        progress.wait_for(rng.randint(5, 60), 1, PROGRESS_TIMEOUT)  # a stalled round is caught by the checks below
        kill_group(server)  # while every thread is mid-conversation
        stop.set()
        for thread in threads:
            thread.join(30)
        assert_sound(database_report(db_path))  # after each crash, before anything repairs it

    if final_restart:
        server = start_group_server(directory / "after", env)
        try:
            _check_served(int(server.base_url.rsplit(":", 1)[1]), made["site"], run.tally.acknowledged, rng)
            assert call(int(server.base_url.rsplit(":", 1)[1]), "GET", "/readyz").status == 200
        finally:
            server.stop()
    run.seconds = time.monotonic() - started

    report = database_report(db_path)
    assert_sound(report)
    stored = submission_decisions(db_path)
    assert all(len(ids) == 1 for ids in stored.values())
    missing = {c for c, d in run.tally.acknowledged.items() if stored.get(c) != [d]}
    assert not missing, f"acknowledged but not stored as answered: {sorted(missing)[:10]}"
    assert run.moderator_decisions <= decision_ids(db_path), "an acknowledged moderator decision was lost"
    assert not run.tally.server_errors, run.tally.server_errors[:5]
    return run


def test_killing_the_whole_service_loses_no_acknowledged_decision(tmp_path: Path, tiny_model_path: Path) -> None:
    run = run_service_kills(tmp_path, tiny_model_path, rounds=3)
    print(
        f"{run.rounds} whole-service kills in {run.seconds:.1f} s: {len(run.tally.acknowledged)} comments and "
        f"{len(run.moderator_decisions)} moderator decisions acknowledged, all present; "
        f"{run.cut_requests} requests cut by the kills"
    )
    assert len(run.moderator_decisions) >= run.rounds, "a round was killed before a moderator decision landed"
    assert len(run.tally.acknowledged) >= 5 * run.rounds
