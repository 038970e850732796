"""Choose per-category thresholds from targets, as ORES does, rather than from magic numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve

from model.categories import CATEGORIES
from model.types import Thresholds


@dataclass(frozen=True)
class ThresholdTargets:
    """Reject at maximum recall with precision >= reject_precision; review at recall >= review_recall."""

    reject_precision: float = 0.95
    review_recall: float = 0.90
    min_positives: int = 5  # a precision measured on fewer flagged positives than this is noise

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def reject_threshold(probs: np.ndarray, labels: np.ndarray, targets: ThresholdTargets) -> float | None:
    """Lowest threshold whose precision reaches the target (so recall is maximal), or None."""
    precision, _recall, cuts = precision_recall_curve(labels, probs)
    true_positives = np.array([int(((probs >= cut) & (labels == 1)).sum()) for cut in cuts])
    ok = (precision[:-1] >= targets.reject_precision) & (true_positives >= targets.min_positives)
    if not ok.any():
        return None
    return float(cuts[np.argmax(ok)])


def review_threshold(probs: np.ndarray, labels: np.ndarray, targets: ThresholdTargets) -> float | None:
    """Highest threshold that still flags the target share of positives (recall >= target)."""
    positives = np.sort(probs[labels == 1])[::-1]
    if len(positives) == 0:
        return None
    needed = int(np.ceil(targets.review_recall * len(positives)))
    return float(positives[needed - 1])


def choose_thresholds(
    probs: np.ndarray, labels: np.ndarray, trained: np.ndarray, targets: ThresholdTargets
) -> Thresholds:
    """Per-category review and reject thresholds measured on calibration rows (-1 labels are ignored)."""
    thresholds: Thresholds = {}
    for column, category in enumerate(CATEGORIES):
        known = labels[:, column] >= 0
        y = labels[known, column]
        p = probs[known, column]
        if not trained[column] or len(np.unique(y)) < 2:
            thresholds[category] = {"reject": None, "review": None}
            continue
        reject = reject_threshold(p, y, targets)
        review = review_threshold(p, y, targets)
        if reject is not None and review is not None and review > reject:
            review = reject
        thresholds[category] = {
            "reject": None if reject is None else round(reject, 4),
            "review": None if review is None else round(review, 4),
        }
    return thresholds


def action_for(scores: dict[str, float], thresholds: Thresholds) -> str:
    """approve / review / reject for a set of scores under thresholds (the model's default action)."""
    action = "approve"
    for category, score in scores.items():
        limits = thresholds.get(category, {})
        reject = limits.get("reject")
        review = limits.get("review")
        if reject is not None and score >= reject:
            return "reject"
        if review is not None and score >= review:
            action = "review"
    return action
