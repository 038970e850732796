"""Files and directories only their owner may read, whatever the process umask.

The database, its backups, imported datasets, generated secrets and the models trained on moderators' verdicts
hold comment texts and author names. Each is created with an explicit mode (files 0600, directories 0700),
set again on the new file or directory itself: open() and mkdir() only ever take bits away from the mode
they are given, so without that a umask could still decide it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
SHARED_FILE_MODE = 0o644  # only for what is meant to be published, like the shipped model


def create_file(path: Path, mode: int = PRIVATE_FILE_MODE) -> int:
    """Create `path`, which must not exist, open for writing with exactly `mode`; its file descriptor."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(descriptor, mode)  # before a byte is written
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def open_for_append(path: Path, mode: int = PRIVATE_FILE_MODE) -> int:
    """Open `path` for appending, created if missing; either way its mode is then exactly `mode`; its descriptor."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)
    try:
        os.fchmod(descriptor, mode)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def write_file(path: Path, data: bytes, mode: int = PRIVATE_FILE_MODE) -> None:
    """Write `data` to a new file `path` (which must not exist) with exactly `mode`, synced to disk."""
    with os.fdopen(create_file(path, mode), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def copy_file(source: Path, destination: Path, mode: int = PRIVATE_FILE_MODE) -> None:
    """Copy `source` to a new file `destination` (which must not exist) with exactly `mode`, synced to disk."""
    with source.open("rb") as reading, os.fdopen(create_file(destination, mode), "wb") as writing:
        shutil.copyfileobj(reading, writing, 1 << 20)
        writing.flush()
        os.fsync(writing.fileno())


def temporary_beside(path: Path) -> Path:
    """A fresh hidden name in `path`'s directory, to write `path` atomically (write there, then rename)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def make_dir(path: Path, mode: int = PRIVATE_DIR_MODE) -> None:
    """Create directory `path` and whichever of its parents are missing, each with exactly `mode`; directories
    that already exist are left as they are (they may be the operator's: `/data`, `/srv`)."""
    missing: list[Path] = []
    ancestor = path
    while not ancestor.is_dir():
        missing.append(ancestor)
        ancestor = ancestor.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            if directory.is_dir():  # another process made it meanwhile
                continue
            raise
        os.chmod(directory, mode)


def make_owned_file_private(path: Path) -> bool:
    """Take group's and others' permissions off an existing file this process's user owns; whether it had any."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return False
    if status.st_uid != os.geteuid() or not stat.S_IMODE(status.st_mode) & 0o077:
        return False
    os.chmod(path, stat.S_IMODE(status.st_mode) & 0o700)
    return True
