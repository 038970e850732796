"""Stage 2 adapted from moderators' verdicts: the graph's pooled output, the head adapter (its fit, its effect on
scores, its sealing in the model file and the self-check over it), and a retrain of a cascade that fits one and
is judged by final scores (no torch, no ../shared)."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model import artifact, cascade
from model.artifact import FittedAdapter, ModelLoadError
from model.card import render_model_card
from model.cascade import CascadeSettings
from model.categories import CATEGORIES
from model.compare import FINAL_SCORES, STAGE1_SCORES
from model.metrics import ranking_metrics
from model.normalize import normalize_text
from model.scorer import load_scorer
from model.stage2 import runtime
from model.stage2.adapt import HeadAdapter, HeadAdaptParams, fit_head_adapter
from model.types import Thresholds
from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.training import registry
from moderation.training import retrain as rt
from tests import stage2_fixtures as fx
from tests.retrain_fixtures import add_verdicts, muppet_verdicts, retrain_settings

DECIDED, LOOSE = fx.DECIDED, fx.LOOSE
INSULT = CATEGORIES.index("insult")
# Like the verdicts' insults (not one of them), and unlike any verdict (no word in common with them).
LIKE_THE_VERDICTS = "the council is a total numpty"
UNLIKE_THE_VERDICTS = "thanks for careful analysis minister"


def folder_members(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in runtime.FOLDER_FILES}


def verdict_rows(count: int = 80) -> tuple[list[str], np.ndarray]:
    """The muppet verdicts as stage 2 reads them (normalized) and their label matrix (-1 where unlabelled)."""
    rows = muppet_verdicts(count)
    labels = np.full((len(rows), len(CATEGORIES)), -1.0)
    for i, (_, _, given) in enumerate(rows):
        for category, value in given.items():
            labels[i, CATEGORIES.index(category)] = value
    return [normalize_text(text) for _, text, _ in rows], labels


@pytest.fixture(scope="module")
def plain_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose graph was exported before `pooled` existed."""
    return fx.write_stage2_folder(tmp_path_factory.mktemp("stage2") / "plain", graph=fx.graph_bytes(pooled=False))


@pytest.fixture(scope="module")
def stage2(stage2_folder: Path) -> runtime.Stage2Model:
    return runtime.load_stage2(folder_members(stage2_folder))


@pytest.fixture(scope="module")
def fitted(stage2: runtime.Stage2Model) -> FittedAdapter:
    texts, labels = verdict_rows()
    fit = fit_head_adapter(stage2, texts, labels, DECIDED, HeadAdaptParams())
    assert fit.adapter is not None
    return FittedAdapter(fit.adapter, fit.report)


@pytest.fixture(scope="module")
def adapted_model(
    tiny_model_path: Path, cascade_model: Path, fitted: FittedAdapter, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("adapted") / "adapted.model"
    artifact.carry_stage2(tiny_model_path, cascade_model, out, fitted)
    return out


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The graph's pooled output


def test_the_graph_answers_the_mean_pooled_features_its_head_reads(stage2: runtime.Stage2Model) -> None:
    assert stage2.has_pooled
    table = fx.pooled_embeddings()
    tokens = ["[CLS]", "you", "idiot", "[SEP]"]
    expected = np.mean([table[fx.VOCAB[t]] for t in tokens], axis=0)
    pooled = stage2.pooled(["you idiot"])
    assert pooled.shape == (1, fx.POOLED_WIDTH) and np.allclose(pooled[0], expected, atol=1e-6)
    logits, many = stage2.features_many(["you idiot", "", "kill"], batch_size=2)
    assert np.allclose(many[0], expected, atol=1e-6) and np.allclose(logits, stage2.logits(["you idiot", "", "kill"]))


def test_a_graph_without_pooled_scores_alike_but_cannot_be_adapted(
    stage2: runtime.Stage2Model, plain_folder: Path
) -> None:
    plain = runtime.load_stage2(folder_members(plain_folder))
    texts = ["you idiot", "i will kill you", "thanks for the careful analysis", ""]
    assert not plain.has_pooled
    assert np.array_equal(plain.probabilities_many(texts), stage2.probabilities_many(texts))
    with pytest.raises(runtime.NoPooledOutput):
        plain.pooled(texts)
    adapter = HeadAdapter.checked(np.zeros((fx.POOLED_WIDTH, len(CATEGORIES))), np.zeros(len(CATEGORIES)))
    with pytest.raises(ModelLoadError, match="no pooled output"):
        plain.with_adapter(adapter)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (lambda: fx.graph_bytes(pooled_name="embeddings"), r"has outputs \['logits', 'embeddings'\]"),
        (lambda: fx.graph_bytes(output_name="scores"), r"has outputs \['scores', 'pooled'\]"),
    ],
)
def test_outputs_other_than_logits_and_pooled_are_refused(
    tmp_path: Path, graph: Callable[[], bytes], message: str
) -> None:
    folder = fx.write_stage2_folder(tmp_path / "bad", graph=graph())
    with pytest.raises(ModelLoadError, match=message):
        runtime.load_stage2(folder_members(folder))


