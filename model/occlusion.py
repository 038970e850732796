"""Which words of a comment drove stage 2's score: the text read again with words deleted (occlusion).

Stage 2 is an encoder, not a linear model, so its evidence is found by deleting words from the text it read and
reading the copies again, batched: the words whose deletion lowers a category's calibrated probability the most
are its spans. The drop is measured in log-odds of that probability, so a score saturated near 1 by two slurs
still shows each of them (deleting either leaves 0.99, a small drop in probability but a large one in log-odds).

The cost is bounded: at most MAX_VARIANTS texts are read to explain one comment, in at most three calls, and only
words stage 2 reads at all (its max_length tokens; a word is at least one token) are candidates.

- A comment of at most CONTEXT_WORDS words is searched whole.
- A longer one is first searched by windows of WINDOW_WORDS words side by side (fewer, wider ones past
  MAX_WINDOWS), each read alone (one call); the window reading highest for each category explained (one window
  when they agree, as many as fit in FINE_VARIANTS words) is searched alone.
- Searching: pairs of adjacent words (CHUNK_WORDS) are deleted first, one copy each (one call); then, for each
  category, the words of the pairs whose deletion lowered it most (at most REFINED_CHUNKS, each by at least
  REFINE_MIN_DROP) are deleted one at a time (one more call, none when no pair moved it). The spans are those
  single words. Windows holding more than 2 x FINE_VARIANTS words together (hundreds of words, for a stage 2
  that reads that far) have runs of a few adjacent words deleted instead, in one call: their spans are runs.
  Evidence that lies in no window, only in the comment as a whole, finds no span here.

Deleting pairs first reads about a sixth fewer tokens than deleting every word, with the same span F1 on the
development posts (README: Explanations): a 400-character comment costs about 6 windows, 6 pairs and a few
words of one window, each a sixth of the comment's tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from model.cascade import log_odds
from model.explain import MAX_SPANS, MIN_SHARE
from model.features import token_spans
from model.types import Span

CONTEXT_WORDS = 16  # up to this many words, the whole comment is searched (no windows)
WINDOW_WORDS = 12  # longer comments are searched by windows of this many words, side by side
MAX_WINDOWS = 8  # at most this many windows are read alone (wider ones past MAX_WINDOWS * WINDOW_WORDS words)
FINE_VARIANTS = 24  # at most this many copies with words deleted, in each of the two searching calls
MAX_VARIANTS = MAX_WINDOWS + 2 * FINE_VARIANTS  # texts stage 2 reads to explain one comment, at most
CHUNK_WORDS = 2  # the first search deletes adjacent words this many at a time
# The copies are read in one batch for speed. int8 scales a batch's activations together, which moves a score by
# about 0.01 on average (model/stage2/runtime.py), far under MIN_DROP; the copies differ by a word, so they pad alike.
OCCLUSION_BATCH = 32
# log-odds: a deletion lowering the probability less than this (0.50 -> 0.18) is no evidence. A window read alone
# moves by 0.5 when a word that carries nothing ("I", "Rail") is deleted; 1.5 was the best of 0.5-3.0 for span
# F1 on the toxic-span posts held out of training from the task's train and trial files (not its test file).
MIN_DROP = 1.5
# The pairs whose words are then deleted one at a time: per category, those that lowered it most (as many as spans
# can be shown), each by at least REFINE_MIN_DROP (a pair holding one word of evidence drops by about as much as
# that word). Pairs at half of MIN_DROP were chosen on the development posts among runs of 2-4 words, 1-5 pairs and
# bounds of 0.5-1 x MIN_DROP (README: Explanations).
REFINED_CHUNKS = MAX_SPANS
REFINE_MIN_DROP = MIN_DROP / 2


class ReadsTexts(Protocol):
    """Stage 2 as occlusion uses it: calibrated probabilities [n, 7] of many texts in one call."""

    def probabilities_many(self, texts: Sequence[str], batch_size: int = ...) -> np.ndarray: ...


@dataclass(frozen=True)
class _Window:
    """A stretch of the read text scored on its own: characters [start, end), words [first, stop)."""

    start: int
    end: int
    first: int
    stop: int


@dataclass(frozen=True)
class _Deletion:
    """One copy of a window with some of its words deleted: which window, and the characters [start, end) deleted."""

    window: int
    start: int
    end: int


def occlusion_spans(
    stage2: ReadsTexts,
    read: str,
    read_probabilities: np.ndarray,
    columns: Mapping[str, int],
    to_original: Callable[[int, int], tuple[int, int]],
    original: str,
    max_words: int,
) -> list[Span]:
    """Stage-2 spans of `original` for each category in `columns` (category -> probability column).

    `read` is the text stage 2 read and `read_probabilities` its probabilities of it; `to_original` maps a range
    of `read` to the submitted text; `max_words` bounds the words stage 2 can read (its max_length).
    """
    words = token_spans(read)[: max(max_words, 0)]
    if not words or not columns:
        return []
    if len(words) <= CONTEXT_WORDS:
        windows = [_Window(0, len(read), 0, len(words))]
        bases = np.asarray(read_probabilities, dtype=float)[None, :]
    else:
        candidates = _windows(words)
        alone = stage2.probabilities_many([read[w.start : w.end] for w in candidates], batch_size=OCCLUSION_BATCH)
        chosen = _choose(candidates, alone, columns, read_probabilities)
        windows, bases = [candidates[i] for i in chosen], alone[chosen]
    run = max(CHUNK_WORDS, math.ceil(_words_in(windows) / FINE_VARIANTS))
    deletions = _deletions(windows, words, run)
    probabilities = stage2.probabilities_many(
        [_without(read, windows[d.window], d) for d in deletions], batch_size=OCCLUSION_BATCH
    )
    if run == CHUNK_WORDS:
        moved = {category: _drops(bases, deletions, probabilities, column) for category, column in columns.items()}
        deletions, probabilities = _refined(stage2, read, windows, words, deletions, probabilities, moved)
    spans: list[Span] = []
    for category, column in columns.items():
        drops = _drops(bases, deletions, probabilities, column)
        spans.extend(_spans(category, drops, deletions, to_original, original))
    return spans


def _words_in(windows: Sequence[_Window]) -> int:
    """How many words the windows hold together."""
    return sum(w.stop - w.first for w in windows)


def _drops(bases: np.ndarray, deletions: Sequence[_Deletion], probabilities: np.ndarray, column: int) -> np.ndarray:
    """How far each deletion lowered one category's log-odds from its window's reading."""
    return log_odds(bases[[d.window for d in deletions], column]) - log_odds(probabilities[:, column])  # type: ignore[no-any-return]


def _refined(
    stage2: ReadsTexts,
    read: str,
    windows: Sequence[_Window],
    words: Sequence[tuple[int, int]],
    runs: Sequence[_Deletion],
    run_probabilities: np.ndarray,
    run_drops: Mapping[str, np.ndarray],
) -> tuple[list[_Deletion], np.ndarray]:
    """The deletions the spans are chosen from and their probabilities: each word of the runs that lowered a
    category most (REFINED_CHUNKS per category, by REFINE_MIN_DROP or more) deleted alone, in one more call.

    A one-word run is its own word (read already); a run whose words would pass FINE_VARIANTS copies stays whole.
    """
    chosen: list[int] = []
    for drops in run_drops.values():
        for index in np.argsort(-np.nan_to_num(drops, nan=-np.inf), kind="stable")[:REFINED_CHUNKS]:
            if drops[index] >= REFINE_MIN_DROP and int(index) not in chosen:
                chosen.append(int(index))
    kept: list[int] = []  # runs kept whole: one word, or too many words to delete singly
    singles: list[_Deletion] = []
    for index in sorted(chosen):
        run = runs[index]
        inside = [w for w in range(len(words)) if run.start <= words[w][0] and words[w][1] <= run.end]
        if len(inside) == 1 or len(singles) + len(inside) > FINE_VARIANTS:
            kept.append(index)
        else:
            singles.extend(_Deletion(run.window, *words[w]) for w in inside)
    probabilities = run_probabilities[kept]
    if singles:
        texts = [_without(read, windows[d.window], d) for d in singles]
        probabilities = np.vstack([probabilities, stage2.probabilities_many(texts, batch_size=OCCLUSION_BATCH)])
    return [runs[i] for i in kept] + singles, probabilities


def _windows(words: Sequence[tuple[int, int]]) -> list[_Window]:
    """Windows of WINDOW_WORDS words side by side over the words, widened so that at most MAX_WINDOWS cover all."""
    width = max(WINDOW_WORDS, math.ceil(len(words) / MAX_WINDOWS))
    windows = []
    for first in range(0, len(words), width):
        stop = min(first + width, len(words))
        windows.append(_Window(words[first][0], words[stop - 1][1], first, stop))
    return windows


def _choose(
    windows: Sequence[_Window], alone: np.ndarray, columns: Mapping[str, int], read_probabilities: np.ndarray
) -> list[int]:
    """Each category's window reading highest alone (highest-scoring category first), while they fit FINE_VARIANTS."""
    chosen: list[int] = []
    words = 0
    for column in sorted(columns.values(), key=lambda c: -float(read_probabilities[c])):
        index = int(np.argmax(alone[:, column]))
        size = windows[index].stop - windows[index].first
        if index not in chosen and (not chosen or words + size <= FINE_VARIANTS):
            chosen.append(index)
            words += size
    return chosen


