"""Model artifacts: round trip, manifest contents, reproducibility and refusals."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from model import artifact
from model.categories import CATEGORIES
from model.scorer import load_scorer
from tests.model_fixtures import train_tiny_model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("tiny"))


def _rewrite(source: Path, target: Path, change_manifest=None, change_member=None, reseal: bool = True) -> Path:
    """Copy a model file with a changed manifest or member; `reseal` also rewrites the manifest's SHA-256."""
    with zipfile.ZipFile(source) as old:
        entries = {name: old.read(name) for name in old.namelist()}
    if change_manifest:
        manifest = json.loads(entries["manifest.json"])
        change_manifest(manifest)
        entries["manifest.json"] = json.dumps(manifest).encode()
        if reseal:
            entries["manifest.sha256"] = hashlib.sha256(entries["manifest.json"]).hexdigest().encode()
    if change_member:
        entries[change_member[0]] = change_member[1](entries[change_member[0]])
    with zipfile.ZipFile(target, "w") as new:
        for name, data in entries.items():
            new.writestr(name, data)
    return target


def test_round_trip_gives_identical_scores(tiny_model: Path) -> None:
    loaded = artifact.load(tiny_model)
    again_path = tiny_model.with_name("copy.model")
    artifact.save(loaded.model, {k: v for k, v in loaded.manifest.items() if k != "version"}, again_path)
    first, second = load_scorer(tiny_model), load_scorer(again_path)
    for text in ["you idiot", "thanks for the careful analysis", "subscribe to my channel", ""]:
        assert first.score(text).scores == second.score(text).scores


def test_manifest_carries_version_data_params_metrics_thresholds_libraries(tiny_model: Path) -> None:
    manifest = artifact.read_manifest(tiny_model)
    assert manifest["version"] and manifest["created_at"]
    corpus = manifest["corpora"][0]
    assert corpus["rows"] > 100 and len(corpus["sha256"]) == 64
    assert manifest["params"]["seed"] == 13
    assert set(manifest["thresholds"]) == set(CATEGORIES)
    assert manifest["metrics"]["holdout"]["categories"]["toxicity"]["roc_auc"] > 0.9
    assert manifest["libraries"]["scikit-learn"]
    assert len(manifest["training_rows_sha256"]) == 64


def test_training_is_deterministic_for_a_seed(tiny_model: Path, tmp_path: Path) -> None:
    again = train_tiny_model(tmp_path)
    assert artifact.read_manifest(again)["content_sha256"] == artifact.read_manifest(tiny_model)["content_sha256"]
    assert again.read_bytes() != b""


def test_altered_member_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    def flip(data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1])

    bad = _rewrite(tiny_model, tmp_path / "bad.model", change_member=("weights.npy", flip))
    with pytest.raises(artifact.ModelLoadError, match="fails its hash"):
        artifact.load(bad)


def test_member_list_tampering_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    def drop(manifest: dict) -> None:
        manifest["members"].pop("weights.npy")

    bad = _rewrite(tiny_model, tmp_path / "bad.model", change_manifest=drop)
    with pytest.raises(artifact.ModelLoadError, match="fails its hash"):
        artifact.load(bad)


def test_edited_manifest_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    def lower_thresholds(manifest: dict) -> None:
        for category in manifest["thresholds"]:
            manifest["thresholds"][category]["reject"] = 0.01

    bad = _rewrite(tiny_model, tmp_path / "edited.model", change_manifest=lower_thresholds, reseal=False)
    with pytest.raises(artifact.ModelLoadError, match="fails its hash: manifest.json was altered"):
        artifact.load(bad)
    with pytest.raises(artifact.ModelLoadError, match="manifest.json was altered"):
        artifact.read_manifest(bad)


