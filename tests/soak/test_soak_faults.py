"""Soak (`make soak`): the fault tests at full length — 50 worker kills mid-request, 20 whole-service kills with a
final restart, a full disk on real gunicorn — and a longer contract fuzz against a live gunicorn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis

from tests.fault_fixtures import make_keys, server_env, start_group_server
from tests.test_faults_service_kill import run_service_kills
from tests.test_faults_worker_kill import run_worker_kills
from tests.test_fuzz_schemathesis import fuzz_operation, operations

pytestmark = pytest.mark.soak


def test_fifty_worker_kills(tmp_path: Path, tiny_model_path: Path) -> None:
    run = run_worker_kills(tmp_path, tiny_model_path, kills=int(os.environ.get("SOAK_WORKER_KILLS", "50")))
    print(
        f"\nsoak: {run.kills} worker kills ({run.killed_busy} of a worker on the CPU) in {run.seconds:.1f} s: "
        f"{len(run.tally.acknowledged)} comments acknowledged, each with exactly one decision; "
        f"{run.tally.transport_errors} cut connections retried, {run.tally.replays} answered from the stored decision"
    )
    assert run.tally.transport_errors >= run.kills // 5


def test_twenty_whole_service_kills(tmp_path: Path, tiny_model_path: Path) -> None:
    rounds = int(os.environ.get("SOAK_SERVICE_KILLS", "20"))
    run = run_service_kills(tmp_path, tiny_model_path, rounds=rounds, final_restart=True)
    print(
        f"\nsoak: {run.rounds} whole-service kills in {run.seconds:.1f} s: {len(run.tally.acknowledged)} comments and "
        f"{len(run.moderator_decisions)} moderator decisions acknowledged, all present after restart; "
        f"{run.cut_requests} requests cut by the kills; integrity ok, chain intact, nothing half-written"
    )


def test_contract_fuzz_against_live_gunicorn(tmp_path: Path, tiny_model_path: Path) -> None:
    examples = int(os.environ.get("SOAK_FUZZ_EXAMPLES", "100"))
    db_path = tmp_path / "moderation.db"
    made = make_keys(db_path)
    env = server_env(
        db_path, tiny_model_path, "fuzz-secret", MODERATION_RATE_LIMIT="0", MODERATION_AUTH_FAILURE_LIMIT="0"
    )
    server = start_group_server(tmp_path / "server", env)
    try:
        schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
        for path, method in operations():
            fuzz_operation(schema, path, method, made, examples, derandomize=False, base_url=server.base_url)
    finally:
        assert server.stop() == 0
    out, err = server.logs()
    assert '"status": 5' not in out and "Traceback" not in err, err[-3000:]
    print(f"\nsoak: schemathesis sent {examples} generated requests per operation × 4 credentials to live gunicorn")
