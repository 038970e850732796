"""Train the per-category classifier from labelled examples: split, featurize, fit, calibrate, pick thresholds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from model.categories import CATEGORIES, UNKNOWN_LABEL
from model.corpora import Example
from model.features import FeatureParams, Featurizer
from model.linear import LinearModel
from model.metrics import category_metrics
from model.normalize import normalize_text
from model.thresholds import ThresholdTargets, choose_thresholds
from model.types import Thresholds

Progress = Callable[[str, float], None]


def _silent(stage: str, fraction: float) -> None:
    """Progress sink that reports nothing."""


class TrainingDataError(ValueError):
    """Labelled data that cannot train a model: none was found, or too little to learn any feature from."""


@dataclass(frozen=True)
class TrainParams:
    """Everything that decides the trained model, recorded in the artifact."""

    seed: int = 13
    test_share: float = 0.1
    calibration_share: float = 0.1
    regularization_c: float = 4.0
    naive_bayes_scaling: bool = True
    max_iter: int = 1000
    # Tweets from other platforms inform the model without outvoting the comment-section corpora; the few
    # identity-balance sentences count more so identity words alone stop predicting toxicity.
    corpus_weights: dict[str, float] = field(
        default_factory=lambda: {
            "davidson_hate_offensive": 0.5,
            "hatexplain_magpie": 0.5,
            "olid": 0.5,
            "identity_balance": 4.0,
        }
    )
    features: FeatureParams = field(default_factory=FeatureParams)
    targets: ThresholdTargets = field(default_factory=ThresholdTargets)

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "test_share": self.test_share,
            "calibration_share": self.calibration_share,
            "regularization_c": self.regularization_c,
            "naive_bayes_scaling": self.naive_bayes_scaling,
            "max_iter": self.max_iter,
            "corpus_weights": dict(self.corpus_weights),
            "features": self.features.as_dict(),
            "targets": self.targets.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> TrainParams:
        """Rebuild parameters recorded in a manifest."""
        values = dict(data)
        features = FeatureParams(**values.pop("features"))  # type: ignore[arg-type]
        targets = ThresholdTargets(**values.pop("targets"))  # type: ignore[arg-type]
        return cls(features=features, targets=targets, **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PreparedExample:
    """An example with its normalized text, ready to featurize."""

    example: Example
    normalized: str


@dataclass(frozen=True)
class Split:
    """Disjoint train / calibration / test parts of the de-duplicated examples."""

    train: list[PreparedExample]
    calibration: list[PreparedExample]
    test: list[PreparedExample]


@dataclass
class TrainedModel:
    """A fitted model with its thresholds and the hold-out metrics measured on the test part."""

    model: LinearModel
    thresholds: Thresholds
    metrics: dict[str, object]
    params: TrainParams
    rows: dict[str, int]
    rows_sha256: str


def prepare(examples: Sequence[Example]) -> list[PreparedExample]:
    """Normalize every example's text once."""
    return [PreparedExample(example, normalize_text(example.text)) for example in examples]


def split_examples(prepared: Sequence[PreparedExample], params: TrainParams) -> Split:
    """Split by a seeded hash of the normalized text, so the split does not depend on row order."""
    return split_by_bucket(
        prepared, lambda text: split_bucket(text, params.seed), params.test_share, params.calibration_share
    )


def split_by_bucket(
    prepared: Sequence[PreparedExample], bucket_of: Callable[[str], float], test_share: float, calibration_share: float
) -> Split:
    """Test where a normalized text's bucket (in [0, 1)) is below `test_share`, calibration in the next
    `calibration_share`, train above."""
    split = Split([], [], [])
    for item in prepared:
        bucket = bucket_of(item.normalized)
        if bucket < test_share:
            split.test.append(item)
        elif bucket < test_share + calibration_share:
            split.calibration.append(item)
        else:
            split.train.append(item)
    return split


