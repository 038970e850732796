"""8-bit stage-2 graphs requantized to 7 bits per column (model/stage2/quantize.py, model/stage2/requantize.py).

Runs without torch and without ../shared: the graphs are built with onnx, the rows by hand.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from model.corpora import Example
from model.stage2 import data, quantize, requantize, runtime
from model.train import Split
from tests import stage2_fixtures as fx
from tests.test_stage2_quantize import OUTPUTS, WIDTH, matmul_graph, run, signed_folder


def narrowed(source: Path, target: Path) -> tuple[Path, int]:
    """`source` with its 8-bit weights requantized, written to `target`; and how many tensors were."""
    graph = onnx.load(str(source))
    count = quantize.narrowed_weights(graph)
    onnx.save(graph, str(target))
    return target, count


def test_8_bit_weights_become_7_bit_per_column_and_score_as_before(tmp_path: Path) -> None:
    generator = np.random.default_rng(5)
    weights = generator.normal(size=(WIDTH, OUTPUTS)) * np.array([1.0, 0.1, 3.0, 0.5])
    x = generator.normal(scale=0.05, size=(16, WIDTH))  # small products: no 8-bit pair sum saturates
    fp32 = matmul_graph(tmp_path / "fp32.onnx", weights)
    signed = tmp_path / "signed.onnx"
    quantize_dynamic(str(fp32), str(signed), weight_type=QuantType.QInt8)
    unsigned = tmp_path / "unsigned.onnx"
    quantize.quantize(fp32, unsigned, narrow=False)

    from_unsigned, count = narrowed(unsigned, tmp_path / "from-unsigned.onnx")
    from_signed, _ = narrowed(signed, tmp_path / "from-signed.onnx")

    assert count == 1
    graph = onnx.load(str(from_unsigned))
    assert quantize.widest_weight(graph) == quantize.NARROW_LIMIT  # each column's largest weight is 64
    zero_points = [numpy_helper.to_array(t) for t in graph.graph.initializer if t.name.endswith("zero_point")]
    assert [z.dtype for z in zero_points if z.size == OUTPUTS] == [np.dtype(np.int8)]
    assert all(not z.any() for z in zero_points if z.size == OUTPUTS)
    # The same 8-bit values, signed or shifted, give the same 7-bit graph.
    np.testing.assert_array_equal(run(from_unsigned, x), run(from_signed, x))
    # Rounding the 8-bit values again moves each output by a fraction of a 7-bit step of its column.
    eight_bit, seven_bit = run(unsigned, x), run(from_unsigned, x)
    assert (np.abs(seven_bit - eight_bit) / np.abs(eight_bit).max(axis=0)).max() < 0.05


def test_a_graph_whose_weight_scale_cannot_be_found_is_refused() -> None:
    weights = numpy_helper.from_array(np.ones((WIDTH, OUTPUTS), dtype=np.int8), "weights")
    zero = numpy_helper.from_array(np.array(0, dtype=np.int8), "weights_zero")
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["x", "weights", "x_zero", "weights_zero"], ["y"], name="bare")],
        "bare",
        [
            helper.make_tensor_value_info("x", TensorProto.UINT8, ["batch", WIDTH]),
            helper.make_tensor_value_info("x_zero", TensorProto.UINT8, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.INT32, ["batch", OUTPUTS])],
        [weights, zero],
    )
    with pytest.raises(ValueError, match="bare: no weight scale found"):
        quantize.narrowed_weights(helper.make_model(graph))


def rows(texts: list[tuple[str, int]]) -> list[data.Row]:
    """Held-out rows labelled for toxicity and insult."""
    return [
        data.Row(Example(text, {"toxicity": label, "insult": label}, "hand"), text.lower()) for text, label in texts
    ]


HELD_OUT = Split(
    [],
    rows([("you idiot", 1), ("idiot", 1), ("you are an idiot and a fool", 1), ("thanks for the careful analysis", 0),
          ("the budget looks fine", 0), ("a fair point", 0), ("i will kill you", 1), ("good morning", 0)]),
    rows([("what an idiot", 1), ("the careful analysis", 0), ("you fool", 1), ("fine work", 0)]),
)  # fmt: skip


def test_a_folder_is_requantized_with_its_calibration_refitted_and_both_graphs_measured(tmp_path: Path) -> None:
    folder = signed_folder(tmp_path)
    unsigned = tmp_path / "unsigned"
    quantize.convert_folder(folder, unsigned)
    record = requantize.requantize_folder(unsigned, tmp_path / "narrow", HELD_OUT)

    config = json.loads((tmp_path / "narrow" / "config.json").read_text(encoding="utf-8"))
    assert config[runtime.NARROW_WEIGHTS] == record and runtime.UNSIGNED_WEIGHTS not in config
    assert record["tensors"] == 1 and record["largest_weight"] == quantize.NARROW_LIMIT
    assert record["from_graph_sha256"] == hashlib.sha256((unsigned / "model.onnx").read_bytes()).hexdigest()
    assert 0.0 <= record["vs_8_bit_mean_abs_probability_diff_test"] <= record["vs_8_bit_max_abs_probability_diff_test"]
    assert config["calibration"]["toxicity"] != {"a": 1.0, "b": 0.0}  # refitted on the calibration rows
    assert config["metrics"]["onnx"]["rows"] == len(HELD_OUT.test)
    assert config["metrics"]["latency"]["comments"] > 0
    assert "before_requantization" in config["metrics"]
    assert (tmp_path / "narrow" / "tokenizer.json").read_bytes() == (folder / "tokenizer.json").read_bytes()
    files = {name: (tmp_path / "narrow" / name).read_bytes() for name in runtime.FOLDER_FILES}
    loaded = runtime.load_stage2(files)
    assert loaded.probabilities("you idiot")[0] > loaded.probabilities("thanks for the careful analysis")[0]


def test_requantizing_names_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = signed_folder(tmp_path)
    with pytest.raises(ValueError, match="another folder"):
        requantize.requantize_folder(folder, folder, HELD_OUT)
    with pytest.raises(ValueError, match="fp32"):
        requantize.requantize_folder(fx.write_stage2_folder(tmp_path / "fp32"), tmp_path / "out", HELD_OUT)
    with pytest.raises(ValueError, match="calibration and test rows"):
        requantize.requantize_folder(folder, tmp_path / "out", Split([], [], []))
    requantize.requantize_folder(folder, tmp_path / "narrow", HELD_OUT)
    with pytest.raises(ValueError, match="already has 7-bit weights"):
        requantize.requantize_folder(tmp_path / "narrow", tmp_path / "again", HELD_OUT)

    empty = tmp_path / "no-corpora"
    empty.mkdir()
    command = ["--folder", str(folder), "--data", str(empty), "--out", str(tmp_path / "cli")]
    assert requantize.main(command) == 2
    assert "does not say how its training split the rows" in capsys.readouterr().err
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["training"]["params"] = {"seed": 13, "test_share": 0.1, "calibration_share": 0.1}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert requantize.main(command) == 2
    assert "no shippable corpora" in capsys.readouterr().err


def test_a_cascade_attached_from_a_requantized_folder_says_so_on_its_card(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    from model import artifact
    from model.card import render_model_card

    record = requantize.requantize_folder(signed_folder(tmp_path), tmp_path / "narrow", HELD_OUT)
    manifest = artifact.attach_stage2(tiny_model_path, tmp_path / "narrow", tmp_path / "cascade.model", fx.LOOSE)

    assert manifest["stage2"][runtime.NARROW_WEIGHTS] == record
    card = render_model_card(manifest)
    assert f"requantized from the 8-bit graph `{record['from_graph_sha256'][:16]}…` (Platt refitted)" in card
    assert artifact.load(tmp_path / "cascade.model").stage2 is not None
