"""Compare a candidate model with the active one on the same labelled rows, category by category.

A category is judged only when the shared hold-out has enough rows that label it, with enough of both classes
(ROC AUC needs both): `MIN_ROWS` rows with `MIN_POSITIVES` positives and `MIN_NEGATIVES` negatives. Fewer, and
its AUC is noise: it is reported, marked not measurable with the reason, and not judged. The comparison passes
only when at least one category was measured and no measured category is worse; with none measured its outcome
is `not measured`, which needs force (and a reason) to promote, exactly like `worse`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from model.categories import CATEGORIES
from model.linear import LinearModel
from model.metrics import ranking_metrics
from model.train import PreparedExample, labels_matrix

MIN_ROWS = 30
MIN_POSITIVES = 5
MIN_NEGATIVES = 5
# A category's verdict.
BETTER, NOT_WORSE, WORSE, NOT_MEASURABLE = "better", "not-worse", "worse", "not measurable"
# A comparison's outcome: `passed`, `worse` (some measured category is worse) or `not measured` (none was).
PASSED, NOT_MEASURED = "passed", "not measured"
# Which scores a comparison ranked: stage 1's, or the cascade's final scores when both versions are cascades.
STAGE1_SCORES, FINAL_SCORES = "stage 1", "final (cascade)"
NEEDED = f"at least {MIN_ROWS} rows with {MIN_POSITIVES} positives and {MIN_NEGATIVES} negatives are needed"


def probabilities(model: LinearModel, rows: Sequence[PreparedExample]) -> np.ndarray:
    """Calibrated probabilities of a model for prepared rows, in category order."""
    if not rows:
        return np.zeros((0, len(model.categories)))
    return model.probabilities_many(item.normalized for item in rows)


def compare_models(
    candidate: LinearModel,
    active: LinearModel,
    rows: Sequence[PreparedExample],
    tolerance: float,
) -> dict[str, Any]:
    """ROC AUC and average precision of two stage-1 models per category (and per source), judged by `judge`."""
    return compare_scores(probabilities(candidate, rows), probabilities(active, rows), rows, tolerance, STAGE1_SCORES)


def compare_scores(
    ours: np.ndarray,
    theirs: np.ndarray,
    rows: Sequence[PreparedExample],
    tolerance: float,
    scores: str,
) -> dict[str, Any]:
    """compare_models on scores already computed ([rows, 7] each, CATEGORIES order); `scores` says which."""
    labels = labels_matrix(rows)
    sources = np.array([item.example.corpus for item in rows])
    categories: dict[str, object] = {}
    by_source: dict[str, dict[str, object]] = {}
    for column, category in enumerate(CATEGORIES):
        known = labels[:, column] >= 0
        categories[category] = _side_by_side(ours[known, column], theirs[known, column], labels[known, column])
        for source in sorted(set(sources[known])):
            part = known & (sources == source)
            by_source.setdefault(source, {})[category] = _side_by_side(
                ours[part, column], theirs[part, column], labels[part, column]
            )
    return judge(
        {
            "rows": len(rows),
            "scores": scores,
            "metric": "roc_auc",
            "tolerance": tolerance,
            "categories": categories,
            "by_source": by_source,
        }
    )


def _side_by_side(ours: np.ndarray, theirs: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    if len(labels) == 0:
        return {"n": 0, "positives": 0, "candidate": None, "active": None, "delta_roc_auc": None}
    candidate = ranking_metrics(ours, labels.astype(int))
    active = ranking_metrics(theirs, labels.astype(int))
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


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def shortfall(rows: int, positives: int) -> str | None:
    """Why a category with these hold-out counts cannot be judged; None when it has enough of both classes."""
    negatives = rows - positives
    if rows >= MIN_ROWS and positives >= MIN_POSITIVES and negatives >= MIN_NEGATIVES:
        return None
    if rows == 0:
        return f"no hold-out rows label it; {NEEDED}"
    return f"{_count(rows, 'row')}, {_count(positives, 'positive')}, {_count(negatives, 'negative')}; {NEEDED}"


def _verdict(delta: float, tolerance: float) -> str:
    # Rounded AUCs: compare with a little slack so a delta of exactly -tolerance is not "worse".
    if delta < -tolerance - 1e-9:
        return WORSE
    if delta > tolerance + 1e-9:
        return BETTER
    return NOT_WORSE


def _in_category_order(names: Sequence[str]) -> list[str]:
    known = [name for name in CATEGORIES if name in names]
    return known + sorted(set(names) - set(known))


def judge(comparison: Mapping[str, Any]) -> dict[str, Any]:
    """The comparison with each category's verdict and reason and its outcome, under the current minimums.

    Only the counts, the AUC differences and the tolerance are read, so a comparison stored before the
    minimums existed (no `negatives`, `reason` or `outcome`, `passed` true on nothing) is judged the same way.
    """
    tolerance = float(comparison["tolerance"])
    categories: dict[str, dict[str, Any]] = {}
    for category, entry in comparison["categories"].items():
        rows, positives = int(entry["n"]), int(entry["positives"])
        reason = shortfall(rows, positives)
        delta = entry.get("delta_roc_auc")
        if reason is None and delta is None:
            reason = "one of the two models has no ROC AUC on these rows"
        verdict = NOT_MEASURABLE if reason is not None else _verdict(float(delta), tolerance)
        categories[category] = {**entry, "negatives": rows - positives, "verdict": verdict, "reason": reason}
    measured = _in_category_order([c for c, entry in categories.items() if entry["verdict"] != NOT_MEASURABLE])
    worse = [c for c in measured if categories[c]["verdict"] == WORSE]
    outcome = WORSE if worse else PASSED if measured else NOT_MEASURED
    judged = {
        **comparison,
        "min_rows": MIN_ROWS,
        "min_positives": MIN_POSITIVES,
        "min_negatives": MIN_NEGATIVES,
        "categories": categories,
        "measured": measured,
        "worse": worse,
        "passed": outcome == PASSED,
        "outcome": outcome,
    }
    judged["summary"] = summary(judged)
    return judged


def summary(judged: Mapping[str, Any]) -> str:
    """One line on a judged comparison's outcome, with the counts that left categories unmeasured."""
    categories: Mapping[str, Mapping[str, Any]] = judged["categories"]
    if judged["outcome"] == WORSE:
        return "worse on " + ", ".join(judged["worse"])
    unmeasured = _in_category_order([c for c in categories if c not in judged["measured"]])
    if judged["outcome"] == PASSED:
        text = "not worse on any measured category (" + ", ".join(judged["measured"]) + ")"
        return text + (f"; too few hold-out rows to measure {', '.join(unmeasured)}" if unmeasured else "")
    counted = [
        f"{c} {_count(categories[c]['n'], 'row')} with {_count(categories[c]['positives'], 'positive')} and "
        f"{_count(categories[c]['n'] - categories[c]['positives'], 'negative')}"
        for c in unmeasured
        if categories[c]["n"]
    ]
    empty = [c for c in unmeasured if not categories[c]["n"]]
    parts = counted + ([f"no hold-out rows for {', '.join(empty)}"] if empty else [])
    return (
        f"not measured on any category: {'; '.join(parts) or 'no categories'}; each category needs at least "
        f"{MIN_ROWS} hold-out rows with {MIN_POSITIVES} positives and {MIN_NEGATIVES} negatives"
    )