def split_bucket(text: str, seed: int) -> float:
    """A stable number in [0, 1) from the seed and a normalized text: where the text falls in the split."""
    digest = hashlib.blake2b(f"{seed}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def rows_fingerprint(prepared: Sequence[PreparedExample]) -> str:
    """Order-independent SHA-256 over the normalized texts and labels that trained a model."""
    lines = sorted(f"{item.normalized}\x00{sorted(item.example.labels.items())}" for item in prepared)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def labels_matrix(prepared: Sequence[PreparedExample]) -> np.ndarray:
    """(n, n_categories) labels, UNKNOWN_LABEL where the source says nothing about a category."""
    matrix = np.full((len(prepared), len(CATEGORIES)), UNKNOWN_LABEL, dtype=np.int8)
    for row, item in enumerate(prepared):
        for column, category in enumerate(CATEGORIES):
            value = item.example.labels.get(category)
            if value is not None:
                matrix[row, column] = 1 if value else 0
    return matrix


def fit_category(
    features: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray, params: TrainParams
) -> tuple[np.ndarray, float]:
    """One category's weights (naive-Bayes scale folded in) and intercept."""
    scale = _naive_bayes_ratio(features, y, weight) if params.naive_bayes_scaling else np.ones(features.shape[1])
    classifier = LogisticRegression(
        C=params.regularization_c,
        solver="liblinear",
        max_iter=params.max_iter,
        random_state=params.seed,
    )
    classifier.fit(features.multiply(scale).tocsr(), y, sample_weight=weight)
    return classifier.coef_[0] * scale, float(classifier.intercept_[0])


def fit_linear(
    features: sparse.csr_matrix,
    labels: np.ndarray,
    row_weights: np.ndarray,
    featurizer: Featurizer,
    params: TrainParams,
    progress: Progress = _silent,
    only_categories: set[str] | None = None,
) -> LinearModel:
    """Fit one logistic regression per category on the rows that label it (uncalibrated), two at a time."""
    n_categories = len(CATEGORIES)
    weights = np.zeros((featurizer.n_features, n_categories))
    intercepts = np.zeros(n_categories)
    trained = np.zeros(n_categories, dtype=bool)
    jobs = {}
    # liblinear releases the GIL, so threads use both cores without copying the matrix to processes.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for column, category in enumerate(CATEGORIES):
            known = labels[:, column] >= 0
            y = labels[known, column]
            if len(np.unique(y)) < 2 or (only_categories is not None and category not in only_categories):
                continue
            jobs[column] = pool.submit(fit_category, features[known], y, row_weights[known], params)
        for done, (column, job) in enumerate(jobs.items()):
            weights[:, column], intercepts[column] = job.result()
            trained[column] = True
            progress(f"fit {CATEGORIES[column]}", (done + 1) / max(len(jobs), 1))
    return LinearModel(
        featurizer=featurizer,
        categories=CATEGORIES,
        # Rounded to float32 now, as the artifact stores them, so measured metrics match the shipped model.
        weights=weights.astype(np.float32).astype(np.float64),
        intercepts=intercepts,
        calibration_slope=np.ones(n_categories),
        calibration_offset=np.zeros(n_categories),
        trained=trained,
    )


def _naive_bayes_ratio(x: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Smoothed, row-weighted log-count ratio of each feature between positive and negative rows (NB-LR)."""
    positive = np.asarray(x[y == 1].T @ weight[y == 1]).ravel() + 1.0
    negative = np.asarray(x[y == 0].T @ weight[y == 0]).ravel() + 1.0
    ratio = np.log((positive / positive.sum()) / (negative / negative.sum()))
    # Keep the scale positive and bounded so a feature's sign comes from the regression alone.
    return np.abs(ratio) + 0.1


def fit_calibration(model: LinearModel, margins: np.ndarray, labels: np.ndarray) -> None:
    """Platt-scale each category's margins on the calibration rows, in place."""
    for column in range(len(model.categories)):
        known = labels[:, column] >= 0
        y = labels[known, column]
        if not model.trained[column] or len(np.unique(y)) < 2:
            continue
        platt = LogisticRegression(C=1e4, solver="lbfgs")
        platt.fit(margins[known, column].reshape(-1, 1), y)
        model.calibration_slope[column] = platt.coef_[0, 0]
        model.calibration_offset[column] = platt.intercept_[0]


def train_model(
    examples: Sequence[Example],
    params: TrainParams,
    progress: Progress = _silent,
    only_categories: set[str] | None = None,
) -> TrainedModel:
    """Train, calibrate and threshold a model; measure it on the held-out test part."""
    progress("normalize", 0.0)
    prepared = prepare(examples)
    split = split_examples(prepared, params)
    progress("vocabulary", 0.1)
    featurizer = Featurizer.fit((item.normalized for item in split.train), params.features)
    if featurizer.n_features == 0:
        raise TrainingDataError(
            f"too little data to learn from: no word or character fragment occurs in enough of the "
            f"{len(split.train)} training texts (at least {params.features.word_min_df} for words, "
            f"{params.features.char_min_df} for fragments)"
        )
    progress("featurize", 0.25)
    train_x = featurizer.matrix(item.normalized for item in split.train)
    train_y = labels_matrix(split.train)
    weights = np.array([params.corpus_weights.get(i.example.corpus, 1.0) for i in split.train])

    def fit_progress(stage: str, fraction: float) -> None:
        progress(stage, 0.4 + 0.45 * fraction)

    model = fit_linear(train_x, train_y, weights, featurizer, params, fit_progress, only_categories)
    progress("calibrate", 0.85)
    calibration_y = labels_matrix(split.calibration)
    calibration_margins = model.batch_margins(featurizer.matrix(i.normalized for i in split.calibration))
    fit_calibration(model, calibration_margins, calibration_y)
    thresholds = choose_thresholds(model.calibrate(calibration_margins), calibration_y, model.trained, params.targets)
    progress("evaluate", 0.95)
    test_y = labels_matrix(split.test)
    test_probs = model.probabilities_many(i.normalized for i in split.test)
    corpora = [item.example.corpus for item in split.test]
    metrics: dict[str, object] = {"holdout": category_metrics(test_probs, test_y, thresholds, corpora)}
    progress("done", 1.0)
    return TrainedModel(
        model=model,
        thresholds=thresholds,
        metrics=metrics,
        params=params,
        rows={"train": len(split.train), "calibration": len(split.calibration), "test": len(split.test)},
        rows_sha256=rows_fingerprint(split.train),
    )
