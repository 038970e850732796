"""Export a trained stage-2 model to ONNX (fp32 and int8), check it against torch, measure it, write the folders.

Each folder holds model.onnx (inputs input_ids, attention_mask int64 [batch, seq]; output logits float32
[batch, 7] in CATEGORIES order, before sigmoid; mean pooling inside the graph), tokenizer.json and config.json.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

from model.stage2 import metrics
from model.stage2.data import Split, label_matrix, model_text
from model.stage2.runtime import encode_batch

OPSET = 17
PARITY_TOLERANCE = 1e-4
LATENCY_CHARS = 400


class ParityError(RuntimeError):
    """ONNX Runtime's logits differ from torch's by more than the tolerance."""


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    """torch.onnx.export with dynamic batch and sequence axes."""
    model.eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    torch.onnx.export(
        model,
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "logits": {0: "batch"},
        },  # fmt: skip
        opset_version=OPSET,
        dynamo=False,
    )


def session(path: Path, threads: int) -> ort.InferenceSession:
    """An ONNX Runtime CPU session with `threads` intra-op threads, sequential execution."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_logits(sess: ort.InferenceSession, tokenizer: Tokenizer, texts: Sequence[str], batch: int = 64) -> np.ndarray:
    """Logits (n, 7) from an ONNX session, batched by length, in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 7), dtype=np.float32)
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        ids, mask = encode_batch(tokenizer, [texts[i] for i in chunk])
        out[chunk] = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    return out


def check_parity(model: torch.nn.Module, sess: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str]) -> float:
    """Max |ORT - torch| logit difference on one padded fixture batch; ParityError above PARITY_TOLERANCE."""
    ids, mask = encode_batch(tokenizer, texts)
    with torch.no_grad():
        expected = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    got = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    worst = float(np.abs(got - expected).max())
    if worst > PARITY_TOLERANCE:
        raise ParityError(f"ONNX Runtime logits differ from torch by {worst:.2e} (> {PARITY_TOLERANCE})")
    return worst


def latency_texts(texts: Sequence[str], count: int = 200) -> list[str]:
    """`count` comments of exactly LATENCY_CHARS characters, cut from the longest held-out texts."""
    long = sorted((t for t in texts if len(t) >= LATENCY_CHARS), key=len, reverse=True)[:count]
    if not long:
        long = [" ".join(texts)[: LATENCY_CHARS * 2]]
    return [long[i % len(long)][:LATENCY_CHARS] for i in range(count)]


def measure_latency(path: Path, tokenizer: Tokenizer, texts: Sequence[str], warmup: int = 20) -> dict[str, float]:
    """p50/p99 ms for one comment per call on one thread: the model run, and tokenization plus the run."""
    sess = session(path, threads=1)
    run_ms: list[float] = []
    total_ms: list[float] = []
    tokens: list[int] = []
    for i, text in enumerate([*texts[:warmup], *texts]):
        started = time.perf_counter()
        ids, mask = encode_batch(tokenizer, [text])
        encoded = time.perf_counter()
        sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        finished = time.perf_counter()
        if i >= warmup:
            run_ms.append((finished - encoded) * 1000)
            total_ms.append((finished - started) * 1000)
            tokens.append(int(mask.sum()))
    return {
        "comments": len(run_ms),
        "chars": LATENCY_CHARS,
        "mean_tokens": round(float(np.mean(tokens)), 1),
        "run_p50_ms": round(float(np.percentile(run_ms, 50)), 2),
        "run_p99_ms": round(float(np.percentile(run_ms, 99)), 2),
        "with_tokenizer_p50_ms": round(float(np.percentile(total_ms, 50)), 2),
        "with_tokenizer_p99_ms": round(float(np.percentile(total_ms, 99)), 2),
        "intra_op_num_threads": 1,
    }


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
    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)

    test_texts = [model_text(r, text_input) for r in split.test]
    calibration_texts = [model_text(r, text_input) for r in split.calibration]
    calibration_labels = label_matrix(split.calibration)
    timing_texts = latency_texts(test_texts)
    fp32_test = onnx_logits(fp32_sess, tokenizer, test_texts)
    int8_sess = session(int8_path, threads)
    int8_calibration = metrics.fit_platt(onnx_logits(int8_sess, tokenizer, calibration_texts), calibration_labels)
    int8_test = onnx_logits(int8_sess, tokenizer, test_texts)
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
        "quantization": "onnxruntime.quantization.quantize_dynamic, weights QInt8; Platt refitted on its own logits",
    }
    _write_folder(fp32_dir, fp32_path, tokenizer, fp32_config)
    _write_folder(int8_dir, int8_path, tokenizer, int8_config)
    return fp32_config


def _parity_fixture(held_out: Sequence[str], size: int = 8) -> list[str]:
    """A batch of held-out texts of different lengths (so it is padded), plus a short one."""
    texts = sorted(held_out, key=len)
    if not texts:
        return ["a short comment", "another, somewhat longer comment about the article above"]
    step = max(1, len(texts) // size)
    return [texts[i] for i in range(0, len(texts), step)][:size] + ["ok"]
