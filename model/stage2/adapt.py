"""Adapt stage 2 to moderators' verdicts without retraining its encoder: a penalised residual on its head.

The exported graph gives, beside its seven logits, the mean-pooled encoder output its head reads (`pooled`,
[batch, hidden]). A head adapter adds, per category, `pooled @ W + b` to the calibrated logit:
`z' = slope * logit + offset + pooled @ W + b`. It is fitted here by an L2-penalised logistic loss (numpy and
scipy only, no torch), one category at a time, for the categories stage 2 decides that the rows label. Every
fit starts from zero on top of the graph's own calibrated logits, never from an earlier adapter: a retrain sees
all the verdicts each time, so starting from the last adapter would count the old ones twice. The rows are
sorted first, so the result does not depend on the order they arrived in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import minimize

from model.cascade import sigmoid
from model.categories import CATEGORIES, UNKNOWN_LABEL

if TYPE_CHECKING:
    from model.stage2.runtime import Stage2Model

STARTED_FROM = "zero"


@dataclass(frozen=True)
class HeadAdapter:
    """A residual per category on stage 2's calibrated logit: `pooled @ weights + bias` ([hidden, 7], [7])."""

    weights: np.ndarray
    bias: np.ndarray

    @classmethod
    def checked(cls, weights: np.ndarray, bias: np.ndarray) -> HeadAdapter:
        """An adapter from two arrays, refused (ValueError) unless they are finite floats of shapes [h, 7] and [7]."""
        for name, array in (("weights", weights), ("bias", bias)):
            if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
                raise ValueError(f"the adapter's {name} must be a float array")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"the adapter's {name} must be finite")
        if weights.ndim != 2 or weights.shape[0] < 1 or weights.shape[1] != len(CATEGORIES):
            raise ValueError(f"the adapter's weights must be [hidden, {len(CATEGORIES)}], not {list(weights.shape)}")
        if bias.shape != (len(CATEGORIES),):
            raise ValueError(f"the adapter's bias must be [{len(CATEGORIES)}], not {list(bias.shape)}")
        return cls(weights.astype(np.float64), bias.astype(np.float64))

    @property
    def hidden(self) -> int:
        """The width of the pooled features it reads."""
        return int(self.weights.shape[0])

    def shift(self, pooled: np.ndarray) -> np.ndarray:
        """What it adds to each calibrated logit: [batch, 7] from pooled features [batch, hidden]."""
        if pooled.ndim != 2 or pooled.shape[1] != self.hidden:
            raise ValueError(f"the adapter reads pooled features [batch, {self.hidden}], not {list(pooled.shape)}")
        return pooled @ self.weights + self.bias  # type: ignore[no-any-return]


@dataclass(frozen=True)
class HeadAdaptParams:
    """Everything that decides a head adapter's fit, recorded in the model file."""

    # L2 penalty on W: the loss is summed over rows, so the verdicts weigh more as they accumulate.
    l2: float = 1.0
    # The bias is penalised harder: verdicts come from the review queue, a skewed sample, and a bias moves every
    # comment stage 2 reads, including ones unlike any verdict (as model.adapt does for stage 1).
    bias_l2: float = 20.0
    max_iter: int = 500

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, float | int]) -> HeadAdaptParams:
        """Rebuild parameters recorded in a manifest."""
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AdapterFit:
    """A fitted adapter (None when no category could be fitted) and the report the manifest keeps."""

    adapter: HeadAdapter | None
    report: dict[str, Any]


def fit_head_adapter(
    stage2: Stage2Model,
    texts: Sequence[str],
    labels: np.ndarray,
    categories: Sequence[str],
    params: HeadAdaptParams,
    row_weights: Sequence[float] | None = None,
    progress: Callable[[float], None] | None = None,
) -> AdapterFit:
    """Fit an adapter on labelled rows: `texts` as stage 2 reads them, `labels` [n, 7] (UNKNOWN_LABEL where unlabelled).

    Only `categories` (those stage 2 decides) with at least one known label are fitted. The rows are the ones
    given, routed or not: the caller decides (a retrain gives every verdict row it trains stage 1 with).
    """
    labels = np.asarray(labels, dtype=np.float64).reshape(len(texts), len(CATEGORIES))
    weights_in = np.ones(len(texts)) if row_weights is None else np.asarray(row_weights, dtype=np.float64)
    order = sorted(range(len(texts)), key=lambda i: (texts[i], tuple(labels[i]), float(weights_in[i])))
    ordered_texts = [texts[i] for i in order]
    labels, weights_in = labels[order], weights_in[order]
    if not ordered_texts:
        return AdapterFit(None, _report(0, 0, params, {c: {"rows": 0, "adapted": False} for c in categories}))
    logits, pooled = stage2.features_many(ordered_texts, progress=progress)
    base = logits * stage2.config.slope + stage2.config.offset  # the calibrated logits, without any adapter
    hidden = pooled.shape[1]
    weights = np.zeros((hidden, len(CATEGORIES)))
    bias = np.zeros(len(CATEGORIES))
    per_category: dict[str, dict[str, Any]] = {}
    for category in (c for c in CATEGORIES if c in categories):
        j = CATEGORIES.index(category)
        known = labels[:, j] != UNKNOWN_LABEL
        if not known.any():
            per_category[category] = {"rows": 0, "adapted": False}
            continue
        w, b, info = _fit_category(pooled[known], labels[known, j], weights_in[known], base[known, j], params)
        weights[:, j], bias[j] = w, b
        per_category[category] = {
            "rows": int(known.sum()),
            "positives": int(labels[known, j].sum()),
            "adapted": True,
            **info,
        }
    adapted = any(entry["adapted"] for entry in per_category.values())
    report = _report(len(ordered_texts), hidden, params, per_category)
    return AdapterFit(HeadAdapter.checked(weights, bias) if adapted else None, report)


def _report(rows: int, hidden: int, params: HeadAdaptParams, categories: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": rows,
        "hidden": hidden,
        "started_from": STARTED_FROM,
        "params": params.as_dict(),
        "categories": categories,
    }


def _fit_category(
    pooled: np.ndarray, y: np.ndarray, weight: np.ndarray, base: np.ndarray, params: HeadAdaptParams
) -> tuple[np.ndarray, float, dict[str, float | int]]:
    """Minimise the weighted log loss of sigmoid(base + pooled·w + b) plus L2 on w and b."""
    hidden = pooled.shape[1]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:hidden], theta[hidden]
        z = base + pooled @ w + b
        # log(1 + e^z) - y z, computed without overflow.
        loss = float(weight @ (np.logaddexp(0.0, z) - y * z))
        loss += 0.5 * params.l2 * float(w @ w) + 0.5 * params.bias_l2 * b * b
        dz = weight * (sigmoid(z) - y)
        gradient = np.empty_like(theta)
        gradient[:hidden] = pooled.T @ dz + params.l2 * w
        gradient[hidden] = float(dz.sum()) + params.bias_l2 * b
        return loss, gradient

    start = np.zeros(hidden + 1)
    initial_loss = objective(start)[0]
    result = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": params.max_iter, "gtol": 1e-6})
    theta = result.x
    info = {
        "loss_before": round(float(initial_loss), 6),
        "loss_after": round(float(result.fun), 6),
        "iterations": int(result.nit),
        "bias_shift": round(float(theta[hidden]), 6),
        "weights_norm": round(float(np.linalg.norm(theta[:hidden])), 6),
    }
    return theta[:hidden], float(theta[hidden]), info
