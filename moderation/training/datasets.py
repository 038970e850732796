"""Admins' labelled files for retraining: validated, copied beside the database, recorded with their hash."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, Json

from model import private_files
from model.corpora import LABELLED_FILE_SUFFIXES, CorpusWarning, LabelledFileError, LoadedCorpus, load_labelled_file
from moderation.errors import Conflict, Invalid, NotFound
from moderation.records import Record
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Row, Store

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def datasets_dir(settings: Settings) -> Path:
    """Where imported labelled files are kept: `datasets/` beside the database."""
    return settings.db_path.parent / "datasets"


def dataset_path(settings: Settings, row: Row) -> Path:
    """The stored copy of an imported dataset."""
    return datasets_dir(settings) / str(row["file"])


def _safe_name(name: str) -> str:
    """A file name we can store: the base name, with anything unusual replaced."""
    base = Path(name).name
    stem, suffix = os.path.splitext(base)
    stem = _UNSAFE.sub("_", stem).strip("._")[:80] or "dataset"
    return stem + suffix.lower()


class NewDataset(Record):
    """An imported labelled file as recorded: its name, content hash, rows and categories, who and when."""

    model_config = ConfigDict(strict=False)

    name: str
    sha256: str
    rows: int
    categories: list[str]
    imported_by: str | None
    imported_at: str

    def row(self, file: str) -> dict[str, Any]:
        """The row to insert, with where the file is kept (inside the datasets directory)."""
        return {**self.model_dump(), "categories": json.dumps(self.categories), "file": file}


class Dataset(NewDataset):
    """An imported labelled file as the API shows it, read from its row."""

    id: int
    categories: Json[list[str]]  # type: ignore[assignment]
    warnings: list[str] | None = Field(default=None, description="Only in the import answer.")

    def as_dict(self) -> dict[str, Any]:
        """The JSON answer (`warnings` only where there are some to tell)."""
        return self.model_dump(exclude_unset=True)


def _dataset_dict(row: Row, warnings: list[str] | None = None) -> dict[str, Any]:
    extra = {} if warnings is None else {"warnings": warnings}
    return Dataset.model_validate({**row, **extra}).as_dict()


def validate(path: Path) -> tuple[LoadedCorpus, list[str]]:
    """Load a labelled file, raising Invalid with one field per bad line; the corpus and any warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorpusWarning)
        try:
            corpus = load_labelled_file(path)
        except LabelledFileError as error:
            fields = dict(error.fields)
            if error.truncated:
                fields["more"] = f"stopped after {len(error.errors)} errors; there may be more"
            raise Invalid(f"The labelled file has errors: {error.message}", fields=fields) from error
    notes = [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]
    if not corpus.examples:
        raise Invalid("The labelled file has no labelled rows.", fields={"file": "no rows with a text and a label"})
    return corpus, notes


def import_dataset(
    store: Store, settings: Settings, path: Path, actor: str | None, name: str | None = None
) -> dict[str, Any]:
    """Validate a CSV or JSON Lines file, keep a copy and record it; the dataset (Conflict if already imported)."""
    path = Path(path)
    shown = _safe_name(name or path.name)
    if Path(shown).suffix not in LABELLED_FILE_SUFFIXES:
        raise Invalid("Unsupported file type.", fields={"file": f"{shown}: use .csv, .jsonl or .json (JSON Lines)"})
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Invalid(f"Cannot read {path}: {error.strerror}.", fields={"file": "cannot be read"}) from error
    sha256 = hashlib.sha256(data).hexdigest()
    with store.read() as db:
        existing = st.dataset_by_sha256(db, sha256)
    if existing is not None:
        raise Conflict(f"This file was already imported as dataset {existing['id']} ({existing['name']}).")
    # Validated under its stored name, so the corpus name and the errors speak of the file the admin sent.
    relative = f"{sha256[:16]}/{shown}"
    target = datasets_dir(settings) / relative
    private_files.make_dir(target.parent)  # the copies are comment texts: 0700 folders, 0600 files
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=datasets_dir(settings)))
    try:
        staged = staging / shown
        private_files.write_file(staged, data)
        corpus, notes = validate(staged)
        staged.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    imported = NewDataset(
        name=shown,
        sha256=sha256,
        rows=len(corpus.examples),
        categories=list(corpus.info.categories),
        imported_by=actor,
        imported_at=st.iso(st.utcnow()),
    )
    with store.write() as db:
        if st.dataset_by_sha256(db, sha256) is not None:
            raise Conflict("This file was imported meanwhile.")
        row = imported.row(relative)
        row["id"] = st.insert_dataset(db, row)
    return _dataset_dict(row, notes)


def import_dataset_bytes(
    store: Store, settings: Settings, data: bytes, filename: str, actor: str | None
) -> dict[str, Any]:
    """Import an uploaded file's bytes (the API's way in); same checks as `import_dataset`."""
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="dataset-") as folder:
        upload = Path(folder) / f"upload{suffix}"
        private_files.write_file(upload, data)
        return import_dataset(store, settings, upload, actor, name=filename)


def list_datasets(store: Store) -> list[dict[str, Any]]:
    """Every imported dataset, oldest first."""
    with store.read() as db:
        return [_dataset_dict(row) for row in st.dataset_rows(db)]


def get_dataset(store: Store, dataset_id: int) -> dict[str, Any]:
    """One imported dataset (NotFound when unknown)."""
    with store.read() as db:
        row = st.dataset_row(db, dataset_id)
    if row is None:
        raise NotFound(f"No dataset {dataset_id}.")
    return _dataset_dict(row)


class DatasetMissing(Exception):
    """An imported dataset's stored copy is gone or no longer matches its recorded hash."""


def load_datasets(store: Store, settings: Settings) -> list[tuple[dict[str, Any], LoadedCorpus]]:
    """Every imported dataset's examples, each checked against its recorded hash first."""
    with store.read() as db:
        rows = st.dataset_rows(db)
    loaded = []
    for row in rows:
        path = dataset_path(settings, row)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DatasetMissing(
                f"dataset {row['id']} ({row['name']}): {path} cannot be read: {error.strerror}"
            ) from error
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise DatasetMissing(f"dataset {row['id']} ({row['name']}): {path} no longer matches its recorded sha256")
        corpus, _ = validate(path)
        loaded.append((_dataset_dict(row), corpus))
    return loaded
