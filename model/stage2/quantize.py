"""int8 stage-2 graphs that score the same on every x86 CPU: 7-bit weights per output column.

ONNX Runtime multiplies a graph's uint8 activations by int8 weights (U8S8) with VPMADDUBSW on AVX2 CPUs without
VNNI, which sums two products into 16 bits and saturates there. With weights of at most 64 in magnitude (int8
dynamic quantization with `reduce_range`, 7 bits) no pair can pass 2 x 255 x 64 = 32,640 < 32,767, so those CPUs
compute exactly what a CPU with VNNI computes, on ONNX Runtime's fast signed-weight kernels. Each output column has
its own scale (`per_channel`), which wins back more than the bit costs: on a stage-2 run (2026-12-07, the
`--init-seed 14` run), 3,000 of its test rows read 0.011 from the fp32 graph's probabilities on average against
0.029 for 8-bit weights with one scale per matrix, and a 400-character comment took 12.0 ms at p50 on an AVX2 EPYC
against 14.4 ms for the 8-bit weights stored unsigned.

Graphs quantized before this have 8-bit weights, one scale per matrix. Such a graph with signed weights scores
otherwise on AVX2 CPUs (by 0.015 in probability on the model shipped on 2026-12-06, which then refused to load
there); each weight shifted by 128 into uint8, with its zero point shifted alike, leaves every integer product the
same, and uint8 by uint8 (U8U8) is summed exactly on every CPU, at 17-22 % more stage-2 time on AVX2. Such a folder
is converted without retraining (run in .venv or .venv-train):
    python -m model.stage2.quantize --folder build/stage2/int8 --out DIR
and `quantize(..., narrow=False)` quantizes its weights that way again (a re-export keeps the folder's scheme).
A folder whose fp32 graph is gone can have its 8-bit weights rounded to 7 bits instead (`narrowed_weights`; the
folder, its calibration refitted: model/stage2/requantize.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from model.stage2.runtime import NARROW_WEIGHTS, UNSIGNED_WEIGHTS

SHIFT = 128
# The largest weight magnitude whose products with uint8 activations no 16-bit pair sum can saturate.
NARROW_LIMIT = 64
# The graph's integer matrix products: inputs 1 and 3 are the weights and their zero point.
_INTEGER_MATMUL = "MatMulInteger"
_WEIGHT_INPUTS = (1, 3)


def quantize(fp32_graph: Path, int8_graph: Path, *, narrow: bool = True) -> dict[str, dict[str, Any]]:
    """Write `int8_graph`: `fp32_graph` with int8 dynamic quantization, portable to every x86 CPU; returns the
    record to merge into its folder's config: 7-bit weights per column (`narrow`), or 8-bit ones stored unsigned.

    ValueError if a narrow graph has a weight past NARROW_LIMIT (a quantizer that ignored `reduce_range`)."""
    if not narrow:
        quantize_dynamic(str(fp32_graph), str(int8_graph), weight_type=QuantType.QInt8)
        graph = onnx.load(str(int8_graph))
        shifted = unsigned_weights(graph)
        onnx.save(graph, str(int8_graph))
        return {UNSIGNED_WEIGHTS: unsigned_record(shifted)}
    quantize_dynamic(str(fp32_graph), str(int8_graph), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    weights = signed_matmul_weights(onnx.load(str(int8_graph)))
    widest = _widest(weights)
    if widest > NARROW_LIMIT:
        raise ValueError(f"{int8_graph}: a quantized weight of magnitude {widest} (> {NARROW_LIMIT})")
    return {
        NARROW_WEIGHTS: {
            "tensors": len(weights),
            "largest_weight": widest,
            "how": "int8 dynamic quantization with 7-bit weights (reduce_range), a scale per output column "
            "(per_channel): no 16-bit pair sum saturates on AVX2 CPUs (model.stage2.quantize)",
        }
    }


def widest_weight(graph: onnx.ModelProto) -> int:
    """The largest magnitude of `graph`'s signed integer-matmul weights, less their zero points (0 if none)."""
    return _widest(signed_matmul_weights(graph))


def _widest(weights: dict[str, np.ndarray]) -> int:
    return max((int(np.abs(w).max()) for w in weights.values()), default=0)


def signed_matmul_weights(graph: onnx.ModelProto) -> dict[str, np.ndarray]:
    """`graph`'s int8 weights feeding an integer matmul, by name, less their zero points."""
    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    found = {}
    for node in graph.graph.node:
        weights = initializers.get(node.input[1]) if node.op_type == _INTEGER_MATMUL else None
        if weights is None or weights.data_type != onnx.TensorProto.INT8:
            continue
        zero = initializers.get(node.input[3]) if len(node.input) > 3 else None
        zero_point = numpy_helper.to_array(zero).astype(np.int16) if zero is not None else 0
        found[node.input[1]] = numpy_helper.to_array(weights).astype(np.int16) - zero_point
    return found


