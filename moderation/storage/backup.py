"""Online backups and database checks: a consistent copy made while the service writes, checked before it is kept.

The copy is made with `VACUUM INTO`, which reads one snapshot of the database in a single read transaction:
writers carry on (WAL), and the copy holds exactly the transactions committed before it started. It is
written beside the target under a temporary name, checked (integrity, foreign keys, the decision hash chain)
and only then given its name, so a half-made or damaged copy never passes for a backup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model import private_files
from moderation.errors import Conflict, Invalid, Unavailable
from moderation.storage import chain
from moderation.storage import store as st
from moderation.storage.store import Store


@dataclass(frozen=True)
class DatabaseCheck:
    """What checking a database file found: SQLite's own checks and the decision chain."""

    problems: list[str]
    chain: chain.ChainReport

    @property
    def ok(self) -> bool:
        """Whether the file is sound and the chain intact."""
        return not self.problems and self.chain.ok


@dataclass(frozen=True)
class BackupReport:
    """A backup that was made and checked."""

    path: Path
    size: int
    seconds: float
    check: DatabaseCheck
    secret_copy: Path | None = field(default=None)
    models_copy: Path | None = field(default=None)
    missing_models: list[str] = field(default_factory=list)


def check_database(store: Store, anchors: Mapping[int, str] | None = None) -> DatabaseCheck:
    """`PRAGMA integrity_check`, `PRAGMA foreign_key_check` and the decision chain (against any anchors)."""
    with store.read() as db:
        problems = st.integrity_problems(db)
    return DatabaseCheck(problems, st.verify_chain(store, anchors))


def open_existing(path: Path) -> Store:
    """A store on an existing database file, never migrated (for checking copies as they are)."""
    if not path.is_file():
        raise Invalid(f"No database file at {path}.", fields={"file": "must be an existing database file"})
    return Store(path, migrate=False)


def backup(
    store: Store, target: Path, *, secret_file: Path | None = None, models_dir: Path | None = None
) -> BackupReport:
    """Copy the live database to `target` (which must not exist), check the copy, keep it only if sound.

    Everything it writes is its owner's alone (files 0600, directories 0700), like what it copies. `secret_file`
    (the generated hashing secret beside the database) is copied to `<target>.secret`, since the hashes of
    commenters' IP and e-mail are useless without it. The files of the model versions the copy registers are
    copied from `models_dir` to `<target>.models/` (they never change once written, so copying them after the
    snapshot is still consistent).
    """
    target = target.expanduser()
    if target.exists():
        raise Conflict(f"{target} already exists; a backup never overwrites a file.", fields={"file": "exists"})
    if not target.parent.is_dir():
        raise Invalid(f"No directory {target.parent}.", fields={"file": "its directory must exist"})
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    started = time.monotonic()
    try:
        # VACUUM INTO fills an empty file as it finds it, so the copy is private from its first page on.
        os.close(private_files.create_file(partial))
        with store.read() as db:
            st.vacuum_into(db, str(partial))
        copy = Store(partial, migrate=False)
        try:
            found = check_database(copy)
            with copy.read() as db:
                model_files = [str(row["file"]) for row in st.model_version_rows(db)]
        finally:
            copy.close()
        if not found.ok:
            broken = [] if found.chain.ok else [f"decision row {found.chain.broken_id}: {found.chain.problem}"]
            details = "; ".join([*found.problems, *broken])
            raise Unavailable(f"The copy failed its check ({details}); run `moderation verify` on the database.")
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        # link() refuses to replace, so a file that appeared at `target` meanwhile is never overwritten.
        try:
            os.link(partial, target)
        except FileExistsError:
            raise Conflict(f"{target} appeared while the backup ran; nothing was overwritten.") from None
        _fsync_directory(target.parent)
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
            leftover.unlink(missing_ok=True)
    secret_copy = None
    if secret_file is not None and secret_file.is_file():
        secret_copy = target.with_name(target.name + ".secret")
        _copy_private(secret_file, secret_copy)
    models_copy, missing = None, []
    if models_dir is not None and model_files:
        models_copy = target.with_name(target.name + ".models")
        private_files.make_dir(models_copy)
        for name in model_files:
            source = models_dir / name
            if not source.is_file():
                missing.append(name)
            elif not (models_copy / name).exists():
                private_files.copy_file(source, models_copy / name)
    return BackupReport(
        target, target.stat().st_size, time.monotonic() - started, found, secret_copy, models_copy, missing
    )


def _copy_private(source: Path, destination: Path) -> None:
    # Created 0600 from the first byte: the secret is never readable by others, not even for a moment.
    try:
        private_files.copy_file(source, destination)
    except FileExistsError:
        raise Conflict(f"{destination} already exists; the secret was not copied.") from None


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
