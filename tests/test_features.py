"""The TF-IDF featurizer: what one text's vector holds, and that memoising words never changes it."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from model import features
from model.features import FeatureParams, Featurizer, char_grams, tokens, word_grams

CORPUS = [
    "the talks in tehran went on for six hours",
    "the talks went nowhere and the ministers went home",
    "armenian and azerbaijani ministers met in tehran",
    "you are an idiot and so are your friends",
    "what an idiot thing to say about the talks",
    "the ministers said the talks were useful",
    "six hours of talks and nothing to show",
] * 3


def fitted() -> Featurizer:
    """A featurizer fitted on CORPUS, its memo empty."""
    return Featurizer.fit(CORPUS, FeatureParams(word_min_df=2, char_min_df=2))


@pytest.fixture
def featurizer() -> Featurizer:
    return fitted()


def plain_vector(featurizer: Featurizer, words: list[str]) -> dict[int, float]:
    """The same vector computed the slow, obvious way: counts, 1 + log tf times IDF, each block L2-normalized."""
    word_counts = Counter(g for g in word_grams(words) if g in featurizer.word_vocab)
    low, high = featurizer.params.char_min, featurizer.params.char_max
    char_counts = Counter(g for word in words for g in char_grams(word, low, high) if g in featurizer.char_vocab)
    out: dict[int, float] = {}
    for counts, vocab, idf, offset in (
        (word_counts, featurizer.word_vocab, featurizer.word_idf, 0),
        (char_counts, featurizer.char_vocab, featurizer.char_idf, featurizer.n_word),
    ):
        block = {offset + vocab[g]: (1.0 + math.log(c)) * idf[vocab[g]] for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in block.values()))
        out.update({i: v / norm for i, v in block.items()})
    return out


@pytest.mark.parametrize(
    "text",
    [
        "the talks in tehran went on and on and on",
        "you idiot you idiot",
        "zzqx unknown wordsx only",
        "",
        "ministers",
    ],
)
def test_vector_is_sublinear_tf_idf_with_each_block_normalized(featurizer: Featurizer, text: str) -> None:
    ids, values = featurizer.vector(tokens(text))
    expected = plain_vector(featurizer, tokens(text))
    assert ids.tolist() == sorted(expected)
    assert np.allclose(values, [expected[i] for i in sorted(expected)], rtol=1e-12, atol=0)
    assert len(set(ids.tolist())) == len(ids)


def test_memoised_words_give_the_same_vectors_when_the_memo_is_cleared(
    featurizer: Featurizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features, "_CACHE_LIMIT", 6)
    fresh = fitted()
    texts = [*CORPUS[:7], "the talks in tehran went on for six hours and the ministers went home"]
    for text in texts * 2:
        ids, values = featurizer.vector(tokens(text))
        expected = plain_vector(fresh, tokens(text))
        assert ids.tolist() == sorted(expected)
        assert np.allclose(values, [expected[i] for i in sorted(expected)], rtol=1e-12, atol=0)
        # The memo is bounded: past the limit it starts again with the words of the text at hand.
        assert len(featurizer._word_char_ids) <= max(6, *(len(set(tokens(t))) for t in texts))


def test_char_feature_ids_are_the_words_character_grams_after_the_word_block(featurizer: Featurizer) -> None:
    ids = featurizer.char_feature_ids("tehran")
    low, high = featurizer.params.char_min, featurizer.params.char_max
    grams = [g for g in char_grams("tehran", low, high) if g in featurizer.char_vocab]
    assert grams and ids.tolist() == [featurizer.n_word + featurizer.char_vocab[g] for g in grams]
    assert featurizer.char_feature_ids("qqqq").tolist() == []


def test_matrix_rows_are_the_vectors_of_their_texts_across_chunks_and_memo_resets(
    featurizer: Featurizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of about 12 tokens and a memo of 6 words: several chunks, the memo starting again inside the batch.
    monkeypatch.setattr(features, "MATRIX_CHUNK_TOKENS", 12)
    monkeypatch.setattr(features, "_CACHE_LIMIT", 6)
    texts = [*CORPUS[:7], "", "zzqx unknown wordsx only", "ministers", "you idiot you idiot", CORPUS[0]]
    matrix = featurizer.matrix(texts)
    assert matrix.shape == (len(texts), featurizer.n_features)
    for row, text in enumerate(texts):
        expected = plain_vector(fitted(), tokens(text))
        got = matrix.getrow(row)
        assert got.indices.tolist() == sorted(expected)
        assert np.allclose(got.data, [expected[i] for i in sorted(expected)], rtol=1e-12, atol=0)
    chunks = list(features._token_chunks(texts))
    assert len(chunks) > 2
    # The memo is bounded: past the limit it starts again with the words of the chunk at hand.
    assert len(featurizer._word_char_ids) <= max(6, *(len(set().union(*chunk)) for chunk in chunks))


def test_matrix_rows_equal_vectors_to_the_last_bit(featurizer: Featurizer, monkeypatch: pytest.MonkeyPatch) -> None:
    # A model trained on matrix() rows must come out identical whether its texts were featurized one by one or not.
    monkeypatch.setattr(features, "MATRIX_CHUNK_TOKENS", 20)
    texts = [f"{a} {b} and {c}" for a, b, c in zip(CORPUS, reversed(CORPUS), CORPUS[3:] + CORPUS[:3], strict=True)]
    matrix = featurizer.matrix(texts)
    for row, text in enumerate(texts):
        ids, values = featurizer.vector(tokens(text))
        assert np.array_equal(matrix.getrow(row).indices, ids)
        assert np.array_equal(matrix.getrow(row).data, values)


def test_matrix_of_no_texts_is_empty(featurizer: Featurizer) -> None:
    assert featurizer.matrix([]).shape == (0, featurizer.n_features)
    assert featurizer.matrix(iter(["", ""])).nnz == 0
