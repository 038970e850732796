"""int8 stage-2 graphs that score the same on every x86 CPU: dynamic quantization, then unsigned weights.

ONNX Runtime multiplies a graph's uint8 activations by int8 weights (U8S8) with VPMADDUBSW on AVX2 CPUs without
VNNI, whose 16-bit sums of two products saturate. The same int8 graph then scores otherwise there than on a CPU with
VNNI, which sums exactly: by 0.015 in probability on the model shipped on 2026-12-06, whose file then refused
to load there (its self-check allows 0.001). Each weight shifted by 128 into uint8, with its zero point shifted
alike, leaves every integer product the same, and uint8 by uint8 (U8U8) is summed exactly on every CPU: the graph
then gives, everywhere, the scores the signed graph gives where nothing saturates. Cost measured on an AVX2 CPU:
17-22 % more stage-2 time per comment. (Quantizing to unsigned weights directly would pick other weights, asymmetric
ones; shifting keeps the ones the model was measured with.)

A folder quantized before this existed is converted without retraining (run in .venv or .venv-train):
    python -m model.stage2.quantize --folder build/stage2/int8 --out DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

SHIFT = 128
# The graph's integer matrix products: inputs 1 and 3 are the weights and their zero point.
_INTEGER_MATMUL = "MatMulInteger"
_WEIGHT_INPUTS = (1, 3)


def quantize(fp32_graph: Path, int8_graph: Path) -> int:
    """Write `int8_graph`: `fp32_graph` with int8 dynamic quantization and unsigned weights; returns their count."""
    quantize_dynamic(str(fp32_graph), str(int8_graph), weight_type=QuantType.QInt8)
    graph = onnx.load(str(int8_graph))
    shifted = unsigned_weights(graph)
    onnx.save(graph, str(int8_graph))
    return shifted


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
    source = (folder / "model.onnx").read_bytes()
    graph = onnx.load_from_string(source)
    shifted = unsigned_weights(graph)
    if shifted == 0:
        raise ValueError(f"{folder / 'model.onnx'} has no int8 matmul weights to shift")
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(graph, str(out / "model.onnx"))
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    record = {**unsigned_record(shifted), "from_graph_sha256": hashlib.sha256(source).hexdigest()}
    config["unsigned_weights"] = record
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    """Convert an exported int8 stage-2 folder to unsigned weights."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="an exported int8 folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the converted folder")
    args = parser.parse_args(argv)
    try:
        record = convert_folder(args.folder, args.out)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    json.dump(record, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
