"""Evaluate a model version: random hold-out, cross-corpus splits, the peer on the same rows, and fairness."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, cast

import numpy as np

from model.categories import CATEGORIES
from model.compare import probabilities
from model.corpora import Example
from model.fairness import IDENTITY_GROUPS, NON_TOXIC_TEMPLATES, bias_report, groups_mentioned
from model.identity_balance import NAME as BALANCE
from model.linear import LinearModel
from model.metrics import category_metrics, ranking_metrics
from model.train import (
    PreparedExample,
    Progress,
    TrainingDataError,
    TrainParams,
    _silent,
    labels_matrix,
    prepare,
    split_examples,
    train_model,
)
from model.types import Thresholds

PeerScorer = Callable[[list[str]], np.ndarray]
# The shipped model's final probabilities ([n, 7] in CATEGORIES order) for comments as submitted: stage 1's, or
# the cascade's (model.scorer.Scorer.final_probabilities).
FinalScores = Callable[[Sequence[str]], np.ndarray]
# Corpora whose sub-groups are separate sources (one YouTube video each): evaluate across groups.
GROUPED_CORPORA = ("youtube_spam",)


def load_peer() -> tuple[str, PeerScorer] | None:
    """alt-profanity-check's probability function, when it is installed."""
    try:
        from profanity_check import predict_prob  # type: ignore[import-not-found]
    except ImportError:
        return None
    from importlib.metadata import version

    return f"alt-profanity-check {version('alt-profanity-check')}", predict_prob


@dataclass
class ScoredRows:
    """Rows with labels, our probabilities and (optionally) the peer's, ready for metrics."""

    rows: list[PreparedExample]
    labels: np.ndarray
    ours: np.ndarray
    peer: np.ndarray | None


def score_rows(model: LinearModel, rows: Sequence[PreparedExample], peer: PeerScorer | None) -> ScoredRows:
    """Score rows with our model and the peer."""
    ours = probabilities(model, rows)
    peer_scores = np.asarray(peer([item.example.text for item in rows])) if peer and rows else None
    return ScoredRows(list(rows), labels_matrix(rows), ours, peer_scores)


def peer_metrics(scored: ScoredRows) -> dict[str, dict[str, object]]:
    """The peer's single score against each category's labels, per corpus."""
    if scored.peer is None:
        return {}
    corpora = np.array([item.example.corpus for item in scored.rows])
    report: dict[str, dict[str, object]] = {}
    for column, category in enumerate(CATEGORIES):
        known = scored.labels[:, column] >= 0
        for corpus in sorted(set(corpora[known])):
            rows = known & (corpora == corpus)
            report.setdefault(corpus, {})[category] = ranking_metrics(
                scored.peer[rows], scored.labels[rows, column].astype(int)
            )
    return report


def section(scored: ScoredRows, thresholds: Thresholds, trained: Sequence[bool] | None = None) -> dict[str, object]:
    """Our metrics per category and per corpus, with the peer's per corpus, on the same rows.

    A category the model was never trained on (`trained` False) has no ranking to measure: its AUC and
    average precision are None and it is marked untrained, rather than scoring a constant as 0.5.
    """
    corpora = [item.example.corpus for item in scored.rows]
    ours = category_metrics(scored.ours, scored.labels, thresholds, corpora)
    untrained = (
        {c for c, fitted in zip(CATEGORIES, trained, strict=True) if not fitted} if trained is not None else set()
    )
    categories = cast(dict[str, dict[str, Any]], ours["categories"])
    by_corpus = cast(dict[str, dict[str, dict[str, Any]]], ours["by_corpus"])
    for by_category in [categories, *by_corpus.values()]:
        for category in untrained & by_category.keys():
            by_category[category].update(roc_auc=None, average_precision=None, untrained=True)
    return {"ours": ours, "peer": peer_metrics(scored)}


