"""Files are private: the database with its -wal and -shm, backups with their secret and model copies, imported
datasets, model files and generated secrets are created 0600, and the directories made for them 0700, under a
umask that would leave them readable by everyone (0022), in process and through a real `moderation serve`."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from model import artifact, private_files
from moderation import privacy
from moderation.settings import Settings
from moderation.storage import backup
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import datasets, registry
from moderation.training import retrain as rt
from tests.conftest import start_server
from tests.retrain_fixtures import add_verdicts, muppet_verdicts, retrain_settings
from tests.test_chain import submit

LOOSE_UMASK = 0o022
GOOD_CSV = "text,toxicity,insult\nyou absolute muppet,1,1\nnice piece on parking,0,0\n"


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """Run each test under umask 0022, the usual default, which would make new files 0644 and directories 0755."""
    previous = os.umask(LOOSE_UMASK)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    """The permission bits of a file or directory."""
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(root: Path) -> dict[str, str]:
    """Every file and directory under root (root included), by path relative to root, with its mode in octal."""
    found = {".": oct(mode(root))}
    for path in sorted(root.rglob("*")):
        found[str(path.relative_to(root))] = oct(mode(path))
    return found


def assert_all_private(root: Path) -> None:
    """Every directory under root (and root) is 0700 and every file 0600."""
    wrong = {
        name: found
        for name, found in modes_under(root).items()
        if found != oct(0o700 if (root / name).is_dir() else 0o600)
    }
    assert not wrong, f"not private under {root}: {wrong}"


def test_a_new_database_its_wal_shm_and_the_directories_made_for_it_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.from_env({"MODERATION_DB": str(data / "db" / "moderation.db"), "MODERATION_SECRET_KEY": "s"})
    store = Store.from_settings(settings)
    try:
        submit(store, settings, 3)  # a write, so the -wal and the -shm exist
        files = {path.name for path in (data / "db").iterdir()}
        assert files == {"moderation.db", "moderation.db-wal", "moderation.db-shm"}
        assert_all_private(data)
    finally:
        store.close()


def test_an_existing_database_others_could_read_is_made_private_when_opened(tmp_path: Path) -> None:
    settings = Settings.from_env({"MODERATION_DB": str(tmp_path / "moderation.db"), "MODERATION_SECRET_KEY": "s"})
    store = Store.from_settings(settings)
    submit(store, settings, 2)
    store.close()
    for path in tmp_path.glob("moderation.db*"):
        path.chmod(0o644)  # as an install from before this change left it
    reopened = Store.from_settings(settings)
    try:
        submit(reopened, settings, 2, prefix="again")
        assert {path.name: oct(mode(path)) for path in tmp_path.glob("moderation.db*")} == {
            "moderation.db": oct(0o600),
            "moderation.db-wal": oct(0o600),
            "moderation.db-shm": oct(0o600),
        }
    finally:
        reopened.close()


def test_a_backup_its_secret_and_its_model_copies_are_private(
    store: Store, settings: Settings, tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied_modes: list[str] = []

    def vacuum_into_and_look(db: Database, path: str) -> None:
        vacuum_into(db, path)
        copied_modes.append(oct(mode(Path(path))))  # before anything else could change it

    vacuum_into = st.vacuum_into
    monkeypatch.setattr(st, "vacuum_into", vacuum_into_and_look)
    rsettings = retrain_settings(settings, tiny_model_path)
    registry.ensure_default(store, rsettings)
    submit(store, settings, 5)
    secret = privacy.secret_path(settings.db_path)
    privacy.load_or_create_secret(secret)
    backups = tmp_path / "backups"
    backups.mkdir()  # the operator's own directory: its mode is theirs
    made = backup.backup(store, backups / "nightly.db", secret_file=secret, models_dir=registry.models_dir(rsettings))
    assert made.check.ok and made.secret_copy is not None and made.models_copy is not None
    assert copied_modes == [oct(0o600)]  # the copy was private while SQLite wrote it
    assert {path.name for path in backups.iterdir()} == {"nightly.db", "nightly.db.secret", "nightly.db.models"}
    assert len(list(made.models_copy.iterdir())) == 1
    for path in backups.iterdir():
        assert_all_private(path)


def test_imported_datasets_and_their_directories_are_private(store: Store, settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "ours.csv"
    source.write_text(GOOD_CSV, encoding="utf-8")
    assert mode(source) == 0o644  # the admin's file, as the umask made it
    datasets.import_dataset(store, settings, source, "admin1")
    datasets.import_dataset_bytes(store, settings, GOOD_CSV.encode() + b"another row,0,0\n", "upload.csv", "admin1")
    stored = datasets.datasets_dir(settings)
    assert len(list(stored.rglob("*.csv"))) == 2
    assert_all_private(stored)


def test_registered_and_retrained_model_files_are_private(
    store: Store, settings: Settings, tiny_model_path: Path, tmp_path: Path
) -> None:
    shipped = tmp_path / "shipped.model"
    shutil.copyfile(tiny_model_path, shipped)
    shipped.chmod(0o644)  # the shipped model in a checkout is readable by all; the registry's copy must not be
    rsettings = retrain_settings(settings, shipped)
    registry.ensure_default(store, rsettings)
    add_verdicts(store, rsettings, muppet_verdicts(40))
    result = rt.retrain(store, rsettings, "admin1")
    assert result["created"]
    models = registry.models_dir(rsettings)
    assert len(list(models.glob("*.model"))) == 2
    assert_all_private(models)


def test_model_files_keep_an_explicit_mode_through_saving_and_updating(tiny_model_path: Path, tmp_path: Path) -> None:
    loaded = artifact.load(tiny_model_path)
    manifest = {key: value for key, value in loaded.manifest.items() if key != "version"}
    private = tmp_path / "new" / "private.model"
    artifact.save(loaded.model, manifest, private)
    shared = tmp_path / "shared.model"
    artifact.save(loaded.model, manifest, shared, private_files.SHARED_FILE_MODE)
    assert (oct(mode(private.parent)), oct(mode(private)), oct(mode(shared))) == (oct(0o700), oct(0o600), oct(0o644))
    artifact.update_manifest(private, {"evaluation": {"note": "added"}})
    artifact.update_manifest(shared, {"evaluation": {"note": "added"}})
    assert (oct(mode(private)), oct(mode(shared))) == (oct(0o600), oct(0o644))
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["new", "private.model", "shared.model"]


def test_generated_secrets_and_their_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "moderation.db.secret"
    first = privacy.load_or_create_secret(path)
    assert privacy.load_or_create_secret(path) == first
    assert_all_private(tmp_path / "fresh")


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o277])
def test_private_files_set_their_mode_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    os.umask(umask)  # the fixture restores the process's own
    private_files.make_dir(tmp_path / "a" / "b")
    private_files.write_file(tmp_path / "a" / "b" / "written", b"text")
    private_files.copy_file(tmp_path / "a" / "b" / "written", tmp_path / "a" / "copied")
    os.close(private_files.open_for_append(tmp_path / "a" / "appended"))
    assert_all_private(tmp_path / "a")
    with pytest.raises(FileExistsError):
        private_files.write_file(tmp_path / "a" / "copied", b"never overwritten")
    assert (tmp_path / "a" / "copied").read_bytes() == b"text"


def test_a_served_install_keeps_every_file_private(tmp_path: Path, tiny_model_path: Path) -> None:
    shipped = tmp_path / "shipped.model"
    shutil.copyfile(tiny_model_path, shipped)
    shipped.chmod(0o644)
    data = tmp_path / "srv" / "data"
    env = {
        "MODERATION_DB": str(data / "moderation.db"),  # neither srv nor data exists yet
        "MODERATION_MODEL": str(shipped),
        "WEB_CONCURRENCY": "1",
    }  # no MODERATION_SECRET_KEY nor MODERATION_SESSION_SECRET: both are generated beside the database
    directory = tmp_path / "server"
    directory.mkdir()
    server = start_server(directory, env, command=[sys.executable, "-m", "moderation", "serve"])
    try:
        server.keys = {"admin": server.logs()[0].splitlines()[0]}
        status, made = server.json("POST", "/v1/keys", {"role": "site", "name": "news"}, key="admin")
        assert status == 201
        comment = {"id": "c1", "text": "a fair point", "article_id": "a", "author_id": "u", "ip": "192.0.2.7"}
        assert server.json("POST", "/v1/comments", comment, key=made["secret"])[0] == 201
        assert server.request("GET", "/web/sign-in")[0] == 200
        names = {str(path.relative_to(data)) for path in data.rglob("*")}
        expected = {"moderation.db", "moderation.db-wal", "moderation.db-shm", "moderation.db.secret", "models"}
        assert names >= expected | {"moderation.db.session-secret"}, names
        assert any(name.startswith("models/") and name.endswith(".model") for name in names), names
        assert_all_private(tmp_path / "srv")
    finally:
        assert server.stop() == 0
