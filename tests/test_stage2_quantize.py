"""int8 stage-2 graphs with 7-bit or unsigned weights (model/stage2/quantize.py): the same scores on every x86 CPU.

Runs without torch: the graphs are built with onnx (a test requirement) and read by ONNX Runtime.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from model.artifact import ModelLoadError
from model.stage2 import quantize, runtime
from tests import stage2_fixtures as fx

WIDTH, OUTPUTS = 64, 4


def matmul_graph(path: Path, weights: np.ndarray) -> Path:
    """An fp32 graph `x @ weights`, written to `path`."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "weights"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", OUTPUTS])],
        [numpy_helper.from_array(weights.astype(np.float32), "weights")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def run(path: Path, x: np.ndarray) -> np.ndarray:
    """The graph's output for `x`, on one thread."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["y"], {"x": x.astype(np.float32)})[0])


def test_products_whose_16_bit_sums_would_saturate_are_computed_exactly(tmp_path: Path) -> None:
    # Every activation quantizes to 255. With 8-bit weights each would be 127, and two products would sum to 64,770,
    # past int16's 32,767, where AVX2's signed-weight kernel clamps; 7-bit weights are 64, two products 32,640.
    weights = np.ones((WIDTH, OUTPUTS))
    x = np.ones((2, WIDTH))
    graph = tmp_path / "int8.onnx"
    record = quantize.quantize(matmul_graph(tmp_path / "fp32.onnx", weights), graph)

    assert record[runtime.NARROW_WEIGHTS]["tensors"] == 1
    assert record[runtime.NARROW_WEIGHTS]["largest_weight"] == quantize.widest_weight(onnx.load(str(graph))) == 64
    np.testing.assert_allclose(run(graph, x), x @ weights, rtol=0.01)


def test_7_bit_weights_give_their_unsigned_copy_s_scores_exactly_with_a_scale_per_column(tmp_path: Path) -> None:
    generator = np.random.default_rng(3)
    # Columns of very different sizes: one scale per matrix would leave the small ones a few levels.
    weights = generator.normal(size=(WIDTH, OUTPUTS)) * np.array([1.0, 0.01, 30.0, 0.2])
    x = generator.normal(scale=4.0, size=(16, WIDTH))  # wide activations: 8-bit weights' pair sums would saturate
    fp32 = matmul_graph(tmp_path / "fp32.onnx", weights)
    narrow = tmp_path / "narrow.onnx"
    quantize.quantize(fp32, narrow)
    unsigned_copy = tmp_path / "unsigned-copy.onnx"
    unsigned_copy.write_bytes(quantize.unsigned_bytes(narrow.read_bytes()))  # uint8 x uint8: exact on every CPU

    assert quantize.signed_weights(onnx.load(str(unsigned_copy))) == []
    np.testing.assert_allclose(run(narrow, x), run(unsigned_copy, x), atol=1e-6)
    error = np.abs(run(narrow, x) - x @ weights) / np.abs(x @ weights).max(axis=0)
    assert error.max(axis=0)[1] < 0.05  # the small column keeps its precision


def test_8_bit_weights_are_stored_unsigned_and_give_the_signed_graph_s_scores_where_nothing_saturates(
    tmp_path: Path,
) -> None:
    generator = np.random.default_rng(3)
    weights = generator.normal(size=(WIDTH, OUTPUTS))
    x = generator.normal(scale=0.05, size=(16, WIDTH))  # small products: no 16-bit sum can saturate
    fp32 = matmul_graph(tmp_path / "fp32.onnx", weights)
    signed = tmp_path / "signed.onnx"
    quantize_dynamic(str(fp32), str(signed), weight_type=QuantType.QInt8)
    unsigned = tmp_path / "unsigned.onnx"
    record = quantize.quantize(fp32, unsigned, narrow=False)

    assert record[runtime.UNSIGNED_WEIGHTS]["tensors_shifted"] == 2  # the weights and their zero point
    assert quantize.signed_weights(onnx.load(str(signed))) != []
    assert quantize.signed_weights(onnx.load(str(unsigned))) == []
    np.testing.assert_allclose(run(unsigned, x), run(signed, x), atol=1e-6)
    np.testing.assert_allclose(run(unsigned, x), x @ weights, atol=0.05)


def signed_folder(tmp_path: Path) -> Path:
    """The tiny stage-2 folder with its head quantized the old way: int8 weights."""
    fp32 = tmp_path / "fp32.onnx"
    fp32.write_bytes(fx.graph_bytes())
    signed = tmp_path / "signed.onnx"
    quantize_dynamic(str(fp32), str(signed), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    return fx.write_stage2_folder(tmp_path / "signed", graph=signed.read_bytes(), quantized=True)


def test_a_folder_quantized_before_is_converted_and_scores_as_it_did(tmp_path: Path) -> None:
    folder = signed_folder(tmp_path)
    record = quantize.convert_folder(folder, tmp_path / "unsigned")

    converted = runtime.load_stage2({n: (tmp_path / "unsigned" / n).read_bytes() for n in runtime.FOLDER_FILES})
    original = runtime.load_stage2({n: (folder / n).read_bytes() for n in runtime.FOLDER_FILES})
    texts = ["you idiot", "i will kill you", "thanks for the careful analysis", ""]
    np.testing.assert_allclose(
        [converted.probabilities(t) for t in texts], [original.probabilities(t) for t in texts], atol=1e-6
    )
    assert quantize.signed_weights(onnx.load(str(tmp_path / "unsigned" / "model.onnx"))) == []
    config = json.loads((tmp_path / "unsigned" / "config.json").read_text(encoding="utf-8"))
    assert config["unsigned_weights"] == record and record["tensors_shifted"] == 2
    assert (tmp_path / "unsigned" / "tokenizer.json").read_bytes() == (folder / "tokenizer.json").read_bytes()


def test_a_folder_without_signed_8_bit_weights_is_refused(tmp_path: Path) -> None:
    fp32 = fx.write_stage2_folder(tmp_path / "fp32")
    with pytest.raises(ValueError, match="no int8 matmul weights"):
        quantize.convert_folder(fp32, tmp_path / "out")
    folder = signed_folder(tmp_path)
    with pytest.raises(ValueError, match="another folder"):
        quantize.convert_folder(folder, folder)
    narrow = tmp_path / "narrow.onnx"
    record = quantize.quantize(fp32 / "model.onnx", narrow)
    narrow_folder = fx.write_stage2_folder(tmp_path / "narrow", graph=narrow.read_bytes(), quantized=True, **record)
    with pytest.raises(ValueError, match="7-bit weights"):
        quantize.convert_folder(narrow_folder, tmp_path / "out")


def test_the_command_converts_a_folder_and_names_what_it_cannot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = signed_folder(tmp_path)
    assert quantize.main(["--folder", str(folder), "--out", str(tmp_path / "out")]) == 0
    assert json.loads(capsys.readouterr().out)["tensors_shifted"] == 2
    assert quantize.main(["--folder", str(tmp_path / "out"), "--out", str(tmp_path / "again")]) == 2
    assert "no int8 matmul weights" in capsys.readouterr().err


def test_a_failed_self_check_of_a_signed_int8_graph_says_how_to_convert_it(tmp_path: Path) -> None:
    folder = signed_folder(tmp_path)
    files = {n: (folder / n).read_bytes() for n in runtime.FOLDER_FILES}
    record = runtime.record_self_check(runtime.load_stage2(files), ["you idiot"], 0.001)
    record["probabilities"] = [[min(1.0, p + 0.01) for p in row] for row in record["probabilities"]]
    with pytest.raises(ModelLoadError, match="model.stage2.quantize"):
        runtime.self_check(runtime.load_stage2(files), record, where="test")

    quantize.convert_folder(folder, tmp_path / "unsigned")
    converted = {n: (tmp_path / "unsigned" / n).read_bytes() for n in runtime.FOLDER_FILES}
    with pytest.raises(ModelLoadError) as refused:
        runtime.self_check(runtime.load_stage2(converted), record, where="test")
    assert "quantize" not in str(refused.value)

    narrow = tmp_path / "narrow.onnx"
    portable = quantize.quantize(fx.write_stage2_folder(tmp_path / "fp32") / "model.onnx", narrow)
    narrow_folder = fx.write_stage2_folder(tmp_path / "narrow", graph=narrow.read_bytes(), quantized=True, **portable)
    narrow_files = {n: (narrow_folder / n).read_bytes() for n in runtime.FOLDER_FILES}
    with pytest.raises(ModelLoadError) as refused:
        runtime.self_check(runtime.load_stage2(narrow_files), record, where="test")
    assert "quantize" not in str(refused.value)


def test_a_cascade_attached_from_7_bit_weights_records_them_and_its_card_names_them(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    from model import artifact
    from model.card import render_model_card

    narrow = tmp_path / "narrow.onnx"
    portable = quantize.quantize(fx.write_stage2_folder(tmp_path / "fp32") / "model.onnx", narrow)
    folder = fx.write_stage2_folder(tmp_path / "narrow", graph=narrow.read_bytes(), quantized=True, **portable)
    manifest = artifact.attach_stage2(tiny_model_path, folder, tmp_path / "cascade.model", fx.LOOSE)

    assert manifest["stage2"][runtime.NARROW_WEIGHTS] == portable[runtime.NARROW_WEIGHTS]
    assert "7-bit weights with a scale per output column" in render_model_card(manifest)
    assert artifact.load(tmp_path / "cascade.model").stage2 is not None
