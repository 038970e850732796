"""`moderation backup FILE`: a consistent copy made while the service writes, checked, never overwriting;
a restored copy passes `verify` and `integrity_check` and serves again."""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from moderation.errors import Conflict, Unavailable
from moderation.settings import Settings
from moderation.storage import backup
from moderation.storage import store as st
from moderation.storage.store import Store
from tests.conftest import REPO, LiveServer, ModerationRunner
from tests.test_chain import submit, tamper


def consistency(path: Path) -> tuple[int, int, int]:
    """(comments, comments without exactly one submission decision, queued comments without an open item)."""
    with sqlite3.connect(path) as db:
        comments = db.execute("SELECT count(*) FROM comments").fetchone()[0]
        unmatched = db.execute(
            "SELECT count(*) FROM comments c WHERE"
            " (SELECT count(*) FROM decisions d WHERE d.comment_id = c.id AND d.kind = 'submission') != 1"
        ).fetchone()[0]
        unqueued = db.execute(
            "SELECT count(*) FROM comments c WHERE c.status = 'queued' AND NOT EXISTS"
            " (SELECT 1 FROM queue_items q WHERE q.comment_id = c.id AND q.state = 'pending')"
        ).fetchone()[0]
    return int(comments), int(unmatched), int(unqueued)


def _write_until(db_path: str, stop: Any, rounds: Any) -> None:
    settings = Settings.from_env({"MODERATION_DB": db_path, "MODERATION_SECRET_KEY": "s"})
    store = Store.from_settings(settings)
    while not stop.is_set():
        submit(store, settings, 10, f"w{rounds.value}-")
        rounds.value += 1  # only this process writes it
    store.close()


def _wait_for_rounds(rounds: Any, at_least: int, writer: Any) -> None:
    """Block until the writer has committed `at_least` rounds (bounded: a stuck writer fails the test)."""
    for _ in range(6000):
        if rounds.value >= at_least:
            return
        assert writer.is_alive(), "the writer stopped"
        time.sleep(0.01)
    raise AssertionError(f"the writer committed {rounds.value} rounds, not {at_least}, in a minute")


def test_backup_while_another_process_writes(store: Store, settings: Settings, tmp_path: Path) -> None:
    submit(store, settings, 20)
    context = mp.get_context("fork")
    stop = context.Event()
    rounds = context.Value("i", 0)
    writer = context.Process(target=_write_until, args=(str(settings.db_path), stop, rounds))
    writer.start()
    copies = []
    try:
        for n in range(3):
            # Two more rounds than before the last copy finished: one whole round committed after its snapshot.
            _wait_for_rounds(rounds, rounds.value + 2, writer)
            made = backup.backup(store, tmp_path / f"copy{n}.db")
            assert made.check.ok and made.path.is_file()
            copies.append(made.path)
    finally:
        stop.set()
        writer.join(60)
    assert writer.exitcode == 0
    counts = [consistency(copy) for copy in copies]
    assert counts[0][0] > 20 and counts[0][0] < counts[1][0] < counts[2][0]  # each copy caught the writer midway
    for copy, (_, unmatched, unqueued) in zip(copies, counts, strict=True):
        assert unmatched == 0 and unqueued == 0
        restored = backup.open_existing(copy)
        assert backup.check_database(restored).ok
        restored.close()
    assert not list(tmp_path.glob(".*partial*"))


def test_backup_never_overwrites_and_refuses_a_damaged_database(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    submit(store, settings, 5)
    target = tmp_path / "copy.db"
    target.write_text("precious")
    with pytest.raises(Conflict):
        backup.backup(store, target)
    assert target.read_text() == "precious"
    tamper(settings.db_path, "UPDATE decisions SET note = 'edited' WHERE id = 2")
    with pytest.raises(Unavailable, match="decision row 2"):
        backup.backup(store, tmp_path / "fresh.db")
    assert not (tmp_path / "fresh.db").exists() and not list(tmp_path.glob(".*partial*"))


def test_backup_and_verify_commands(runner: ModerationRunner, store: Store, settings: Settings, tmp_path: Path) -> None:
    submit(store, settings, 8)
    target = tmp_path / "backups" / "nightly.db"
    target.parent.mkdir()
    env = {k: v for k, v in runner.env.items() if k != "MODERATION_SECRET_KEY"}  # the generated secret file
    secret = settings.db_path.with_name(settings.db_path.name + ".secret")
    secret.write_text("generated-secret\n")
    plain = ModerationRunner(env)
    result = plain.invoke("backup", str(target))
    assert result.exit_code == 0, result.output
    assert "8 rows intact" in result.output and "hashing secret" in result.output
    copied_secret = target.with_name("nightly.db.secret")
    assert copied_secret.read_text() == "generated-secret\n"
    assert stat.S_IMODE(copied_secret.stat().st_mode) == 0o600
    again = plain.invoke("backup", str(target))
    assert again.exit_code != 0 and "never overwrites" in again.output
    checked = plain.invoke("verify", str(target))
    assert checked.exit_code == 0 and "integrity: ok" in checked.output


def _post_until(server: LiveServer, stop: threading.Event, acknowledged: list[str]) -> None:
    n = 0
    while not stop.is_set():
        comment = {"id": f"live-{n}", "text": f"comment {n} on the budget", "article_id": "a", "author_id": f"u{n % 9}"}
        status, _ = server.json("POST", "/v1/comments", comment, key="site")
        if status == 201:
            acknowledged.append(comment["id"])
        n += 1


@pytest.mark.slow
def test_backup_of_a_live_service_restores_and_serves(
    live_server_factory: Callable[..., LiveServer], tiny_model_path: Path, tmp_path: Path
) -> None:
    env = {"MODERATION_MODEL": str(tiny_model_path)}
    server = live_server_factory(env)
    stop, acknowledged = threading.Event(), []
    posting = threading.Thread(target=_post_until, args=(server, stop, acknowledged))
    posting.start()
    try:
        while len(acknowledged) < 30:
            posting.join(0.05)
        command = [sys.executable, "-m", "moderation", "backup", str(tmp_path / "hot.db")]
        made = subprocess.run(command, cwd=REPO, env=server.env, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr + made.stdout
    finally:
        stop.set()
        posting.join(30)
    comments, unmatched, unqueued = consistency(tmp_path / "hot.db")
    assert 30 <= comments <= len(acknowledged) and unmatched == 0 and unqueued == 0
    server.stop()

    # Restore: the copy takes the database's place and a new server starts on it.
    restored_db = tmp_path / "restored" / "moderation.db"
    restored_db.parent.mkdir()
    os.replace(tmp_path / "hot.db", restored_db)
    os.replace(tmp_path / "hot.db.models", restored_db.parent / "models")
    verify = subprocess.run(
        [sys.executable, "-m", "moderation", "verify"],
        cwd=REPO,
        env={**server.env, "MODERATION_DB": str(restored_db)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0 and "integrity: ok" in verify.stdout, verify.stdout + verify.stderr
    again = live_server_factory({**env, "MODERATION_DB": str(restored_db)}, with_keys=False)
    again.keys = server.keys
    status, body = again.json("GET", "/v1/comments/live-0", key="site")
    assert status == 200 and body["decisions"]
    comment = {"id": "after-restore", "text": "still here", "article_id": "a", "author_id": "u"}
    assert again.json("POST", "/v1/comments", comment, key="site")[0] == 201
    assert st.verify_chain(Store(restored_db)).ok
