"""Adapt an existing model with a few labelled rows: a small, penalised residual on its weights per category.

The features, calibration and (unless enough rows exist) thresholds of the base model are kept; only the
weights of features that occur in the new rows, and each category's bias, move. The result is an ordinary
`LinearModel`, so it saves, loads and scores exactly like a model trained from corpora.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

from model.cascade import sigmoid
from model.linear import LinearModel
from model.thresholds import ThresholdTargets, choose_thresholds
from model.train import PreparedExample, Progress, _silent, labels_matrix
from model.types import Thresholds


@dataclass(frozen=True)
class AdaptParams:
    """Everything that decides an adaptation, recorded in the artifact."""

    seed: int = 13
    # L2 penalty on the residual weights: with TF-IDF rows of norm about 1.4, a few dozen agreeing verdicts
    # move similar comments by tens of points of probability, a single verdict by a few.
    l2: float = 1.0
    # The bias shift is penalised harder: verdicts come from the review queue, a skewed sample, and a bias
    # moves every comment, including ones unlike any verdict.
    bias_l2: float = 20.0
    max_iter: int = 500
    # Thresholds are re-picked only from this many rows or more, on a share of them left out of the fit.
    threshold_min_rows: int = 400
    threshold_share: float = 0.2

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, float | int]) -> AdaptParams:
        """Rebuild parameters recorded in a manifest."""
        return cls(**data)  # type: ignore[arg-type]


@dataclass
class Adapted:
    """An adapted model, its thresholds, and what the fit did per category."""

    model: LinearModel
    thresholds: Thresholds
    report: dict[str, object]


def adapt_model(
    base: LinearModel,
    base_thresholds: Thresholds,
    rows: Sequence[PreparedExample],
    params: AdaptParams,
    targets: ThresholdTargets,
    row_weights: Sequence[float] | None = None,
    progress: Progress = _silent,
) -> Adapted:
    """Fit a penalised residual on the base model's weights from labelled rows (deterministic, order-free)."""
    weights_in = [1.0] * len(rows) if row_weights is None else list(row_weights)
    # Sorting makes every sum, and so the result, independent of the order the rows arrived in.
    order = sorted(range(len(rows)), key=lambda i: (rows[i].normalized, sorted(rows[i].example.labels.items())))
    ordered = [rows[i] for i in order]
    sample_weight = np.array([weights_in[i] for i in order], dtype=np.float64)
    threshold_rows = _threshold_mask(ordered, params)
    fit_rows = ~threshold_rows

    progress("featurize", 0.0)
    matrix = base.featurizer.matrix(item.normalized for item in ordered)
    labels = labels_matrix(ordered)
    margins = base.batch_margins(matrix)
    residual = np.zeros_like(base.weights)
    bias = np.zeros(len(base.categories))
    per_category: dict[str, object] = {}
    for column, category in enumerate(base.categories):
        known = fit_rows & (labels[:, column] >= 0)
        if not base.trained[column] or not known.any():
            per_category[category] = {"rows": int(known.sum()), "adapted": False}
            continue
        columns, r, r0, info = _fit_residual(
            matrix[known],
            labels[known, column].astype(np.float64),
            sample_weight[known],
            margins[known, column],
            float(base.calibration_slope[column]),
            float(base.calibration_offset[column]),
            params,
        )
        residual[columns, column] = r
        bias[column] = r0
        per_category[category] = {
            "rows": int(known.sum()),
            "positives": int(labels[known, column].sum()),
            "adapted": True,
            **info,
        }
        progress(f"adapt {category}", (column + 1) / len(base.categories))

    model = LinearModel(
        featurizer=base.featurizer,
        categories=base.categories,
        # Rounded to float32 now, as the artifact stores them, so measured metrics match the saved model.
        weights=(base.weights + residual).astype(np.float32).astype(np.float64),
        intercepts=base.intercepts + bias,
        calibration_slope=base.calibration_slope.copy(),
        calibration_offset=base.calibration_offset.copy(),
        trained=base.trained.copy(),
    )
    thresholds, sources = _thresholds(model, base_thresholds, matrix[threshold_rows], labels[threshold_rows], targets)
    report: dict[str, object] = {
        "params": params.as_dict(),
        "rows": {"fit": int(fit_rows.sum()), "thresholds": int(threshold_rows.sum())},
        "categories": per_category,
        "thresholds_source": sources,
    }
    return Adapted(model, thresholds, report)