def holdout_rows(examples: Sequence[Example], params: TrainParams, trained_corpora: set[str]) -> list[PreparedExample]:
    """The test part of the split the model was trained with, plus every row of corpora it never saw (once)."""
    prepared = prepare(examples)
    # Our own identity-balance sentences are a training aid, not evidence: keep them out of every measurement.
    seen = trained_corpora - {BALANCE}
    test = [item for item in split_examples(prepared, params).test if item.example.corpus in seen]
    unseen = [item for item in prepared if item.example.corpus not in trained_corpora | {BALANCE}]
    return test + unseen


def cross_units(examples: Sequence[Example]) -> list[tuple[str, Callable[[Example], bool]]]:
    """Held-out units: each corpus, or each group of a grouped corpus (one YouTube video)."""
    units: list[tuple[str, Callable[[Example], bool]]] = []
    # A unit with no category that has both classes (e.g. the all-negative identity-balance sentences) has no AUC.
    positive = {e.corpus for e in examples if 1 in e.labels.values()}
    negative = {e.corpus for e in examples if 0 in e.labels.values()}
    corpora = sorted(positive & negative)
    for corpus in corpora:
        if corpus in GROUPED_CORPORA:
            for group in sorted({e.group for e in examples if e.corpus == corpus}):
                units.append((f"{corpus}/{group}", partial(_in_group, corpus, group)))
        else:
            units.append((corpus, partial(_in_group, corpus, None)))
    return units


def _in_group(corpus: str, group: str | None, example: Example) -> bool:
    """Whether an example belongs to a corpus (and, when given, one of its groups)."""
    return example.corpus == corpus and (group is None or example.group == group)


def linear_probabilities(model: LinearModel) -> FinalScores:
    """Stage 1's calibrated probabilities as a FinalScores function."""
    from model.normalize import normalize_text

    def probabilities(texts: Sequence[str]) -> np.ndarray:
        return model.probabilities_many(normalize_text(t) for t in texts)

    return probabilities


