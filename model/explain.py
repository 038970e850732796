"""Which words of the submitted text drove a category's score, from the linear model's per-feature terms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from model.features import Featurizer, word_grams
from model.normalize import Normalized
from model.types import Span

MAX_SPANS = 5
MIN_SHARE = 0.1  # a word carrying less than this share of the positive evidence is not shown


def token_contributions(
    featurizer: Featurizer, words: Sequence[str], ids: np.ndarray, values: np.ndarray, column: np.ndarray
) -> np.ndarray:
    """Each token's share of the margin: its unigram, half of each bigram it is in, and its character grams."""
    value_of = dict(zip(ids.tolist(), (values * column[ids]).tolist(), strict=True))
    occurrences: Counter[int] = Counter()
    per_token: list[list[tuple[int, float]]] = [[] for _ in words]
    vocab = featurizer.word_vocab
    grams = word_grams(words)
    n_words = len(words)
    for position, gram in enumerate(grams):
        feature = vocab.get(gram)
        if feature is None:
            continue
        occurrences[feature] += 1
        if position < n_words:
            per_token[position].append((feature, 1.0))
        else:
            left = position - n_words
            per_token[left].append((feature, 0.5))
            per_token[left + 1].append((feature, 0.5))
    for index, word in enumerate(words):
        for feature in featurizer._char_ids(word):
            occurrences[feature] += 1
            per_token[index].append((feature, 1.0))
    contributions = np.zeros(n_words)
    for index, parts in enumerate(per_token):
        contributions[index] = sum(value_of.get(f, 0.0) * share / occurrences[f] for f, share in parts)
    return contributions


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
