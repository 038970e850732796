"""Importing an admin's labelled files: validation with line numbers, a kept copy, a record with its hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from moderation.errors import Conflict, Invalid
from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.training import datasets

GOOD_CSV = "text,toxicity,insult\nyou absolute muppet,1,1\nnice piece on parking,0,0\nthe mayor spoke,0,\n"


def test_a_valid_file_is_copied_and_recorded(store: Store, settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "ours.csv"
    source.write_text(GOOD_CSV, encoding="utf-8")
    imported = datasets.import_dataset(store, settings, source, "admin1")
    assert imported["name"] == "ours.csv" and imported["rows"] == 3 and imported["imported_by"] == "admin1"
    assert imported["categories"] == ["toxicity", "insult"] and imported["warnings"] == []
    assert imported["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    [listed] = datasets.list_datasets(store)
    assert listed["id"] == imported["id"] and datasets.get_dataset(store, imported["id"])["rows"] == 3
    source.unlink()  # the service keeps its own copy
    [(row, corpus)] = datasets.load_datasets(store, settings)
    assert row["id"] == imported["id"] and corpus.examples[0].labels == {"toxicity": 1, "insult": 1}
    assert corpus.info.name == "file:ours"

    again = tmp_path / "again.csv"
    again.write_text(GOOD_CSV, encoding="utf-8")
    with pytest.raises(Conflict, match=f"already imported as dataset {imported['id']}"):
        datasets.import_dataset(store, settings, again, "admin2")


def test_errors_name_their_lines(store: Store, settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "fine", "toxicity": 0}\n{"text": "what", "toxicity": "maybe"}\nnot json\n{"text": "", "insult": 1}\n',
        encoding="utf-8",
    )
    with pytest.raises(Invalid) as raised:
        datasets.import_dataset(store, settings, bad, "admin1")
    fields = raised.value.fields
    assert set(fields) == {"line 2", "line 3", "line 4"}, fields
    assert "maybe" in fields["line 2"] and "empty text" in fields["line 4"]
    assert "bad.jsonl" in raised.value.message and ".tmp" not in raised.value.message
    assert datasets.list_datasets(store) == []
    assert not list(datasets.datasets_dir(settings).rglob("*.jsonl"))  # nothing kept from a refused file


def test_wrong_type_empty_and_unlabelled_files(store: Store, settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="Unsupported file type"):
        datasets.import_dataset_bytes(store, settings, b"text\nhello\n", "notes.txt", "admin1")
    with pytest.raises(Invalid, match="no labelled rows"):
        datasets.import_dataset_bytes(store, settings, b"text,toxicity\nhello,\n", "empty.csv", "admin1")
    imported = datasets.import_dataset_bytes(
        store, settings, GOOD_CSV.encode() + b"no label here,,\n", "../../etc/upload name.csv", "admin1"
    )
    assert imported["name"] == "upload_name.csv" and imported["rows"] == 3
    assert any("no label" in note for note in imported["warnings"])
    stored = datasets.dataset_path(settings, {"file": f"{imported['sha256'][:16]}/upload_name.csv"})
    assert stored.is_file() and stored.is_relative_to(datasets.datasets_dir(settings))


def test_a_changed_copy_is_refused_at_training_time(store: Store, settings: Settings) -> None:
    imported = datasets.import_dataset_bytes(store, settings, GOOD_CSV.encode(), "ours.csv", "admin1")
    stored = datasets.datasets_dir(settings) / f"{imported['sha256'][:16]}" / "ours.csv"
    stored.write_text(GOOD_CSV + "sneaked in,1,1\n", encoding="utf-8")
    with pytest.raises(datasets.DatasetMissing, match="no longer matches"):
        datasets.load_datasets(store, settings)
