"""Choose per-category thresholds from targets, as ORES does, rather than from magic numbers."""

from __future__ import annotations

import math
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
    # Where recall 0.90 would flood the queue (rare categories), review at max recall with this precision.
    review_min_precision: float = 0.5
    min_positives: int = 5  # a precision measured on fewer flagged positives than this is noise
    # A calibrated probability under one half says "more likely fine": never reject below it.
    reject_floor: float = 0.5
    review_floor: float = 0.01

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def _cuts_with_enough_positives(
    probs: np.ndarray, labels: np.ndarray, min_positives: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and cut at each threshold of the curve, and whether it flags `min_positives` positives."""
    precision, recall, cuts = precision_recall_curve(labels, probs)
    precision, recall = precision[:-1], recall[:-1]
    return precision, recall, cuts, recall * int(labels.sum()) >= min_positives - 0.5


def threshold_at_precision(
    probs: np.ndarray, labels: np.ndarray, precision_target: float, min_positives: int
) -> float | None:
    """The cut with maximum recall among those reaching the precision target (the highest such cut on ties)."""
    precision, recall, cuts, enough = _cuts_with_enough_positives(probs, labels, min_positives)
    ok = (precision >= precision_target) & enough
    if not ok.any():
        return None
    best = np.nonzero(ok & (recall == recall[ok].max()))[0]
    return float(cuts[best[-1]])


def best_f1_threshold(probs: np.ndarray, labels: np.ndarray, min_positives: int) -> float | None:
    """The cut with the highest F1 among those flagging at least `min_positives` positives (highest on ties)."""
    precision, recall, cuts, enough = _cuts_with_enough_positives(probs, labels, min_positives)
    if not enough.any():
        return None
    f1 = np.where(enough, 2 * precision * recall / np.maximum(precision + recall, 1e-12), -1.0)
    return float(cuts[np.nonzero(f1 == f1.max())[0][-1]])


def reject_threshold(probs: np.ndarray, labels: np.ndarray, targets: ThresholdTargets) -> float | None:
    """Maximum recall at precision >= the reject target, never under the reject floor."""
    found = threshold_at_precision(probs, labels, targets.reject_precision, targets.min_positives)
    return None if found is None else max(found, targets.reject_floor)


def review_threshold(probs: np.ndarray, labels: np.ndarray, targets: ThresholdTargets) -> float | None:
    """Highest threshold with recall >= target, raised where its precision is under the review minimum (to the
    best-F1 cut where no cut reaches that minimum: the recall cut would flood the queue)."""
    positives = np.sort(probs[labels == 1])[::-1]
    if len(positives) == 0:
        return None
    needed = int(np.ceil(targets.review_recall * len(positives)))
    found = float(positives[needed - 1])
    flagged = probs >= found
    if (labels[flagged] == 1).mean() < targets.review_min_precision:
        precise = threshold_at_precision(probs, labels, targets.review_min_precision, targets.min_positives)
        best_f1 = best_f1_threshold(probs, labels, targets.min_positives) if precise is None else None
        if precise is not None:
            found = precise
        elif best_f1 is not None:
            found = max(found, best_f1)
    return max(found, targets.review_floor)


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
        thresholds[category] = {"reject": _round_down(reject), "review": _round_down(review)}
    return thresholds


def _round_down(value: float | None) -> float | None:
    """Round to 4 places without rising above the measured cut (which would lose its recall)."""
    return None if value is None else math.floor(value * 10_000) / 10_000


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
