"""The shipped default model: loads from a fresh clone, is fair to identity templates, sees through disguises."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.artifact import read_manifest
from model.categories import CATEGORIES
from model.fairness import NON_TOXIC_TEMPLATES
from model.scorer import Scorer, default_model_path, load_scorer
from tests.test_normalize import ABUSIVE_WORDS, NEIGHBOUR_WORDS, disguised


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def test_shipped_model_is_small_and_fully_described() -> None:
    path = default_model_path()
    assert path.stat().st_size <= 25 * 2**20
    manifest = read_manifest(path)
    for key in ("version", "created_at", "corpora", "params", "metrics", "thresholds", "libraries", "evaluation"):
        assert manifest[key], key
    assert all(corpus["shippable"] for corpus in manifest["corpora"])
    assert "impermium_insults" not in {corpus["name"] for corpus in manifest["corpora"]}


def test_every_category_has_a_review_threshold(scorer: Scorer) -> None:
    assert set(scorer.thresholds) == set(CATEGORIES)
    assert all(scorer.thresholds[c]["review"] is not None for c in CATEGORIES)


@pytest.mark.parametrize("template", NON_TOXIC_TEMPLATES)
def test_no_non_toxic_identity_template_reaches_review(scorer: Scorer, template: str) -> None:
    result = scorer.score(template)
    for category, score in result.scores.items():
        review = scorer.thresholds[category]["review"]
        assert review is None or score < review, f"{category} {score} >= {review}"
    assert result.spans == []


@pytest.mark.parametrize(
    "text",
    [
        "You are a pathetic idiot and everyone knows it.",
        "Shut the fuck up, you moron.",
        "I will find you and kill you.",
    ],
)
def test_clear_abuse_is_flagged_with_spans(scorer: Scorer, text: str) -> None:
    result = scorer.score(text)
    assert scorer.action(result.scores) in {"review", "reject"}
    assert result.spans and all(text[s.start : s.end] == s.text for s in result.spans)


@st.composite
def plain_and_disguised(draw: st.DrawFn) -> tuple[str, str]:
    word = draw(st.sampled_from(ABUSIVE_WORDS))
    before = draw(st.lists(st.sampled_from(NEIGHBOUR_WORDS), max_size=3))
    after = draw(st.lists(st.sampled_from(NEIGHBOUR_WORDS), max_size=3))
    # The scorer reads stretches against its vocabulary, so even a doubled letter may be stretched (killlll).
    return " ".join([*before, word, *after]), " ".join([*before, draw(disguised(word, stretch_doubled=True)), *after])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=plain_and_disguised())
def test_disguised_abuse_scores_like_the_plain_comment(scorer: Scorer, case: tuple[str, str]) -> None:
    plain, disguise = case
    plain_scores = scorer.score(plain, explain=False).scores
    disguised_scores = scorer.score(disguise, explain=False).scores
    for category in CATEGORIES:
        assert abs(plain_scores[category] - disguised_scores[category]) <= 0.05, (category, plain, disguise)


@pytest.mark.parametrize(
    ("plain", "stretched"),
    [
        ("I will kill you", "I will killlll you"),
        ("you asshole", "you asssshole"),
        ("what a dumbass", "what a dumbasssss"),
        ("you ass", "you assss"),
        ("fuck off", "fuckkkk offff"),
        ("this is bullshit", "this is bulllllshit"),
        ("you stupid idiot", "you stuuuupid idiooooot"),
    ],
)
def test_stretching_a_doubled_letter_scores_like_the_plain_word(scorer: Scorer, plain: str, stretched: str) -> None:
    plain_result = scorer.score(plain)
    stretched_result = scorer.score(stretched)
    assert stretched_result.scores == plain_result.scores
    assert scorer.score_many([stretched])[0] == plain_result.scores
    assert stretched_result.spans and all(stretched[s.start : s.end] == s.text for s in stretched_result.spans)


def test_model_card_is_the_card_of_the_shipped_model() -> None:
    from model.card import render_model_card
    from tests.conftest import REPO

    card = (REPO / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert card == render_model_card(read_manifest(default_model_path())), (
        "MODEL_CARD.md is stale: run `make model`, or re-render it from the model's recorded evaluation"
    )
