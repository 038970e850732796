"""Misspellings of the words a linear model weighs as abuse, so that a disguised word ("vremin") is read as the word.

Writers dodge word filters by swapping two letters or dropping one. For the `ABUSE_WORDS` unigrams the model weighs
most as evidence of abuse, every spelling one such edit away that keeps the first letter, is at least
`REPAIRED_MIN_LENGTH` letters long and is not itself a word the model knows becomes a repair
(`model.normalize.Repairs`).
Known words are never repaired, and short ones are left alone: at four letters too many names and acronyms sit one
edit from a slur ("cnut", "ngos"). Built from the model's own arrays when a model is loaded, so it needs no file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from model.linear import LinearModel
from model.normalize import REPAIRED_MIN_LENGTH, Lexicon, Normalized, Repairs, normalize, normalize_text

# How many of the model's most abusive words get repairs (the 3,000th weighs about a tenth of the first).
ABUSE_WORDS = 3000
# Categories whose weight makes a word abusive (spam's words are not disguised this way).
ABUSE_CATEGORIES = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")


def abuse_words(model: LinearModel, count: int = ABUSE_WORDS) -> list[str]:
    """The model's `count` alphabetic unigrams (of REPAIRED_MIN_LENGTH letters or more) with the largest abuse evidence.

    A word's evidence is its largest calibrated weight over ABUSE_CATEGORIES times its IDF: what the word alone
    adds to a category's log-odds in a short comment.
    """
    featurizer = model.featurizer
    words = [w for w in featurizer.word_vocab if _repairable(w)]
    columns = [model.categories.index(c) for c in ABUSE_CATEGORIES if c in model.categories]
    if not words or not columns:
        return []
    rows = np.fromiter((featurizer.word_vocab[w] for w in words), dtype=np.int64, count=len(words))
    evidence = (model.weights[rows][:, columns] * model.calibration_slope[columns]).max(axis=1)
    evidence = evidence * np.asarray(featurizer.word_idf)[rows]
    # Ties broken by the word, so the same model always gives the same list.
    order = sorted(range(len(words)), key=lambda i: (-evidence[i], words[i]))
    return [words[i] for i in order[:count] if evidence[i] > 0]


def _repairable(word: str) -> bool:
    """Whether a word is long enough and alphabetic enough to have its misspellings repaired."""
    return len(word) >= REPAIRED_MIN_LENGTH and word.isalpha()


def one_edit_misspellings(word: str) -> set[str]:
    """Spellings of `word` with two neighbouring letters swapped or one letter dropped, the first letter kept."""
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 1)}
    dropped = {word[:i] + word[i + 1 :] for i in range(1, len(word))}
    return (swapped | dropped) - {word}


def repairs_for(words: Sequence[str], known: Iterable[str]) -> dict[str, str]:
    """Each misspelling (REPAIRED_MIN_LENGTH letters or more, neither in `known` nor one of `words`) of `words`
    mapped to its word; where two words share a misspelling, the earlier word in `words` keeps it."""
    known_words = set(known) | set(words)
    repairs: dict[str, str] = {}
    for word in words:
        for spelling in one_edit_misspellings(word):
            if len(spelling) >= REPAIRED_MIN_LENGTH and spelling not in known_words:
                repairs.setdefault(spelling, word)
    return repairs


def model_repairs(model: LinearModel, count: int = ABUSE_WORDS, also: Iterable[str] = ()) -> dict[str, str]:
    """Repairs for a model: misspellings of its most abusive words, then of the words `also` (a cascade's slurs,
    which stage 1 may never have seen), that are not words it knows."""
    words = abuse_words(model, count)
    extra = sorted(w for w in set(also) - set(words) if _repairable(w))
    return repairs_for(words + extra, (w for w in model.featurizer.word_vocab if " " not in w))


@dataclass(frozen=True)
class ModelReading:
    """How a model reads text: normalized against its vocabulary (stretched letters) and its repairs."""

    lexicon: Lexicon
    repairs: Repairs

    @classmethod
    def of(cls, model: LinearModel, also_repaired: Iterable[str] = ()) -> ModelReading:
        """The reading of `model`: its vocabulary's ranks and `model_repairs` (with `also_repaired` words)."""
        return cls(model.featurizer.word_rank, model_repairs(model, also=also_repaired))

    def text(self, text: str) -> str:
        """`text` as the model reads it."""
        return normalize_text(text, self.lexicon, self.repairs)

    def with_offsets(self, text: str) -> Normalized:
        """`text` as the model reads it, with offsets back into `text`."""
        return normalize(text, self.lexicon, self.repairs)
