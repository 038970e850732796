"""Helpers for retraining tests: moderators' verdicts recorded through the real queue, and settings for them."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from model.categories import CATEGORIES
from model.types import ScoreResult
from moderation import queue, service
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store

SITE, MODERATOR = "sitekey00001", "modalice0001"


class QueueEverythingScorer:
    """TEST SCORER ONLY: every comment scores 0.6 toxicity, above review and below reject, so all are queued."""

    version = "test-queue-all-1"
    thresholds = {category: {"reject": 0.99, "review": 0.5} for category in CATEGORIES}

    def score(self, text: str) -> ScoreResult:
        scores = {category: 0.01 for category in CATEGORIES}
        scores["toxicity"] = 0.6
        return ScoreResult(scores=scores, spans=[], model_version=self.version)


class LaunchedHere:
    """Stands in for `jobs.launch` where a test runs the job in its own process: records the job ids it was
    asked to start, and answers with this process as the job's, so the job is never taken for dead."""

    def __init__(self) -> None:
        self.job_ids: list[int] = []

    def __call__(self, settings: Settings, job_id: int) -> SimpleNamespace:
        self.job_ids.append(job_id)
        return SimpleNamespace(pid=os.getpid())


def retrain_settings(settings: Settings, model_path: Path, **changes: object) -> Settings:
    """The test's settings, starting from a given model file, with models kept beside the database."""
    return replace(settings, model_path=model_path, **changes)  # type: ignore[arg-type]


def add_verdicts(store: Store, settings: Settings, verdicts: Iterable[tuple[str, str, Mapping[str, int]]]) -> None:
    """Submit each (comment id, text, labels) and decide it in the queue with those labels, as a moderator does."""
    scorer = QueueEverythingScorer()
    for comment_id, text, labels in verdicts:
        payload = {"id": comment_id, "text": text, "article_id": "a1", "author_id": f"author-{comment_id}"}
        service.submit_comment(store, scorer, settings, payload, SITE)
        with store.read() as db:
            row = st.open_queue_item_row(db, comment_id)
        assert row is not None, f"comment {comment_id} was not queued"
        claimed = queue.claim(store, row["id"], MODERATOR)
        action = "reject" if any(labels.values()) else "approve"
        queue.decide_item(store, row["id"], MODERATOR, action, version=claimed["version"], labels=dict(labels))


SUBJECTS = ["the mayor", "the council", "this columnist", "the minister", "our senator", "the editor"]
NEW_INSULTS = ["muppet", "numpty", "walnut", "absolute muppet", "total numpty"]


def muppet_verdicts(count: int = 40, seed: int = 3, prefix: str = "v") -> list[tuple[str, str, dict[str, int]]]:
    """Verdicts teaching words the tiny model never saw: `muppet`/`numpty` insults vs harmless parking talk."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, dict[str, int]]] = []
    for i in range(count):
        if i % 2 == 0:
            text = f"{rng.choice(SUBJECTS)} is a {rng.choice(NEW_INSULTS)} number {i}"
            rows.append((f"{prefix}{i}", text, {"toxicity": 1, "insult": 1}))
        else:
            text = f"{rng.choice(SUBJECTS)} spoke about parking and bus lanes number {i}"
            rows.append((f"{prefix}{i}", text, {"toxicity": 0, "insult": 0}))
    return rows
