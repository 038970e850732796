"""The `moderation` command line: a thin click layer over the Python API."""

from __future__ import annotations

import click


@click.group()
def cli() -> None:
    """Self-hosted comment moderation."""


def _register_commands() -> None:
    from moderation import cli_admin, cli_model, cli_models, cli_serve, cli_stage2, cli_suite

    for module in (cli_model, cli_suite, cli_stage2, cli_admin, cli_serve, cli_models):
        for command in module.COMMANDS:
            cli.add_command(command)


def main() -> None:
    """Entry point of the `moderation` console script."""
    _register_commands()
    cli()