# ---------------------------------------------------------------------------
# The adapter's effect on scores


def test_without_an_adapter_scores_are_exactly_the_calibrated_logits(tmp_path: Path) -> None:
    calibration = {c: {"a": 0.8, "b": -0.3} for c in CATEGORIES}
    model = runtime.load_stage2(folder_members(fx.write_stage2_folder(tmp_path / "c", calibration=calibration)))
    texts = ["you idiot", "the council is a total numpty", "i will kill you", ""]
    z = model.logits(texts) * 0.8 - 0.3
    expected = 0.5 * (1.0 + np.tanh(0.5 * z))
    assert model.adapter is None
    assert np.array_equal(model.probabilities_many(texts), expected)
    assert np.array_equal(np.array([model.probabilities(t) for t in texts]), expected)


def test_an_adapter_adds_its_residual_to_the_calibrated_logit(tmp_path: Path) -> None:
    calibration = {c: {"a": 0.8, "b": -0.3} for c in CATEGORIES}
    model = runtime.load_stage2(folder_members(fx.write_stage2_folder(tmp_path / "c", calibration=calibration)))
    weights = np.zeros((fx.POOLED_WIDTH, len(CATEGORIES)))
    weights[len(CATEGORIES) + fx.VOCAB["numpty"], INSULT] = 9.0
    bias = np.full(len(CATEGORIES), 0.25)
    adapted = model.with_adapter(HeadAdapter.checked(weights, bias))
    texts = ["the council is a total numpty", "you idiot", ""]
    logits, pooled = model.features_many(texts)
    z = logits * 0.8 - 0.3 + pooled @ weights + bias
    assert np.allclose(adapted.probabilities_many(texts), 0.5 * (1.0 + np.tanh(0.5 * z)), atol=1e-12)
    assert model.adapter is None  # with_adapter made a new model; the original scores as before


def test_a_fitted_adapter_moves_texts_like_the_verdicts_their_way_and_leaves_others_nearly_alone(
    stage2: runtime.Stage2Model, fitted: FittedAdapter
) -> None:
    adapted = stage2.with_adapter(fitted.adapter)
    before, after = stage2.probabilities(LIKE_THE_VERDICTS), adapted.probabilities(LIKE_THE_VERDICTS)
    assert after[INSULT] > before[INSULT] + 0.3  # the verdicts call numpties insults
    harmless = "the editor spoke about parking and bus lanes"
    assert adapted.probabilities(harmless)[INSULT] <= stage2.probabilities(harmless)[INSULT] + 0.01
    unlike_before, unlike_after = stage2.probabilities(UNLIKE_THE_VERDICTS), adapted.probabilities(UNLIKE_THE_VERDICTS)
    assert np.max(np.abs(unlike_after - unlike_before)) < 0.02
    spam = CATEGORIES.index("spam")  # not a category stage 2 decides: never adapted
    assert not fitted.adapter.weights[:, spam].any() and fitted.adapter.bias[spam] == 0.0


