"""Stage 2 and the cascade: the ONNX runtime, a stage-2 folder sealed in a model file, the self-check on load,
routing, merged scores, spans, and the registry keeping the last good model (no torch, no ../shared)."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model import artifact, cascade
from model.artifact import ModelLoadError
from model.cascade import CascadeSettings, RouteDecision, merge, route
from model.categories import CATEGORIES
from model.scorer import Scorer, load_scorer
from model.stage2 import runtime
from moderation import service
from moderation.policy import default_policy
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import registry
from moderation.training.registry import ModelHolder
from tests import stage2_fixtures as fx
from tests.retrain_fixtures import retrain_settings

ROOT = Path(__file__).resolve().parent.parent
DECIDED, LOOSE = fx.DECIDED, fx.LOOSE


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def expected_logits(tokens: list[str], scale: float = 8.0) -> np.ndarray:
    """The tiny graph's logits computed by hand: the mean of the tokens' evidence rows, scaled, plus the bias."""
    table = fx.embeddings()
    rows = [table[fx.VOCAB.get(token, fx.VOCAB["[UNK]"])] for token in tokens]
    return np.mean(rows, axis=0) * scale + fx.BIAS  # type: ignore[no-any-return]


def folder_members(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in runtime.FOLDER_FILES}


@pytest.fixture(scope="module")
def cascade_scorer(cascade_model: Path) -> Scorer:
    return load_scorer(cascade_model)


# ---------------------------------------------------------------------------
# The runtime


def test_the_runtime_scores_as_the_graph_computes_by_hand(stage2_folder: Path) -> None:
    model = runtime.load_stage2(folder_members(stage2_folder))
    probabilities = model.probabilities("You IDIOT, I will kill you!")
    tokens = ["[CLS]", "you", "idiot", ",", "i", "will", "kill", "you", "!", "[SEP]"]
    assert np.allclose(probabilities, _sigmoid(expected_logits(tokens)), atol=1e-6)
    assert probabilities[CATEGORIES.index("threat")] > 0.9 and probabilities[CATEGORIES.index("spam")] < 0.05


def test_a_batch_scores_each_text_as_alone_padding_masked(stage2_folder: Path) -> None:
    model = runtime.load_stage2(folder_members(stage2_folder))
    texts = ["you idiot", "thanks for the careful analysis of the border talks and the article", "", "kill"]
    alone = np.array([model.probabilities(text) for text in texts])
    assert np.allclose(model.probabilities_many(texts, batch_size=3), alone, atol=1e-6)


def test_an_int8_graph_scores_each_text_as_alone_by_default(tmp_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    fp32.write_bytes(fx.graph_bytes())
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    folder = fx.write_stage2_folder(tmp_path / "int8", graph=int8.read_bytes())
    model = runtime.load_stage2(folder_members(folder))
    texts = ["you idiot", "thanks for the careful analysis", "kill", "the minister"]
    alone = np.array([model.probabilities(text) for text in texts])
    assert np.array_equal(model.probabilities_many(texts), alone)
    # Batched, int8's per-run activation scale lets the texts move each other's scores: why the default is one.
    assert not np.array_equal(model.probabilities_many(texts, batch_size=len(texts)), alone)


def test_text_past_max_length_tokens_is_truncated(stage2_folder: Path) -> None:
    model = runtime.load_stage2(folder_members(stage2_folder))
    padding = " ".join(["the"] * (fx.MAX_LENGTH + 5))
    assert np.allclose(model.probabilities(padding + " idiot"), model.probabilities(padding), atol=1e-7)
    assert model.encode([padding + " idiot"])[0].shape == (1, fx.MAX_LENGTH)


def test_a_long_text_is_tokenized_from_a_prefix_with_the_same_tokens_as_the_whole() -> None:
    """The shipped tokenizer reads a long text only up to a split point, and the tokens are the whole text's."""
    import random

    from benchmarks.hostile_texts import EXPANDING, JUNK

    tokenizer = load_scorer().stage2._tokenizer  # type: ignore[union-attr]
    chars = int(tokenizer.truncation["max_length"]) * runtime.PREFIX_CHARS_PER_TOKEN
    rng = random.Random(7)
    # A text whose word crossing the cut would be the last token kept: words of over 100 letters (one [UNK] each),
    # then one-letter words, so that the tokens before the crossing word are one short of max_length.
    content = int(tokenizer.truncation["max_length"]) - 2
    long_words = (chars - 2 * content) // 149 - 1
    rest = "a " * (content - 1 - long_words)
    last = chars - 8 - 151 * (long_words - 1) - 1 - len(rest)  # the head ends 8 characters short of the cut
    head = ("x" * 150 + " ") * (long_words - 1) + "x" * last + " " + rest
    assert last > 100
    assert len(tokenizer.encode(head).ids) == content - 1 + 2
    assert len(head) < chars < len(head) + len("unbelievableness")
    words = ["the", "minister", "idiot", "ça", "日本", "x" * 150, "don't", "(a)", "—", "\u200b", "\t", "ﬃ"]
    texts = [
        *JUNK.values(),
        *EXPANDING.values(),
        *(" ".join(rng.choice(words) for _ in range(rng.randint(400, 1500))) for _ in range(40)),
        *("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(chars - 5, 3 * chars))) for _ in range(40)),
        "y" * 5000 + " end",  # no split point in reach: the whole text
        "a " * 20 + "z" * 4000,  # a prefix too short to fill max_length: the whole text
        head + "unbelievableness" + " and so on" * 300,
    ]
    assert sum(runtime.split_prefix(t, chars) is not None for t in texts) >= 80
    ours = runtime.encodings_of(tokenizer, texts)
    whole = tokenizer.encode_batch(texts)
    assert [e.ids for e in ours] == [e.ids for e in whole]


def test_a_prefix_ends_just_after_a_space_or_punctuation_mark() -> None:
    assert runtime.split_prefix("short", 10) is None
    assert runtime.split_prefix("one two three", 9) == "one two "
    assert runtime.split_prefix("one,two;three", 10) == "one,two;"
    assert runtime.split_prefix("onetwothree", 5) is None


def test_calibration_is_applied_per_category(tmp_path: Path) -> None:
    calibration = {c: {"a": 1.0, "b": 0.0} for c in CATEGORIES} | {"insult": {"a": 0.5, "b": -1.0}}
    folder = fx.write_stage2_folder(tmp_path / "calibrated", calibration=calibration)
    model = runtime.load_stage2(folder_members(folder))
    logits = expected_logits(["[CLS]", "you", "idiot", "[SEP]"])
    expected = _sigmoid(logits)
    expected[CATEGORIES.index("insult")] = _sigmoid(0.5 * logits[CATEGORIES.index("insult")] - 1.0)
    assert np.allclose(model.probabilities("you idiot"), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (lambda: fx.graph_bytes(input_names=("ids", "attention_mask")), "takes inputs"),
        (lambda: fx.graph_bytes(output_name="scores"), "has outputs"),
        (lambda: fx.graph_bytes(n_outputs=6), r"not float32 \[batch, 7\]"),
        (lambda: b"not a graph at all", "cannot be loaded by ONNX Runtime"),
    ],
)
def test_a_graph_off_the_interface_is_refused(tmp_path: Path, graph: Callable[[], bytes], message: str) -> None:
    folder = fx.write_stage2_folder(tmp_path / "bad", graph=graph())
    with pytest.raises(ModelLoadError, match=message):
        runtime.load_stage2(folder_members(folder))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "stage2/0"}, "format"),
        ({"categories": list(reversed(CATEGORIES))}, "categories must be"),
        ({"calibration": {c: {"a": 1.0, "b": 0.0} for c in CATEGORIES[:-1]}}, "calibration must give"),
        ({"calibration": {c: {"a": 1.0, "b": "0"} for c in CATEGORIES}}, r"calibration\.toxicity\.b"),
        ({"max_length": 0}, "max_length"),
        ({"max_length": True}, "max_length"),
        ({"quantized": "no"}, "quantized"),
        ({"encoder": ""}, "encoder"),
        ({"training": None}, "training"),
        ({"input": "lowercased"}, "input must start"),
    ],
)
def test_a_malformed_config_is_refused(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    folder = fx.write_stage2_folder(tmp_path / "bad", **changes)
    with pytest.raises(ModelLoadError, match=message):
        runtime.load_stage2(folder_members(folder))


def test_a_config_or_tokenizer_that_is_not_json_or_not_wordpiece_is_refused(stage2_folder: Path) -> None:
    members = folder_members(stage2_folder)
    with pytest.raises(ModelLoadError, match="config.json is not JSON"):
        runtime.load_stage2({**members, "config.json": b"{"})
    with pytest.raises(ModelLoadError, match="tokenizer.json is not JSON"):
        runtime.load_stage2({**members, "tokenizer.json": b"\xff"})
    bpe = json.loads(members["tokenizer.json"])
    bpe["model"]["type"] = "BPE"
    with pytest.raises(ModelLoadError, match="WordPiece"):
        runtime.load_stage2({**members, "tokenizer.json": json.dumps(bpe).encode()})
    with pytest.raises(ModelLoadError, match="lacks model.onnx"):
        runtime.load_stage2({k: v for k, v in members.items() if k != "model.onnx"})


# ---------------------------------------------------------------------------
# The artifact


def test_an_attached_stage2_is_sealed_in_the_file_and_named_by_its_graph_hash(
    tiny_model_path: Path, stage2_folder: Path, cascade_model: Path
) -> None:
    manifest = artifact.read_manifest(cascade_model)
    graph = (stage2_folder / "model.onnx").read_bytes()
    assert manifest["stage2"]["graph_sha256"] == hashlib.sha256(graph).hexdigest()
    assert manifest["members"]["stage2/model.onnx"] == manifest["stage2"]["graph_sha256"]
    assert {"stage2/tokenizer.json", "stage2/config.json"} <= manifest["members"].keys()
    stage1 = artifact.read_manifest(tiny_model_path)
    assert manifest["stage2"]["stage1_version"] == stage1["version"] != manifest["version"]
    assert manifest["content_sha256"] != stage1["content_sha256"]
    assert manifest["stage2"]["clear_bounds"] == LOOSE.clear_bounds and "spam" not in manifest["stage2"]["clear_bounds"]
    loaded = artifact.load(cascade_model)
    assert loaded.stage2 is not None and loaded.cascade_settings == LOOSE


def test_the_self_check_records_what_stage2_scored_at_attach_time(cascade_model: Path, stage2_folder: Path) -> None:
    record = artifact.read_manifest(cascade_model)["stage2"]["self_check"]
    model = runtime.load_stage2(folder_members(stage2_folder))
    assert record["texts"] == list(artifact.STAGE2_CHECK_TEXTS) and record["tolerance"] == 1e-3
    for text, recorded in zip(record["texts"], record["probabilities"], strict=True):
        assert np.allclose(model.probabilities(text), recorded, atol=1e-6)


def test_a_corrupted_graph_member_fails_its_hash(cascade_model: Path, tmp_path: Path) -> None:
    size = zipfile.ZipFile(cascade_model).getinfo("stage2/model.onnx").file_size
    damaged = fx.with_flipped_byte(cascade_model, tmp_path / "damaged.model", "stage2/model.onnx", size // 2)
    with pytest.raises(ModelLoadError, match="fails its hash: member stage2/model.onnx was altered"):
        artifact.load(damaged)


def test_a_graph_that_no_longer_scores_as_recorded_is_refused(cascade_model: Path, tmp_path: Path) -> None:
    def other_graph(entries: dict[str, bytes], _manifest: dict[str, Any]) -> None:
        entries["stage2/model.onnx"] = fx.graph_bytes(scale=7.0)  # valid, on the interface, but not the one checked

    with pytest.raises(ModelLoadError, match="does not score its self-check texts as recorded at build time"):
        artifact.load(fx.forge(cascade_model, tmp_path / "swapped.model", other_graph))


def test_a_tampered_self_check_record_is_refused(cascade_model: Path, tmp_path: Path) -> None:
    def shifted(_entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        record = manifest["stage2"]["self_check"]
        record["probabilities"][1][4] = record["probabilities"][1][4] - 0.002  # twice the tolerance

    with pytest.raises(ModelLoadError, match=r"off by 0\.00200"):
        artifact.load(fx.forge(cascade_model, tmp_path / "shifted.model", shifted))

    def dropped(_entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        del manifest["stage2"]["self_check"]

    with pytest.raises(ModelLoadError, match="no self-check record"):
        artifact.load(fx.forge(cascade_model, tmp_path / "dropped.model", dropped))


def test_a_stage2_that_no_longer_scores_as_recorded_is_replaced_by_attaching_another(
    cascade_model: Path, tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    # As on a CPU where the old graph's int8 sums come out otherwise: the file's stage 1 is still good.
    def shifted(_entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        manifest["stage2"]["self_check"]["probabilities"][0][0] += 0.01

    stale = fx.forge(cascade_model, tmp_path / "stale.model", shifted)
    with pytest.raises(ModelLoadError, match="does not score its self-check texts"):
        artifact.load(stale)
    base = artifact.load(stale, stage2=False)
    assert base.stage2 is None and base.version == artifact.read_manifest(stale)["version"]

    from click.testing import CliRunner

    from moderation.cli.cascade import attach_stage2_command

    out = tmp_path / "again.model"
    result = CliRunner().invoke(attach_stage2_command, [str(stale), str(stage2_folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    again = load_scorer(out)  # self-check and all
    section = again.manifest["stage2"]
    assert section["stage1_version"] == artifact.read_manifest(tiny_model_path)["version"]
    assert section["stage1_thresholds"] == artifact.read_manifest(tiny_model_path)["thresholds"]
    assert again.score("you idiot").stage == 2


def test_stage2_members_and_manifest_section_go_together(cascade_model: Path, tmp_path: Path) -> None:
    def no_section(_entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        del manifest["stage2"]

    with pytest.raises(ModelLoadError, match="no stage2 section"):
        artifact.load(fx.forge(cascade_model, tmp_path / "stray.model", no_section))

    def no_graph(entries: dict[str, bytes], _manifest: dict[str, Any]) -> None:
        del entries["stage2/model.onnx"]

    with pytest.raises(ModelLoadError, match="lacks its members"):
        artifact.load(fx.forge(cascade_model, tmp_path / "graphless.model", no_graph))

    def bad_bounds(_entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        manifest["stage2"]["clear_bounds"]["insult"] = 1.5

    with pytest.raises(ModelLoadError, match="unusable cascade settings"):
        artifact.load(fx.forge(cascade_model, tmp_path / "bounds.model", bad_bounds))


def test_saving_a_cascade_models_linear_part_writes_a_stage1_file(cascade_model: Path, tmp_path: Path) -> None:
    loaded = artifact.load(cascade_model)
    saved = artifact.save(loaded.model, {**loaded.manifest, "version": None}, tmp_path / "linear.model")
    assert "stage2" not in saved and not any(name.startswith("stage2/") for name in saved["members"])
    assert artifact.load(tmp_path / "linear.model").stage2 is None
    with pytest.raises(ValueError, match="stage2"):
        artifact.update_manifest(cascade_model, {"stage2": {}})


def test_attaching_again_replaces_the_stage2(cascade_model: Path, tmp_path: Path) -> None:
    folder = fx.write_stage2_folder(tmp_path / "second", graph=fx.graph_bytes(scale=6.0))
    manifest = artifact.attach_stage2(cascade_model, folder, tmp_path / "again.model")
    graph = hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    assert manifest["members"]["stage2/model.onnx"] == graph == manifest["stage2"]["graph_sha256"]
    assert manifest["stage2"]["bounds_from"].startswith("fallback")
    assert artifact.load(tmp_path / "again.model").stage2 is not None


def test_other_thresholds_or_routing_on_the_same_members_are_other_versions(
    tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    loose = artifact.attach_stage2(tiny_model_path, stage2_folder, tmp_path / "loose.model", fx.LOOSE)
    tight = CascadeSettings({c: 0.25 for c in DECIDED}, DECIDED, "test: 0.25 everywhere")
    routed = artifact.attach_stage2(tiny_model_path, stage2_folder, tmp_path / "routed.model", tight)
    stricter = {**loose["thresholds"], "insult": {"review": 0.05, "reject": None}}
    held = artifact.attach_stage2(
        tiny_model_path, stage2_folder, tmp_path / "held.model", fx.LOOSE, thresholds=stricter
    )
    assert loose["members"] == routed["members"] == held["members"]
    assert len({m["content_sha256"] for m in (loose, routed, held)}) == 3
    assert len({m["version"] for m in (loose, routed, held)}) == 3
    assert artifact.load(tmp_path / "routed.model").cascade_settings == tight


def _attached_with_one_list(model: Path, folder: Path, out: Path, name: str, words: set[str]) -> CascadeSettings:
    """Attach the tiny stage 2 to `model` as `out`, routing on one word list `name` recorded as `words`."""
    recorded = replace(fx.LOOSE, route_words=(name,), route_lexicons={name: frozenset(words)})
    artifact.attach_stage2(model, folder, out, recorded)
    return recorded


def test_a_misspelt_slur_of_the_files_list_is_read_as_the_slur_and_routed(
    tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    path = tmp_path / "slurs.model"
    _attached_with_one_list(tiny_model_path, stage2_folder, path, "slur", {"khokhly"})
    scorer = load_scorer(path)
    for text in ("the khokhly again", "the kohkhly again", "the khokly again"):
        result = scorer.score(text, explain=False)
        assert (result.stage, result.route_reason) == (2, "slur: 'khokhly'"), text
    assert scorer.score("the kxhkhly again", explain=False).stage == 1


def test_resealed_clear_bounds_fail_the_decision_hash(cascade_model: Path, tmp_path: Path) -> None:
    def looser_bounds(manifest: dict[str, Any]) -> None:
        manifest["stage2"]["clear_bounds"]["insult"] = 0.99  # valid, but clears far more than was measured

    with pytest.raises(ModelLoadError, match="thresholds or cascade settings were altered"):
        artifact.load(fx.resealed(cascade_model, tmp_path / "bounds.model", looser_bounds))


def test_a_files_recorded_word_lists_route_and_are_sealed(
    tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    path = tmp_path / "recorded.model"
    recorded = _attached_with_one_list(tiny_model_path, stage2_folder, path, "violence", {"garrotte"})
    assert artifact.load(path).cascade_settings == recorded
    from model.card import render_model_card

    assert "`violence` (1 words, sealed in the file)" in render_model_card(artifact.read_manifest(path))
    scorer = load_scorer(path)
    assert scorer.score("the garrotte again", explain=False).stage == 2
    # "bullet" is in this module's violence list but not in the file's: the file's words decide.
    assert scorer.score("the bullet again", explain=False).stage == 1

    def widen(manifest: dict[str, Any]) -> None:
        manifest["stage2"]["route_lexicons"]["violence"].append("bullet")

    with pytest.raises(ModelLoadError, match="thresholds or cascade settings were altered"):
        artifact.load(fx.resealed(path, tmp_path / "widened.model", widen))


def _imports_onnxruntime_on_load(model_path: Path) -> bool:
    code = (
        "import sys; from model.scorer import load_scorer; "
        f"load_scorer({str(model_path)!r}).score('you idiot'); print('onnxruntime' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def test_only_a_file_with_stage2_imports_onnxruntime(tiny_model_path: Path, cascade_model: Path) -> None:
    assert _imports_onnxruntime_on_load(tiny_model_path) is False
    assert _imports_onnxruntime_on_load(cascade_model) is True


# ---------------------------------------------------------------------------
# Routing and merging (pure)

QUIET = {c: 0.0 for c in CATEGORIES}
BOUNDS = {c: 0.05 for c in DECIDED}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Armenians always say that", "names a group: 'armenians'"),
        ("the Azerbaijani delegation left", "names a group: 'azerbaijani'"),
        ("a Kurdish village", "names a group: 'kurdish'"),
        ("typical of Turks", "names a group: 'turks'"),
        ("what women want", "names a group: 'women'"),
        ("trans people and gay people", "names a group: 'trans'"),
        ("send the immigrants home", "names a group: 'immigrants'"),
        ("JEWISH history", "names a group: 'jewish'"),
        ("thanks, you're right", "addresses a person: 'you'"),
        ("the Minister resigned", "addresses a person: 'minister'"),
        ("he needs a bullet", "violence word: 'bullet'"),
        ("they should hang", "violence word: 'hang'"),
        ("burn it all down", "violence word: 'burn'"),
    ],
)
def test_stage2_runs_for_groups_people_and_violence(text: str, why: str) -> None:
    assert route(text, QUIET, BOUNDS) == RouteDecision(True, why)


@pytest.mark.parametrize("text", ["a fair point about the border talks", "great skill shown", "the youth team won"])
def test_stage1_clears_plain_text_with_low_scores(text: str) -> None:
    assert route(text, QUIET, BOUNDS) == RouteDecision(False, "cleared by stage 1")


def test_a_score_above_its_clear_bound_routes_and_one_at_it_does_not() -> None:
    assert route("plain words", {**QUIET, "insult": 0.0501}, BOUNDS) == RouteDecision(
        True, "insult 0.0501 above its clear bound 0.0500"
    )
    assert route("plain words", {**QUIET, "insult": 0.05}, BOUNDS).run_stage2 is False
    # Spam is left to stage 1 by default, so no spam score routes a comment.
    assert route("plain words", {**QUIET, "spam": 0.99}, BOUNDS).run_stage2 is False


def test_merge_takes_stage2_where_it_decides_and_keeps_stage1_spam() -> None:
    stage1 = {c: 0.5 for c in CATEGORIES}
    merged = merge(stage1, [0.123456] * len(CATEGORIES), LOOSE)
    assert merged == {**{c: 0.1235 for c in DECIDED}, "spam": 0.5}


def test_a_blend_weighs_both_stages_log_odds_where_it_has_weights() -> None:
    # Equal weights average the log-odds: 0.5 and 0.9 give sigmoid(log(9) / 2) = 0.75.
    blended = replace(LOOSE, blend={"toxicity": (0.5, 0.5, 0.0), "threat": (0.0, 1.0, math.log(3))})
    stage1 = {**{c: 0.5 for c in CATEGORIES}, "threat": 0.01}
    merged = merge(stage1, [0.9] * len(CATEGORIES), blended)
    assert merged["toxicity"] == 0.75
    assert merged["threat"] == round(27 / 28, 4)  # stage 2's odds 9, times e^log(3): stage 1 weighs nothing
    assert merged["insult"] == 0.9 and merged["spam"] == 0.5  # no weights: stage 2's; spam: stage 1's


def test_fit_blend_learns_from_the_stage_that_separates_the_labels() -> None:
    rng = np.random.default_rng(3)
    labels = np.full((400, len(CATEGORIES)), -1.0)
    j = CATEGORIES.index("toxicity")
    labels[:, j] = rng.integers(0, 2, 400)
    stage1 = np.full(labels.shape, 0.3)
    stage1[:, j] = rng.uniform(0.05, 0.95, 400)  # noise
    stage2 = np.full(labels.shape, 0.3)
    stage2[:, j] = np.where(labels[:, j] == 1, 0.8, 0.2) + rng.uniform(-0.15, 0.15, 400)
    blend = cascade.fit_blend(stage1, stage2, labels, DECIDED)
    assert set(blend) == {"toxicity"}  # the others have no labels here
    w1, w2, _ = blend["toxicity"]
    assert w2 > 1.0 and abs(w1) < 0.5 * w2


def test_blend_weights_survive_the_manifest_and_bad_ones_are_refused() -> None:
    blended = replace(LOOSE, blend={"toxicity": (0.3, 0.7, -0.1)})
    assert CascadeSettings.from_dict(blended.as_dict()) == blended
    for bad in (
        {"spam": [1, 1, 0]},
        {"toxicity": [1, 1]},
        {"toxicity": [1, "x", 0]},
        {"toxicity": [1, float("nan"), 0]},
    ):
        with pytest.raises(ValueError, match="blend"):
            CascadeSettings.from_dict({**LOOSE.as_dict(), "blend": bad})


def test_the_default_word_lists_route_groups_offices_violence_and_slurs_but_not_you() -> None:
    words = cascade.DEFAULT_ROUTE_WORDS
    assert route("thanks, you're right", QUIET, BOUNDS, words) == RouteDecision(False, "cleared by stage 1")
    assert route("Armenians always say that", QUIET, BOUNDS, words).run_stage2
    assert route("he needs a bullet", QUIET, BOUNDS, words).run_stage2
    # A threat at an office holder with no violence word in it, and one with a verb that was once missing.
    threat = "whoever wrecks the Chancellor's convoy will be a hero"
    assert route(threat, QUIET, BOUNDS, words) == RouteDecision(True, "names an office: 'chancellor'")
    assert route("I will slit his throat", QUIET, BOUNDS, words) == RouteDecision(True, "violence word: 'slit'")
    assert route("in general, the official figures are fine", QUIET, BOUNDS, words) == RouteDecision(
        False, "cleared by stage 1"
    )
    assert route("the moskali again", QUIET, BOUNDS, words) == RouteDecision(True, "slur: 'moskali'")
    assert route("plain words", QUIET, BOUNDS, ()) == RouteDecision(False, "cleared by stage 1")
    # Files attached before the lists could be chosen route on the first three, never on slurs.
    assert CascadeSettings.from_dict({k: v for k, v in LOOSE.as_dict().items() if k != "route_words"}).route_words == (
        "group",
        "person",
        "violence",
    )
    assert not route("the moskali again", QUIET, BOUNDS).run_stage2


def test_a_cascade_repairs_the_slurs_it_routes_on_and_only_those() -> None:
    slurs = replace(
        LOOSE, route_words=("group", "slur"), route_lexicons={"group": frozenset(), "slur": frozenset({"moskali"})}
    )
    assert slurs.repaired_words() == {"moskali"}
    assert replace(LOOSE, route_words=("group", "violence")).repaired_words() == frozenset()
    assert replace(LOOSE, route_words=("slur",)).repaired_words() == cascade.SLUR_WORDS


def test_recorded_word_lists_survive_the_manifest_and_bad_ones_are_refused() -> None:
    recorded = replace(LOOSE, route_words=("violence",), route_lexicons={"violence": frozenset({"garrotte"})})
    assert CascadeSettings.from_dict(recorded.as_dict()) == recorded
    assert "route_lexicons" not in LOOSE.as_dict()  # nothing recorded: this module's lists, as in older files
    for bad in ({"group": ["x"]}, {"violence": ["Garrotte"]}, {"violence": "garrotte"}, {"violence": [""]}):
        with pytest.raises(ValueError, match="route[_ ]lexicon"):
            CascadeSettings.from_dict({**recorded.as_dict(), "route_lexicons": bad})


def _stream(n: int = 100) -> tuple[np.ndarray, list[str], list[bool]]:
    """n comments: insult scores 0.00, 0.01, ... 0.99 (review 0.5), every tenth one abusive, none with a word."""
    probabilities = np.zeros((n, len(CATEGORIES)))
    probabilities[:, CATEGORIES.index("insult")] = np.arange(n) / n
    probabilities[:, CATEGORIES.index("spam")] = 0.99  # stage 1 keeps spam: it never routes
    return probabilities, ["plain words"] * n, [i % 10 == 9 for i in range(n)]


def test_budget_settings_take_the_lowest_fraction_of_review_within_the_budget() -> None:
    probabilities, texts, abusive = _stream()
    review = {c: 0.5 for c in CATEGORIES}
    settings = cascade.budget_settings(probabilities, texts, abusive, review, budget=0.2)
    # Even at the review threshold itself (f = 1) 49 comments score above 0.5: no fraction meets a 20 % budget,
    # so the review thresholds are the bounds and the measured share says the budget was missed.
    assert settings.routing is not None
    assert settings.routing["review_fraction"] == 1.0 and settings.routing["routed_share"] == 0.49
    assert settings.clear_bounds["insult"] == 0.5 and "spam" not in settings.clear_bounds
    # The word lists it routed by are recorded with it, as this module had them.
    assert settings.route_lexicons == {n: cascade.ROUTE_WORD_LISTS[n][0] for n in cascade.DEFAULT_ROUTE_WORDS}
    wide = cascade.budget_settings(probabilities, texts, abusive, review, budget=0.5)
    # At f = 0.98 (bound 0.49) 50 comments lie above it: the lowest fraction within 50 %.
    assert wide.routing is not None and wide.routing["review_fraction"] == 0.98
    loose = cascade.budget_settings(probabilities, texts, abusive, {c: 0.1 for c in CATEGORIES}, budget=0.5)
    # Above f x 0.1: 89 comments even at f = 1; no fraction meets 50 %.
    assert loose.routing is not None and loose.routing["routed_share"] == 0.89
    tight_review = {c: 0.9 for c in CATEGORIES}
    fitted = cascade.budget_settings(probabilities, texts, abusive, tight_review, budget=0.6)
    # Above f x 0.9 lie 99 - floor(90 f) comments: 61 at f = 0.43, 60 at f = 0.44, the lowest within 60.
    assert fitted.routing is not None and fitted.routing["review_fraction"] == 0.44
    assert fitted.routing["routed_share"] == 0.6
    assert fitted.clear_bounds["insult"] == pytest.approx(0.396)
    assert fitted.routing["abusive_routed_share"] == 0.6  # 6 of the 10 abusive comments (49, 59, ... 99)
    assert fitted.route_words == cascade.DEFAULT_ROUTE_WORDS


def test_words_route_whatever_the_fraction_and_count_against_the_budget() -> None:
    probabilities, texts, abusive = _stream()
    texts = ["the Armenians said so"] * 30 + texts[30:]
    settings = cascade.budget_settings(probabilities, texts, abusive, {c: 0.9 for c in CATEGORIES}, budget=0.6)
    assert settings.routing is not None and settings.routing["routed_by_words_share"] == 0.3
    # 30 routed by their words whatever the scores; of the other 70 (insult 0.30 ... 0.99), 99 - floor(90 f) lie
    # above f x 0.9, so at most 30 of them means f >= 0.767: the grid's 0.77 routes 30 more, 60 in all.
    assert settings.routing["review_fraction"] == 0.77
    assert settings.routing["routed_share"] == 0.6
    with pytest.raises(ValueError, match="budget"):
        cascade.budget_settings(probabilities, texts, abusive, {}, budget=0.0)
    with pytest.raises(ValueError, match="one probability row"):
        cascade.budget_settings(probabilities, texts[:5], abusive, {}, budget=0.5)


def test_a_site_stream_is_eight_percent_abusive_and_reproducible() -> None:
    abusive = [i % 2 == 0 for i in range(1000)]
    stream = cascade.site_stream(abusive, 5000)
    assert stream == cascade.site_stream(abusive, 5000)
    share = sum(abusive[i] for i in stream) / len(stream)
    assert 0.06 < share < 0.10
    with pytest.raises(ValueError, match="both"):
        cascade.site_stream([True, True], 10)


def test_default_settings_leave_spam_to_stage1_with_the_documented_fallback() -> None:
    settings = cascade.default_settings({c: 0.2 for c in CATEGORIES} | {"threat": 0.01})
    assert settings.stage2_categories == DECIDED
    assert settings.route_words == cascade.DEFAULT_ROUTE_WORDS
    assert settings.clear_bounds == {c: 0.01 if c == "threat" else cascade.FALLBACK_CLEAR_BOUND for c in DECIDED}


# ---------------------------------------------------------------------------
# The scorer


def test_a_cleared_comment_keeps_stage1_scores(cascade_scorer: Scorer, tiny_model_path: Path) -> None:
    text = "the article made a fair point"
    result = cascade_scorer.score(text)
    assert result.stage == 1 and result.route_reason == "cleared by stage 1"
    assert result.scores == load_scorer(tiny_model_path).score(text).scores


def test_a_routed_comment_takes_stage2_scores_but_stage1_spam(
    cascade_scorer: Scorer, tiny_model_path: Path, stage2_folder: Path
) -> None:
    text = "thanks for the careful analysis, minister"
    result = cascade_scorer.score(text)
    assert result.stage == 2 and result.route_reason == "addresses a person: 'minister'"
    stage2 = runtime.load_stage2(folder_members(stage2_folder)).probabilities(text)
    stage1 = load_scorer(tiny_model_path).score(text).scores
    assert result.scores == {
        **{c: round(float(stage2[CATEGORIES.index(c)]), 4) for c in DECIDED},
        "spam": stage1["spam"],
    }
    assert result.model_version == cascade_scorer.version


def test_reading_all_sends_the_comments_stage1_clears_to_stage2_too(cascade_scorer: Scorer) -> None:
    texts = ["the article made a fair point", "thanks for the careful analysis, minister"]
    routed, everything = cascade_scorer.read_both_stages(texts), cascade_scorer.read_both_stages(texts, read_all=True)
    assert routed.routed.tolist() == [False, True] and everything.routed.tolist() == [True, True]
    served = cascade_scorer.final_probabilities(texts)
    forced = cascade_scorer.final_probabilities(texts, read_all=True)
    assert np.array_equal(forced[1], served[1])  # the routed comment reads the same either way
    assert cascade_scorer.score_many(texts, read_all=True) == [
        dict(zip(CATEGORIES, map(float, row), strict=True)) for row in forced
    ]
    assert np.array_equal(served[0], routed.stage1[0])  # cleared: stage 1's scores as served
    assert cascade_scorer.stage2 is not None and cascade_scorer.cascade is not None
    read = cascade_scorer.stage2.probabilities(texts[0])
    merged = cascade.final_rows(everything.stage1[:1], read[None, :], cascade_scorer.cascade)[0]
    assert np.allclose(forced[0], merged) and not np.allclose(forced[0], served[0])


def test_stage2_reads_the_text_as_stage1_normalized_it(cascade_scorer: Scorer) -> None:
    plain, disguised = cascade_scorer.score("you idiot"), cascade_scorer.score("you 1d1ot")
    assert disguised.stage == 2 and disguised.scores == plain.scores


def test_a_stage2_trained_on_raw_text_reads_the_text_as_submitted(tiny_model_path: Path, tmp_path: Path) -> None:
    folder = fx.write_stage2_folder(tmp_path / "raw", input="raw: the comment text as submitted")
    artifact.attach_stage2(tiny_model_path, folder, tmp_path / "raw.model", LOOSE)
    scorer = load_scorer(tmp_path / "raw.model")
    plain, disguised = scorer.score("you idiot"), scorer.score("you 1d1ot")
    assert disguised.stage == 2 and disguised.scores["insult"] < 0.05 < plain.scores["insult"]
    texts = ["you idiot", "you 1d1ot", "the article made a fair point"]
    assert scorer.score_many(texts) == [scorer.score(t, explain=False).scores for t in texts]


def test_spans_point_at_the_words_for_categories_flagged_by_the_final_scores(cascade_scorer: Scorer) -> None:
    text = "Honestly, you moron idiot."
    result = cascade_scorer.score(text)
    assert result.stage == 2 and result.scores["insult"] >= cascade_scorer.thresholds["insult"]["review"]  # type: ignore[operator]
    insult = [span for span in result.spans if span.category == "insult"]
    assert insult and all(text[s.start : s.end] == s.text for s in insult)
    assert any("idiot" in s.text for s in insult) and not any("Honestly" in s.text for s in insult)


def test_a_category_stage2_clears_gets_no_span_though_stage1_flagged_it(
    cascade_scorer: Scorer, tiny_model_path: Path
) -> None:
    text = "what a clown"
    assert any(s.category == "insult" for s in load_scorer(tiny_model_path).score(text).spans)
    result = cascade_scorer.score(text)
    assert result.stage == 2 and result.scores["insult"] < 0.05 and result.spans == []


def test_score_many_gives_the_final_scores_of_score(cascade_scorer: Scorer) -> None:
    texts = ["the article made a fair point", "you idiot", "what a clown", "Armenians", "i will kill you", ""]
    assert cascade_scorer.score_many(texts) == [cascade_scorer.score(t, explain=False).scores for t in texts]


def test_a_linear_only_model_answers_without_cascade_fields(tiny_model_path: Path) -> None:
    result = load_scorer(tiny_model_path).score("you idiot")
    assert result.stage is None and result.route_reason is None


def test_the_answer_names_the_stage_that_decided(cascade_scorer: Scorer, tiny_model_path: Path) -> None:
    payload = {"text": "you idiot", "article_id": "a1"}
    policy = default_policy(cascade_scorer.thresholds)
    answer = service.dry_run(cascade_scorer, policy, payload)
    assert answer["stage"] == 2 and answer["route_reason"].startswith("toxicity")
    linear = load_scorer(tiny_model_path)
    assert "stage" not in service.dry_run(linear, default_policy(linear.thresholds), payload)


# ---------------------------------------------------------------------------
# The registry


@pytest.fixture
def rsettings(settings: Settings, tiny_model_path: Path) -> Settings:
    return retrain_settings(settings, tiny_model_path)


def register(settings: Settings, store: Store, source: Path, name: str) -> str:
    target = registry.models_dir(settings) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return str(registry.register_file(store, settings, target, source="retrain", actor="test")["version"])


def test_the_holder_serves_a_cascade_and_keeps_it_when_its_graph_is_corrupted(
    store: Store, rsettings: Settings, cascade_model: Path
) -> None:
    clock = [0.0]
    shipped = registry.ensure_default(store, rsettings)
    holder = ModelHolder(store, rsettings, clock=lambda: clock[0])
    version = register(rsettings, store, cascade_model, "cascade.model")
    registry.activate(store, rsettings, version, "admin", force=True, reason="stage 2 trial")
    clock[0] += 1.5
    assert holder.current().version == version and holder.current().score("you idiot").stage == 2

    # Its graph member is damaged on disk; a new process still finds the cascade's file refused.
    path = registry.models_dir(rsettings) / "cascade.model"
    with zipfile.ZipFile(cascade_model) as old:
        entries = {name: old.read(name) for name in old.namelist()}
    entries["stage2/model.onnx"] = entries["stage2/model.onnx"][:-10]
    with zipfile.ZipFile(path, "w") as new:
        for name, data in entries.items():
            new.writestr(name, data)
    fresh = ModelHolder(store, rsettings)
    assert fresh.version == shipped and "fails its hash" in fresh.status()["refused"][version]
    assert fresh.current().score("you idiot").stage is None


def test_a_cascade_failing_its_self_check_is_refused_and_the_last_good_model_serves(
    store: Store, rsettings: Settings, cascade_model: Path, tmp_path: Path
) -> None:
    clock = [0.0]
    shipped = registry.ensure_default(store, rsettings)
    holder = ModelHolder(store, rsettings, clock=lambda: clock[0])

    def other_graph(entries: dict[str, bytes], manifest: dict[str, Any]) -> None:
        entries["stage2/model.onnx"] = fx.graph_bytes(scale=7.0)
        manifest["version"] = "forged-1"

    forged = register(rsettings, store, fx.forge(cascade_model, tmp_path / "f.model", other_graph), "forged.model")
    with pytest.raises(registry.Conflict, match="self-check"):
        registry.activate(store, rsettings, forged, "admin", force=True, reason="try")
    with store.write() as db:  # activated behind the check's back (another tool, an older version of this one)
        st.insert_model_activation(db, {"version": forged, "at": st.iso(st.utcnow()), "actor": None, "kind": "force"})
    clock[0] += 1.5
    assert holder.current().version == shipped
    assert "self-check" in holder.status()["refused"][forged]


# ---------------------------------------------------------------------------
# The command line


def test_attach_stage2_measures_routing_and_thresholds_on_the_calibration_rows(
    tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from moderation.cli.cascade import attach_stage2_command
    from tests.model_fixtures import labelled_rows, write_jsonl

    data = write_jsonl(labelled_rows(), tmp_path / "fixture_comments.jsonl")  # the rows the tiny model saw
    out = tmp_path / "measured.model"
    args = [str(tiny_model_path), str(stage2_folder), "--out", str(out), "--data", str(data), "--route-budget", "0.5"]
    result = CliRunner().invoke(attach_stage2_command, args)
    assert result.exit_code == 0, result.output
    manifest = artifact.read_manifest(out)
    section = manifest["stage2"]
    routing = section["routing"]
    assert routing["budget"] == 0.5 and routing["stream_rows"] == 4000 and routing["calibration_rows"] > 0
    assert routing["stream_clean_from"] == "every corpus given"  # the fixture file is none of the discussion corpora
    assert section["route_words"] == list(cascade.DEFAULT_ROUTE_WORDS)
    stage1 = artifact.read_manifest(tiny_model_path)["thresholds"]
    fraction = routing["review_fraction"]
    for category, bound in section["clear_bounds"].items():
        assert bound == round(fraction * stage1[category]["review"], 4)
    # Thresholds chosen on the cascade's final scores replace stage 1's, which the section keeps.
    assert section["stage1_thresholds"] == stage1
    assert set(manifest["thresholds"]) == set(stage1)
    assert load_scorer(out).thresholds == manifest["thresholds"]
    assert load_scorer(out).score("you idiot").stage == 2

    keeps = CliRunner().invoke(
        attach_stage2_command,
        [str(tiny_model_path), str(stage2_folder), "--out", str(tmp_path / "f.model"), "--stage1-keeps", "threat"],
    )
    assert keeps.exit_code == 0, keeps.output
    section = artifact.read_manifest(tmp_path / "f.model")["stage2"]
    assert section["stage2_categories"] == [c for c in CATEGORIES if c != "threat"]
    assert section["bounds_from"].startswith("fallback")

    broken = fx.write_stage2_folder(tmp_path / "broken", graph=b"junk")
    refused = CliRunner().invoke(attach_stage2_command, [str(tiny_model_path), str(broken), "--out", str(out)])
    assert refused.exit_code == 1 and "cannot be loaded by ONNX Runtime" in refused.output


def test_evaluate_measures_a_cascade_by_its_final_scores_beside_stage1_alone(
    cascade_model: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from model.fairness import NON_TOXIC_TEMPLATES
    from moderation.cli.classifier import evaluate_command
    from tests.model_fixtures import labelled_rows, write_jsonl

    model = tmp_path / "cascade.model"
    model.write_bytes(cascade_model.read_bytes())
    data = write_jsonl(labelled_rows(), tmp_path / "fixture_comments.jsonl")
    result = CliRunner().invoke(evaluate_command, [str(model), "--data", str(data), "--no-cross", "--record"])
    assert result.exit_code == 0, result.output
    assert "hold-out (ours: the cascade's final scores)" in result.stdout
    assert "hold-out, stage 1 alone (its own thresholds)" in result.stdout
    report = artifact.read_manifest(model)["evaluation"]
    final = report["holdout"]["ours"]["categories"]
    alone = report["stage1_holdout"]["ours"]["categories"]
    assert final.keys() == alone.keys() and final != alone
    scorer = load_scorer(model)
    highest = scorer.final_probabilities(list(NON_TOXIC_TEMPLATES))[:, CATEGORIES.index("toxicity")].max()
    assert report["fairness"]["templates"]["max_toxicity"] == round(float(highest), 4)


def test_the_model_card_describes_both_stages(cascade_model: Path) -> None:
    from model.card import render_model_card

    manifest = artifact.read_manifest(cascade_model)
    card = render_model_card(manifest)
    assert "## Stage 2: the cascade" in card and manifest["stage2"]["graph_sha256"][:16] in card
    assert manifest["stage2"]["encoder"] in card and "stage-1 review" in card
    assert "Stage 2 reads meaning, within limits" in card
    stage1 = artifact.read_manifest(cascade_model)
    del stage1["stage2"]
    assert "## Stage 2" not in render_model_card(stage1)


def test_a_stage2_with_fewer_feed_forward_units_says_so_in_its_manifest_and_card(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    from model.card import render_model_card

    narrow = fx.write_stage2_folder(tmp_path / "narrow", ffn_units=1024)
    manifest = artifact.attach_stage2(tiny_model_path, narrow, tmp_path / "n.model", fx.LOOSE)
    assert manifest["stage2"]["ffn_units"] == 1024
    assert "the 1,024 of its 1,536 feed-forward units whose weights are largest" in render_model_card(manifest)
    full = fx.write_stage2_folder(tmp_path / "full")
    manifest = artifact.attach_stage2(tiny_model_path, full, tmp_path / "f.model", fx.LOOSE)
    assert "ffn_units" not in manifest["stage2"] and "feed-forward units" not in render_model_card(manifest)


def test_a_stage2_of_averaged_weights_says_so_in_its_card(tiny_model_path: Path, tmp_path: Path) -> None:
    from model.card import render_model_card

    folder = fx.write_stage2_folder(tmp_path / "s2")
    manifest = artifact.attach_stage2(tiny_model_path, folder, tmp_path / "m.model", fx.LOOSE)
    assert "weight averaging" not in render_model_card(manifest)
    manifest["stage2"].setdefault("training", {}).update(
        steps=10144, weight_averaging={"from_step": 5072, "every_steps": 101, "snapshots": 51}
    )
    card = render_model_card(manifest)
    assert "mean of 51 snapshots taken every 101 steps from step 5,072 of 10,144 (stochastic weight averaging)" in card


def test_a_retrain_of_a_cascade_adapts_stage1_and_carries_stage2_over(
    store: Store, settings: Settings, tiny_model_path: Path, stage2_folder: Path, tmp_path: Path
) -> None:
    from moderation.training import retrain as rt
    from tests.retrain_fixtures import add_verdicts, muppet_verdicts

    routing = {"review_fraction": 0.5, "routed_share": 0.2}
    measured = CascadeSettings({c: 0.1 for c in DECIDED}, DECIDED, "test", cascade.DEFAULT_ROUTE_WORDS, routing)
    stage1 = artifact.read_manifest(tiny_model_path)["thresholds"]
    chosen = {c: {"reject": 0.97, "review": 0.42} for c in stage1}
    shipped = tmp_path / "cascade.model"
    artifact.attach_stage2(tiny_model_path, stage2_folder, shipped, measured, thresholds=chosen)
    rsettings = retrain_settings(settings, shipped)
    active = registry.ensure_default(store, rsettings)
    add_verdicts(store, rsettings, muppet_verdicts(120))
    result = rt.retrain(store, rsettings, "admin1")
    assert result["created"] and result["mode"] == "adapt"
    path = registry.models_dir(rsettings) / registry.get_version(store, result["version"])["file"]
    loaded = load_scorer(path)  # loads, self-check and all
    manifest, donor = loaded.manifest, artifact.read_manifest(shipped)
    assert loaded.stage2 is not None and manifest["comparison"]["active_version"] == active
    assert manifest["stage2"]["graph_sha256"] == donor["stage2"]["graph_sha256"]
    adapted = manifest["stage2"]["stage1_thresholds"]
    for category in DECIDED:
        assert manifest["thresholds"][category] == chosen[category]  # stage 2's categories keep the cascade's
        review = adapted[category]["review"]
        assert manifest["stage2"]["clear_bounds"][category] == round(0.5 * (1.0 if review is None else review), 4)
    assert manifest["thresholds"]["spam"] == adapted["spam"]  # stage 1 keeps spam: the adapted stage 1's
    assert loaded.score("they should kill him").stage == 2  # a violence word: the carried-over routing
    assert not list(registry.models_dir(rsettings).glob(".candidate-*"))


def test_a_replayed_submission_names_the_stage_as_the_first_answer_did(
    store: Store, settings: Settings, cascade_scorer: Scorer
) -> None:

    payload = {"id": "c-replay", "text": "you are an idiot", "article_id": "a1", "author_id": "u1"}
    first = service.submit_comment(store, cascade_scorer, settings, payload, "sitekey00001")
    again = service.submit_comment(store, cascade_scorer, settings, payload, "sitekey00001")
    assert first["stage"] == 2 and first["route_reason"]
    assert (again["stage"], again["route_reason"]) == (first["stage"], first["route_reason"])
    assert again["replayed"] is True
    assert st.verify_chain(store).ok  # the new columns are sealed in the row's hash
