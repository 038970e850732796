"""Compare a candidate model with the active one on the same labelled rows, category by category."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.categories import CATEGORIES
from model.linear import LinearModel
from model.metrics import ranking_metrics
from model.train import PreparedExample, labels_matrix

# Fewer labelled rows than this (or only one class) and a category's AUC is noise: it is reported, not judged.
MIN_ROWS = 10
BETTER, NOT_WORSE, WORSE, NOT_MEASURABLE = "better", "not-worse", "worse", "not measurable"


def probabilities(model: LinearModel, rows: Sequence[PreparedExample]) -> np.ndarray:
    """Calibrated probabilities of a model for prepared rows, in category order."""
    if not rows:
        return np.zeros((0, len(model.categories)))
    matrix = model.featurizer.matrix(item.normalized for item in rows)
    return model.calibrate(model.batch_margins(matrix))  # type: ignore[no-any-return]


def compare_models(
    candidate: LinearModel,
    active: LinearModel,
    rows: Sequence[PreparedExample],
    tolerance: float,
    min_rows: int = MIN_ROWS,
) -> dict[str, object]:
    """ROC AUC and average precision of both models per category (and per source), with a verdict each.

    A category is `worse` when the candidate's ROC AUC is lower than the active model's by more than
    `tolerance`, `better` when higher by more than it, else `not-worse`.
    """
    labels = labels_matrix(rows)
    ours = probabilities(candidate, rows)
    theirs = probabilities(active, rows)
    sources = np.array([item.example.corpus for item in rows])
    categories: dict[str, object] = {}
    by_source: dict[str, dict[str, object]] = {}
    worse: list[str] = []
    for column, category in enumerate(CATEGORIES):
        known = labels[:, column] >= 0
        entry = _side_by_side(ours[known, column], theirs[known, column], labels[known, column].astype(int))
        entry["verdict"] = _verdict(entry, tolerance, min_rows)
        if entry["verdict"] == WORSE:
            worse.append(category)
        categories[category] = entry
        for source in sorted(set(sources[known])):
            part = known & (sources == source)
            by_source.setdefault(source, {})[category] = _side_by_side(
                ours[part, column], theirs[part, column], labels[part, column].astype(int)
            )
    return {
        "rows": len(rows),
        "metric": "roc_auc",
        "tolerance": tolerance,
        "min_rows": min_rows,
        "categories": categories,
        "by_source": by_source,
        "worse": worse,
        "passed": not worse,
    }


def _side_by_side(ours: np.ndarray, theirs: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    if len(labels) == 0:
        return {"n": 0, "positives": 0, "candidate": None, "active": None, "delta_roc_auc": None}
    candidate = ranking_metrics(ours, labels)
    active = ranking_metrics(theirs, labels)
    delta = None
    if candidate["roc_auc"] is not None and active["roc_auc"] is not None:
        delta = round(float(candidate["roc_auc"]) - float(active["roc_auc"]), 4)
    keep = ("roc_auc", "average_precision")
    return {
        "n": candidate["n"],
        "positives": candidate["positives"],
        "candidate": {key: candidate[key] for key in keep},
        "active": {key: active[key] for key in keep},
        "delta_roc_auc": delta,
    }


def _verdict(entry: dict[str, object], tolerance: float, min_rows: int) -> str:
    delta = entry["delta_roc_auc"]
    if delta is None or int(entry["n"]) < min_rows:  # type: ignore[call-overload]
        return NOT_MEASURABLE
    # Rounded AUCs: compare with a little slack so a delta of exactly -tolerance is not "worse".
    if float(delta) < -tolerance - 1e-9:  # type: ignore[arg-type]
        return WORSE
    if float(delta) > tolerance + 1e-9:  # type: ignore[arg-type]
        return BETTER
    return NOT_WORSE