def test_the_fit_reports_rows_positives_and_its_loss_per_category(fitted: FittedAdapter) -> None:
    report = fitted.report
    assert report["rows"] == 80 and report["hidden"] == fx.POOLED_WIDTH and report["started_from"] == "zero"
    assert report["params"] == HeadAdaptParams().as_dict()
    for category in ("toxicity", "insult"):
        entry = report["categories"][category]
        assert entry["adapted"] and entry["rows"] == 80 and entry["positives"] == 40
        assert entry["loss_after"] < 0.5 * entry["loss_before"]
    assert report["categories"]["threat"] == {"rows": 0, "adapted": False}  # no verdict labels threat
    assert "spam" not in report["categories"]
    threat = CATEGORIES.index("threat")
    assert not fitted.adapter.weights[:, threat].any() and fitted.adapter.bias[threat] == 0.0


def test_the_fit_does_not_depend_on_the_order_of_the_rows(stage2: runtime.Stage2Model, fitted: FittedAdapter) -> None:
    texts, labels = verdict_rows()
    order = list(range(len(texts)))
    random.Random(5).shuffle(order)
    again = fit_head_adapter(stage2, [texts[i] for i in order], labels[order], DECIDED, HeadAdaptParams())
    assert again.adapter is not None
    assert np.array_equal(again.adapter.weights, fitted.adapter.weights)
    assert np.array_equal(again.adapter.bias, fitted.adapter.bias)
    assert again.report == fitted.report


def test_no_labelled_category_stage2_decides_gives_no_adapter(stage2: runtime.Stage2Model) -> None:
    texts, labels = verdict_rows(10)
    fit = fit_head_adapter(stage2, texts, labels, ("threat", "obscene"), HeadAdaptParams())
    assert fit.adapter is None and not any(entry["adapted"] for entry in fit.report["categories"].values())
    assert fit_head_adapter(stage2, [], labels[:0], DECIDED, HeadAdaptParams()).adapter is None


# ---------------------------------------------------------------------------
# The adapter in the model file


def test_an_adapter_is_sealed_as_hashed_npy_members_named_in_the_stage2_section(
    adapted_model: Path, cascade_model: Path, fitted: FittedAdapter
) -> None:
    manifest = artifact.read_manifest(adapted_model)
    record = manifest["stage2"]["adapter"]
    names = {"weights": "stage2/adapter_weights.npy", "bias": "stage2/adapter_bias.npy"}
    assert record["members"] == names and record["hidden"] == fx.POOLED_WIDTH and record["fit"] == fitted.report
    with zipfile.ZipFile(adapted_model) as archive:
        for role, name in names.items():
            data = archive.read(name)
            assert manifest["members"][name] == record["sha256"][role] == hashlib.sha256(data).hexdigest()
            assert np.array_equal(np.load(io.BytesIO(data), allow_pickle=False), getattr(fitted.adapter, role))
    assert manifest["stage2"]["graph_sha256"] == artifact.read_manifest(cascade_model)["stage2"]["graph_sha256"]
    loaded = artifact.load(adapted_model)
    assert loaded.stage2 is not None and loaded.stage2.adapter is not None
    assert np.array_equal(loaded.stage2.adapter.weights, fitted.adapter.weights)
    card = render_model_card(manifest)
    assert "Adapted from moderators' verdicts" in card and "fitted on 80 verdict rows for `toxicity`, `insult`" in card
    assert "Adapted from" not in render_model_card(artifact.read_manifest(cascade_model))


