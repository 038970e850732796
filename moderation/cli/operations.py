"""CLI commands for operating the service: keys, init, migrate, purge, outbox, verify, backup.

Every command reads the same environment settings as the server, so it acts on the same database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from moderation import keys as api_keys
from moderation.errors import ModerationError
from moderation.outbox import outbox_status
from moderation.privacy import parse_duration, purge, secret_path
from moderation.settings import Settings
from moderation.storage import backup, migrations
from moderation.storage.backup import DatabaseCheck
from moderation.storage.store import Store
from moderation.training.registry import models_dir


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except ModerationError as error:
        details = "; ".join(f"{field} {problem}" for field, problem in error.fields.items())
        raise click.ClickException(error.message + (f" ({details})" if details else "")) from error


def _settings() -> Settings:
    with _domain_errors():
        return Settings.from_env(os.environ)


def _store() -> Store:
    return Store.from_settings(_settings())


@click.group("keys")
def keys_group() -> None:
    """Create, list and revoke API keys."""


@keys_group.command("create")
@click.option("--role", type=click.Choice(api_keys.ROLES), required=True, help="What the key may do.")
@click.option("--name", default=None, help="A label to recognise the key by, e.g. the site's name.")
def keys_create(role: str, name: str | None) -> None:
    """Create a key; the key itself is printed alone on the last line, once."""
    with _domain_errors():
        key, secret = api_keys.create_key(_store(), role, name)
    click.echo(f"Created {key.role} key {key.id} ({key.name}). Store it now: it cannot be shown again.", err=True)
    click.echo(secret)


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.option("--active", is_flag=True, help="Leave out revoked keys.")
def keys_list(as_json: bool, active: bool) -> None:
    """List keys (ids, roles, names, dates; never the keys)."""
    with _domain_errors():
        found = api_keys.list_keys(_store(), include_revoked=not active)
    if as_json:
        for key in found:
            click.echo(json.dumps(key.as_dict()))
        return
    click.echo(f"{'id':<14}{'role':<11}{'created_at':<29}{'revoked_at':<29}name")
    for key in found:
        click.echo(f"{key.id:<14}{key.role:<11}{key.created_at or '':<29}{key.revoked_at or '-':<29}{key.name}")


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id; requests with it fail at once."""
    with _domain_errors():
        key = api_keys.revoke_key(_store(), key_id)
    click.echo(f"Revoked {key.role} key {key.id} ({key.name}) at {key.revoked_at}.")


@click.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations (the server also does this at start)."""
    store = Store.from_settings(_settings(), migrate=False)
    with _domain_errors():
        applied = store.migrate()
    if applied:
        click.echo("Applied migrations: " + ", ".join(str(v) for v in applied))
    else:
        click.echo(f"Database {store.path} is up to date (version {migrations.MIGRATIONS[-1].version}).")


@click.command("init")
def init_command() -> None:
    """Create the database and, if no admin key exists yet, one (printed alone on the last line)."""
    store = _store()
    with _domain_errors():
        store.migrate()
        secret = api_keys.ensure_admin_key(store)
    if secret is None:
        click.echo(f"Database {store.path} is ready; an admin key already exists.", err=True)
        return
    click.echo(f"Database {store.path} is ready. First admin key (shown once, store it now):", err=True)
    click.echo(secret)


@click.command("purge")
@click.option(
    "--older-than",
    default=None,
    help="Age past which personal data is removed, like 30d, 12h, 2w (default: MODERATION_RETENTION_DAYS).",
)
def purge_command(older_than: str | None) -> None:
    """Remove commenters' personal data (IP/e-mail hashes, user agent, author name) past retention."""
    settings = _settings()
    with _domain_errors():
        age = parse_duration(older_than if older_than else f"{settings.retention_days}d")
        count = purge(Store.from_settings(settings), age)
    click.echo(f"Removed personal data from {count} comments older than {age}.")


@click.command("outbox")
@click.option("--limit", default=20, show_default=True, help="How many pending events to show.")
def outbox_command(limit: int) -> None:
    """Show webhook deliveries: counts and the pending events with their last error."""
    with _domain_errors():
        status = outbox_status(_store(), limit)
    click.echo(json.dumps(status, indent=2))


def _show_check(found: DatabaseCheck) -> None:
    click.echo("integrity: " + ("ok" if not found.problems else "PROBLEMS"))
    for problem in found.problems[:20]:
        click.echo(f"  {problem}")
    report = found.chain
    if report.ok:
        click.echo(f"decision chain: {report.rows} rows intact; head {report.head_id}:{report.head_hash}")
    else:
        click.echo(f"decision chain: BROKEN at row {report.broken_id}: {report.problem}")


@click.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="ID:HASH",
    help="A head printed by an earlier verify (kept elsewhere): fails if that row was since rewritten.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def verify_command(file: Path | None, anchors: tuple[str, ...], as_json: bool) -> None:
    """Check the database (or FILE, e.g. a backup): integrity, foreign keys, the decisions' hash chain.

    Exits 1 naming the first broken decision row if any row was edited, removed or reordered.
    """
    recorded: dict[int, str] = {}
    for anchor in anchors:
        row_id, _, digest = anchor.partition(":")
        if not row_id.isdigit() or len(digest) != 64:
            raise click.BadParameter(f"{anchor!r} is not ID:HASH as printed by verify", param_hint="--anchor")
        recorded[int(row_id)] = digest.lower()
    with _domain_errors():
        store = backup.open_existing(file) if file is not None else _store()
        try:
            found = backup.check_database(store, recorded)
        finally:
            store.close()
    if as_json:
        click.echo(json.dumps({"ok": found.ok, "problems": found.problems, "chain": found.chain.as_dict()}))
    else:
        _show_check(found)
    if not found.ok:
        raise SystemExit(1)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the database to FILE while the service runs, check the copy, and keep it only if sound.

    FILE must not exist. The generated hashing secret (`<db>.secret`), if used, is copied to FILE.secret and
    the registered model files to FILE.models/. To restore: stop the service, put the copy at MODERATION_DB
    (its .secret beside it, named after it) and the model files in the models directory, start it again.
    """
    settings = _settings()
    secret = None if settings.secret_key else secret_path(settings.db_path.resolve())
    with _domain_errors():
        made = backup.backup(Store.from_settings(settings), file, secret_file=secret, models_dir=models_dir(settings))
    _show_check(made.check)
    click.echo(f"Backed up {settings.db_path} to {made.path} ({made.size} bytes) in {made.seconds:.2f} s.")
    if made.secret_copy is not None:
        click.echo(f"Copied the hashing secret to {made.secret_copy}; keep the two together.")
    if made.models_copy is not None:
        click.echo(f"Copied the registered model files to {made.models_copy}/.")
    for name in made.missing_models:
        click.echo(f"warning: model file {name} is missing from {models_dir(settings)}; not copied", err=True)


COMMANDS: list[click.Command] = [
    keys_group,
    init_command,
    migrate_command,
    purge_command,
    outbox_command,
    verify_command,
    backup_command,
]
