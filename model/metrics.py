"""Quality metrics per category and per corpus: ROC AUC, average precision, precision/recall at thresholds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.categories import CATEGORIES
from model.types import Thresholds


def ranking_metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, float | int | None]:
    """ROC AUC and average precision of one score column against 0/1 labels (None when one class)."""
    positives = int(labels.sum())
    both = 0 < positives < len(labels)
    return {
        "n": int(len(labels)),
        "positives": positives,
        "roc_auc": round(float(roc_auc_score(labels, probs)), 4) if both else None,
        "average_precision": round(float(average_precision_score(labels, probs)), 4) if both else None,
    }


def at_threshold(probs: np.ndarray, labels: np.ndarray, threshold: float | None) -> dict[str, float | None]:
    """Precision and recall of flagging scores at or above a threshold."""
    if threshold is None:
        return {"threshold": None, "precision": None, "recall": None}
    flagged = probs >= threshold
    true_positive = int((flagged & (labels == 1)).sum())
    precision = true_positive / int(flagged.sum()) if flagged.any() else None
    recall = true_positive / int(labels.sum()) if labels.any() else None
    return {
        "threshold": threshold,
        "precision": None if precision is None else round(precision, 4),
        "recall": None if recall is None else round(recall, 4),
    }


def category_metrics(
    probs: np.ndarray,
    labels: np.ndarray,
    thresholds: Thresholds,
    corpora: Sequence[str],
) -> dict[str, object]:
    """Metrics per category over all rows that label it, and per corpus."""
    overall: dict[str, object] = {}
    by_corpus: dict[str, dict[str, object]] = {}
    corpus_array = np.asarray(corpora)
    for column, category in enumerate(CATEGORIES):
        known = labels[:, column] >= 0
        if not known.any():
            continue
        y = labels[known, column].astype(int)
        p = probs[known, column]
        entry: dict[str, object] = dict(ranking_metrics(p, y))
        limits = thresholds.get(category, {})
        entry["review"] = at_threshold(p, y, limits.get("review"))
        entry["reject"] = at_threshold(p, y, limits.get("reject"))
        overall[category] = entry
        for corpus in sorted(set(corpus_array[known])):
            rows = known & (corpus_array == corpus)
            by_corpus.setdefault(corpus, {})[category] = ranking_metrics(
                probs[rows, column], labels[rows, column].astype(int)
            )
    return {"categories": overall, "by_corpus": by_corpus}