def test_the_self_check_records_the_adapted_probabilities_and_so_covers_the_adapter(
    tiny_model_path: Path, cascade_model: Path, stage2: runtime.Stage2Model, tmp_path: Path
) -> None:
    adapter = HeadAdapter.checked(np.zeros((fx.POOLED_WIDTH, len(CATEGORIES))), np.eye(len(CATEGORIES))[INSULT])
    out = tmp_path / "biased.model"
    artifact.carry_stage2(tiny_model_path, cascade_model, out, FittedAdapter(adapter, {"note": "by hand"}))
    record = artifact.read_manifest(out)["stage2"]["self_check"]
    adapted = stage2.with_adapter(adapter)
    for text, recorded in zip(record["texts"], record["probabilities"], strict=True):
        assert np.allclose(adapted.probabilities(text), recorded, atol=1e-9)
    assert artifact.load(out).stage2 is not None

    def without_adapter(entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        for name in manifest["stage2"].pop("adapter")["members"].values():
            del entries[name]

    # The same file with its adapter removed, every hash recomputed: the graph alone no longer scores as recorded.
    with pytest.raises(ModelLoadError, match="does not score its self-check texts as recorded"):
        artifact.load(fx.forge(out, tmp_path / "stripped.model", without_adapter))


def test_a_corrupted_adapter_member_fails_its_hash(adapted_model: Path, tmp_path: Path) -> None:
    damaged = fx.with_flipped_byte(adapted_model, tmp_path / "damaged.model", "stage2/adapter_weights.npy", -3)
    with pytest.raises(ModelLoadError, match="fails its hash: member stage2/adapter_weights.npy was altered"):
        artifact.load(damaged)


def test_a_swapped_adapter_with_every_hash_recomputed_fails_the_self_check(adapted_model: Path, tmp_path: Path) -> None:
    def other_bias(entries: dict[str, bytes], _manifest: dict[str, Any]) -> None:
        entries["stage2/adapter_bias.npy"] = npy(np.full(len(CATEGORIES), 0.5))

    with pytest.raises(ModelLoadError, match="does not score its self-check texts as recorded"):
        artifact.load(fx.forge(adapted_model, tmp_path / "swapped.model", other_bias))


def test_the_adapter_record_names_its_members_by_hash(adapted_model: Path, tmp_path: Path) -> None:
    def stale_hash(_entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        manifest["stage2"]["adapter"]["members"] = {"weights": "stage2/other.npy", "bias": "stage2/adapter_bias.npy"}

    with pytest.raises(ModelLoadError, match="adapter record must name its members"):
        artifact.load(fx.forge(adapted_model, tmp_path / "renamed.model", stale_hash))

    def stale_bias(manifest: dict[str, Any]) -> None:
        manifest["stage2"]["adapter"]["sha256"]["bias"] = "0" * 64

    path = fx.resealed(adapted_model, tmp_path / "stale.model", stale_bias)
    with pytest.raises(ModelLoadError, match="not the one its manifest names"):
        artifact.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e, m: m["stage2"].pop("adapter"), "adapter members its stage2 section does not name"),
        (lambda e, m: e.pop("stage2/adapter_bias.npy"), "lacks its members"),
        (lambda e, m: e.update({"stage2/adapter_bias.npy": b"not an array"}), "unusable stage-2 adapter"),
        (
            lambda e, m: e.update({"stage2/adapter_bias.npy": npy(np.array(["x"] * len(CATEGORIES)))}),
            "must be a float array",
        ),
        (
            lambda e, m: e.update({"stage2/adapter_weights.npy": npy(np.zeros((5, len(CATEGORIES))))}),
            "reads 5 pooled features",
        ),
        (
            lambda e, m: e.update({"stage2/adapter_weights.npy": npy(np.full((fx.POOLED_WIDTH, 7), np.nan))}),
            "must be finite",
        ),
    ],
)
def test_a_malformed_or_unnamed_adapter_is_refused(
    adapted_model: Path, tmp_path: Path, change: Callable[[dict[str, bytes], dict[str, Any]], Any], message: str
) -> None:
    with pytest.raises(ModelLoadError, match=message):
        artifact.load(fx.forge(adapted_model, tmp_path / "bad.model", change))


def test_an_adapter_is_refused_on_a_graph_without_pooled(
    tiny_model_path: Path, plain_folder: Path, fitted: FittedAdapter, tmp_path: Path
) -> None:
    plain_cascade = tmp_path / "plain.model"
    artifact.attach_stage2(tiny_model_path, plain_folder, plain_cascade, LOOSE)
    with pytest.raises(ModelLoadError, match="no pooled output"):
        artifact.carry_stage2(tiny_model_path, plain_cascade, tmp_path / "out.model", fitted)


