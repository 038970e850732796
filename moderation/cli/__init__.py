"""The `moderation` command line: a thin click layer over the Python API, a module per command group.

`classifier` (train, evaluate, score model files), `suite` (the functional suite), `cascade` (attach-stage2),
`operations` (keys, init, migrate, purge, outbox, verify, backup), `serve` (serve, settings), `versions`
(retrain, import, models, jobs, datasets: registered model versions and what makes them).
"""

from __future__ import annotations

import click


@click.group()
def cli() -> None:
    """Self-hosted comment moderation."""


def _register_commands() -> None:
    from moderation.cli import cascade, classifier, operations, serve, suite, versions

    for module in (classifier, suite, cascade, operations, serve, versions):
        for command in module.COMMANDS:
            cli.add_command(command)


def main() -> None:
    """Entry point of the `moderation` console script."""
    _register_commands()
    cli()
