"""The trained classifier as plain arrays: one calibrated linear model per category over shared features."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from model.features import Featurizer


@dataclass
class LinearModel:
    """Per-category weights (naive-Bayes scaling folded in), intercepts and Platt calibration."""

    featurizer: Featurizer
    categories: tuple[str, ...]
    weights: np.ndarray  # (n_features, n_categories), C-contiguous so row gathers are cheap
    intercepts: np.ndarray  # (n_categories,)
    calibration_slope: np.ndarray  # (n_categories,)
    calibration_offset: np.ndarray  # (n_categories,)
    trained: np.ndarray  # (n_categories,) bool: False where no corpus labelled the category

    def __post_init__(self) -> None:
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float64)

    def margins(self, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Raw linear margins for one sparse vector."""
        if len(ids) == 0:
            return self.intercepts.copy()
        # take() gathers the rows in about half the time fancy indexing does, with the same values.
        return values @ self.weights.take(ids, axis=0) + self.intercepts

    def calibrate(self, margins: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from margins (works on one row or a matrix of rows)."""
        z = self.calibration_slope * margins + self.calibration_offset
        probs = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return np.where(self.trained, probs, 0.0)

    def batch_margins(self, matrix: sparse.csr_matrix) -> np.ndarray:
        """Raw margins for a CSR matrix of TF-IDF rows."""
        return np.asarray(matrix @ self.weights) + self.intercepts

    def probabilities_many(self, normalized_texts: Iterable[str]) -> np.ndarray:
        """Calibrated probabilities ([rows, categories]) of already normalized texts."""
        return self.calibrate(self.batch_margins(self.featurizer.matrix(normalized_texts)))