def _threshold_mask(rows: Sequence[PreparedExample], params: AdaptParams) -> np.ndarray:
    """Rows set aside to re-pick thresholds (none when there are too few rows to measure precision on)."""
    if len(rows) < params.threshold_min_rows:
        return np.zeros(len(rows), dtype=bool)
    return np.array([_bucket(item.normalized, params.seed) < params.threshold_share for item in rows], dtype=bool)


def _bucket(text: str, seed: int) -> float:
    digest = hashlib.blake2b(f"adapt\x00{seed}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _fit_residual(
    x: sparse.csr_matrix,
    y: np.ndarray,
    weight: np.ndarray,
    base_margins: np.ndarray,
    slope: float,
    offset: float,
    params: AdaptParams,
) -> tuple[np.ndarray, np.ndarray, float, dict[str, float | int]]:
    """Minimise the weighted log loss of sigmoid(slope * (margin + x·r + r0) + offset) plus L2 on r and r0."""
    # Features absent from every row get no gradient but the penalty's, so their residual stays zero:
    # optimise only the columns that occur.
    columns = np.unique(x.indices)
    xs = x[:, columns].tocsr()
    xs_t = xs.T.tocsr()
    n_columns = len(columns)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, r0 = theta[:n_columns], theta[n_columns]
        z = slope * (base_margins + xs @ r + r0) + offset
        # log(1 + e^z) - y z, computed without overflow.
        loss = float(weight @ (np.logaddexp(0.0, z) - y * z))
        loss += 0.5 * params.l2 * float(r @ r) + 0.5 * params.bias_l2 * r0 * r0
        dz = weight * (sigmoid(z) - y)
        gradient = np.empty_like(theta)
        gradient[:n_columns] = slope * (xs_t @ dz) + params.l2 * r
        gradient[n_columns] = slope * float(dz.sum()) + params.bias_l2 * r0
        return loss, gradient

    start = np.zeros(n_columns + 1)
    initial_loss = objective(start)[0]
    result = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": params.max_iter, "gtol": 1e-6})
    theta = result.x
    info = {
        "features": int(n_columns),
        "loss_before": round(float(initial_loss), 6),
        "loss_after": round(float(result.fun), 6),
        "iterations": int(result.nit),
        "bias_shift": round(float(theta[n_columns]), 6),
    }
    return columns, theta[:n_columns], float(theta[n_columns]), info


def _thresholds(
    model: LinearModel,
    base_thresholds: Thresholds,
    matrix: sparse.csr_matrix,
    labels: np.ndarray,
    targets: ThresholdTargets,
) -> tuple[Thresholds, dict[str, str]]:
    """The base thresholds, replaced per category where the set-aside rows hold enough of both classes."""
    thresholds: Thresholds = {category: dict(limits) for category, limits in base_thresholds.items()}
    sources = {category: "base" for category in model.categories}
    if matrix.shape[0] == 0:
        return thresholds, sources
    probs = model.calibrate(model.batch_margins(matrix))
    picked = choose_thresholds(probs, labels, model.trained, targets)
    for column, category in enumerate(model.categories):
        known = labels[:, column] >= 0
        positives = int(labels[known, column].sum())
        negatives = int(known.sum()) - positives
        if min(positives, negatives) >= targets.min_positives and picked[category]["review"] is not None:
            thresholds[category] = picked[category]
            sources[category] = "verdicts"
    return thresholds, sources
