"""Span F1 against human toxic-span annotations (SemEval-2021 Task 5's metric), for the spans we show moderators.

Each post's F1 is between the character offsets our spans cover and those the annotators marked; a post where
both are empty scores 1, one where only one is empty scores 0; the result is the mean over posts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from model.types import Span

TASK_FOLDER = Path("civil_comments_toxic_spans")
TEST_FILE = TASK_FOLDER / "tsd_test.csv"
# The task's train and trial files: where their posts are held out of training too, a development set to choose
# span settings on (model/occlusion.py's MIN_DROP), so the test posts only measure.
DEV_FILES = (TASK_FOLDER / "tsd_train.csv", TASK_FOLDER / "tsd_trial.csv")


@dataclass(frozen=True)
class AnnotatedPost:
    """One post and the character offsets its annotators marked toxic."""

    text: str
    offsets: frozenset[int]


def char_f1(predicted: Iterable[int], gold: Iterable[int]) -> float:
    """F1 between two sets of character offsets (1.0 when both are empty)."""
    ours, theirs = set(predicted), set(gold)
    if not ours and not theirs:
        return 1.0
    if not ours or not theirs:
        return 0.0
    overlap = len(ours & theirs)
    return 2 * overlap / (len(ours) + len(theirs))


def span_offsets(spans: Iterable[Span]) -> set[int]:
    """Every character offset some span covers."""
    return {i for span in spans for i in range(span.start, span.end)}


def mean_span_f1(posts: Sequence[AnnotatedPost], spans_of: Callable[[str], Iterable[Span]]) -> float | None:
    """The mean per-post F1 of `spans_of(text)` against the annotations (None without posts)."""
    if not posts:
        return None
    return sum(char_f1(span_offsets(spans_of(p.text)), p.offsets) for p in posts) / len(posts)


def load_test_posts(data: Path) -> list[AnnotatedPost]:
    """The task's test posts under a data root (empty when the file is absent)."""
    return _load_posts(Path(data) / TEST_FILE)


def load_dev_posts(data: Path) -> list[AnnotatedPost]:
    """The task's train and trial posts under a data root (those of the files present)."""
    return [post for name in DEV_FILES for post in _load_posts(Path(data) / name)]


def _load_posts(path: Path) -> list[AnnotatedPost]:
    """The posts of one task file (empty when it is absent)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [AnnotatedPost(row["text"], frozenset(json.loads(row["spans"]))) for row in csv.DictReader(handle)]
