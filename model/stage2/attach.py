"""Measure a cascade before it is sealed: its routing from a budget, and thresholds on its final scores.

Both are measured on stage 1's calibration split of the corpora it was trained on. Stage 2 splits its rows with
the same bucket, seed and shares (model.stage2.data.split_rows), so neither stage trained on these rows. Our own
identity-balance sentences are left out, as from every other measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model import cascade
from model.artifact import Artifact, stage1_thresholds_of
from model.build import load_dataset
from model.categories import CATEGORIES
from model.compare import probabilities
from model.identity_balance import NAME as BALANCE
from model.scorer import Scorer
from model.thresholds import choose_thresholds
from model.train import PreparedExample, TrainParams, labels_matrix, prepare, split_examples
from model.types import Thresholds

if TYPE_CHECKING:
    from model.stage2.runtime import Stage2Model

ABUSE_CATEGORIES = tuple(c for c in CATEGORIES if c != "spam")
STREAM_ROWS = 4000
# The stream's clean comments come from ordinary discussion (talk pages, news comments), not from corpora that
# pre-selected posts for slurs or offence (tweets, Gab, Civil Comments' toxic sample), whose "clean" rows are
# borderline by construction; its abusive comments come from every corpus.
STREAM_CLEAN_CORPORA = ("jigsaw_toxic_2018", "wiki_talk_cat_large", "fox_news_comments")


@dataclass(frozen=True)
class CascadeMeasurement:
    """What attaching measured: the routing settings, the thresholds on final scores, and how many rows."""

    settings: cascade.CascadeSettings
    thresholds: Thresholds
    report: dict[str, Any]


def calibration_rows(base: Artifact, data: Sequence[Path]) -> list[PreparedExample]:
    """Stage 1's calibration split of the corpora under `data` it was trained on, without identity balance."""
    params = TrainParams.from_dict(base.manifest["params"])
    trained = {corpus["name"] for corpus in base.manifest["corpora"]} - {BALANCE}
    dataset = load_dataset(list(data))
    split = split_examples(prepare(dataset.examples), params)
    return [row for row in split.calibration if row.example.corpus in trained]


def is_abusive(row: PreparedExample) -> bool:
    """Labelled 1 in any abuse category (spam is not abuse)."""
    return any(row.example.labels.get(c) == 1 for c in ABUSE_CATEGORIES)


def measure(
    base: Artifact,
    stage2: Stage2Model,
    data: Sequence[Path],
    *,
    budget: float = cascade.DEFAULT_ROUTE_BUDGET,
    route_words: Sequence[str] = cascade.DEFAULT_ROUTE_WORDS,
    stage1_categories: Sequence[str] = cascade.DEFAULT_STAGE1_CATEGORIES,
    passages: int = 1,
) -> CascadeMeasurement:
    """Routing within `budget` of a site-like stream, then per-category thresholds from the model's targets
    (`passages`: how many passages of a long routed comment stage 2 may read, CascadeSettings.passages)."""
    rows = calibration_rows(base, data)
    if not rows:
        raise ValueError(f"no calibration rows of the model's corpora under {', '.join(map(str, data))}")
    linear = base.model
    stage1 = probabilities(linear, rows)
    abusive = [is_abusive(r) for r in rows]
    pool = [i for i, r in enumerate(rows) if abusive[i] or r.example.corpus in STREAM_CLEAN_CORPORA]
    clean_from = "ordinary discussion: " + ", ".join(STREAM_CLEAN_CORPORA)
    if all(abusive[i] for i in pool):  # none of those corpora given (e.g. one labelled file): every clean row
        pool, clean_from = list(range(len(rows))), "every corpus given"
    stream = [pool[i] for i in cascade.site_stream([abusive[i] for i in pool], STREAM_ROWS)]
    review = {c: t["review"] for c, t in stage1_thresholds_of(base.manifest).items()}
    settings = cascade.budget_settings(
        np.round(stage1[stream], 4),
        [rows[i].normalized for i in stream],
        [abusive[i] for i in stream],
        review,
        budget=budget,
        route_words=route_words,
        stage1_categories=stage1_categories,
    )
    # Read the rows as the served model will, then fit the blend of both stages on the rows stage 2 read.
    settings = replace(settings, passages=passages)
    scorer = Scorer(Artifact(base.model, base.manifest, stage2, settings))
    read = scorer.read_both_stages([r.example.text for r in rows])
    labels = labels_matrix(rows)
    blend = cascade.fit_blend(read.stage1[read.routed], read.stage2, labels[read.routed], settings.stage2_categories)
    settings = replace(settings, blend=blend)
    final, routed = read.final(settings), read.routed
    targets = TrainParams.from_dict(base.manifest["params"]).targets
    thresholds = choose_thresholds(final, labels, linear.trained, targets)
    report = {
        "calibration_rows": len(rows),
        "calibration_routed_share": round(float(routed.mean()), 4),
        "stream_clean_from": clean_from,
    }
    settings = replace(settings, routing={**(settings.routing or {}), **report})
    return CascadeMeasurement(settings, thresholds, report)
