"""Explanations: spans point at the words of the text as submitted, even around emoji and combining marks."""

from __future__ import annotations

import pytest

from model.explain import token_contributions
from model.features import tokens
from model.scorer import Scorer, load_scorer
from tests.model_fixtures import train_tiny_model


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    return load_scorer(train_tiny_model(tmp_path_factory.mktemp("tiny")))


def spans_of(scorer: Scorer, text: str, category: str) -> list[str]:
    spans = [s for s in scorer.explain(text, [category]) if s.category == category]
    for span in spans:
        assert text[span.start : span.end] == span.text
    return [s.text for s in spans]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("🙂🙂 the minister is an idiot 👍", "idiot"),
        ("🙂🙂 the minister is an 1d10t 👍", "1d10t"),
        ("Cafe\u0301 owners say you are an idiot", "idiot"),
        ("👨‍👩‍👧 you i d i o t, read again", "i d i o t"),
        ("ｙｏｕ ｉｄｉｏｔ", "ｉｄｉｏｔ"),
        ("you stuuuupid fool", "stuuuupid"),
        ("you i\u200bd\u200bi\u200bo\u200bt", "i\u200bd\u200bi\u200bo\u200bt"),
    ],
)
def test_insult_span_points_at_the_submitted_word(scorer: Scorer, text: str, word: str) -> None:
    # Neighbouring words that also carry evidence are merged into one span ("you idiot").
    assert any(word in span for span in spans_of(scorer, text, "insult"))


def test_scores_carry_spans_only_for_flagged_categories(scorer: Scorer) -> None:
    result = scorer.score("the minister is an idiot and a moron")
    flagged = {
        c
        for c, p in result.scores.items()
        if scorer.thresholds[c]["review"] is not None and p >= scorer.thresholds[c]["review"]
    }  # type: ignore[operator]
    assert "insult" in flagged
    assert {span.category for span in result.spans} <= flagged
    assert scorer.score("thanks for the careful analysis of the talks").spans == []


def test_disguised_abuse_scores_like_the_plain_words(scorer: Scorer) -> None:
    plain = scorer.score("you are an idiot", explain=False).scores["insult"]
    for disguised in ["you are an 1d10t", "you are an i d i o t", "you are an іdіоt", "you are an idiiiiot"]:
        assert abs(scorer.score(disguised, explain=False).scores["insult"] - plain) < 0.05, disguised


def test_explaining_several_categories_at_once_matches_each_alone(scorer: Scorer) -> None:
    text = "you stupid idiot, I will kill you and your whole damn family"
    categories = list(scorer.categories)
    together = scorer.explain(text, categories)
    alone = [span for category in categories for span in scorer.explain(text, [category])]
    assert together == alone
    assert together


@pytest.mark.parametrize("text", ["the minister is an idiot and a moron", "cafe owners you are an 1d10t idiot idiot"])
def test_token_contributions_add_up_to_the_margin(scorer: Scorer, text: str) -> None:
    # Every feature's term is shared among the tokens it came from, so the tokens' shares sum to the margin.
    words = tokens(text)
    featurizer = scorer.model.featurizer
    ids, values = featurizer.vector(words)
    weights = scorer.model.weights.take(ids, axis=0)
    contributions = token_contributions(featurizer, words, ids, values, weights)
    assert contributions.shape == (len(scorer.categories), len(words))
    margins = scorer.model.margins(ids, values) - scorer.model.intercepts
    assert contributions.sum(axis=1) == pytest.approx(margins, abs=1e-9)


@pytest.mark.parametrize("text", ["the minister is an idiot and a moron", "🙂 Café owners: you are an 1d10t moron"])
def test_scoring_shows_the_spans_explain_finds(scorer: Scorer, text: str) -> None:
    # score() hands its own features to explain(); explaining from scratch must find the same spans.
    result = scorer.score(text)
    flagged = list(dict.fromkeys(span.category for span in result.spans))
    assert flagged
    assert result.spans == scorer.explain(text, flagged)
