"""Retraining: assemble base corpora, imported files and moderators' verdicts; build, judge and register a candidate.

With base corpora configured (MODERATION_BASE_CORPORA) a retrain trains a new model from everything. Without
them it adapts the active model (see `model.adapt`). Either way a deterministic share of the verdicts (by a
seeded hash of the comment id) never trains anything: with the test split of the base corpora and imported files
(by a seeded hash of the normalized text, the split the shipped model was trained with) it is the fixed hold-out
on which the candidate and the active model are compared, row for row, before the candidate may be promoted.
`model.compare` says when a category counts as measured; a candidate measured on none needs force to promote.

When the active model is a cascade, the candidate carries its stage-2 graph unchanged (`artifact.carry_stage2`)
and, when that graph answers `pooled`, a head adapter fitted afresh from the verdicts (`model.stage2.adapt`);
both versions are then compared by their final (cascade) scores.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model import artifact, private_files
from model.adapt import AdaptParams, adapt_model
from model.artifact import FittedAdapter, ModelLoadError
from model.build import Dataset, load_dataset
from model.cascade import CascadeSettings
from model.categories import CATEGORIES
from model.compare import FINAL_SCORES, compare_models, compare_scores, probabilities
from model.corpora import Example, LoadedCorpus, corpus_summary, deduplicate
from model.identity_balance import NAME as BALANCE
from model.linear import LinearModel
from model.metrics import category_metrics
from model.misspellings import ModelReading
from model.normalize import normalize_text
from model.scorer import Scorer
from model.stage2.adapt import HeadAdaptParams, fit_head_adapter
from model.train import (
    PreparedExample,
    Progress,
    TrainParams,
    _silent,
    labels_matrix,
    prepare,
    rows_fingerprint,
    split_examples,
    train_model,
)
from model.types import Thresholds
from moderation.errors import Invalid, NotFound
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import datasets as ds
from moderation.training import registry

if TYPE_CHECKING:
    from model.stage2.runtime import Stage2Model

VERDICT_CORPUS = "moderators"
# Scores suggested through Perspective's comments:suggestscore (Coral's moderators' decisions): learnt as verdicts.
FEEDBACK_CORPUS = "perspective_feedback"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainParams:
    """What decides a retrain besides the data; recorded so the same inputs rebuild the same model."""

    seed: int = 13
    verdict_holdout_share: float = 0.25
    # Verdicts count more than a corpus row in a full retrain: they are this site's own judgement.
    verdict_weight: float = 4.0
    # For a rebuild: only verdicts up to this label id, only these datasets, adapting this version.
    up_to_label_id: int | None = None
    up_to_feedback_id: int | None = None
    dataset_ids: tuple[int, ...] | None = None
    adapt_root: str | None = None
    adapt: AdaptParams = field(default_factory=AdaptParams)
    stage2_adapt: HeadAdaptParams = field(default_factory=HeadAdaptParams)

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "verdict_holdout_share": self.verdict_holdout_share,
            "verdict_weight": self.verdict_weight,
            "adapt": self.adapt.as_dict(),
            "stage2_adapt": self.stage2_adapt.as_dict(),
        }


def rebuild_params(store: Store, settings: Settings, version: str) -> RetrainParams:
    """The parameters that retrain a version from exactly the inputs its manifest records (verdicts up to its
    last label, its datasets, its base version, its seeds); NotFound or Invalid when it cannot be rebuilt."""
    entry = registry.get_version(store, version)
    try:
        manifest = artifact.read_manifest(registry.version_path(settings, entry))
    except ModelLoadError as error:
        raise Invalid(f"Model version {version} cannot be read: {error}") from error
    training = manifest.get("training")
    if not training:
        raise Invalid(f"Model version {version} was not made by a retrain; `make model` rebuilds the shipped model.")
    recorded = training["retrain_params"]
    return RetrainParams(
        seed=int(recorded["seed"]),
        verdict_holdout_share=float(recorded["verdict_holdout_share"]),
        verdict_weight=float(recorded["verdict_weight"]),
        up_to_label_id=int(training["verdicts"]["max_label_id"]),
        # Versions built before suggested scores were kept learnt from none.
        up_to_feedback_id=int((training["verdicts"].get("suggested_scores") or {}).get("max_id", 0)),
        dataset_ids=tuple(int(dataset["id"]) for dataset in training["datasets"]),
        adapt_root=training.get("base_version"),
        adapt=AdaptParams.from_dict(recorded["adapt"]),
        # Versions retrained before stage 2 could be adapted recorded no stage2_adapt: the defaults.
        stage2_adapt=HeadAdaptParams.from_dict(recorded.get("stage2_adapt") or HeadAdaptParams().as_dict()),
    )


@dataclass
class Verdicts:
    """Moderators' labels as one example per comment, and suggested scores as one example per token (or row),
    split into training and hold-out examples."""

    train: list[Example]
    holdout: list[Example]
    label_ids: list[int]
    max_label_id: int
    feedback_ids: list[int] = field(default_factory=list)
    max_feedback_id: int = 0

    def summary(self, share: float) -> dict[str, object]:
        ids = "\n".join(str(i) for i in sorted(self.label_ids))
        suggested = "\n".join(str(i) for i in sorted(self.feedback_ids))
        return {
            "labels": len(self.label_ids),
            "max_label_id": self.max_label_id,
            "label_ids_sha256": hashlib.sha256(ids.encode()).hexdigest(),
            "train_comments": sum(e.corpus == VERDICT_CORPUS for e in self.train),
            "holdout_comments": sum(e.corpus == VERDICT_CORPUS for e in self.holdout),
            "holdout_share": share,
            "suggested_scores": {
                "rows": len(self.feedback_ids),
                "max_id": self.max_feedback_id,
                "ids_sha256": hashlib.sha256(suggested.encode()).hexdigest(),
                "train": sum(e.corpus == FEEDBACK_CORPUS for e in self.train),
                "holdout": sum(e.corpus == FEEDBACK_CORPUS for e in self.holdout),
            },
        }


@dataclass
class TrainingSet:
    """Everything a retrain learns from and is judged on."""

    mode: str  # "full" or "adapt"
    base: Dataset | None
    datasets: list[tuple[dict[str, Any], LoadedCorpus]]
    verdicts: Verdicts


@dataclass(frozen=True)
class CarriedStage2:
    """The active cascade's stage 2 as the candidate carries it: routing, final thresholds, any adapter fitted."""

    settings: CascadeSettings
    thresholds: Thresholds
    stage2: Stage2Model  # the active one's graph, with the candidate's adapter (or none)
    adapter: FittedAdapter | None


