"""Build a model version from data folders: load corpora, de-duplicate, train, save with a full manifest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model import artifact, private_files
from model.corpora import Example, LoadedCorpus, corpus_summary, deduplicate, load_corpora
from model.identity_balance import identity_balance_corpus
from model.normalize import normalize_text
from model.train import Progress, TrainedModel, TrainingDataError, TrainParams, _silent, train_model


@dataclass
class Dataset:
    """De-duplicated examples from a set of corpora, with what was read and what was removed."""

    corpora: list[LoadedCorpus]
    examples: list[Example]
    duplicates_removed: int


def load_dataset(paths: Sequence[Path], shippable_only: bool = False, identity_balance: bool = True) -> Dataset:
    """Load every corpus under the given paths (plus our identity-balance sentences) and de-duplicate them."""
    corpora: list[LoadedCorpus] = []
    for path in paths:
        corpora.extend(load_corpora(Path(path), shippable_only=shippable_only))
    if not corpora:
        raise TrainingDataError(f"no labelled corpora found under {', '.join(str(p) for p in paths)}")
    if identity_balance:
        corpora.append(identity_balance_corpus())
    rows = [example for corpus in corpora for example in corpus.examples]
    examples, removed = deduplicate(rows, key=normalize_text)
    return Dataset(corpora, examples, removed)


def manifest_for(dataset: Dataset, trained: TrainedModel) -> dict[str, Any]:
    """The descriptive part of a model's manifest: data, parameters, metrics, thresholds."""
    return {
        "corpora": corpus_summary(dataset.corpora),
        "duplicates_removed": dataset.duplicates_removed,
        "rows": trained.rows,
        "training_rows_sha256": trained.rows_sha256,
        "params": trained.params.as_dict(),
        "metrics": trained.metrics,
        "thresholds": trained.thresholds,
    }


def build_model(
    paths: Sequence[Path],
    out: Path,
    params: TrainParams | None = None,
    shippable_only: bool = False,
    progress: Progress = _silent,
) -> dict[str, Any]:
    """Train a model from data folders and write it to `out` (0644 when only shippable corpora trained it, so it
    can be shipped; else 0600); returns the saved manifest."""
    dataset = load_dataset(paths, shippable_only=shippable_only)
    trained = train_model(dataset.examples, params or TrainParams(), progress)
    mode = private_files.SHARED_FILE_MODE if shippable_only else private_files.PRIVATE_FILE_MODE
    return artifact.save(trained.model, manifest_for(dataset, trained), out, mode)
