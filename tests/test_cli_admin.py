"""Admin CLI: keys create/list/revoke, init, migrate, purge, outbox, on the database the settings name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from moderation import keys
from moderation.cli.operations import COMMANDS
from moderation.storage import store as st
from moderation.storage.store import Store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("moderation")
    for command in COMMANDS:
        group.add_command(command)
    return group


@pytest.fixture
def env(db_path: Path) -> dict[str, str]:
    return {"MODERATION_DB": str(db_path)}


def test_keys_create_list_revoke(cli: click.Group, env: dict[str, str], db_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "moderator", "--name", "alice"], env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[-1]
    assert created.stdout == secret + "\n"  # the key alone on stdout; the notice goes to stderr
    store = Store(db_path)
    key = keys.authenticate(store, secret)
    assert (key.role, key.name) == ("moderator", "alice")

    listed = runner.invoke(cli, ["keys", "list"], env=env)
    assert listed.exit_code == 0 and key.id in listed.stdout and "alice" in listed.stdout
    assert secret not in listed.stdout and keys.hash_key(secret) not in listed.stdout
    as_json = [json.loads(line) for line in runner.invoke(cli, ["keys", "list", "--json"], env=env).stdout.splitlines()]
    assert as_json[0]["id"] == key.id and as_json[0]["revoked_at"] is None

    revoked = runner.invoke(cli, ["keys", "revoke", key.id], env=env)
    assert revoked.exit_code == 0 and "Revoked" in revoked.stdout
    with pytest.raises(keys.Unauthorized):
        keys.authenticate(store, secret)
    missing = runner.invoke(cli, ["keys", "revoke", "000000000000"], env=env)
    assert missing.exit_code == 1 and "No key" in missing.output
    bad_role = runner.invoke(cli, ["keys", "create", "--role", "root"], env=env)
    assert bad_role.exit_code == 2
    store.close()


def test_init_creates_the_first_admin_key_once(cli: click.Group, env: dict[str, str], db_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["init"], env=env)
    assert first.exit_code == 0
    assert keys.authenticate(Store(db_path), first.stdout.splitlines()[-1]).role == "admin"
    second = runner.invoke(cli, ["init"], env=env)
    assert second.exit_code == 0 and second.stdout == "" and "already exists" in second.output


def test_migrate_and_bad_settings(cli: click.Group, env: dict[str, str], db_path: Path) -> None:
    runner = CliRunner()
    assert "Applied migrations: 1" in runner.invoke(cli, ["migrate"], env=env).stdout
    assert "up to date" in runner.invoke(cli, ["migrate"], env=env).stdout
    broken = runner.invoke(cli, ["migrate"], env={**env, "MODERATION_SYNCHRONOUS": "sometimes"})
    assert broken.exit_code == 1 and "MODERATION_SYNCHRONOUS" in broken.output


def test_purge_and_outbox(cli: click.Group, env: dict[str, str], db_path: Path) -> None:
    store = Store(db_path)
    old = st.iso(st.utcnow() - timedelta(days=40))
    with store.write() as db:
        st.insert_comment(
            db,
            {
                "id": "c1",
                "text": "t",
                "article_id": "a",
                "author_id": "u",
                "author_name": "Al",
                "ip_hash": "h",
                "received_at": old,
                "status": "approved",
            },
        )
    runner = CliRunner()
    assert "from 0 comments" in runner.invoke(cli, ["purge", "--older-than", "41d"], env=env).stdout
    assert "from 1 comments" in runner.invoke(cli, ["purge"], env={**env, "MODERATION_RETENTION_DAYS": "30"}).stdout
    with store.read() as db:
        assert st.comment_row(db, "c1")["ip_hash"] is None  # type: ignore[index]
    bad = runner.invoke(cli, ["purge", "--older-than", "soon"], env=env)
    assert bad.exit_code == 1 and "older_than" in bad.output
    status = json.loads(runner.invoke(cli, ["outbox"], env=env).stdout)
    assert status == {"delivered": 0, "pending": 0, "pending_events": []}
    store.close()


def test_console_script_prints_the_key_alone_on_the_last_line(db_path: Path) -> None:
    script = Path(sys.executable).parent / "moderation"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "moderation"]
    environment = {**os.environ, "MODERATION_DB": str(db_path)}
    done = subprocess.run(
        [*command, "keys", "create", "--role", "site"],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("mod_site_") and " " not in last
    store = Store(db_path)
    assert keys.authenticate(store, last).role == "site"
    store.close()
