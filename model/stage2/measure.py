"""Read an exported stage-2 graph with ONNX Runtime and measure it: its logits and its latency. No torch."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from model.stage2 import metrics
from model.stage2.data import Split, label_matrix, model_text
from model.stage2.runtime import encode_batch

LATENCY_CHARS = 400


def session(graph: Path | bytes, threads: int) -> ort.InferenceSession:
    """An ONNX Runtime CPU session of a graph file (or its bytes) with `threads` intra-op threads, sequential."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    source = graph if isinstance(graph, bytes) else str(graph)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def onnx_logits(sess: ort.InferenceSession, tokenizer: Tokenizer, texts: Sequence[str], batch: int = 64) -> np.ndarray:
    """Logits (n, 7) from an ONNX session, batched by length, in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 7), dtype=np.float32)
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        ids, mask = encode_batch(tokenizer, [texts[i] for i in chunk])
        out[chunk] = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    return out


def read_alone_and_calibrated(
    sess: ort.InferenceSession, tokenizer: Tokenizer, split: Split, text_input: str
) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    """Platt scaling fitted on an int8 graph's logits of `split`'s calibration rows, and its logits of the test rows,
    each text read alone, as the service reads it (runtime.DEFAULT_BATCH_SIZE says why)."""
    calibration_texts = [model_text(row, text_input) for row in split.calibration]
    calibration = metrics.fit_platt(
        onnx_logits(sess, tokenizer, calibration_texts, batch=1), label_matrix(split.calibration)
    )
    test_logits = onnx_logits(sess, tokenizer, [model_text(row, text_input) for row in split.test], batch=1)
    return calibration, test_logits


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
