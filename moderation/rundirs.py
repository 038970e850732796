"""Per-run directories named after the process that owns them, so a later start removes those a kill -9 left.

A server run makes a directory `<prefix><pid>-<pid namespace>-<random>` (gunicorn's metrics and rate-limit
files, the proxy's socket and nginx files) and removes it when it exits. A SIGKILL skips that, so each start
first removes the directories of its prefix whose owner is gone: made by this user, in this pid namespace
(a pid means nothing in another one, e.g. a container sharing `/dev/shm`), by a process that no longer exists.
A live owner, another user's directory, or a name without a pid (made before this scheme) is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path


def pid_namespace() -> str:
    """An identifier of this process's pid namespace (the inode of /proc/self/ns/pid; "0" where there is none)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


def make_run_directory(prefix: str, parent: str | os.PathLike[str] | None = None) -> Path:
    """A fresh private (0700) directory whose name records this process's pid and pid namespace."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-{pid_namespace()}-", dir=parent))


def owner_pid(name: str, prefix: str) -> int | None:
    """The pid recorded in a run directory's name, if it has one from this pid namespace."""
    match = re.fullmatch(re.escape(prefix) + r"(\d+)-(\d+)-[^/]+", name)
    if match is None or match.group(2) != pid_namespace():
        return None
    return int(match.group(1))


def process_exists(pid: int) -> bool:
    """Whether a process with this pid exists (another user's included; a zombie counts as existing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours to signal
    return True


def remove_stale_run_directories(prefix: str, parent: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove this user's `prefix` directories under `parent` whose owning process is gone; those removed."""
    folder = Path(parent if parent is not None else tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
            continue
        pid = owner_pid(entry.name, prefix)
        if pid is None or pid == os.getpid() or process_exists(pid):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
        except FileNotFoundError:
            continue  # another starting server removed it first
        path = Path(entry.path)
        shutil.rmtree(path, ignore_errors=True)  # a file vanishing under a concurrent clean-up is not a failure
        if not path.exists():
            removed.append(path)
    return removed
