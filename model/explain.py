"""Which words of the submitted text drove a category's score, from the linear model's per-feature terms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.features import Featurizer
from model.normalize import Normalized
from model.types import Span

MAX_SPANS = 5
MIN_SHARE = 0.1  # a word carrying less than this share of the positive evidence is not shown


def token_contributions(
    featurizer: Featurizer, words: Sequence[str], ids: np.ndarray, values: np.ndarray, feature_weights: np.ndarray
) -> np.ndarray:
    """Each token's share of each category's margin, as (categories, tokens): its unigram, half of each bigram it is
    in, and its character grams. `feature_weights` holds the weights of `ids`' features, a column per category."""
    n_words = len(words)
    if len(ids) == 0:
        return np.zeros((feature_weights.shape[1], n_words))
    get = featurizer.word_vocab.get
    unigrams = [get(word, -1) for word in words]
    bigrams = [get(f"{a} {b}", -1) for a, b in zip(words, words[1:], strict=False)]
    char_ids = [featurizer.char_feature_ids(word) for word in words]
    positions = np.arange(n_words)
    # One row per (token, feature) occurrence; a bigram appears twice, half for each of its words.
    feature = np.concatenate([unigrams, bigrams, bigrams, *char_ids]).astype(np.int64)
    token = np.concatenate(
        [positions, positions[:-1], positions[1:], np.repeat(positions, [len(c) for c in char_ids])]
    ).astype(np.int64)
    n_chars = len(feature) - n_words - 2 * len(bigrams)
    share = np.concatenate([np.ones(n_words), np.full(2 * len(bigrams), 0.5), np.ones(n_chars)])
    # ids are sorted within each block and the char block follows the word block, so one search finds them all.
    where = np.searchsorted(ids, feature).clip(max=len(ids) - 1)
    known = (feature >= 0) & (ids[where] == feature)
    where, token, share = where[known], token[known], share[known]
    occurrences = np.bincount(where, weights=share, minlength=len(ids))
    # The occurrence layout above is the same for every category; only the weights differ.
    per_feature = values[:, None] * feature_weights / np.where(occurrences > 0, occurrences, 1.0)[:, None]
    per_occurrence = per_feature[where] * share[:, None]
    return np.stack([np.bincount(token, weights=weights, minlength=n_words) for weights in per_occurrence.T])


def spans_for(
    category: str,
    normalized: Normalized,
    original: str,
    token_offsets: Sequence[tuple[int, int]],
    contributions: np.ndarray,
) -> list[Span]:
    """The few original-text spans whose tokens carry most of the positive evidence, in text order."""
    positive = np.clip(contributions, 0.0, None)
    total = float(positive.sum())
    if total <= 0.0:
        return []
    order = np.argsort(-positive, kind="stable")[:MAX_SPANS]
    chosen = sorted(int(i) for i in order if positive[i] / total >= MIN_SHARE)
    spans: list[Span] = []
    for index in chosen:
        start, end = normalized.original_span(*token_offsets[index])
        weight = float(positive[index] / total)
        if spans and spans[-1].end >= start - 1 and original[spans[-1].end : start].strip() == "":
            previous = spans.pop()
            start, weight = previous.start, previous.weight + weight
        spans.append(Span(category, start, end, original[start:end], weight))
    return spans
