"""The soak's mixed load, small enough for `make test`: 2,000 comments from 32 loopback clients while two
moderators decide 30 queue items, a retrain (at normal priority) is trained and promoted, and a client floods
bad keys."""

from __future__ import annotations

from pathlib import Path

from tests.soak.mixed_load import LoadPlan, run_mixed_load


def test_two_thousand_comments_with_moderators_a_retrain_and_a_bad_key_flood(tmp_path: Path) -> None:
    plan = LoadPlan(
        comments=2000,
        clients=32,
        moderator_decisions=30,
        retrain_after_decisions=5,
        time_cap=180,
        swap_during_load=False,
        job_yield=False,
    )
    run_mixed_load(tmp_path, plan)
