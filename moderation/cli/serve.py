"""`moderation serve`: migrate, make the first admin key, then replace this process with gunicorn.

With `--proxy` (production, and the container), this process stays and supervises gunicorn on a private
unix socket behind nginx on the address and port instead (see `moderation.proxy`).
"""

from __future__ import annotations

import os
import sys

import click

from model.artifact import ModelLoadError
from moderation import keys
from moderation.errors import ModerationError
from moderation.settings import REPO_ROOT, Settings, settings_table
from moderation.storage.store import Store
from moderation.training import registry

GUNICORN_CONF = REPO_ROOT / "gunicorn.conf.py"


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: MODERATION_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: PORT, 8080).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: WEB_CONCURRENCY, 2).")
@click.option(
    "--proxy",
    is_flag=True,
    help="Production: nginx listens on the address and port, buffering slow clients, in front of gunicorn "
    "on a private unix socket; both stop on SIGTERM.",
)
@click.option("--nginx", "nginx_binary", default=None, help="The nginx binary for --proxy (default: PATH, /usr/sbin).")
def serve_command(
    host: str | None, port: int | None, workers: int | None, proxy: bool, nginx_binary: str | None
) -> None:
    """Serve the HTTP API under gunicorn, with the settings' database and model (behind nginx with --proxy)."""
    environ = dict(os.environ)
    # Options become environment settings, so gunicorn.conf.py and every worker read the same values.
    for name, value in (("MODERATION_HOST", host), ("PORT", port), ("WEB_CONCURRENCY", workers)):
        if value is not None:
            environ[name] = str(value)
    try:
        settings = Settings.from_env(environ)
    except ModerationError as error:
        details = "; ".join(f"{field} {problem}" for field, problem in error.fields.items())
        raise click.ClickException(f"{error.message} ({details})") from error
    nginx = None
    if proxy:
        from moderation.proxy import ProxyError, find_nginx, listen_address

        try:
            nginx = find_nginx(nginx_binary)
            listen_address(settings.host, settings.port)  # refuse an address nginx cannot take before any work
        except ProxyError as error:
            raise click.ClickException(str(error)) from error

    # The only database work in the master, done before any worker exists: migrate, register the shipped
    # model as the active version if none is, then the first admin key.
    store = Store.from_settings(settings)
    try:
        store.migrate()
        version = registry.ensure_default(store, settings)
        secret = keys.ensure_admin_key(store)
    except ModerationError as error:
        raise click.ClickException(error.message) from error
    except ModelLoadError as error:
        raise click.ClickException(
            f"Cannot serve: {error}. Build the model with `make model`, or point MODERATION_MODEL at one."
        ) from error
    finally:
        store.close()
    if secret is not None:
        click.echo("First start: created an admin API key. It is shown this once; store it now:", err=True)
        click.echo(secret)
    front = "nginx, in front of" if proxy else "gunicorn,"
    click.echo(
        f"Serving on http://{settings.host}:{settings.port} ({front} {settings.workers} sync workers), "
        f"database {settings.db_path}, model version {version}",
        err=True,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(GUNICORN_CONF),
        "--pythonpath",
        str(REPO_ROOT),  # where `api` lives, whatever the working directory
        "api.wsgi:app",
    ]
    if nginx is not None:
        from moderation.proxy import ProxyError, serve_behind_nginx

        try:
            status = serve_behind_nginx(settings.host, settings.port, argv, environ, nginx)
        except ProxyError as error:
            raise click.ClickException(str(error)) from error
        sys.exit(status)
    os.execve(sys.executable, argv, environ)


def settings_markdown() -> str:
    """The settings table as the Markdown the README shows (a test keeps the README equal to it)."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for row in settings_table():
        default = f"`{row['default']}`" if row["default"] else "(unset)"
        meaning = row["meaning"].replace("|", "\\|")
        lines.append(f"| `{row['env']}` | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


@click.command("settings")
def settings_command() -> None:
    """Print every setting (environment variable, default, meaning) as a Markdown table."""
    click.echo(settings_markdown(), nl=False)


COMMANDS: list[click.Command] = [serve_command, settings_command]
