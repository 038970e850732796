"""Turn normalized text into TF-IDF features: word 1-2 grams and character 2-5 grams within words.

The same code builds the vocabulary at training time and featurizes at scoring time, so the
two can never drift apart. Per-word character grams are memoised because words repeat heavily.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

TOKEN_RE = re.compile(r"\w+")
_CACHE_LIMIT = 50_000  # words whose character-gram ids are memoised; bounds memory on endless streams


@dataclass(frozen=True)
class FeatureParams:
    """Knobs of the featurizer, recorded in the artifact."""

    char_min: int = 2
    char_max: int = 5
    word_min_df: int = 2
    char_min_df: int = 3
    max_word_features: int = 300_000
    max_char_features: int = 300_000

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def tokens(text: str) -> list[str]:
    """Word tokens of an already normalized text."""
    return TOKEN_RE.findall(text)


def token_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word token of an already normalized text."""
    return [m.span() for m in TOKEN_RE.finditer(text)]


def word_grams(words: Sequence[str]) -> list[str]:
    """Unigrams and bigrams of a token list."""
    return list(words) + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def char_grams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one word padded with spaces, as sklearn's char_wb does."""
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)]


class Featurizer:
    """Vocabulary + IDF for the word and character blocks; featurizes one text or many."""

    def __init__(
        self,
        params: FeatureParams,
        word_vocab: dict[str, int],
        char_vocab: dict[str, int],
        word_idf: np.ndarray,
        char_idf: np.ndarray,
    ) -> None:
        self.params = params
        self.word_vocab = word_vocab
        self.char_vocab = char_vocab
        self.word_idf = word_idf
        self.char_idf = char_idf
        self.n_word = len(word_vocab)
        self.n_features = len(word_vocab) + len(char_vocab)
        self._word_char_ids: dict[str, np.ndarray] = {}

    @classmethod
    def fit(cls, texts: Iterable[str], params: FeatureParams) -> Featurizer:
        """Build both vocabularies and their IDF from normalized texts."""
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        grams_of_word: dict[str, list[str]] = {}
        n_docs = 0
        for text in texts:
            n_docs += 1
            words = tokens(text)
            word_df.update(set(word_grams(words)))
            doc_chars: set[str] = set()
            for word in set(words):
                grams = grams_of_word.get(word)
                if grams is None:
                    grams = char_grams(word, params.char_min, params.char_max)
                    grams_of_word[word] = grams
                doc_chars.update(grams)
            char_df.update(doc_chars)
        word_vocab, word_idf = _vocabulary(word_df, n_docs, params.word_min_df, params.max_word_features)
        char_vocab, char_idf = _vocabulary(char_df, n_docs, params.char_min_df, params.max_char_features)
        return cls(params, word_vocab, char_vocab, word_idf, char_idf)

    def word_rank(self, word: str) -> float | None:
        """The word's IDF when it is in the word vocabulary (lower is more common), else None: a lexicon."""
        index = self.word_vocab.get(word)
        return None if index is None else float(self.word_idf[index])

    def char_feature_ids(self, word: str) -> np.ndarray:
        """Feature ids (character block, after the word block) of one word's character grams."""
        ids = self._word_char_ids.get(word)
        return self._computed_char_feature_ids(word) if ids is None else ids

    def _computed_char_feature_ids(self, word: str) -> np.ndarray:
        """char_feature_ids computed from the vocabulary, not the memo."""
        vocab = self.char_vocab
        # filter/map over the dict's own methods keep the look-ups in C.
        grams = char_grams(word, self.params.char_min, self.params.char_max)
        ids = np.fromiter(map(vocab.__getitem__, filter(vocab.__contains__, grams)), dtype=np.int64)
        ids += self.n_word
        return ids

    def occurrences(self, words: Sequence[str]) -> np.ndarray:
        """Feature ids of every word-gram, then every character-gram, occurrence in a token list (with repeats)."""
        vocab = self.word_vocab
        word_ids = np.fromiter(map(vocab.__getitem__, filter(vocab.__contains__, word_grams(words))), dtype=np.int64)
        # The scoring hot loop: only the words not memoised yet are computed, the rest are looked up in C.
        cache = self._word_char_ids
        missing = set(words).difference(cache)
        if missing:
            if len(cache) + len(missing) > _CACHE_LIMIT:
                cache.clear()
                missing = set(words)
            for word in missing:
                cache[word] = self._computed_char_feature_ids(word)
        # Each word's ids are memoised as an array, so the whole text's are one copy: building an array from a
        # list of Python ints cost more than every look-up before it.
        return np.concatenate([word_ids, *map(cache.__getitem__, words)])

    def vector(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Sparse TF-IDF vector of one token list as (sorted feature ids, values)."""
        found = self.occurrences(words)
        # One sort for both blocks; each block is then weighted and L2-normalized on its own.
        ids, counts = np.unique(found, return_counts=True)
        split = int(np.searchsorted(ids, self.n_word))
        values = 1.0 + np.log(counts)
        values[:split] *= self.word_idf[ids[:split]]
        values[split:] *= self.char_idf[ids[split:] - self.n_word]
        for block in (values[:split], values[split:]):
            if len(block):
                block /= math.sqrt(float(block @ block))
        return ids, values

    def matrix(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """CSR matrix of TF-IDF rows for many normalized texts."""
        indptr = [0]
        all_ids: list[np.ndarray] = []
        all_values: list[np.ndarray] = []
        for text in texts:
            ids, values = self.vector(tokens(text))
            all_ids.append(ids)
            all_values.append(values)
            indptr.append(indptr[-1] + len(ids))
        data = np.concatenate(all_values) if all_values else np.zeros(0)
        indices = np.concatenate(all_ids) if all_ids else np.zeros(0, dtype=np.int64)
        return sparse.csr_matrix((data, indices, np.asarray(indptr)), shape=(len(indptr) - 1, self.n_features))


def _vocabulary(
    doc_freq: Counter[str], n_docs: int, min_df: int, max_features: int
) -> tuple[dict[str, int], np.ndarray]:
    """Keep the most frequent terms (ties broken by the term) and compute smoothed IDF."""
    kept = [(term, df) for term, df in doc_freq.items() if df >= min_df]
    kept.sort(key=lambda item: (-item[1], item[0]))
    kept = kept[:max_features]
    kept.sort(key=lambda item: item[0])
    vocab = {term: index for index, (term, _) in enumerate(kept)}
    df = np.array([count for _, count in kept], dtype=np.float64)
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    return vocab, idf
