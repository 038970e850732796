"""Shared fixtures: a fresh SQLite file per test, settings pointing at it, a store, and a test scorer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from model.categories import CATEGORIES
from model.types import ScoreResult, Span, Thresholds
from moderation.settings import Settings
from moderation.store import Store


class WordListScorer:
    """TEST SCORER ONLY, not a model: deterministic scores from fixed word lists.

    It satisfies the service's `Scorer` protocol (version, thresholds, score(text) -> ScoreResult) so
    domain tests run without training anything. Every category scores 0.01 unless one of its words
    occurs, in which case it scores that word's weight.
    """

    version = "test-wordlist-1"
    thresholds: Thresholds = {category: {"reject": 0.9, "review": 0.5} for category in CATEGORIES}
    WORDS: dict[str, dict[str, float]] = {
        "toxicity": {"stupid": 0.55, "idiot": 0.7, "hateful": 0.95},
        "insult": {"moron": 0.93, "clown": 0.6},
        "threat": {"kill": 0.97},
        "spam": {"casino": 0.8},
    }
    _WORD = re.compile(r"[a-z]+")

    def score(self, text: str) -> ScoreResult:
        scores = {category: 0.01 for category in CATEGORIES}
        spans: list[Span] = []
        for match in self._WORD.finditer(text.lower()):
            for category, words in self.WORDS.items():
                weight = words.get(match.group())
                if weight is None:
                    continue
                scores[category] = max(scores[category], weight)
                spans.append(
                    Span(category, match.start(), match.end(), text[match.start() : match.end()], 1.0)
                )
        return ScoreResult(scores=scores, spans=spans, model_version=self.version)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where this test's fresh SQLite database lives (nothing is created until a store opens it)."""
    return tmp_path / "moderation.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """Settings for this test's database, read the same way the service reads the environment."""
    return Settings.from_env(
        {
            "MODERATION_DB": str(db_path),
            "MODERATION_SECRET_KEY": "test-pii-secret",
            "MODERATION_WEBHOOK_SECRET": "test-webhook-secret",
        }
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """A migrated store on this test's database (WAL, a real file)."""
    opened = Store.from_settings(settings)
    yield opened
    opened.close()


@pytest.fixture
def test_scorer() -> WordListScorer:
    """The deterministic word-list TEST scorer."""
    return WordListScorer()


@pytest.fixture
def now() -> datetime:
    """A fixed moment for tests that pass time in."""
    return datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
