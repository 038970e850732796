"""The model registry: first-start registration, the evaluation gate, force with a reason, rollback, refusals,
and the per-process holder that hot-swaps versions and keeps the last good model."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model import artifact
from model.artifact import ModelLoadError
from moderation.errors import Conflict, Invalid, NotFound
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import registry
from moderation.training.registry import ModelHolder
from tests.retrain_fixtures import retrain_settings


@pytest.fixture
def rsettings(settings: Settings, tiny_model_path: Path) -> Settings:
    return retrain_settings(settings, tiny_model_path)


def comparison(active_version: str, worse: list[str] | None = None) -> dict[str, Any]:
    worse = worse or []
    entry = {"n": 40, "positives": 20, "candidate": {"roc_auc": 0.9}, "active": {"roc_auc": 0.9}}
    categories = {
        "insult": {
            **entry,
            "delta_roc_auc": -0.2 if "insult" in worse else 0.0,
            "candidate": {"roc_auc": 0.7 if "insult" in worse else 0.9},
            "verdict": "worse" if "insult" in worse else "not-worse",
        },
    }
    return {
        "active_version": active_version,
        "tolerance": 0.01,
        "worse": worse,
        "passed": not worse,
        "categories": categories,
    }


def make_candidate(settings: Settings, store: Store, nudge: float, compared: dict[str, Any] | None) -> str:
    """A registered version: the tiny model with one weight nudged, carrying a given comparison."""
    base = artifact.load(settings.model_path)
    weights = base.model.weights.copy()
    weights[0, 0] += nudge
    base.model.weights = weights.astype(np.float32).astype(np.float64)
    folder = registry.models_dir(settings)
    temporary = folder / f"candidate-{nudge}.tmp"
    saved = artifact.save(base.model, {**base.manifest, "version": None, "comparison": compared}, temporary)
    final = folder / f"{saved['version']}.model"
    temporary.replace(final)
    return str(registry.register_file(store, settings, final, source="retrain", actor="test")["version"])


def test_first_start_registers_and_activates_a_copy_of_the_configured_model(store: Store, rsettings: Settings) -> None:
    version = registry.ensure_default(store, rsettings)
    assert registry.ensure_default(store, rsettings) == version == registry.active_version(store)
    [entry] = registry.list_versions(store)
    assert entry["active"] and entry["source"] == "shipped" and entry["version"] == version
    copy = registry.models_dir(rsettings) / entry["file"]
    assert copy.is_file() and registry.file_sha256(copy) == registry.file_sha256(rsettings.model_path)
    assert [a["kind"] for a in registry.activations(store)] == ["initial"]


def test_promote_rollback_and_reactivate(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    good = make_candidate(rsettings, store, 0.5, comparison(shipped))
    record = registry.activate(store, rsettings, good, "admin1")
    assert record["kind"] == "promote" and record["previous_version"] == shipped
    assert registry.active_version(store) == good
    with pytest.raises(Conflict, match="already active"):
        registry.activate(store, rsettings, good, "admin1")

    back = registry.rollback(store, rsettings, "admin1", reason="complaints")
    assert back["version"] == shipped and back["kind"] == "rollback" and back["reason"] == "complaints"
    with pytest.raises(Conflict, match="no earlier"):
        registry.rollback(store, rsettings, "admin1")  # the shipped model was the first

    # Compared with the shipped model, which is active again: promotable; and once active, it may return freely.
    assert registry.activate(store, rsettings, good, "admin2")["kind"] == "reactivate"
    kinds = [a["kind"] for a in registry.activations(store)]
    assert kinds == ["reactivate", "rollback", "promote", "initial"]


def test_rollback_walks_back_through_promotions(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    second = make_candidate(rsettings, store, 0.5, comparison(shipped))
    registry.activate(store, rsettings, second, "a")
    third = make_candidate(rsettings, store, 0.7, comparison(second))
    registry.activate(store, rsettings, third, "a")
    assert registry.rollback(store, rsettings, "a")["version"] == second
    assert registry.rollback(store, rsettings, "a")["version"] == shipped


def test_a_worse_candidate_needs_force_and_a_reason(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    worse = make_candidate(rsettings, store, 0.5, comparison(shipped, ["insult"]))
    with pytest.raises(Conflict, match="insult: ROC AUC 0.7 vs 0.9"):
        registry.activate(store, rsettings, worse, "admin1")
    with pytest.raises(Invalid) as missing:
        registry.activate(store, rsettings, worse, "admin1", force=True, reason="  ")
    assert "reason" in missing.value.fields
    assert registry.active_version(store) == shipped

    record = registry.activate(store, rsettings, worse, "admin1", force=True, reason="spam wave; accepted")
    assert record["kind"] == "force" and registry.active_version(store) == worse
    [latest, *_] = registry.activations(store)
    assert latest["reason"] == "spam wave; accepted" and latest["actor"] == "admin1"


def test_a_candidate_compared_with_another_active_version_needs_force(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    first = make_candidate(rsettings, store, 0.5, comparison(shipped))
    second = make_candidate(rsettings, store, 0.7, comparison(shipped))
    registry.activate(store, rsettings, first, "a")
    with pytest.raises(Conflict, match="retrain to compare it again"):
        registry.activate(store, rsettings, second, "a")
    assert registry.activate(store, rsettings, second, "a", force=True, reason="known good")["kind"] == "force"


def test_missing_or_corrupt_files_are_refused_and_the_active_version_stays(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    corrupt = make_candidate(rsettings, store, 0.5, comparison(shipped))
    missing = make_candidate(rsettings, store, 0.7, comparison(shipped))
    path = registry.models_dir(rsettings) / registry.get_version(store, corrupt)["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    (registry.models_dir(rsettings) / registry.get_version(store, missing)["file"]).unlink()

    with pytest.raises(Conflict, match="fails its hash"):
        registry.activate(store, rsettings, corrupt, "a")
    with pytest.raises(Conflict, match="is missing"):
        registry.activate(store, rsettings, missing, "a", force=True, reason="try")
    with pytest.raises(NotFound):
        registry.activate(store, rsettings, "no-such-version", "a")
    assert registry.active_version(store) == shipped
    assert [a["kind"] for a in registry.activations(store)] == ["initial"]


def test_activations_are_append_only(store: Store, rsettings: Settings) -> None:
    registry.ensure_default(store, rsettings)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.write() as db:
        db.execute("UPDATE model_activations SET reason = 'rewritten'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.write() as db:
        db.execute("DELETE FROM model_activations")


def test_holder_serves_a_newly_activated_version_within_a_second(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    holder = ModelHolder(store, rsettings)
    assert holder.current().version == shipped
    good = make_candidate(rsettings, store, 0.5, comparison(shipped))
    # Another process (here: another store) flips the active version.
    other = Store.from_settings(rsettings)
    registry.activate(other, rsettings, good, "admin")
    other.close()
    flipped = time.monotonic()
    while holder.current().version != good:
        assert time.monotonic() - flipped < 1.5, "the holder did not pick up the new version"
        time.sleep(0.02)
    scorer = holder.current()
    assert scorer.score("you idiot").model_version == good == holder.version


def test_holder_keeps_the_last_good_model_when_the_new_file_is_corrupt(store: Store, rsettings: Settings) -> None:
    clock = [0.0]
    shipped = registry.ensure_default(store, rsettings)
    holder = ModelHolder(store, rsettings, clock=lambda: clock[0])
    good = make_candidate(rsettings, store, 0.5, comparison(shipped))
    registry.activate(store, rsettings, good, "admin")
    path = registry.models_dir(rsettings) / registry.get_version(store, good)["file"]
    intact = path.read_bytes()
    path.write_bytes(intact[:-100])  # damaged after it was activated (disk, a bad copy, tampering)

    clock[0] += 0.5
    assert holder.current().version == shipped  # not checked again yet: less than a second passed
    clock[0] += 1.0
    assert holder.current().version == shipped  # checked, refused, still serving the last good model
    assert good in holder.status()["refused"] and "fails its hash" in holder.status()["refused"][good]
    assert holder.refresh() is False

    path.write_bytes(intact)  # repaired: the file changed, so it is tried again
    assert holder.refresh() is True and holder.current().version == good
    assert holder.status() == {"serving": good, "refused": {}}


def test_a_new_process_falls_back_to_the_newest_loadable_version(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    good = make_candidate(rsettings, store, 0.5, comparison(shipped))
    registry.activate(store, rsettings, good, "admin")
    (registry.models_dir(rsettings) / registry.get_version(store, good)["file"]).unlink()
    holder = ModelHolder(store, rsettings)
    assert holder.version == shipped and good in holder.status()["refused"]
    (registry.models_dir(rsettings) / registry.get_version(store, shipped)["file"]).unlink()
    with pytest.raises(ModelLoadError, match="no registered model version could be loaded"):
        ModelHolder(store, rsettings)


def test_the_holders_check_is_one_indexed_read(store: Store, rsettings: Settings) -> None:
    registry.ensure_default(store, rsettings)
    with store.read() as db:
        plan = " ".join(
            str(row)
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT a.id FROM model_activations a"
                " JOIN model_versions v ON v.version = a.version ORDER BY a.id DESC LIMIT 1"
            ).fetchall()
        )
        assert st.active_model_row(db) is not None
    assert "SCAN v" not in plan and "TEMP B-TREE" not in plan


def test_a_served_model_is_left_out_of_garbage_collection(store: Store, rsettings: Settings) -> None:
    import gc

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    holder = ModelHolder(store, rsettings)
    # Frozen with the model: the cyclic collector no longer walks its objects on each full collection.
    assert gc.get_freeze_count() > 0 and holder.current().model is not None
    gc.unfreeze()
