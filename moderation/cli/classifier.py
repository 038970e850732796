"""CLI commands for the classifier: train, evaluate, score."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from moderation.errors import Malformed
from moderation.json_documents import parse_json

COMMANDS: list[click.Command] = []
SCORE_CHUNK = 256


@contextmanager
def _data_errors() -> Iterator[None]:
    """Turn unusable data or model files into a one-line CLI error instead of a traceback."""
    from model.artifact import ModelLoadError
    from model.corpora import CorpusError, LabelledFileError
    from model.train import TrainingDataError

    try:
        yield
    except (CorpusError, LabelledFileError, TrainingDataError, ModelLoadError) as error:
        raise click.ClickException(str(error)) from error


def _model_option(function: Any) -> Any:
    return click.option(
        "--model",
        "model_path",
        envvar="MODERATION_MODEL",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Model file (default: the shipped models/default.model; env MODERATION_MODEL).",
    )(function)


@click.command("train")
@click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A data root, a corpus folder or a labelled CSV/JSONL file; repeat for more.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Model file to write.")
@click.option("--seed", default=13, show_default=True, help="Seed for the split and the solver.")
@click.option("--shippable-only", is_flag=True, help="Use only corpora whose licence allows shipping the model.")
@click.option("--card", type=click.Path(dir_okay=False, path_type=Path), help="Also write a model card here.")
def train_command(data: tuple[Path, ...], out: Path, seed: int, shippable_only: bool, card: Path | None) -> None:
    """Train a model version from labelled corpora and write it to OUT."""
    from tqdm import tqdm

    from model.build import build_model
    from model.train import TrainParams

    started = time.monotonic()
    with _data_errors(), tqdm(total=100, desc="train", unit="%", file=sys.stderr) as bar:

        def progress(stage: str, fraction: float) -> None:
            bar.set_description(stage)
            bar.update(max(0, round(fraction * 100) - bar.n))

        manifest = build_model(
            list(data), out, TrainParams(seed=seed), shippable_only=shippable_only, progress=progress
        )
    click.echo(f"wrote {out} version {manifest['version']} in {time.monotonic() - started:.0f} s")
    for corpus in manifest["corpora"]:
        click.echo(f"  {corpus['name']}: {corpus['rows']} rows, sha256 {corpus['sha256'][:12]}")
    _print_metrics(manifest["metrics"]["holdout"], "hold-out")
    if card is not None:
        from model.card import write_model_card

        write_model_card(manifest, card)
        click.echo(f"wrote {card}")


def _print_metrics(metrics: dict[str, Any], title: str) -> None:
    click.echo(f"\n{title}: category         n   pos   ROC-AUC  AvgPrec  review@thr (P / R)      reject@thr (P / R)")
    for category, entry in metrics["categories"].items():
        review, reject = entry["review"], entry["reject"]
        click.echo(
            f"  {category:<17}{entry['n']:>6}{entry['positives']:>6}  {_fmt(entry['roc_auc'])}   "
            f"{_fmt(entry['average_precision'])}   {_fmt(review['threshold'])} ({_fmt(review['precision'])} / "
            f"{_fmt(review['recall'])})   {_fmt(reject['threshold'])} ({_fmt(reject['precision'])} / "
            f"{_fmt(reject['recall'])})"
        )


def _fmt(value: float | None) -> str:
    return "  -   " if value is None else f"{value:.4f}"


@click.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Data roots or corpus folders to evaluate on (all corpora, including evaluation-only ones).",
)
@click.option("--cross/--no-cross", default=True, show_default=True, help="Also run cross-corpus splits.")
@click.option("--record", is_flag=True, help="Store the report in the model file's manifest.")
@click.option("--card", type=click.Path(dir_okay=False, path_type=Path), help="Write a model card here.")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report as JSON.")
@click.option("--suite", "with_suite", is_flag=True, help="Also run the functional suite under the default policy.")
def evaluate_command(
    file: Path,
    data: tuple[Path, ...],
    cross: bool,
    record: bool,
    card: Path | None,
    json_out: Path | None,
    with_suite: bool,
) -> None:
    """Evaluate model FILE: hold-out, cross-corpus, fairness, and alt-profanity-check on the same rows."""
    from tqdm import tqdm

    from model import artifact
    from model.build import load_dataset
    from model.evaluate import evaluate
    from model.scorer import Scorer
    from model.train import TrainParams

    with _data_errors():
        loaded = artifact.load(file)
        dataset = load_dataset(list(data))
    manifest = loaded.manifest
    with tqdm(total=100, desc="evaluate", unit="%", file=sys.stderr) as bar:

        def progress(stage: str, fraction: float) -> None:
            bar.set_description(stage)
            bar.update(max(0, round(fraction * 100) - bar.n))

        scorer = Scorer(loaded)
        cascade = loaded.stage2 is not None
        report = evaluate(
            loaded.model,
            loaded.thresholds,
            TrainParams.from_dict(manifest["params"]),
            {corpus["name"] for corpus in manifest["corpora"]},
            dataset.examples,
            cross_corpus=cross,
            progress=progress,
            final=scorer.final_probabilities if cascade else None,
            stage1_thresholds=artifact.stage1_thresholds_of(manifest) if cascade else None,
        )
    if with_suite:
        from moderation.cli.suite import run_functional_suite

        report["suite"] = run_functional_suite(scorer)
    print_report(report, manifest["version"])
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    if record:
        manifest = artifact.update_manifest(file, {"evaluation": report})
    if card is not None:
        from model.card import write_model_card

        write_model_card({**manifest, "evaluation": report}, card)
        click.echo(f"wrote {card}")


def print_report(report: dict[str, Any], version: str) -> None:
    """Print an evaluation report as plain tables."""
    click.echo(f"model {version}; peer: {report['peer']}")
    cascade = "stage1_holdout" in report
    _print_metrics(
        report["holdout"]["ours"], "hold-out (ours: the cascade's final scores)" if cascade else "hold-out (ours)"
    )
    _print_versus(report["holdout"], "hold-out per corpus")
    if cascade:
        _print_metrics(report["stage1_holdout"]["ours"], "hold-out, stage 1 alone (its own thresholds)")
    for unit, result in report.get("cross_corpus", {}).items():
        if "skipped" in result:
            click.echo(f"\ncross-corpus: trained without {unit}: not measured, {result['skipped']}")
            continue
        _print_metrics(result["ours"], f"cross-corpus: trained without {unit}, tested on it (ours)")
        _print_versus(result, f"cross-corpus: trained without {unit}, per corpus")
    fairness = report["fairness"]
    click.echo(
        f"\nfairness (toxicity, review threshold {fairness['review_threshold']}): "
        f"FPR over all non-toxic rows {fairness['overall_false_positive_rate']}"
    )
    click.echo("  group          rows  toxic  subgroupAUC  BPSN    BNSP    FPR(non-toxic mentions)")
    for group, entry in fairness["groups"].items():
        click.echo(
            f"  {group:<14}{entry['rows']:>5}{entry['toxic']:>7}  {_fmt(entry['subgroup_auc'])}       "
            f"{_fmt(entry['bpsn_auc'])}  {_fmt(entry['bnsp_auc'])}  {_fmt(entry['false_positive_rate'])}"
        )
    templates = fairness["templates"]
    click.echo(f"  templates: {len(templates['flagged'])} of {templates['templates']} non-toxic templates reach review")
    for item in templates["flagged"]:
        click.echo(f"    FLAGGED {item['category']} {item['score']}: {item['text']}")
    if "suite" in report:
        from moderation.cli.suite import print_suite_report

        print_suite_report(report["suite"])


def _print_versus(section: dict[str, Any], title: str) -> None:
    click.echo(
        f"\n{title}:\n  corpus                       category          rows   pos   ours AUC  peer AUC"
        "   ours AP   peer AP"
    )
    peer = section.get("peer", {})
    for corpus, categories in section["ours"]["by_corpus"].items():
        for category, entry in categories.items():
            theirs = peer.get(corpus, {}).get(category, {})
            click.echo(
                f"  {corpus:<29}{category:<16}{entry['n']:>6}{entry['positives']:>6}   "
                f"{_fmt(entry['roc_auc'])}    {_fmt(theirs.get('roc_auc'))}    "
                f"{_fmt(entry['average_precision'])}    {_fmt(theirs.get('average_precision'))}"
                + ("   (untrained: no corpus left labels it)" if entry.get("untrained") else "")
            )


@click.command("score")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@_model_option
def score_command(file: Path | None, model_path: Path | None) -> None:
    """Score JSON Lines from FILE (or stdin): each object gains scores, action and model_version."""
    from model.scorer import load_scorer

    with _data_errors():
        scorer = load_scorer(model_path)
    if file is None or str(file) == "-":
        bad = score_stream(scorer, sys.stdin.buffer, sys.stdout, sys.stderr)
    else:
        with open(file, "rb") as stream:
            bad = score_stream(scorer, stream, sys.stdout, sys.stderr)
    if bad:
        click.echo(f"{bad} line(s) could not be scored", err=True)
        sys.exit(1)


def _parse_lines(stream: IO[bytes], errors: IO[str]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Yield (line number, object or None when the line was bad and has been reported); blank lines are skipped."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            # The API's own rules: strict UTF-8, no NaN/Infinity, no lone surrogates, bounded nesting.
            item = parse_json(raw, what="The line")
        except Malformed as error:
            errors.write(f"line {number}: {error.message}\n")
            yield number, None
            continue
        if not isinstance(item, dict):
            errors.write(f"line {number}: expected a JSON object, got {type(item).__name__}\n")
            yield number, None
        elif not isinstance(item.get("text"), str):
            errors.write(f'line {number}: missing string field "text"\n')
            yield number, None
        else:
            yield number, item


def score_stream(scorer: Any, stream: IO[bytes], out: IO[str], errors: IO[str]) -> int:
    """Score a JSON Lines stream in constant memory, in order; returns the number of bad lines."""
    bad = 0
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        scores = scorer.score_many([item["text"] for item in chunk])
        for item, item_scores in zip(chunk, scores, strict=True):
            item["scores"] = item_scores
            item["action"] = scorer.action(item_scores)
            item["model_version"] = scorer.version
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        chunk.clear()

    for _number, item in _parse_lines(stream, errors):
        if item is None:
            bad += 1
            continue
        chunk.append(item)
        if len(chunk) >= SCORE_CHUNK:
            flush()
    if chunk:
        flush()
    out.flush()
    return bad


COMMANDS.extend([train_command, evaluate_command, score_command])
