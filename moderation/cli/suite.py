"""`moderation suite`: the project's functional suite on a model, decided by the default policy as the service does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from model.types import Thresholds

COMMANDS: list[click.Command] = []


def default_policy_decision(thresholds: Thresholds) -> Any:
    """A decision function (text, scores) -> action under the default policy built from a model's thresholds."""
    from moderation.policy import AuthorHistory, CommentFacts, decide, default_policy

    policy = default_policy(thresholds)

    def decide_action(text: str, scores: Mapping[str, float]) -> str:
        """The default policy's action for a comment with these scores, by an author with no history."""
        return decide(scores, policy, CommentFacts(text), AuthorHistory()).action

    return decide_action


def run_functional_suite(scorer: Any, worst: int = 20) -> dict[str, Any]:
    """The suite report of a loaded scorer under the default policy of its own thresholds."""
    from model.suite.cases import functional_suite
    from model.suite.evaluate import evaluate_suite, scores_function

    report = evaluate_suite(
        functional_suite(), scores_function(scorer), default_policy_decision(scorer.thresholds), worst
    )
    return {"model_version": scorer.version, "policy": "default (model thresholds)", **report}


def _percent(value: float | None) -> str:
    """An accuracy as a percentage with one decimal, or a dash when nothing was measured."""
    return "    -" if value is None else f"{value * 100:5.1f}"


def print_suite_report(report: dict[str, Any], failures: int = 15) -> None:
    """Print the suite report: overall, a table per behaviour and per group, and the worst failures."""
    overall = report["overall"]
    click.echo(
        f"\nfunctional suite (flagged = review or reject under the default policy): {overall['correct']} of "
        f"{overall['n']} correct, accuracy {_percent(overall['accuracy']).strip()} %"
    )
    click.echo("  behaviour                expects    n  correct  accuracy %")
    for name, entry in report["behaviours"].items():
        click.echo(
            f"  {name:<25}{entry['expected']:<7}{entry['n']:>5}{entry['correct']:>9}"
            f"       {_percent(entry['accuracy'])}"
        )
    click.echo("  group                       n  correct  accuracy %")
    for name, entry in report["groups"].items():
        click.echo(f"  {name:<25}{entry['n']:>5}{entry['correct']:>9}       {_percent(entry['accuracy'])}")
    shown = report["failures"][:failures]
    if shown:
        click.echo(f"  worst {len(shown)} failures (most confidently wrong first):")
    for item in shown:
        click.echo(
            f"    {item['behaviour']} expected {item['expected']}, got {item['action']} "
            f"({item['top_category']} {item['top_score']}): {item['text']}"
        )


@click.command("suite")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report.")
@click.option("--failures", default=15, show_default=True, help="How many of the worst failures to print.")
def suite_command(file: Path | None, json_out: Path | None, failures: int) -> None:
    """Run the functional suite on model FILE (default: the shipped model): accuracy per behaviour and group."""
    from model.scorer import load_scorer
    from moderation.cli.classifier import _data_errors

    with _data_errors():
        scorer = load_scorer(file)
    report = run_functional_suite(scorer, worst=max(failures, 50))
    click.echo(f"model {scorer.version}")
    print_suite_report(report, failures)
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        click.echo(f"wrote {json_out}")


COMMANDS.append(suite_command)
