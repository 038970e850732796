"""CLI commands for retraining: retrain, import, models (list, show, activate, rollback, history), jobs, datasets."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from model.artifact import ModelLoadError
from moderation.errors import ModerationError
from moderation.settings import Settings
from moderation.storage.store import Store

COMMANDS: list[click.Command] = []


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except ModerationError as error:
        details = "; ".join(f"{field}: {problem}" for field, problem in error.fields.items())
        raise click.ClickException(error.message + (f"\n  {details}" if details else "")) from error
    except ModelLoadError as error:
        raise click.ClickException(str(error)) from error


def _context() -> tuple[Settings, Store]:
    with _domain_errors():
        settings = Settings.from_env(os.environ)
    return settings, Store.from_settings(settings)


def _actor() -> str:
    return "cli:" + (os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown")


def _show_job(job: dict[str, Any]) -> None:
    from moderation.training.jobs import job_summary

    for line in job_summary(job):
        click.echo(line)


@click.command("retrain")
@click.option("--wait", "wait_for_it", is_flag=True, help="Wait for the job to finish, showing its progress.")
@click.option(
    "--rebuild",
    metavar="VERSION",
    default=None,
    help="Retrain VERSION from exactly the inputs it records (verdicts, datasets, base, seeds) and say if it matches.",
)
def retrain_command(wait_for_it: bool, rebuild: str | None) -> None:
    """Start a retrain on the base corpora, imported files and moderators' verdicts (one at a time)."""
    from moderation.training import jobs

    settings, store = _context()
    with _domain_errors():
        job = jobs.start_retrain(store, settings, _actor(), rebuild=rebuild)
    click.echo(f"started job {job['id']}; follow it with `moderation jobs show {job['id']}`")
    if not wait_for_it:
        return
    last = None
    while job["state"] in jobs.UNFINISHED:
        shown = (job["stage"], int(job["percent"]))
        if shown != last:
            click.echo(f"  {job['stage']} {job['percent']:.0f}%", err=True)
            last = shown
        job = jobs.wait(store, job["id"], timeout=1.0, poll=0.2)
    _show_job(job)
    if job["state"] != "succeeded":
        sys.exit(1)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import a labelled CSV or JSON Lines file (a `text` column plus 0/1 category columns) for retraining."""
    from moderation.training import datasets

    settings, store = _context()
    with _domain_errors():
        imported = datasets.import_dataset(store, settings, file, _actor())
    click.echo(
        f"imported dataset {imported['id']}: {imported['name']}, {imported['rows']} rows, "
        f"categories {', '.join(imported['categories'])}"
    )
    for note in imported["warnings"]:
        click.echo(f"  warning: {note}", err=True)


@click.group("models")
def models_group() -> None:
    """List, inspect, activate and roll back model versions."""


def _verdict(version: dict[str, Any]) -> str:
    comparison = version["comparison"]
    if comparison is None:
        return "-"
    if comparison["worse"]:
        return "worse: " + ",".join(comparison["worse"])
    if not comparison["measured"]:
        return f"not measured vs {comparison['active_version']}"
    return f"ok vs {comparison['active_version']}"


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
def models_list(as_json: bool) -> None:
    """Registered versions, newest first; * marks the active one."""
    from moderation.training import registry

    settings, store = _context()
    with _domain_errors():
        registry.ensure_default(store, settings)
        versions = registry.list_versions(store)
    for version in versions:
        if as_json:
            click.echo(json.dumps(version, sort_keys=True))
            continue
        mark = "*" if version["active"] else " "
        click.echo(
            f"{mark} {version['version']:<22} {version['source']:<8} {version['mode'] or '-':<6} "
            f"{version['created_at'][:19]}  {_verdict(version)}"
        )


@models_group.command("show")
@click.argument("version")
def models_show(version: str) -> None:
    """One version's registry entry, training record and comparison, as JSON."""
    from moderation.training import registry

    _, store = _context()
    with _domain_errors():
        click.echo(json.dumps(registry.get_version(store, version), indent=2, sort_keys=True))


