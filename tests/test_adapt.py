"""Adapting a model with a few labelled rows, and comparing two models on the same rows."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from model import artifact
from model.adapt import AdaptParams, adapt_model
from model.categories import CATEGORIES
from model.compare import BETTER, NOT_MEASURABLE, NOT_WORSE, WORSE, compare_models
from model.corpora import Example
from model.scorer import Scorer
from model.thresholds import ThresholdTargets
from model.train import prepare
from tests.retrain_fixtures import muppet_verdicts

# Unlike anything in the verdicts (the fixture corpus's own kind of comment, and spam).
UNRELATED = [
    "i read the report twice and i still disagree with the conclusion",
    "thanks for the careful analysis of the election in geneva",
    "check out my channel and subscribe http://spam.example/9",
    "you idiot",
]
# Held out: not among the verdicts, but like them.
SIMILAR_INSULTS = ["honestly the governor is a muppet", "what a numpty the mayor is"]
SIMILAR_FINE = ["the governor spoke about parking and bus lanes today"]


@pytest.fixture(scope="module")
def base(tiny_model_path: Path) -> artifact.Artifact:
    return artifact.load(tiny_model_path)


def examples(rows: list[tuple[str, str, dict[str, int]]]) -> list[Example]:
    return [Example(text, labels, "moderators", group=comment_id) for comment_id, text, labels in rows]


def adapt(base: artifact.Artifact, rows: list[Example], **params: object) -> artifact.Artifact:
    adapted = adapt_model(
        base.model,
        base.thresholds,
        prepare(rows),
        AdaptParams(**params),
        ThresholdTargets(),  # type: ignore[arg-type]
    )
    return artifact.Artifact(adapted.model, {**base.manifest, "thresholds": adapted.thresholds})


def scores(loaded: artifact.Artifact, texts: list[str]) -> list[dict[str, float]]:
    return Scorer(loaded).score_many(texts)


def test_verdicts_move_similar_unseen_texts_and_leave_unrelated_ones_nearly_alone(base: artifact.Artifact) -> None:
    adapted = adapt(base, examples(muppet_verdicts(40)))
    before = scores(base, SIMILAR_INSULTS + SIMILAR_FINE + UNRELATED)
    after = scores(adapted, SIMILAR_INSULTS + SIMILAR_FINE + UNRELATED)
    # The tiny model is sure these are harmless (0.0000): forty verdicts lift them well clear of that.
    for old, new in zip(before[:2], after[:2], strict=True):
        assert new["insult"] > old["insult"] + 0.1 and new["toxicity"] > old["toxicity"] + 0.1
    assert after[2]["insult"] < 0.05 and after[2]["toxicity"] < 0.05  # parking talk stays fine
    for old, new in zip(before[3:], after[3:], strict=True):
        for category in CATEGORIES:
            assert abs(new[category] - old[category]) < 0.05, (category, old, new)


def test_one_verdict_moves_a_little_and_many_move_more(base: artifact.Artifact) -> None:
    text = "honestly the governor is a muppet"
    one = adapt(base, examples([("a", "the mayor is a muppet", {"insult": 1})]))
    many = adapt(base, examples([(f"a{i}", f"the mayor is a muppet {i}", {"insult": 1}) for i in range(30)]))
    start, little, more = (Scorer(m).probabilities(text)[CATEGORIES.index("insult")] for m in (base, one, many))
    assert start < little < more


def test_adaptation_is_deterministic_and_ignores_row_order(base: artifact.Artifact, tmp_path: Path) -> None:
    rows = examples(muppet_verdicts(30))
    shuffled = list(rows)
    random.Random(5).shuffle(shuffled)
    first = adapt(base, rows)
    second = adapt(base, shuffled)
    assert np.array_equal(first.model.weights, second.model.weights)
    assert np.array_equal(first.model.intercepts, second.model.intercepts)
    manifest = {"params": base.manifest["params"], "thresholds": first.thresholds}
    a = artifact.save(first.model, manifest, tmp_path / "a.model")
    b = artifact.save(second.model, manifest, tmp_path / "b.model")
    assert a["content_sha256"] == b["content_sha256"]
    # Saved weights are the float32 values the adapted model scored with.
    assert np.array_equal(artifact.load(tmp_path / "a.model").model.weights, first.model.weights)


def test_categories_without_labels_keep_their_weights_and_thresholds(base: artifact.Artifact) -> None:
    adapted = adapt_model(
        base.model, base.thresholds, prepare(examples(muppet_verdicts(20))), AdaptParams(), ThresholdTargets()
    )
    for column, category in enumerate(CATEGORIES):
        if category in ("toxicity", "insult"):
            assert adapted.report["categories"][category]["adapted"]  # type: ignore[index]
            continue
        assert np.array_equal(adapted.model.weights[:, column], base.model.weights[:, column])
        assert adapted.model.intercepts[column] == base.model.intercepts[column]
    assert adapted.thresholds == base.thresholds
    assert set(adapted.report["thresholds_source"].values()) == {"base"}  # type: ignore[attr-defined]


def test_thresholds_are_re_picked_only_from_enough_verdicts(base: artifact.Artifact) -> None:
    rows = prepare(examples(muppet_verdicts(200, seed=9)))
    few = adapt_model(base.model, base.thresholds, rows, AdaptParams(), ThresholdTargets())
    assert few.report["thresholds_source"]["insult"] == "base"  # type: ignore[index]
    many = adapt_model(
        base.model, base.thresholds, rows, AdaptParams(threshold_min_rows=100, threshold_share=0.3), ThresholdTargets()
    )
    sources = many.report["thresholds_source"]
    assert sources["insult"] == "verdicts" and sources["spam"] == "base"  # type: ignore[index]
    assert many.report["rows"]["thresholds"] > 0  # type: ignore[index]


def test_compare_models_judges_each_category_on_the_same_rows(base: artifact.Artifact) -> None:
    adapted = adapt(base, examples(muppet_verdicts(40)))
    holdout = prepare(examples(muppet_verdicts(40, seed=11, prefix="h")))
    better = compare_models(adapted.model, base.model, holdout, tolerance=0.01)
    assert better["categories"]["insult"]["verdict"] == BETTER
    assert better["passed"] and better["rows"] == 40 and better["measured"] == ["toxicity", "insult"]
    assert better["categories"]["spam"]["verdict"] == NOT_MEASURABLE
    assert better["by_source"]["moderators"]["insult"]["n"] == 40
    worse = compare_models(base.model, adapted.model, holdout, tolerance=0.01)
    assert worse["categories"]["insult"]["verdict"] == WORSE and worse["worse"] == ["toxicity", "insult"]
    assert not worse["passed"]
    same = compare_models(base.model, base.model, holdout, tolerance=0.01)
    assert same["categories"]["insult"]["verdict"] == NOT_WORSE and same["passed"]
    few = compare_models(base.model, adapted.model, holdout[:8], tolerance=0.01)
    assert few["categories"]["insult"]["verdict"] == NOT_MEASURABLE
    assert not few["passed"] and few["outcome"] == "not measured" and few["measured"] == []
