"""Soak (`make soak`): gunicorn with its configured workers and the shipped model takes 40,000 comments from 32
concurrent loopback clients while moderators decide 300 queue items, a retrain runs and is promoted, and a
client floods it with bad keys (see tests/soak/mixed_load.py for what is checked; `make test` runs a small one).

40,000 rather than 10,000: a retrain yields to a saturated machine (its minder pauses it three windows in four),
so here it takes about 25 s, longer than 10,000 comments do, and the new version must take over mid-load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.soak.mixed_load import LoadPlan, run_mixed_load

pytestmark = pytest.mark.soak


def test_ten_thousand_comments_with_moderators_a_retrain_and_a_bad_key_flood(tmp_path: Path) -> None:
    plan = LoadPlan(
        comments=int(os.environ.get("SOAK_COMMENTS", "40000")),
        clients=int(os.environ.get("SOAK_CLIENTS", "32")),
        moderator_decisions=int(os.environ.get("SOAK_DECISIONS", "300")),
        retrain_after_decisions=40,
        time_cap=float(os.environ.get("SOAK_TIME_CAP", "900")),
        workers=os.environ.get("WEB_CONCURRENCY", "2"),
    )
    run_mixed_load(tmp_path, plan)