def test_attaching_a_folder_again_drops_the_adapter(adapted_model: Path, stage2_folder: Path, tmp_path: Path) -> None:
    manifest = artifact.attach_stage2(adapted_model, stage2_folder, tmp_path / "again.model")
    assert "adapter" not in manifest["stage2"] and not any("adapter" in name for name in manifest["members"])
    loaded = artifact.load(tmp_path / "again.model")
    assert loaded.stage2 is not None and loaded.stage2.adapter is None


# ---------------------------------------------------------------------------
# A retrain of a cascade


def shipped_cascade(tiny_model_path: Path, folder: Path, out: Path, **settings: Any) -> Path:
    """A cascade as `make model` ships one: measured routing (half of review) and its own thresholds."""
    routing = {"review_fraction": 0.5, "routed_share": 0.2}
    measured = CascadeSettings(
        {c: 0.1 for c in DECIDED}, DECIDED, "test", cascade.DEFAULT_ROUTE_WORDS, routing, **settings
    )
    stage1 = artifact.read_manifest(tiny_model_path)["thresholds"]
    chosen: Thresholds = {c: {"reject": 0.97, "review": 0.42} for c in stage1}
    artifact.attach_stage2(tiny_model_path, folder, out, measured, thresholds=chosen)
    return out


def retrain_cascade(store: Store, settings: Settings, shipped: Path) -> tuple[Settings, str, dict[str, Any], Path]:
    """Retrain from 120 muppet verdicts with `shipped` active; the settings, active version, result and file."""
    rsettings = retrain_settings(settings, shipped)
    active = registry.ensure_default(store, rsettings)
    add_verdicts(store, rsettings, muppet_verdicts(120))
    result = rt.retrain(store, rsettings, "admin1")
    assert result["created"] and result["mode"] == "adapt"
    return (
        rsettings,
        active,
        result,
        registry.models_dir(rsettings) / registry.get_version(store, result["version"])["file"],
    )