def evaluate(
    model: LinearModel,
    thresholds: Thresholds,
    params: TrainParams,
    trained_corpora: set[str],
    examples: Sequence[Example],
    cross_corpus: bool = True,
    progress: Progress = _silent,
    *,
    final: FinalScores | None = None,
    stage1_thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """The full evaluation report of one model version on de-duplicated examples.

    With `final` (a cascade), the hold-out, fairness and template figures are the final scores under
    `thresholds`, and `stage1_holdout` is stage 1 alone under `stage1_thresholds` on the same rows; the
    cross-corpus splits retrain and measure stage 1 only.
    """
    loaded_peer = load_peer()
    peer_name, peer = loaded_peer if loaded_peer else ("(alt-profanity-check not installed)", None)
    progress("hold-out", 0.0)
    stage1 = score_rows(model, holdout_rows(examples, params, trained_corpora), peer)
    holdout = stage1 if final is None else replace(stage1, ours=final([r.example.text for r in stage1.rows]))
    report: dict[str, Any] = {"peer": peer_name, "holdout": section(holdout, thresholds, list(model.trained))}
    if final is not None:
        report["stage1_holdout"] = section(stage1, stage1_thresholds or thresholds, list(model.trained))
    report["fairness"] = fairness_section(final or linear_probabilities(model), thresholds, holdout)
    if cross_corpus:
        units = cross_units(examples)
        report["cross_corpus"] = {}
        for index, (name, in_unit) in enumerate(units):
            progress(f"cross {name}", (index + 1) / (len(units) + 1))
            report["cross_corpus"][name] = cross_section(
                model, thresholds if final is None else stage1_thresholds or thresholds, params, trained_corpora,
                examples, name, in_unit, peer,
            )  # fmt: skip
    progress("done", 1.0)
    return report


def cross_section(
    model: LinearModel,
    thresholds: Thresholds,
    params: TrainParams,
    trained_corpora: set[str],
    examples: Sequence[Example],
    name: str,
    in_unit: Callable[[Example], bool],
    peer: PeerScorer | None,
) -> dict[str, object]:
    """Train without one unit and test on it (reusing the model itself when it never saw that unit)."""
    held = [e for e in examples if in_unit(e)]
    corpus = held[0].corpus
    if corpus not in trained_corpora:
        unit_model, unit_thresholds = model, thresholds
    else:
        labelled = {category for e in held for category in e.labels}
        # Only rows that label one of the held-out unit's categories can teach those categories anything.
        rest = [e for e in examples if not in_unit(e) and labelled & e.labels.keys()]
        try:
            trained = train_model(rest, params, only_categories=labelled)
        except TrainingDataError as error:
            return {"skipped": str(error)}
        unit_model, unit_thresholds = trained.model, trained.thresholds
    return section(score_rows(unit_model, prepare(held), peer), unit_thresholds, list(unit_model.trained))


def fairness_section(probabilities: FinalScores, thresholds: Thresholds, holdout: ScoredRows) -> dict[str, object]:
    """Bias metrics for toxicity on hold-out rows that mention identity groups, and the template check."""
    column = CATEGORIES.index("toxicity")
    known = holdout.labels[:, column] >= 0
    texts = [item.normalized for item, k in zip(holdout.rows, known, strict=True) if k]
    report = bias_report(
        texts, holdout.labels[known, column], holdout.ours[known, column], thresholds["toxicity"]["review"]
    )
    report["templates"] = template_check(probabilities, thresholds)
    return report


def template_check(probabilities: FinalScores, thresholds: Thresholds) -> dict[str, object]:
    """How many of our non-toxic identity templates reach any category's review threshold."""
    probs = probabilities(list(NON_TOXIC_TEMPLATES))
    flagged = []
    for text, row in zip(NON_TOXIC_TEMPLATES, probs, strict=True):
        for column, category in enumerate(CATEGORIES):
            review = thresholds[category]["review"]
            if review is not None and row[column] >= review:
                flagged.append({"text": text, "category": category, "score": round(float(row[column]), 4)})
    highest = float(probs[:, CATEGORIES.index("toxicity")].max())
    return {"templates": len(NON_TOXIC_TEMPLATES), "flagged": flagged, "max_toxicity": round(highest, 4)}


def flag_rates_by_group(
    normalized_texts: Sequence[str],
    labels: np.ndarray,
    flagged: Sequence[bool],
    corpora: Sequence[str] | None = None,
) -> dict[str, Any]:
    """False-positive rates of any flagging decision (e.g. a policy's review or reject), as in the fairness table.

    Over all non-toxic rows (label 0) and, for each identity group of model/fairness.py that some row mentions
    (normalized text), over its non-toxic mentions: rows, rows flagged and their share (None without rows). Given
    each row's corpus, a group also gets `expected_flagged`: the flags its mentions would get at the false-positive
    rate of their own corpus, so that flagged / expected separates a group's words from its corpora's mix.
    """
    labels = np.asarray(labels).astype(int)
    marked = np.asarray(flagged, dtype=bool)
    if not len(labels) == len(marked) == len(normalized_texts) or (corpora is not None and len(corpora) != len(labels)):
        raise ValueError("flag_rates_by_group needs one label, one flag (and one corpus, if any) per text")
    negative = labels == 0
    corpus_rate: np.ndarray | None = None
    if corpora is not None:
        names = np.asarray(corpora)
        rates = {name: float(marked[negative & (names == name)].mean()) for name in set(names[negative].tolist())}
        corpus_rate = np.array([rates.get(name, 0.0) for name in names])

    def rate(rows: np.ndarray) -> dict[str, Any]:
        count, hits = int(rows.sum()), int(marked[rows].sum())
        entry = {"rows": count, "flagged": hits, "false_positive_rate": hits / count if count else None}
        if corpus_rate is not None:
            entry["expected_flagged"] = float(corpus_rate[rows].sum())
        return entry

    mentions = [set(groups_mentioned(text)) for text in normalized_texts]
    groups: dict[str, Any] = {}
    for group in IDENTITY_GROUPS:
        in_group = np.array([group in found for found in mentions], dtype=bool)
        if in_group.any():
            groups[group] = {"mentions": int(in_group.sum()), **rate(in_group & negative)}
    return {"overall": rate(negative), "groups": groups}
