"""ASCII character grams as integer keys: the same ids, in the same order, as the vocabulary dictionary gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import features
from model.features import FeatureParams, Featurizer, char_grams, tokens
from model.gram_keys import AsciiGramIndex, fits, keys_of_grams

VOCAB_GRAMS = [" a", "ab", "abc", "b ", "bc", "c ", " ab", "abc ", " abc ", "z", "12", "_x", "x_", " é", "é ", "€5"]
VOCAB = {gram: index for index, gram in enumerate(sorted(VOCAB_GRAMS))}
ascii_words = st.text(st.sampled_from("abcxz12_AB"), min_size=1, max_size=12)


def dictionary_ids(word: str, low: int = 2, high: int = 5) -> list[int]:
    return [VOCAB[g] for g in char_grams(word, low, high) if g in VOCAB]


@settings(max_examples=300)
@given(st.lists(ascii_words, max_size=20))
def test_ids_of_words_are_the_dictionarys_in_char_grams_order(words: list[str]) -> None:
    found = AsciiGramIndex(VOCAB, 2, 5).ids_of_words(words)
    assert [ids.tolist() for ids in found] == [dictionary_ids(word) for word in words]


def test_keys_tell_grams_apart_by_length_and_characters() -> None:
    grams = ["a", "a ", " a", "aa", "aaaaa", "\x00a", "a\x00", "zz", "~~~~~"]
    assert len(set(keys_of_grams(grams, 5).tolist())) == len(grams)
    assert fits(5) and fits(8) and not fits(9)
    with pytest.raises(ValueError):
        AsciiGramIndex(VOCAB, 2, 9)


def test_an_empty_vocabulary_finds_nothing() -> None:
    assert [ids.tolist() for ids in AsciiGramIndex({}, 2, 5).ids_of_words(["abc", "x"])] == [[], []]


CORPUS = ["the talks in tehran went on", "the ministers went home", "qu'il a dit à téhéran", "x_y 2024 talks"] * 3


@pytest.mark.parametrize(
    ("char_max", "keyed_from"),
    [(5, 1), (5, 1_000), (9, 1)],  # by key; in the dictionary, as too few come at once or grams are too long
)
def test_featurizer_char_ids_are_the_dictionarys_with_or_without_keys(
    char_max: int, keyed_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features, "KEYED_LOOKUP_MIN_WORDS", keyed_from)
    featurizer = Featurizer.fit(CORPUS, FeatureParams(word_min_df=2, char_min_df=2, char_max=char_max))
    words = sorted({w for text in CORPUS + ["tehranx talksy téhérans"] for w in tokens(text)})
    featurizer.matrix([" ".join(words)])  # every word memoised in one batch
    vocab = featurizer.char_vocab
    for word in words:
        expected = [featurizer.n_word + vocab[g] for g in char_grams(word, 2, char_max) if g in vocab]
        assert np.array_equal(featurizer.char_feature_ids(word), expected)
