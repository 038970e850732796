"""CLI commands for operating the service: keys, purge, migrate."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