def test_resealed_thresholds_fail_the_decision_hash(tiny_model: Path, tmp_path: Path) -> None:
    def lower_thresholds(manifest: dict) -> None:
        manifest["thresholds"]["toxicity"]["reject"] = 0.01

    # The manifest's own seal recomputed: the decision hash still sees that the thresholds are not the ones saved.
    bad = _rewrite(tiny_model, tmp_path / "resealed.model", change_manifest=lower_thresholds, reseal=True)
    with pytest.raises(artifact.ModelLoadError, match="thresholds or cascade settings were altered"):
        artifact.load(bad)


def test_the_same_arrays_with_other_thresholds_are_another_version(tiny_model: Path, tmp_path: Path) -> None:
    loaded = artifact.load(tiny_model)
    base = {k: v for k, v in loaded.manifest.items() if k != "version"}
    stricter = {**loaded.thresholds, "toxicity": {**loaded.thresholds["toxicity"], "review": 0.05}}
    same = artifact.save(loaded.model, base, tmp_path / "same.model")
    other = artifact.save(loaded.model, {**base, "thresholds": stricter}, tmp_path / "other.model")
    assert same["content_sha256"] == loaded.manifest["content_sha256"] and same["version"] == loaded.version
    assert other["members"] == same["members"]
    assert other["content_sha256"] != same["content_sha256"] and other["version"] != same["version"]
    assert artifact.load(tmp_path / "other.model").thresholds["toxicity"]["review"] == 0.05


def test_a_file_from_before_the_decision_hash_still_loads(tiny_model: Path, tmp_path: Path) -> None:
    def as_written_before(manifest: dict) -> None:
        del manifest["decision_sha256"]
        manifest["content_sha256"] = artifact.content_hash(manifest["members"])

    older = _rewrite(tiny_model, tmp_path / "older.model", change_manifest=as_written_before)
    assert artifact.load(older).model.weights.shape == artifact.load(tiny_model).model.weights.shape


def test_model_without_a_manifest_seal_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    unsealed = tmp_path / "unsealed.model"
    with zipfile.ZipFile(tiny_model) as old, zipfile.ZipFile(unsealed, "w") as new:
        for name in old.namelist():
            if name != "manifest.sha256":
                new.writestr(name, old.read(name))
    with pytest.raises(artifact.ModelLoadError, match="no manifest.sha256"):
        artifact.load(unsealed)


def test_other_scikit_learn_version_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    def older(manifest: dict) -> None:
        manifest["libraries"]["scikit-learn"] = "0.24.2"

    bad = _rewrite(tiny_model, tmp_path / "old.model", change_manifest=older)
    with pytest.raises(artifact.ModelLoadError, match=r"built with scikit-learn 0\.24\.2"):
        artifact.load(bad)


def test_non_model_and_missing_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"\x80\x04not a zip, maybe a pickle")
    with pytest.raises(artifact.ModelLoadError, match="not a readable model"):
        artifact.load(junk)
    with pytest.raises(artifact.ModelLoadError, match="does not exist"):
        artifact.load(tmp_path / "missing.model")


def test_pickle_inside_the_zip_is_never_loaded(tiny_model: Path, tmp_path: Path) -> None:
    import pickle

    def pickled(_data: bytes) -> bytes:
        return pickle.dumps({"evil": True})

    bad = _rewrite(tiny_model, tmp_path / "pickle.model", change_member=("intercepts.npy", pickled))
    with pytest.raises(artifact.ModelLoadError):
        artifact.load(bad)


def test_update_manifest_keeps_arrays_and_refuses_identity_changes(tiny_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.model"
    copy.write_bytes(tiny_model.read_bytes())
    artifact.update_manifest(copy, {"evaluation": {"note": "added"}})
    assert artifact.load(copy).manifest["evaluation"] == {"note": "added"}
    with pytest.raises(ValueError, match="cannot change"):
        artifact.update_manifest(copy, {"version": "forged"})
    with pytest.raises(ValueError, match="cannot change"):
        artifact.update_manifest(copy, {"thresholds": {}})
