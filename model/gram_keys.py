"""Character n-grams of ASCII words as integer keys: a batch of new words finds its gram ids with a few numpy
calls instead of one dictionary look-up per gram (about 30 a word, most of the cost of a word not seen before).

A gram of n ASCII characters is its 7-bit codes side by side with n above them, so equal keys are equal grams
and the look-up gives exactly what the vocabulary dictionary gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

BITS_PER_CHARACTER = 7
MOST_KEY_BITS = 63


def keys_of_grams(grams: Sequence[str], high: int) -> np.ndarray:
    """The keys of ASCII grams of at most `high` characters."""
    # Fixed-width bytes pad each gram with zeros, which add nothing to its key; its length comes from Python.
    codes = np.array(grams, dtype=f"S{high}").view(np.uint8).reshape(len(grams), high).astype(np.int64)
    keys = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams)) << (BITS_PER_CHARACTER * high)
    for character in range(high):
        keys |= codes[:, character] << (BITS_PER_CHARACTER * character)
    return keys


def fits(high: int) -> bool:
    """Whether grams of up to `high` characters, and their length, fit in a key."""
    return BITS_PER_CHARACTER * high + high.bit_length() <= MOST_KEY_BITS


class AsciiGramIndex:
    """The ASCII grams of a character vocabulary, by key, for the grams `char_grams(word, low, high)` cuts."""

    def __init__(self, vocab: Mapping[str, int], low: int, high: int) -> None:
        if not fits(high):
            raise ValueError(f"grams of {high} characters do not fit in a {MOST_KEY_BITS}-bit key")
        self.low, self.high = low, high
        grams = [gram for gram in vocab if gram.isascii() and low <= len(gram) <= high]
        keys = keys_of_grams(grams, high) if grams else np.zeros(0, dtype=np.int64)
        order = np.argsort(keys)
        self._keys = keys[order]
        self._ids = np.fromiter(map(vocab.__getitem__, grams), dtype=np.int64, count=len(grams))[order]

    def ids_of_words(self, words: Sequence[str]) -> list[np.ndarray]:
        """For each ASCII word, the vocabulary ids of its grams padded with a space each side, in char_grams'
        order (grams not in the vocabulary left out)."""
        if not words or len(self._keys) == 0:
            return [np.zeros(0, dtype=np.int64) for _ in words]
        sizes = np.fromiter((len(w) + 2 for w in words), dtype=np.int64, count=len(words))
        codes = np.frombuffer("".join(f" {w} " for w in words).encode("ascii"), dtype=np.uint8).astype(np.int64)
        offsets = np.cumsum(sizes) - sizes
        owners: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        for n in range(self.low, self.high + 1):
            counts = np.maximum(sizes - n + 1, 0)
            owner = np.repeat(np.arange(len(words)), counts)
            # Each gram's start: its word's offset plus its place among that word's grams of this length.
            starts = offsets[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
            key = np.full(len(owner), n << (BITS_PER_CHARACTER * self.high), dtype=np.int64)
            for character in range(n):
                key |= codes[starts + character] << (BITS_PER_CHARACTER * character)
            owners.append(owner)
            keys.append(key)
        # Blocks by length, each by word then start; a stable sort by word gives char_grams' order.
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        owner, key = owner[order], np.concatenate(keys)[order]
        place = np.minimum(np.searchsorted(self._keys, key), len(self._keys) - 1)
        known = self._keys[place] == key
        ids = self._ids[place[known]]
        return np.split(ids, np.cumsum(np.bincount(owner[known], minlength=len(words)))[:-1])
