"""Thresholds from targets (ORES style), the model's default action, and bias metrics on hand-made rows."""

from __future__ import annotations

import numpy as np
import pytest

from model.categories import CATEGORIES
from model.fairness import bias_report, groups_mentioned
from model.metrics import at_threshold
from model.thresholds import (
    ThresholdTargets,
    action_for,
    best_f1_threshold,
    choose_thresholds,
    reject_threshold,
    review_threshold,
)

TARGETS = ThresholdTargets(reject_precision=0.95, review_recall=0.9, review_min_precision=0.5, min_positives=2,
                           reject_floor=0.5, review_floor=0.01)  # fmt: skip


def test_reject_is_the_lowest_cut_with_precision_at_target() -> None:
    probs = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.3, 0.2])
    labels = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    # At 0.85: 3/3 precise; at 0.7: 4/5 = 0.8 < 0.95. So 0.85 gives the most recall at precision >= 0.95.
    assert reject_threshold(probs, labels, TARGETS) == pytest.approx(0.85)


def test_reject_is_none_when_no_cut_is_precise_enough_and_never_under_the_floor() -> None:
    assert reject_threshold(np.array([0.9, 0.8, 0.7]), np.array([0, 1, 0]), TARGETS) is None
    low = reject_threshold(np.array([0.3, 0.2, 0.1, 0.05]), np.array([1, 1, 0, 0]), TARGETS)
    assert low == 0.5


def test_review_keeps_ninety_percent_recall_when_precise_enough() -> None:
    probs = np.linspace(0.99, 0.5, 10)
    labels = np.ones(10, dtype=int)
    assert review_threshold(probs, labels, TARGETS) == pytest.approx(probs[8])


def test_review_is_raised_where_recall_target_would_flood_the_queue() -> None:
    probs = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    # Recall 0.9 needs the cut at 0.05 (precision 0.3), so review rises to the max-recall cut with precision 0.5.
    assert review_threshold(probs, labels, TARGETS) == pytest.approx(0.8)


def test_review_falls_back_to_the_best_f1_cut_when_no_cut_is_precise_enough() -> None:
    probs = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    labels = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 1])
    # With two true positives no cut reaches precision 0.5 and recall 0.9 needs 0.05 (all ten flagged); F1 is best
    # at 0.5 (precision 2/5, recall 2/3: 0.5) against 0.05 (0.46).
    assert best_f1_threshold(probs, labels, min_positives=2) == pytest.approx(0.5)
    assert review_threshold(probs, labels, TARGETS) == pytest.approx(0.5)


def test_choose_thresholds_ignores_unknown_labels_and_untrained_categories() -> None:
    n = len(CATEGORIES)
    probs = np.tile(np.array([[0.9], [0.8], [0.2], [0.1]]), (1, n))
    labels = np.tile(np.array([[1], [1], [0], [0]]), (1, n))
    labels[:, 1] = -1
    trained = np.ones(n, dtype=bool)
    trained[2] = False
    chosen = choose_thresholds(probs, labels, trained, TARGETS)
    assert chosen[CATEGORIES[0]] == {"reject": 0.8, "review": 0.8}
    assert chosen[CATEGORIES[1]] == {"reject": None, "review": None}
    assert chosen[CATEGORIES[2]] == {"reject": None, "review": None}


def test_action_is_the_most_severe_threshold_reached() -> None:
    thresholds = {"toxicity": {"review": 0.4, "reject": 0.9}, "spam": {"review": 0.5, "reject": None}}
    assert action_for({"toxicity": 0.1, "spam": 0.1}, thresholds) == "approve"
    assert action_for({"toxicity": 0.5, "spam": 0.1}, thresholds) == "review"
    assert action_for({"toxicity": 0.1, "spam": 0.99}, thresholds) == "review"
    assert action_for({"toxicity": 0.95, "spam": 0.6}, thresholds) == "reject"


def test_precision_and_recall_at_threshold() -> None:
    result = at_threshold(np.array([0.9, 0.8, 0.3, 0.2]), np.array([1, 0, 1, 0]), 0.5)
    assert result == {"threshold": 0.5, "precision": 0.5, "recall": 0.5}


def test_identity_groups_are_found_in_normalized_text() -> None:
    assert groups_mentioned("as a muslim i disagree") == ["muslim"]
    assert set(groups_mentioned("armenians and azerbaijanis met in tbilisi")) == {"armenian", "azerbaijani"}
    assert groups_mentioned("the blackboard was clean") == []


def test_bias_report_subgroup_auc_and_false_positive_rates() -> None:
    texts = ["muslim a", "muslim b", "muslim c", "muslim d", "other e", "other f", "other g", "other h"]
    labels = np.array([1, 0, 0, 1, 1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.9, 0.2, 0.1, 0.8])
    report = bias_report(texts, labels, scores, review_threshold=0.5)
    muslim = report["groups"]["muslim"]  # type: ignore[index]
    assert muslim["rows"] == 4 and muslim["toxic"] == 2
    assert muslim["subgroup_auc"] == 0.75  # pairs (0.9,0.8) (0.9,0.1) (0.7,0.8) (0.7,0.1): 3 of 4 ranked right
    assert muslim["false_positive_rate"] == 0.5  # non-toxic mentions: 0.8 flagged, 0.1 not
    assert report["overall_false_positive_rate"] == 0.25  # 1 of the 4 non-toxic rows flagged
