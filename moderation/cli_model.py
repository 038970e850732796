"""CLI commands for the classifier: train, evaluate, score."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
