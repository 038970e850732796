"""An int8 stage-2 folder with 8-bit weights requantized to 7 bits per output column, its calibration refitted.

A folder exported before 7-bit weights (model/stage2/quantize.py) has 8-bit weights with one scale per matrix,
stored unsigned so that they score the same on every x86 CPU, at 17-22 % more stage-2 time on AVX2 CPUs without
VNNI. When its fp32 graph is gone, its 8-bit weights can be rounded to 7 bits per column instead
(`quantize.narrowed_weights`); Platt scaling is then refitted on the new graph's logits over the calibration split,
and the test split measures both graphs, as the export does (run in .venv, with the corpora the folder was
trained on):
    python -m model.stage2.requantize --folder DIR --data ../shared/data --out NEW_DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from tokenizers import Tokenizer

from model.stage2 import data as stage2_data
from model.stage2 import metrics, quantize
from model.stage2.data import Split, model_text
from model.stage2.measure import (
    latency_texts,
    measure_latency,
    onnx_logits,
    read_alone_and_calibrated,
    session,
)
from model.stage2.runtime import NARROW_WEIGHTS, UNSIGNED_WEIGHTS


def requantize_folder(folder: Path, out: Path, split: Split) -> dict[str, Any]:
    """Write `out`: the int8 folder `folder` with 7-bit weights per column, Platt refitted on `split`'s calibration
    rows and measured on its test rows (each read alone, as the service reads them); returns the `narrow_weights`
    record its config gains. ValueError for a folder that is fp32 or already has 7-bit weights."""
    folder, out = Path(folder), Path(out)
    if out.resolve() == folder.resolve():
        raise ValueError("requantize into another folder: the 8-bit graph is measured beside the new one")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if NARROW_WEIGHTS in config:
        raise ValueError(f"{folder} already has 7-bit weights")
    if not config.get("quantized"):
        raise ValueError(f"{folder} is fp32: quantize its graph instead (model.stage2.quantize.quantize)")
    if not split.calibration or not split.test:
        raise ValueError("requantizing needs calibration and test rows")
    previous = (folder / "model.onnx").read_bytes()
    graph = onnx.load_from_string(previous)
    tensors = quantize.narrowed_weights(graph)
    if tensors == 0:
        raise ValueError(f"{folder / 'model.onnx'} has no int8 matmul weights to requantize")
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(graph, str(out / "model.onnx"))
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    text_input = str(config.get("training", {}).get("params", {}).get("input", "normalized"))
    calibration, narrow_test = read_alone_and_calibrated(session(out / "model.onnx", 1), tokenizer, split, text_input)
    test_texts = [model_text(row, text_input) for row in split.test]
    # The 8-bit graph read with its weights unsigned: as it scores on every CPU (quantize.py).
    eight_bit = session(quantize.unsigned_bytes(previous), threads=1)
    before = metrics.calibrated(onnx_logits(eight_bit, tokenizer, test_texts, batch=1), config["calibration"])
    moved = np.abs(metrics.calibrated(narrow_test, calibration) - before)
    record = {
        "tensors": tensors,
        "largest_weight": quantize.widest_weight(graph),
        "how": "8-bit weights requantized to 7 bits with a scale per output column, Platt refitted "
        "(model.stage2.requantize): no 16-bit pair sum saturates on AVX2 CPUs",
        "from_graph_sha256": hashlib.sha256(previous).hexdigest(),
        "vs_8_bit_mean_abs_probability_diff_test": round(float(moved.mean()), 5),
        "vs_8_bit_max_abs_probability_diff_test": round(float(moved.max()), 5),
    }
    config.pop(UNSIGNED_WEIGHTS, None)
    config[NARROW_WEIGHTS] = record
    config["calibration"] = calibration
    config["metrics"] = {
        "onnx": metrics.heldout_metrics(narrow_test, split.test, calibration),
        "latency": measure_latency(out / "model.onnx", tokenizer, latency_texts(test_texts)),
        "quantization": "7-bit weights with a scale per output column, requantized from the 8-bit graph's "
        "(model.stage2.requantize); Platt refitted on its own logits",
        "before_requantization": config.get("metrics", {}),
    }
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def folder_split(folder: Path, data: Path) -> Split:
    """The rows a folder's stage 2 held out, as its training split them: its seed and shares over the corpora."""
    config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    params = config.get("training", {}).get("params")
    if not isinstance(params, dict) or not {"seed", "test_share", "calibration_share"} <= set(params):
        raise ValueError(f"{folder}/config.json does not say how its training split the rows (training.params)")
    loaded = stage2_data.load_training_data([Path(data)])
    return stage2_data.split_rows(
        loaded.rows, int(params["seed"]), float(params["test_share"]), float(params["calibration_share"])
    )


def main(argv: list[str] | None = None) -> int:
    """Requantize an int8 stage-2 folder's 8-bit weights to 7 bits per output column."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="an exported int8 folder with 8-bit weights")
    parser.add_argument("--data", type=Path, required=True, help="the corpora it was trained on (../shared/data)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the requantized folder")
    args = parser.parse_args(argv)
    return quantize.print_record(lambda: requantize_folder(args.folder, args.out, folder_split(args.folder, args.data)))


if __name__ == "__main__":
    raise SystemExit(main())
