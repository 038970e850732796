"""`moderation attach-stage2`: add an exported stage-2 folder to a stage-1 model file, as a new model file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from model.cascade import (
    DEFAULT_CLEAR_RECALL,
    DEFAULT_STAGE1_CATEGORIES,
    FALLBACK_CLEAR_BOUND,
    CascadeSettings,
    fallback_bounds,
)
from model.categories import CATEGORIES

if TYPE_CHECKING:
    import numpy as np

    from model.artifact import Artifact


@click.command("attach-stage2")
@click.argument("model_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The new model file.")
@click.option(
    "--data",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Corpora or labelled files: the clear bounds are measured on the stage-1 model's hold-out rows of them.",
)
@click.option("--recall", default=DEFAULT_CLEAR_RECALL, show_default=True, help="Share of positives routed on.")
@click.option(
    "--stage1-keeps",
    multiple=True,
    type=click.Choice(CATEGORIES),
    help=f"Categories whose final score stays stage 1's (default: {', '.join(DEFAULT_STAGE1_CATEGORIES)}).",
)
@click.option(
    "--unseen-corpora/--trained-corpora-only",
    default=False,
    show_default=True,
    help="Measure on the corpora stage 1 never saw too, not only on its test split of those it was trained on.",
)
def attach_stage2_command(
    model_file: Path,
    folder: Path,
    out: Path,
    data: tuple[Path, ...],
    recall: float,
    stage1_keeps: tuple[str, ...],
    unseen_corpora: bool,
) -> None:
    """Write OUT: MODEL_FILE with the exported stage-2 FOLDER (model.onnx, tokenizer.json, config.json) sealed in."""
    from model import artifact, cascade
    from model.artifact import ModelLoadError

    keeps = stage1_keeps or DEFAULT_STAGE1_CATEGORIES
    try:
        base = artifact.load(model_file)
        review = {c: t["review"] for c, t in base.thresholds.items()}
        if data:
            probabilities, labels = _holdout(base, data, unseen_corpora)
            settings = cascade.measured_settings(probabilities, labels, review, recall=recall, stage1_categories=keeps)
        else:
            settings = cascade.default_settings(review) if not stage1_keeps else _fallback(review, keeps)
        manifest = artifact.attach_stage2(model_file, folder, out, settings)
    except (ModelLoadError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    section = manifest["stage2"]
    click.echo(
        f"wrote {out}: version {manifest['version']}, stage 2 {section['encoder']} {section['graph_sha256'][:12]}"
    )
    click.echo(f"clear bounds ({section['bounds_from']}): {section['clear_bounds']}")


def _fallback(review: dict[str, float | None], keeps: tuple[str, ...]) -> CascadeSettings:
    decided = tuple(c for c in CATEGORIES if c not in keeps)
    return CascadeSettings(fallback_bounds(review, decided), decided, f"fallback: {FALLBACK_CLEAR_BOUND} or review")


def _holdout(base: Artifact, data: tuple[Path, ...], unseen: bool) -> tuple[np.ndarray, list[dict[str, int]]]:
    """Stage 1's probabilities and the labels of the model's hold-out rows of `data` (stage 1 alone).

    The rows are its test split of the corpora it was trained on (the kind of rows it can flag), plus with
    `unseen` every row of the corpora it never saw."""
    from model.build import load_dataset
    from model.evaluate import holdout_rows
    from model.train import TrainParams

    manifest = base.manifest
    trained = {corpus["name"] for corpus in manifest["corpora"]}
    rows = holdout_rows(load_dataset(list(data)).examples, TrainParams.from_dict(manifest["params"]), trained)
    rows = rows if unseen else [r for r in rows if r.example.corpus in trained]
    linear = base.model
    probabilities = linear.calibrate(linear.batch_margins(linear.featurizer.matrix(r.normalized for r in rows)))
    return probabilities, [dict(r.example.labels) for r in rows]


COMMANDS = [attach_stage2_command]
