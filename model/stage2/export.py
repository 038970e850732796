"""Export a trained stage-2 model to ONNX (fp32 and int8), check it against torch, measure it, write the folders.

Each folder holds model.onnx (inputs input_ids, attention_mask int64 [batch, seq]; outputs logits float32
[batch, 7] in CATEGORIES order, before sigmoid, and pooled float32 [batch, 384], the mean-pooled encoder output
the head reads, which a head adapter fitted from verdicts reads too), tokenizer.json and config.json.

A folder exported before `pooled` existed is re-exported from its run's saved weights, without retraining
(run in .venv-train; the new graph must give the old one's logits, so the folder's calibration still holds):
    python -m model.stage2.export --checkpoint build/stage2/model.pt --folder build/stage2/int8 --out DIR
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer

from model.artifact import STAGE2_CHECK_TEXTS
from model.stage2 import metrics, quantize, runtime
from model.stage2.data import Split, model_text
from model.stage2.measure import latency_texts, measure_latency, onnx_logits, read_alone_and_calibrated, session
from model.stage2.runtime import encode_batch

OPSET = 17
PARITY_TOLERANCE = 1e-4


# A re-exported graph must give the old graph's logits within this (fp32; int8: the same weights quantized again).
REEXPORT_TOLERANCE = {False: PARITY_TOLERANCE, True: 1e-3}
# The texts every load of a model file checks stage 2 on, and two of other lengths.
REEXPORT_TEXTS = (
    *STAGE2_CHECK_TEXTS,
    "The minister made a fair point about the budget, though the figures for 2024 look optimistic to me.",
    "ok",
)


class ParityError(RuntimeError):
    """ONNX Runtime's logits differ from torch's (or a re-export's from the old graph's) by more than the tolerance."""


class LogitsAndPooled(torch.nn.Module):
    """The view of a stage-2 model that is exported: its logits and the mean-pooled features its head reads."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [batch, 7], pooled [batch, hidden])."""
        pooled = self.model.pool(input_ids, attention_mask)
        return self.model.head(pooled), pooled


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    """torch.onnx.export of the logits and pooled outputs, with dynamic batch and sequence axes."""
    model.eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    torch.onnx.export(
        LogitsAndPooled(model).eval(),
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits", "pooled"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "logits": {0: "batch"},
            "pooled": {0: "batch"},
        },  # fmt: skip
        opset_version=OPSET,
        dynamo=False,
    )


def check_parity(model: torch.nn.Module, sess: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str]) -> float:
    """Max |ORT - torch| logit difference on one padded fixture batch; ParityError above PARITY_TOLERANCE (the
    pooled features too, relative to their largest magnitude)."""
    ids, mask = encode_batch(tokenizer, texts)
    with torch.no_grad():
        expected, expected_pooled = (
            t.numpy() for t in LogitsAndPooled(model).eval()(torch.from_numpy(ids), torch.from_numpy(mask))
        )
    got, got_pooled = sess.run(["logits", "pooled"], {"input_ids": ids, "attention_mask": mask})
    worst = float(np.abs(got - expected).max())
    if worst > PARITY_TOLERANCE:
        raise ParityError(f"ONNX Runtime logits differ from torch by {worst:.2e} (> {PARITY_TOLERANCE})")
    scale = max(1.0, float(np.abs(expected_pooled).max()))
    worst_pooled = float(np.abs(got_pooled - expected_pooled).max())
    if worst_pooled > PARITY_TOLERANCE * scale:
        raise ParityError(
            f"ONNX Runtime pooled features differ from torch by {worst_pooled:.2e} (> {PARITY_TOLERANCE} x {scale:.1f})"
        )
    return worst


