"""Turn normalized text into TF-IDF features: word 1-2 grams and character 2-5 grams within words.

The same code builds the vocabulary at training time and featurizes at scoring time, so the
two can never drift apart. Per-word character grams are memoised because words repeat heavily.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, repeat

import numpy as np
from scipy import sparse

from model import gram_keys
from model.gram_keys import AsciiGramIndex

TOKEN_RE = re.compile(r"\w+")
_CACHE_LIMIT = 50_000  # words whose character-gram ids are memoised; bounds memory on endless streams
# `matrix` featurizes texts in chunks of about this many tokens: a chunk's new words are looked up together, and
# what it holds (its occurrences, its words in the memo) stays bounded whatever the batch.
MATRIX_CHUNK_TOKENS = _CACHE_LIMIT // 2
# New ASCII words are looked up by integer key (model/gram_keys.py) when at least this many come together: the
# index's fixed cost, a few dozen numpy calls, is about that of 16 words' dictionary look-ups.
KEYED_LOOKUP_MIN_WORDS = 16


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
    return list(map(padded.__getitem__, _gram_slices(len(padded), low, high)))


@lru_cache(maxsize=256)
def _gram_slices(size: int, low: int, high: int) -> tuple[slice, ...]:
    """The slices of char_grams for a padded word of `size` characters, in its order (cut in C, not a loop)."""
    return tuple(slice(i, i + n) for n in range(low, high + 1) for i in range(size - n + 1))


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
        self._idf = np.concatenate([word_idf, char_idf])  # by feature id, both blocks
        self._word_char_ids: dict[str, np.ndarray] = {}
        # The character vocabulary's ASCII grams by integer key (None when its grams are too long for a key).
        self._ascii_grams = (
            AsciiGramIndex(char_vocab, params.char_min, params.char_max) if gram_keys.fits(params.char_max) else None
        )

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
        if ids is None:
            self._memoise({word})
            ids = self._word_char_ids[word]
        return ids

    def _memoise(self, words: set[str]) -> None:
        """Put the character-gram ids of those of `words` not memoised yet in the memo, all looked up at once."""
        cache = self._word_char_ids
        missing = words.difference(cache)
        if not missing:
            return
        if len(cache) + len(missing) > _CACHE_LIMIT:
            cache.clear()
            missing = words
        index = self._ascii_grams
        keyed = [word for word in missing if word.isascii()] if index is not None else []
        if index is not None and len(keyed) >= KEYED_LOOKUP_MIN_WORDS:
            cache.update(zip(keyed, (ids + self.n_word for ids in index.ids_of_words(keyed)), strict=True))
            others = [word for word in missing if not word.isascii()]
        else:
            others = list(missing)
        if others:
            low, high = self.params.char_min, self.params.char_max
            grams = [char_grams(word, low, high) for word in others]
            # One look-up pass over every gram of every such word, then each word's share of the answers.
            found = np.fromiter(map(self.char_vocab.get, chain.from_iterable(grams), repeat(-1)), dtype=np.int64)
            known = found >= 0
            kept_ends = np.cumsum(known)[np.cumsum([len(g) for g in grams]) - 1]
            ids = found[known] + self.n_word
            cache.update(zip(others, np.split(ids, kept_ends[:-1]), strict=True))

    def occurrences(self, words: Sequence[str]) -> np.ndarray:
        """Feature ids of every word-gram, then every character-gram, occurrence in a token list (with repeats)."""
        self._memoise(set(words))
        return self._memoised_occurrences(words)

    def _memoised_occurrences(self, words: Sequence[str]) -> np.ndarray:
        """`occurrences` of a token list whose words are all memoised."""
        vocab = self.word_vocab
        word_ids = np.fromiter(map(vocab.__getitem__, filter(vocab.__contains__, word_grams(words))), dtype=np.int64)
        # Each word's ids are memoised as an array, so the whole text's are one copy: building an array from a
        # list of Python ints cost more than every look-up before it.
        return np.concatenate([word_ids, *map(self._word_char_ids.__getitem__, words)])

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
        """CSR matrix of TF-IDF rows for many normalized texts: each row the `vector` of its text."""
        chunks: list[sparse.csr_matrix] = []
        for chunk in _token_chunks(texts):
            self._memoise(set().union(*chunk))
            chunks.append(self._rows([np.sort(self._memoised_occurrences(words)) for words in chunk]))
        if not chunks:
            return sparse.csr_matrix((0, self.n_features))
        return chunks[0] if len(chunks) == 1 else sparse.vstack(chunks, format="csr")

    def _rows(self, sorted_occurrences: list[np.ndarray]) -> sparse.csr_matrix:
        """CSR rows of TF-IDF from each row's sorted occurrence ids: `vector`'s arithmetic on the whole chunk at
        once (one numpy call per chunk instead of several per text)."""
        lengths = np.fromiter(map(len, sorted_occurrences), dtype=np.int64, count=len(sorted_occurrences))
        found = np.concatenate(sorted_occurrences)
        # A feature's first occurrence in its row starts the run of its repeats; its count is the run's length.
        first = np.ones(len(found), dtype=bool)
        np.not_equal(found[1:], found[:-1], out=first[1:])
        first[(np.cumsum(lengths) - lengths)[lengths > 0]] = True
        starts = np.flatnonzero(first)
        ids = found[starts]
        row_of = np.repeat(np.arange(len(lengths)), lengths)[starts]
        values = (1.0 + np.log(np.diff(starts, append=len(found)))) * self._idf[ids]
        # Each row's word block and character block are L2-normalized on their own, each norm a dot product as in
        # `vector`, so both give the same floating-point values to the last bit (a rebuilt model comes out identical).
        block = 2 * row_of + (ids >= self.n_word)
        bounds = np.append(np.flatnonzero(np.diff(block, prepend=-1)), len(ids)).tolist()
        norms = [math.sqrt(float(values[a:b] @ values[a:b])) for a, b in zip(bounds, bounds[1:], strict=False)]
        values /= np.repeat(norms, np.diff(bounds))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=len(lengths)))])
        return sparse.csr_matrix((values, ids, indptr), shape=(len(lengths), self.n_features))


def _token_chunks(texts: Iterable[str]) -> Iterator[list[list[str]]]:
    """The token lists of texts, in chunks that end once they hold MATRIX_CHUNK_TOKENS tokens."""
    chunk: list[list[str]] = []
    size = 0
    for text in texts:
        words = tokens(text)
        chunk.append(words)
        size += len(words)
        if size >= MATRIX_CHUNK_TOKENS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


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