def test_a_retrain_of_a_cascade_fits_a_stage2_adapter_from_the_verdicts(
    store: Store, settings: Settings, tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    shipped = shipped_cascade(tiny_model_path, stage2_folder, tmp_path / "cascade.model")
    _, _, result, path = retrain_cascade(store, settings, shipped)
    candidate, donor = load_scorer(path), load_scorer(shipped)  # loads, self-check and all
    section = candidate.manifest["stage2"]
    assert section["graph_sha256"] == donor.manifest["stage2"]["graph_sha256"]  # the graph itself is carried
    assert candidate.stage2 is not None and candidate.stage2.adapter is not None and donor.stage2 is not None
    fit = section["adapter"]["fit"]
    trained = result["verdicts"]["train_comments"]
    assert fit["rows"] == trained and fit["started_from"] == "zero"
    for category in ("toxicity", "insult"):
        assert fit["categories"][category]["rows"] == trained
        assert fit["categories"][category]["loss_after"] < fit["categories"][category]["loss_before"]
    recorded = candidate.manifest["training"]["retrain_params"]["stage2_adapt"]
    assert recorded == HeadAdaptParams().as_dict()
    # Stage 2 itself now reads a numpty as an insult, and an unrelated comment as before.
    assert (
        candidate.stage2.probabilities(LIKE_THE_VERDICTS)[INSULT]
        > donor.stage2.probabilities(LIKE_THE_VERDICTS)[INSULT] + 0.3
    )
    assert np.allclose(
        candidate.stage2.probabilities(UNLIKE_THE_VERDICTS), donor.stage2.probabilities(UNLIKE_THE_VERDICTS), atol=0.02
    )


def test_the_gate_compares_two_cascades_by_their_final_scores(
    store: Store, settings: Settings, tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    shipped = shipped_cascade(tiny_model_path, stage2_folder, tmp_path / "cascade.model")
    _, active, _, path = retrain_cascade(store, settings, shipped)
    candidate, donor = load_scorer(path), load_scorer(shipped)
    comparison = candidate.manifest["comparison"]
    assert comparison["scores"] == FINAL_SCORES and comparison["active_version"] == active
    holdout = rt.load_verdicts(store, rt.RetrainParams()).holdout
    texts = [e.text for e in holdout]
    labels = np.array([e.labels["insult"] for e in holdout])
    assert comparison["categories"]["insult"]["n"] == len(holdout)

    def auc(scores: np.ndarray) -> float:
        return float(ranking_metrics(scores[:, INSULT], labels)["roc_auc"])  # type: ignore[arg-type]

    final = {"candidate": auc(candidate.final_probabilities(texts)), "active": auc(donor.final_probabilities(texts))}
    stage1 = {
        "candidate": auc(candidate.model.probabilities_many(normalize_text(t) for t in texts)),
        "active": auc(donor.model.probabilities_many(normalize_text(t) for t in texts)),
    }
    recorded = {side: comparison["categories"]["insult"][side]["roc_auc"] for side in ("candidate", "active")}
    assert recorded == pytest.approx(final, abs=1e-4)
    assert recorded != pytest.approx(stage1, abs=1e-4)  # stage 1 alone ranks these rows otherwise
    assert candidate.manifest["metrics"]["holdout"]["categories"]["insult"]["n"] == len(holdout)
    assert "each is ranked by its final scores" in render_model_card(candidate.manifest)


def test_a_cascade_whose_graph_has_no_pooled_is_carried_over_unchanged(
    store: Store, settings: Settings, tiny_model_path: Path, plain_folder: Path, tmp_path: Path
) -> None:
    shipped = shipped_cascade(tiny_model_path, plain_folder, tmp_path / "plain.model")
    _, _, _, path = retrain_cascade(store, settings, shipped)
    candidate, donor = load_scorer(path), load_scorer(shipped)
    assert candidate.stage2 is not None and candidate.stage2.adapter is None and donor.stage2 is not None
    manifest = candidate.manifest
    assert "adapter" not in manifest["stage2"] and not any("adapter" in name for name in manifest["members"])
    assert manifest["stage2"]["graph_sha256"] == donor.manifest["stage2"]["graph_sha256"]
    texts = [LIKE_THE_VERDICTS, UNLIKE_THE_VERDICTS, "you idiot", "i will kill you"]
    assert np.array_equal(candidate.stage2.probabilities_many(texts), donor.stage2.probabilities_many(texts))
    assert manifest["comparison"]["scores"] == FINAL_SCORES  # both are still cascades


def test_a_retrain_of_a_cascade_keeps_its_blend_passages_and_lone_sentences_and_rebuilds_the_same_adapter(
    store: Store, settings: Settings, tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    blend = {"toxicity": (0.3, 0.9, -0.2), "insult": (0.2, 1.1, 0.1)}
    shipped = shipped_cascade(
        tiny_model_path, stage2_folder, tmp_path / "cascade.model", blend=blend, passages=3, sentences=2
    )
    rsettings, _, first, path = retrain_cascade(store, settings, shipped)
    settings_after = load_scorer(path).cascade
    assert settings_after is not None and settings_after.blend == blend
    assert (settings_after.passages, settings_after.sentences) == (3, 2)
    assert settings_after.route_words == cascade.DEFAULT_ROUTE_WORDS
    again = rt.retrain(store, rsettings, "admin1")
    assert again["content_sha256"] == first["content_sha256"] and not again["created"]


def test_a_retrain_of_a_stage1_model_is_still_compared_on_stage1_scores(
    store: Store, settings: Settings, tiny_model_path: Path
) -> None:
    rsettings = retrain_settings(settings, tiny_model_path)
    registry.ensure_default(store, rsettings)
    add_verdicts(store, rsettings, muppet_verdicts(40))
    result = rt.retrain(store, rsettings, "admin1")
    path = registry.models_dir(rsettings) / registry.get_version(store, result["version"])["file"]
    manifest = artifact.read_manifest(path)
    assert manifest["comparison"]["scores"] == STAGE1_SCORES and "stage2" not in manifest