def _deletions(windows: Sequence[_Window], words: Sequence[tuple[int, int]], run: int) -> list[_Deletion]:
    """Runs of `run` adjacent words of each window (the last one of a window may be shorter), one deletion each."""
    deletions = []
    for index, window in enumerate(windows):
        for first in range(window.first, window.stop, run):
            last = min(first + run, window.stop) - 1
            deletions.append(_Deletion(index, words[first][0], words[last][1]))
    return deletions


def _without(read: str, window: _Window, deletion: _Deletion) -> str:
    """The window's text with the deletion's characters taken out."""
    return read[window.start : deletion.start] + read[deletion.end : window.end]


def _spans(
    category: str,
    drops: np.ndarray,
    deletions: Sequence[_Deletion],
    to_original: Callable[[int, int], tuple[int, int]],
    original: str,
) -> list[Span]:
    """Spans of the deletions lowering the category most (>= MIN_DROP, >= MIN_SHARE of the drops), adjacent merged."""
    positive = np.clip(np.nan_to_num(drops), 0.0, None)
    total = float(positive.sum())
    if total <= 0.0:
        return []
    order = np.argsort(-positive, kind="stable")[:MAX_SPANS]
    kept = [int(i) for i in order if positive[i] >= MIN_DROP and positive[i] / total >= MIN_SHARE]
    spans: list[Span] = []
    for index in sorted(kept, key=lambda i: deletions[i].start):
        start, end = to_original(deletions[index].start, deletions[index].end)
        weight = float(positive[index] / total)
        if spans and spans[-1].end >= start - 1 and original[spans[-1].end : start].strip() == "":
            previous = spans.pop()
            start, weight = previous.start, previous.weight + weight
        spans.append(Span(category, start, end, original[start:end], weight, stage=2))
    return spans