@models_group.command("card")
@click.argument("version")
def models_card(version: str) -> None:
    """One version's model card (Markdown): data, metrics, and how it compared with the active version."""
    from moderation.training import registry

    settings, store = _context()
    with _domain_errors():
        click.echo(registry.model_card(store, settings, version))


@models_group.command("activate")
@click.argument("version")
@click.option(
    "--force", is_flag=True, help="Promote even if the evaluation found it worse or measured nothing (needs --reason)."
)
@click.option("--reason", default=None, help="Why; recorded with the activation.")
def models_activate(version: str, force: bool, reason: str | None) -> None:
    """Make VERSION the active model; every worker serves it within seconds."""
    from moderation.training import registry

    settings, store = _context()
    with _domain_errors():
        registry.ensure_default(store, settings)
        record = registry.activate(store, settings, version, _actor(), force=force, reason=reason)
    click.echo(f"activated {record['version']} ({record['kind']}), replacing {record['previous_version']}")


@models_group.command("rollback")
@click.option("--reason", default=None, help="Why; recorded with the activation.")
def models_rollback(reason: str | None) -> None:
    """Re-activate the version that was active before the current one."""
    from moderation.training import registry

    settings, store = _context()
    with _domain_errors():
        record = registry.rollback(store, settings, _actor(), reason)
    click.echo(f"rolled back to {record['version']}, replacing {record['previous_version']}")


@models_group.command("history")
@click.option("--limit", default=20, show_default=True, help="How many activations to show.")
def models_history(limit: int) -> None:
    """Activations, newest first: when, which version, how, by whom, why."""
    from moderation.training import registry

    _, store = _context()
    with _domain_errors():
        for entry in registry.activations(store, limit):
            why = f"  reason: {entry['reason']}" if entry["reason"] else ""
            click.echo(
                f"{entry['at'][:19]}  {entry['version']:<22} {entry['kind']:<10} by {entry['actor'] or '-'}"
                f" (was {entry['previous_version'] or '-'}){why}"
            )


@click.group("jobs")
def jobs_group() -> None:
    """Show training jobs."""


@jobs_group.command("show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
def jobs_show(job_id: int, as_json: bool) -> None:
    """A job's state, stage, percent, elapsed time, and its result or error."""
    from moderation.training import jobs

    _, store = _context()
    with _domain_errors():
        job = jobs.get_job(store, job_id)
    if as_json:
        click.echo(json.dumps(job, sort_keys=True))
    else:
        _show_job(job)


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True, help="How many jobs to show.")
def jobs_list(limit: int) -> None:
    """Recent jobs, newest first."""
    from moderation.training import jobs

    _, store = _context()
    with _domain_errors():
        for job in jobs.list_jobs(store, limit):
            _show_job(job)


@click.group("datasets")
def datasets_group() -> None:
    """Show imported labelled files."""


@datasets_group.command("list")
def datasets_list() -> None:
    """Imported labelled files, oldest first."""
    from moderation.training import datasets

    _, store = _context()
    with _domain_errors():
        for item in datasets.list_datasets(store):
            click.echo(
                f"{item['id']:>4}  {item['name']:<30} {item['rows']:>7} rows  {item['sha256'][:12]}  "
                f"{item['imported_at'][:19]} by {item['imported_by'] or '-'}"
            )


@click.command("run-job", hidden=True)
@click.argument("job_id", type=int)
def run_job_command(job_id: int) -> None:
    """Run a queued job in this process (started by `retrain`; not for direct use)."""
    from moderation.training.job_process import lower_priority, run_job_here, yielding

    if yielding():
        lower_priority()  # already done when started by jobs.launch; kept for a direct `moderation run-job`
    with _domain_errors():
        job = run_job_here(job_id)
    if job["state"] != "succeeded":
        sys.exit(1)


COMMANDS.extend([retrain_command, import_command, models_group, jobs_group, datasets_group, run_job_command])