def _write_folder(folder: Path, onnx_path: Path, tokenizer: Tokenizer, config: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if onnx_path != folder / "model.onnx":
        onnx_path.replace(folder / "model.onnx")
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n")


def export_all(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    config: dict[str, Any],
    out: Path,
    split: Split,
    torch_test_logits: np.ndarray,
    threads: int = 2,
    text_input: str = "raw",
) -> dict[str, Any]:
    """Write <out>/fp32 and <out>/int8 with their configs and measured figures; returns the fp32 config."""
    fp32_dir, int8_dir = out / "fp32", out / "int8"
    fp32_dir.mkdir(parents=True, exist_ok=True)
    int8_dir.mkdir(parents=True, exist_ok=True)
    fp32_path = fp32_dir / "model.onnx"
    export_onnx(model, fp32_path)
    fixture = _parity_fixture([model_text(r, text_input) for r in split.test])
    fp32_sess = session(fp32_path, threads)
    parity = check_parity(model, fp32_sess, tokenizer, fixture)
    int8_path = int8_dir / "model.onnx"
    portable = quantize.quantize(fp32_path, int8_path)

    test_texts = [model_text(r, text_input) for r in split.test]
    timing_texts = latency_texts(test_texts)
    fp32_test = onnx_logits(fp32_sess, tokenizer, test_texts)
    int8_calibration, int8_test = read_alone_and_calibrated(session(int8_path, threads), tokenizer, split, text_input)
    fp32_probs = metrics.calibrated(fp32_test, config["calibration"])
    int8_probs = metrics.calibrated(int8_test, int8_calibration)

    fp32_config = copy.deepcopy(config)
    fp32_config["quantized"] = False
    fp32_config["metrics"].update(
        {
            "onnx_vs_torch_max_abs_logit_diff_fixture": parity,
            "onnx_vs_torch_max_abs_logit_diff_test": float(np.abs(fp32_test - torch_test_logits).max()),
            "onnx": metrics.heldout_metrics(fp32_test, split.test, config["calibration"]),
            "latency": measure_latency(fp32_path, tokenizer, timing_texts),
        }
    )
    int8_config = copy.deepcopy(config)
    int8_config["quantized"] = True
    int8_config["calibration"] = int8_calibration
    int8_config["metrics"] = {
        "onnx": metrics.heldout_metrics(int8_test, split.test, int8_calibration),
        "vs_fp32_max_abs_probability_diff_test": float(np.abs(int8_probs - fp32_probs).max()),
        "vs_fp32_mean_abs_probability_diff_test": float(np.abs(int8_probs - fp32_probs).mean()),
        "latency": measure_latency(int8_path, tokenizer, timing_texts),
        "quantization": "onnxruntime.quantization.quantize_dynamic, weights QInt8 in 7 bits with a scale per output "
        "column (the same scores on every x86 CPU); Platt refitted on its own logits",
    }
    int8_config.update(portable)
    _write_folder(fp32_dir, fp32_path, tokenizer, fp32_config)
    _write_folder(int8_dir, int8_path, tokenizer, int8_config)
    return fp32_config


def reexport(model: torch.nn.Module, folder: Path, out: Path, threads: int = 1) -> dict[str, Any]:
    """Write `out`: the exported folder `folder` again, its graph re-exported from `model` with the pooled output.

    `model` must hold the weights `folder` was exported from: the new graph (quantized again when the folder's
    was) must give the old graph's logits on REEXPORT_TEXTS within REEXPORT_TOLERANCE, else ParityError, so the
    folder's calibration and metrics still hold. The tokenizer is copied; the config gains a `reexport` record.
    Returns that record.
    """
    folder, out = Path(folder), Path(out)
    if out.resolve() == folder.resolve():
        raise ValueError("re-export into another folder: the old graph is compared with the new one")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    quantized = bool(config["quantized"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    out.mkdir(parents=True, exist_ok=True)
    graph = out / "model.onnx"
    exported = out / "model.fp32.onnx" if quantized else graph
    export_onnx(model, exported)
    parity = check_parity(model, session(exported, threads), tokenizer, list(REEXPORT_TEXTS))
    if quantized:  # as the folder's weights were quantized, so its calibration still holds
        config.update(quantize.quantize(exported, graph, narrow=runtime.NARROW_WEIGHTS in config))
        exported.unlink()
    texts = list(REEXPORT_TEXTS)
    new = onnx_logits(session(graph, threads), tokenizer, texts)
    # An old int8 graph is read with its weights unsigned: as it scored where it was built, on any CPU (quantize.py;
    # 7-bit weights score the same either way).
    previous = (folder / "model.onnx").read_bytes()
    old = onnx_logits(session(quantize.unsigned_bytes(previous) if quantized else previous, threads), tokenizer, texts)
    drift = float(np.abs(new - old).max())
    if drift > REEXPORT_TOLERANCE[quantized]:
        graph.unlink()
        raise ParityError(
            f"the re-exported graph's logits differ from {folder / 'model.onnx'}'s by {drift:.2e} "
            f"(> {REEXPORT_TOLERANCE[quantized]}): these weights are not the ones that folder was exported from"
        )
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    record = {
        "from": str(folder),
        "previous_graph_sha256": hashlib.sha256(previous).hexdigest(),
        "outputs": ["logits", "pooled"],
        "onnx_vs_torch_max_abs_logit_diff_fixture": parity,
        "vs_previous_graph_max_abs_logit_diff": drift,
        "quantized_again": quantized,
    }
    config["reexport"] = record
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    """Re-export a stage-2 folder from its run's saved weights (model.pt), with the pooled output."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--checkpoint", type=Path, required=True, help="the run's model.pt (a state dict)")
    parser.add_argument("--folder", type=Path, required=True, help="the exported folder: fp32/ or int8/")
    parser.add_argument("--out", type=Path, required=True, help="where to write the re-exported folder")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    from model.stage2.train import build_model  # imported here: train imports this module

    config = json.loads((args.folder / "config.json").read_text(encoding="utf-8"))
    torch.set_num_threads(args.threads)
    model = build_model(int(config["layers"]), int(config["seed"]), config.get("ffn_units"))
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu", weights_only=True))
    json.dump(reexport(model, args.folder, args.out, args.threads), sys.stdout, indent=1)
    print()
    return 0


def _parity_fixture(held_out: Sequence[str], size: int = 8) -> list[str]:
    """A batch of held-out texts of different lengths (so it is padded), plus a short one."""
    texts = sorted(held_out, key=len)
    if not texts:
        return ["a short comment", "another, somewhat longer comment about the article above"]
    step = max(1, len(texts) // size)
    return [texts[i] for i in range(0, len(texts), step)][:size] + ["ok"]


if __name__ == "__main__":
    raise SystemExit(main())
