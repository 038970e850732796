"""`moderation attach-stage2`: add an exported stage-2 folder to a stage-1 or cascade model file, as a new file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from model.cascade import (
    DEFAULT_ROUTE_BUDGET,
    DEFAULT_ROUTE_WORDS,
    DEFAULT_STAGE1_CATEGORIES,
    MOST_PASSAGES,
    MOST_SENTENCES,
    ROUTE_WORD_LISTS,
    default_settings,
)
from model.categories import CATEGORIES


@click.command("attach-stage2")
@click.argument("model_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The new model file.")
@click.option(
    "--data",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Corpora: the routing and the thresholds are measured on stage 1's calibration rows of them "
    "(without, the fallback bounds and stage 1's thresholds).",
)
@click.option(
    "--route-budget",
    default=DEFAULT_ROUTE_BUDGET,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Most share of a site-like stream stage 2 may read.",
)
@click.option(
    "--route-words",
    multiple=True,
    type=click.Choice(list(ROUTE_WORD_LISTS)),
    help=f"Word lists that always route (default: {', '.join(DEFAULT_ROUTE_WORDS)}).",
)
@click.option(
    "--stage1-keeps",
    multiple=True,
    type=click.Choice(CATEGORIES),
    help=f"Categories whose final score stays stage 1's (default: {', '.join(DEFAULT_STAGE1_CATEGORIES)}).",
)
@click.option(
    "--passages",
    default=1,
    show_default=True,
    type=click.IntRange(1, MOST_PASSAGES),
    help="Stage-2 windows of a routed comment that may be read: the first, and each later one stage 1 cannot clear "
    "by itself; stage 2's score per category is the highest over them (1: its first window only).",
)
@click.option(
    "--sentences",
    default=0,
    show_default=True,
    type=click.IntRange(0, MOST_SENTENCES),
    help="Sentences of a long routed comment stage 2 may also read on their own (those stage 1 cannot clear by "
    "itself, a third of the comment or shorter); one that alone reaches a reject threshold holds the comment for "
    "review (0: none).",
)
def attach_stage2_command(
    model_file: Path,
    folder: Path,
    out: Path,
    data: tuple[Path, ...],
    route_budget: float,
    route_words: tuple[str, ...],
    stage1_keeps: tuple[str, ...],
    passages: int,
    sentences: int,
) -> None:
    """Write OUT: MODEL_FILE with the exported stage-2 FOLDER (model.onnx, tokenizer.json, config.json) sealed in."""
    from model import artifact
    from model.artifact import ModelLoadError

    keeps = stage1_keeps or DEFAULT_STAGE1_CATEGORIES
    thresholds = None
    try:
        base = artifact.load(model_file, stage2=False)  # a stage 2 already there is replaced
        exported = artifact.read_stage2_folder(folder)
        review = {c: t["review"] for c, t in artifact.stage1_thresholds_of(base.manifest).items()}
        if data:
            from model.stage2.attach import measure

            measured = measure(
                base,
                exported.model,
                data,
                budget=route_budget,
                route_words=route_words or DEFAULT_ROUTE_WORDS,
                stage1_categories=keeps,
                passages=passages,
            )
            settings, thresholds = measured.settings, measured.thresholds
        else:
            settings = default_settings(review, stage1_categories=keeps, route_words=route_words or DEFAULT_ROUTE_WORDS)
            settings = replace(settings, passages=passages)
        # Lone sentences change no score, so nothing measured above depends on them.
        settings = replace(settings, sentences=sentences)
        manifest = artifact.attach_stage2(model_file, exported, out, settings, thresholds=thresholds)
    except (ModelLoadError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from error
    section = manifest["stage2"]
    click.echo(
        f"wrote {out}: version {manifest['version']}, stage 2 {section['encoder']} {section['graph_sha256'][:12]}"
    )
    click.echo(f"clear bounds ({section['bounds_from']}): {section['clear_bounds']}")
    if section.get("routing"):
        click.echo(f"routing measured: {section['routing']}")
    click.echo(f"thresholds: {'chosen on the cascade' if thresholds else 'stage 1'}'s {manifest['thresholds']}")


COMMANDS = [attach_stage2_command]
