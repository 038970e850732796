"""No leftovers: a start removes the per-run directories of servers killed with -9, never those of live ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from moderation.rundirs import (
    make_run_directory,
    owner_pid,
    pid_namespace,
    process_exists,
    remove_stale_run_directories,
)
from tests.conftest import LiveServer

PREFIX = "moderation-metrics-"


def dead_pid() -> int:
    """The pid of a process that was started, ended and reaped (so nothing has that pid now)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not process_exists(process.pid)
    return process.pid


@pytest.fixture
def live_process() -> Iterator[subprocess.Popen[bytes]]:
    """Another live process of this user, standing for a live server's master."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def run_directory(parent: Path, pid: int, namespace: str | None = None, suffix: str = "x1y2z3") -> Path:
    """A run directory as a server with this pid would name it, with a file inside like the metrics ones."""
    path = parent / f"{PREFIX}{pid}-{namespace or pid_namespace()}-{suffix}"
    path.mkdir()
    (path / "worker-1.json").write_text("{}")
    return path


def test_a_new_run_directory_records_its_owner(tmp_path: Path) -> None:
    made = make_run_directory(PREFIX, tmp_path)
    assert made.parent == tmp_path and owner_pid(made.name, PREFIX) == os.getpid()
    assert made.stat().st_mode & 0o777 == 0o700


def test_only_directories_of_dead_owners_are_removed(tmp_path: Path, live_process: subprocess.Popen[bytes]) -> None:
    stale = run_directory(tmp_path, dead_pid())
    mine = run_directory(tmp_path, os.getpid())
    other_live = run_directory(tmp_path, live_process.pid)
    other_namespace = run_directory(tmp_path, dead_pid(), namespace="1")  # a pid there says nothing here
    unnamed = tmp_path / f"{PREFIX}ab12cd34"  # the old naming, without a pid: cannot be judged
    unnamed.mkdir()
    unrelated = run_directory(tmp_path, dead_pid()).rename(tmp_path / "something-else")

    removed = remove_stale_run_directories(PREFIX, tmp_path)

    assert removed == [stale]
    assert not stale.exists()
    for kept in (mine, other_live, other_namespace, unnamed, unrelated):
        assert kept.exists(), kept


def test_a_missing_parent_is_nothing_to_clean(tmp_path: Path) -> None:
    assert remove_stale_run_directories(PREFIX, tmp_path / "absent") == []


def test_a_gunicorn_start_removes_stale_metrics_directories(
    live_server_factory: Callable[..., LiveServer], tmp_path: Path, live_process: subprocess.Popen[bytes]
) -> None:
    # Where gunicorn.conf.py puts them: /dev/shm when it may write there, else the temporary directory.
    parent = Path("/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir())
    suffix = f"test-{os.getpid()}-{tmp_path.name}"
    stale = run_directory(parent, dead_pid(), suffix=suffix)
    live = run_directory(parent, live_process.pid, suffix=suffix)
    try:
        server = live_server_factory({"WEB_CONCURRENCY": "1"}, with_keys=False)
        assert not stale.exists(), "the start left a directory whose master is gone"
        assert live.exists(), "the start removed a live server's directory"
        _, err = server.logs()
        assert f"removed the stale run directory {stale}" in err
        own = Path(_metrics_directory(err))
        assert owner_pid(own.name, PREFIX) == server.process.pid
        assert server.stop() == 0
        assert not own.exists()
    finally:
        for path in (stale, live):
            if path.exists():
                for child in path.iterdir():
                    child.unlink()
                path.rmdir()


def _metrics_directory(err: str) -> str:
    """The metrics directory the server named in its log."""
    for line in err.splitlines():
        if "metrics directory " in line and "stale" not in line:
            return str(json.loads(line)["message"].split("metrics directory ", 1)[1])
    raise AssertionError("the server did not log its metrics directory")