@dataclass
class Candidate:
    """A built model with its thresholds and the manifest to save it with."""

    model: LinearModel
    thresholds: Thresholds
    manifest: dict[str, Any]
    stage2: CarriedStage2 | None = None  # when the active model is a cascade


def _holdout_bucket(comment_id: str, seed: int) -> float:
    digest = hashlib.blake2b(f"verdict-holdout\x00{seed}\x00{comment_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def load_verdicts(store: Store, params: RetrainParams) -> Verdicts:
    """Each comment's latest label per category (up to a label id), as examples of the `moderators` corpus, and
    the suggested scores that count (up to a feedback id), as examples of the `perspective_feedback` corpus."""
    with store.read() as db:
        max_id = params.up_to_label_id if params.up_to_label_id is not None else st.max_label_id(db)
        rows = st.verdict_labels(db, max_id)
        max_feedback = params.up_to_feedback_id if params.up_to_feedback_id is not None else st.max_feedback_id(db)
        suggestions = st.latest_feedback(db, max_feedback)
    by_comment: dict[str, tuple[str, dict[str, int]]] = {}
    for row in rows:
        text, labels = by_comment.setdefault(row["comment_id"], (row["text"], {}))
        labels[row["category"]] = int(row["value"])
    train: list[Example] = []
    holdout: list[Example] = []
    for comment_id in sorted(by_comment):
        text, labels = by_comment[comment_id]
        example = Example(text, dict(sorted(labels.items())), VERDICT_CORPUS, group=comment_id)
        (holdout if _holdout_bucket(comment_id, params.seed) < params.verdict_holdout_share else train).append(example)
    for row in suggestions:
        # A token's suggestions are one example (the latest); its hold-out share is drawn like a comment's.
        group = f"feedback\x00{row['community_id']}\x00{row['client_token'] or row['id']}"
        labels = {category: int(value) for category, value in json.loads(row["labels"]).items()}
        example = Example(row["text"], dict(sorted(labels.items())), FEEDBACK_CORPUS, group=group)
        (holdout if _holdout_bucket(group, params.seed) < params.verdict_holdout_share else train).append(example)
    feedback_ids = [int(row["id"]) for row in suggestions]
    return Verdicts(train, holdout, [int(row["id"]) for row in rows], max_id, feedback_ids, max_feedback)


def check_inputs(store: Store, settings: Settings) -> None:
    """Refuse (Invalid) a retrain that would have nothing to learn from."""
    if settings.base_corpora:
        return
    with store.read() as db:
        labels = st.max_label_id(db)
        imported = st.dataset_rows(db)
        suggested = st.max_feedback_id(db)
    if not labels and not imported and not suggested:
        raise Invalid(
            "Nothing to retrain on yet: no moderator verdicts, no suggested scores, no imported labelled files and "
            "no base corpora.",
            fields={"training_set": "empty"},
        )


def assemble(store: Store, settings: Settings, params: RetrainParams, progress: Progress = _silent) -> TrainingSet:
    """Load the base corpora (if configured), the imported datasets and the verdicts."""
    base = None
    if settings.base_corpora:
        progress("load base corpora", 0.0)
        base = load_dataset(list(settings.base_corpora))
    progress("load imported datasets", 0.15)
    loaded = ds.load_datasets(store, settings)
    if params.dataset_ids is not None:
        loaded = [item for item in loaded if item[0]["id"] in params.dataset_ids]
    progress("load verdicts", 0.2)
    verdicts = load_verdicts(store, params)
    return TrainingSet("full" if base is not None else "adapt", base, loaded, verdicts)


def _without_texts(examples: Sequence[Example], texts: set[str]) -> list[Example]:
    return [e for e in examples if normalize_text(e.text) not in texts]


def _unseen(rows: Sequence[PreparedExample], trained_on: Sequence[PreparedExample]) -> list[PreparedExample]:
    """Hold-out rows whose text no training row has (two comments can share a text)."""
    seen = {item.normalized for item in trained_on}
    return [item for item in rows if item.normalized not in seen]


def build_candidate(
    training: TrainingSet,
    active: artifact.Artifact,
    adapt_from: artifact.Artifact,
    params: RetrainParams,
    tolerance: float,
    progress: Progress = _silent,
) -> Candidate:
    """Train (full) or adapt a model, then compare it with the active model on the same hold-out rows."""
    verdicts = training.verdicts
    verdict_texts = {normalize_text(e.text) for e in verdicts.train + verdicts.holdout}
    imported = [e for _, corpus in training.datasets for e in corpus.examples]
    corpora = ([] if training.base is None else list(training.base.corpora)) + [c for _, c in training.datasets]
    # A moderator's verdict on a text overrides what any corpus or file says about the same text.
    pool, removed = deduplicate(
        ([] if training.base is None else training.base.examples) + imported, key=normalize_text
    )
    pool = _without_texts(pool, verdict_texts)

    def stage(name: str, start: float, end: float) -> Progress:
        return lambda step, fraction: progress(f"{name}: {step}" if step else name, start + (end - start) * fraction)

    if training.mode == "full":
        train_params = TrainParams(
            seed=params.seed,
            corpus_weights={
                **TrainParams().corpus_weights,
                VERDICT_CORPUS: params.verdict_weight,
                FEEDBACK_CORPUS: params.verdict_weight,
            },
        )
        trained = train_model(pool + verdicts.train, train_params, stage("train", 0.25, 0.8))
        model, thresholds = trained.model, trained.thresholds
        pool_split = split_examples(prepare(pool), train_params)
        trained_rows = pool_split.train + pool_split.calibration + prepare(verdicts.train)
        holdout = pool_split.test + prepare(verdicts.holdout)
        recorded_params: dict[str, object] = train_params.as_dict()
        mode_report: dict[str, object] = {"rows": trained.rows}
    else:
        base_params = TrainParams.from_dict(adapt_from.manifest["params"])
        split_params = TrainParams(seed=params.seed, test_share=base_params.test_share, calibration_share=0.0)
        pool_split = split_examples(prepare(pool), split_params)
        trained_rows = pool_split.train + prepare(verdicts.train)
        holdout = pool_split.test + prepare(verdicts.holdout)
        if not trained_rows:
            raise Invalid(
                "Nothing to adapt the model with: every verdict and imported row fell in the hold-out.",
                fields={"training_set": "only hold-out rows"},
            )
        adapted = adapt_model(
            adapt_from.model,
            adapt_from.thresholds,
            trained_rows,
            params.adapt,
            base_params.targets,
            progress=stage("adapt", 0.25, 0.8),
        )
        model, thresholds = adapted.model, adapted.thresholds
        recorded_params = base_params.as_dict()
        mode_report = {"adapt": adapted.report}

    carried = None
    if active.stage2 is not None:
        base_corpora = {c.info.name for c in ([] if training.base is None else training.base.corpora)}
        adapter_rows = [r for r in trained_rows if r.example.corpus not in base_corpora | {BALANCE}]
        carried = carry_stage2(active, model, thresholds, adapter_rows, params, stage("adapt stage 2", 0.8, 0.88))

    progress("evaluate", 0.88 if carried else 0.8)
    # The identity-balance sentences are a training aid, not evidence: they never count in the comparison.
    holdout = [item for item in _unseen(holdout, trained_rows) if item.example.corpus != BALANCE]
    labels = labels_matrix(holdout)
    if carried is None:
        comparison = compare_models(model, active.model, holdout, tolerance)
        ours, measured_with = probabilities(model, holdout), thresholds
    else:
        # Both are cascades: each is judged by what it would serve, its final scores, on the same rows.
        candidate_cascade = artifact.Artifact(
            model, {"version": "candidate", "thresholds": carried.thresholds}, carried.stage2, carried.settings
        )
        ours, theirs = final_scores(candidate_cascade, holdout), final_scores(active, holdout)
        comparison = compare_scores(ours, theirs, holdout, tolerance, FINAL_SCORES)
        measured_with = carried.thresholds
    comparison["active_version"] = active.version
    metrics = category_metrics(ours, labels, measured_with, [item.example.corpus for item in holdout])
    manifest: dict[str, Any] = {
        "corpora": corpus_summary(corpora),
        "duplicates_removed": removed,
        "rows": {"train": len(trained_rows), "holdout": len(holdout)},
        "training_rows_sha256": rows_fingerprint(trained_rows),
        "params": recorded_params,
        "metrics": {"holdout": metrics},
        "thresholds": thresholds,
        "training": {
            "mode": training.mode,
            "base_version": adapt_from.version if training.mode == "adapt" else None,
            "compared_with": active.version,
            "seed": params.seed,
            "retrain_params": params.as_dict(),
            "corpora": [
                {"name": c.info.name, "sha256": c.sha256, "rows": len(c.examples)}
                for c in ([] if training.base is None else training.base.corpora)
            ],
            "datasets": [
                {"id": row["id"], "name": row["name"], "sha256": row["sha256"], "rows": row["rows"]}
                for row, _ in training.datasets
            ],
            "verdicts": verdicts.summary(params.verdict_holdout_share),
            **mode_report,
        },
        "comparison": comparison,
    }
    return Candidate(model, thresholds, manifest, carried)


def final_scores(model: artifact.Artifact, rows: Sequence[PreparedExample]) -> np.ndarray:
    """[rows, 7] scores a version would serve for the rows' texts: the cascade's final scores when it is one."""
    if not rows:
        return np.zeros((0, len(CATEGORIES)))
    return Scorer(model).final_probabilities([item.example.text for item in rows])


def carry_stage2(
    active: artifact.Artifact,
    model: LinearModel,
    thresholds: Thresholds,
    rows: Sequence[PreparedExample],
    params: RetrainParams,
    progress: Progress = _silent,
) -> CarriedStage2:
    """The active cascade's stage 2 beside the candidate stage 1, with a head adapter fitted from `rows`.

    The adapter is fitted when the graph answers `pooled` (older graphs are carried as they are), from zero,
    on every row given (the verdicts and imported rows stage 1 learns from, not the base corpora), whether or
    not stage 2 would read it at serving: verdicts come from the review queue, so most are routed anyway, and
    the fit then does not depend on the new stage 1's routing. Each row counts once. Only the categories stage 2
    decides are fitted, each from the rows that label it.
    """
    assert active.stage2 is not None
    settings, final_thresholds = artifact.carried_cascade(active.manifest, thresholds)
    stage2 = active.stage2.with_adapter(None)
    fitted = None
    if stage2.has_pooled:
        # Stage 2 reads the text as the served cascade hands it over: normalized by the candidate stage 1's
        # lexicon and repairs, or as submitted.
        reading = ModelReading.of(model, settings.repaired_words())
        texts = [reading.text(r.example.text) if stage2.config.reads_normalized else r.example.text for r in rows]
        fit = fit_head_adapter(
            stage2,
            texts,
            labels_matrix(rows),
            settings.stage2_categories,
            params.stage2_adapt,
            progress=lambda fraction: progress("encode", fraction),
        )
        if fit.adapter is not None:
            fitted = FittedAdapter(fit.adapter, fit.report)
            stage2 = stage2.with_adapter(fit.adapter)
    return CarriedStage2(settings, final_thresholds, stage2, fitted)


def adaptation_base(
    store: Store, settings: Settings, active: artifact.Artifact, params: RetrainParams
) -> artifact.Artifact:
    """The model an adaptation starts from: the active model's own base when it was adapted itself.

    Adapting an adapted model again with all the verdicts would count the old ones twice and drift further
    with every retrain; starting from the first non-adapted ancestor keeps each retrain a fresh fit.
    """
    wanted = params.adapt_root or (active.manifest.get("training") or {}).get("base_version")
    if not wanted or wanted == active.version:
        return active
    try:
        return registry.load_version(settings, registry.get_version(store, wanted))
    except (NotFound, ModelLoadError) as error:
        if params.adapt_root:
            raise
        log.warning(
            "adapting the active model %s itself: its base %s is unavailable (%s)", active.version, wanted, error
        )
        return active


def _save(candidate: Candidate, folder: Path, stage2_from: Path | None) -> tuple[Path, dict[str, Any]]:
    """Write the candidate beside the registry's files; with `stage2_from`, that cascade's stage-2 graph carried
    over, with the candidate's head adapter when one was fitted."""
    private_files.make_dir(folder)
    temporary = folder / f".candidate-{os.getpid()}.model"
    saved = artifact.save(candidate.model, candidate.manifest, temporary)
    if stage2_from is None:
        return temporary, saved
    stage1 = folder / f".candidate-{os.getpid()}.stage1.model"
    temporary.replace(stage1)
    adapter = candidate.stage2.adapter if candidate.stage2 is not None else None
    try:
        return temporary, artifact.carry_stage2(stage1, stage2_from, temporary, adapter)
    finally:
        stage1.unlink(missing_ok=True)


def retrain(
    store: Store,
    settings: Settings,
    actor: str | None,
    *,
    job_id: int | None = None,
    params: RetrainParams | None = None,
    progress: Progress = _silent,
) -> dict[str, Any]:
    """Build, judge and register a candidate version; a summary (version, mode, comparison, whether new)."""
    params = params or RetrainParams()
    registry.ensure_default(store, settings)
    with store.read() as db:
        active_row = st.active_model_row(db)
    assert active_row is not None  # ensure_default activated one
    active = registry.load_version(settings, active_row)
    adapt_from = adaptation_base(store, settings, active, params)
    training = assemble(store, settings, params, progress)
    candidate = build_candidate(training, active, adapt_from, params, settings.promotion_tolerance, progress)
    if job_id is not None:
        candidate.manifest["training"]["job_id"] = job_id
    progress("save", 0.92)
    folder = registry.models_dir(settings)
    # The serving cascade's stage-2 graph is carried over unchanged (with the adapter build_candidate fitted).
    stage2_from = registry.version_path(settings, active_row) if active.stage2 is not None else None
    temporary, saved = _save(candidate, folder, stage2_from)
    try:
        with store.read() as db:
            existing = st.model_version_by_content(db, saved["content_sha256"])
        if existing is not None:
            # The same inputs rebuilt a model we already have: keep the registered file, not a second copy.
            version, created = str(existing["version"]), False
        else:
            final = folder / f"{saved['version']}.model"
            temporary.replace(final)
            version = registry.register_file(store, settings, final, source="retrain", actor=actor, job_id=job_id)[
                "version"
            ]
            created = True
    finally:
        temporary.unlink(missing_ok=True)
    progress("done", 1.0)
    comparison = candidate.manifest["comparison"]
    return {
        "version": version,
        "created": created,
        "content_sha256": saved["content_sha256"],
        "mode": training.mode,
        "compared_with": comparison["active_version"],
        "outcome": comparison["outcome"],
        "passed": comparison["passed"],
        "measured": comparison["measured"],
        "worse": comparison["worse"],
        "summary": comparison["summary"],
        "verdicts": candidate.manifest["training"]["verdicts"],
    }