def narrowed_weights(graph: onnx.ModelProto) -> int:
    """Requantize `graph`'s 8-bit integer-matmul weights (signed, or shifted unsigned) to 7 bits with a scale per
    output column, in place: each weight's value (its integer less its zero point, times its scale) rounded to its
    column's grid of NARROW_LIMIT steps either side of 0, as `quantize` would have quantized it. Returns how many
    tensors; ValueError when a weight, zero point or scale is shared or its scale cannot be found.

    For a graph whose fp32 weights are gone: rounding 8-bit values again costs a little more than quantizing the
    fp32 ones would (model.stage2.requantize measures it)."""
    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    producers = {output: node for node in graph.graph.node for output in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    count = 0
    for node in graph.graph.node:
        if node.op_type != _INTEGER_MATMUL or node.input[1] not in initializers:
            continue
        weight, zero = node.input[1], node.input[3] if len(node.input) > 3 else ""
        scale = _weight_scale(node, producers, consumers, initializers)
        for name in (weight, zero, scale):
            if name not in initializers or len(consumers.get(name, [])) != 1:
                raise ValueError(f"{node.name}: {name or 'its weight zero point'} is not an initializer of its own")
        values = numpy_helper.to_array(initializers[weight]).astype(np.float64)
        if values.ndim != 2:
            raise ValueError(f"{node.name}: weights of shape {values.shape}, not a matrix")
        zero_point = numpy_helper.to_array(initializers[zero]).astype(np.float64)
        real = (values - zero_point) * numpy_helper.to_array(initializers[scale]).astype(np.float64)
        steps = np.abs(real).max(axis=0) / NARROW_LIMIT
        steps[steps == 0] = 1.0  # a column of zeros: any scale gives 0
        narrowed = np.clip(np.rint(real / steps), -NARROW_LIMIT, NARROW_LIMIT).astype(np.int8)
        initializers[weight].CopyFrom(numpy_helper.from_array(narrowed, weight))
        initializers[zero].CopyFrom(numpy_helper.from_array(np.zeros(real.shape[1], dtype=np.int8), zero))
        initializers[scale].CopyFrom(numpy_helper.from_array(steps.astype(np.float32), scale))
        count += 1
    return count


def _weight_scale(
    node: onnx.NodeProto,
    producers: dict[str, onnx.NodeProto],
    consumers: dict[str, list[onnx.NodeProto]],
    initializers: dict[str, onnx.TensorProto],
) -> str:
    """The initializer holding an integer matmul's weight scale, as `quantize_dynamic` lays it out: the product
    is cast to float and multiplied by the activation scale times the weight scale."""
    for cast in consumers.get(node.output[0], []):
        for product in consumers.get(cast.output[0], []) if cast.op_type == "Cast" else []:
            for factor in product.input if product.op_type == "Mul" else []:
                scales = producers.get(factor)
                if scales is not None and scales.op_type == "Mul":
                    found = [name for name in scales.input if name in initializers]
                    if len(found) == 1:
                        return found[0]
    raise ValueError(f"{node.name}: no weight scale found (a Cast, then a Mul by the two scales' product)")


def unsigned_weights(graph: onnx.ModelProto) -> int:
    """Shift `graph`'s int8 matmul weights and zero points by 128 into uint8, in place; returns how many tensors."""
    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    names = signed_weights(graph)
    for name in names:
        values = numpy_helper.to_array(initializers[name]).astype(np.int16) + SHIFT
        initializers[name].CopyFrom(numpy_helper.from_array(values.astype(np.uint8), name))
    return len(names)


def unsigned_bytes(serialized: bytes) -> bytes:
    """A serialized graph with its int8 matmul weights shifted to uint8 (as it was when it has none)."""
    graph = onnx.load_from_string(serialized)
    return graph.SerializeToString() if unsigned_weights(graph) else serialized


def unsigned_record(shifted: int) -> dict[str, Any]:
    """What an int8 folder's config says of its shifted weights (the runtime's self-check looks for it)."""
    return {
        "tensors_shifted": shifted,
        "how": "int8 matmul weights and zero points shifted by 128 into uint8 (model.stage2.quantize)",
    }


def signed_weights(graph: onnx.ModelProto) -> list[str]:
    """The names of `graph`'s int8 weights (or zero points) feeding an integer matmul: none in a portable graph."""
    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    return sorted(
        {
            node.input[position]
            for node in graph.graph.node
            if node.op_type == _INTEGER_MATMUL
            for position in _WEIGHT_INPUTS
            if position < len(node.input)
            and node.input[position] in initializers
            and initializers[node.input[position]].data_type == onnx.TensorProto.INT8
        }
    )


def convert_folder(folder: Path, out: Path) -> dict[str, Any]:
    """Write `out`: the exported int8 folder `folder` with unsigned weights; its config gains the returned record.

    ValueError when the folder's graph has no signed weights to shift (an fp32 folder, or one already converted).
    """
    folder, out = Path(folder), Path(out)
    if out.resolve() == folder.resolve():
        raise ValueError("convert into another folder: the signed graph is kept")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if NARROW_WEIGHTS in config:
        raise ValueError(f"{folder} has 7-bit weights: it scores the same on every CPU as it is")
    source = (folder / "model.onnx").read_bytes()
    graph = onnx.load_from_string(source)
    shifted = unsigned_weights(graph)
    if shifted == 0:
        raise ValueError(f"{folder / 'model.onnx'} has no int8 matmul weights to shift")
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(graph, str(out / "model.onnx"))
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    record = {**unsigned_record(shifted), "from_graph_sha256": hashlib.sha256(source).hexdigest()}
    config[UNSIGNED_WEIGHTS] = record
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    """Convert an int8 stage-2 folder with signed 8-bit weights to unsigned ones."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="an exported int8 folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the converted folder")
    args = parser.parse_args(argv)
    return print_record(lambda: convert_folder(args.folder, args.out))


def print_record(write_folder: Callable[[], dict[str, Any]]) -> int:
    """A folder command's end: the record it returns as JSON on stdout (0), or what it refused on stderr (2)."""
    try:
        record = write_folder()
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    json.dump(record, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
