"""Score an exported stage-2 folder (and optionally stage 1) on the evaluation-only corpora it never trained on.

    python -m model.stage2.evaluate_external build/stage2/int8 --data ../shared/data [--stage1 models/default.model]
Rows per corpus are capped (a seeded hash picks them, so the same rows every run); ROC AUC per category, per
corpus and, for DynaHate, per split and level (original sentences vs contrastive perturbations). `--input
normalized` feeds the encoder model.normalize's text, as the cascade does; `--heldout` scores the folder's own
held-out test split of the shippable corpora instead (rebuilt from its config's seed and shares).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from model.categories import CATEGORIES, UNKNOWN_LABEL
from model.corpora import load_corpora
from model.metrics import ranking_metrics
from model.stage2.data import INPUTS, Row, bucket, label_matrix, model_text
from model.stage2.metrics import calibrated
from model.stage2.runtime import encode_batch
from model.train import prepare


def _heldout_rows(data: Path, folder: Path) -> dict[str, list[Row]]:
    """The folder's held-out test rows, by corpus, rebuilt as training split them."""
    from model.stage2.data import load_training_data, split_rows

    params = json.loads((folder / "config.json").read_text())["training"]["params"]
    split = split_rows(
        load_training_data([data]).rows, params["seed"], params["test_share"], params["calibration_share"]
    )
    out: dict[str, list[Row]] = defaultdict(list)
    for row in split.test:
        out[row.example.corpus].append(row)
    return dict(out)


def _rows(data: Path, cap: int, seed: int) -> dict[str, list[Row]]:
    """Up to `cap` rows of each evaluation-only corpus, chosen by a seeded hash of the normalized text."""
    out: dict[str, list[Row]] = {}
    for corpus in load_corpora(data):
        if corpus.info.shippable:
            continue
        rows = prepare(corpus.examples)
        rows.sort(key=lambda r: bucket(r.normalized, seed, "external"))
        out[corpus.info.name] = rows[:cap]
    return out


def stage2_probabilities(folder: Path, texts: list[str], threads: int) -> np.ndarray:
    """Calibrated probabilities (n, 7) from an exported folder, batched by length."""
    config = json.loads((folder / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=int(config["max_length"]))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    logits = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), 64):
        chunk = order[start : start + 64]
        ids, mask = encode_batch(tokenizer, [texts[i] for i in chunk])
        logits[chunk] = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    return calibrated(logits, config["calibration"])


def stage1_probabilities(path: Path, texts: list[str]) -> np.ndarray:
    """Stage 1's probabilities (n, 7) from a model file."""
    from model.scorer import load_scorer

    scorer = load_scorer(path)
    return np.array([scorer.probabilities(text) for text in texts])


def _figures(probs: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    out = {}
    for j, category in enumerate(CATEGORIES):
        known = labels[:, j] != UNKNOWN_LABEL
        if known.any():
            out[category] = ranking_metrics(probs[known, j], labels[known, j].astype(int))
    return out


def evaluate(
    folder: Path,
    data: Path,
    cap: int,
    seed: int,
    stage1: Path | None,
    threads: int,
    text_input: str = "raw",
    heldout: bool = False,
) -> dict[str, object]:
    """Per corpus (and DynaHate group): ROC AUC and AP of stage 2, and of stage 1 when given."""
    by_corpus = _heldout_rows(data, folder) if heldout else _rows(data, cap, seed)
    report: dict[str, object] = {
        "folder": str(folder),
        "rows": "held-out test split" if heldout else f"at most {cap} per evaluation-only corpus",
        "input": text_input,
        "corpora": {},
    }
    started = time.monotonic()
    for name, rows in by_corpus.items():
        texts = [model_text(r, text_input) for r in rows]
        labels = label_matrix(rows)
        scored = {"stage2": stage2_probabilities(folder, texts, threads)}
        if stage1 is not None:
            scored["stage1"] = stage1_probabilities(stage1, [r.example.text for r in rows])  # it normalizes itself
        entry: dict[str, object] = {"rows": len(rows)}
        for model_name, probs in scored.items():
            entry[model_name] = _figures(probs, labels)
        if name == "dynahate_devtest":
            groups: dict[str, list[int]] = defaultdict(list)
            for i, r in enumerate(rows):
                groups[r.example.group].append(i)
            entry["groups"] = {
                group: {m: _figures(p[index], labels[index]) for m, p in scored.items()}
                for group, index in sorted(groups.items())
            }
        report["corpora"][name] = entry  # type: ignore[index]
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: prints the report as JSON (and writes it with --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cap", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--stage1", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--input", choices=INPUTS, default="raw")
    parser.add_argument("--heldout", action="store_true")
    args = parser.parse_args(argv)
    report = evaluate(args.folder, args.data, args.cap, args.seed, args.stage1, args.threads, args.input, args.heldout)
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
