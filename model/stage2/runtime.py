"""Score comments with an exported stage-2 encoder: ONNX Runtime on one thread, its WordPiece tokenizer, calibration.

Everything is built from the folder's three files as bytes (the artifact's members), so scoring reads no file.
A graph answers `logits` and, when exported with it, `pooled` (the features its head reads); a stage 2 whose
graph has `pooled` may carry a head adapter fitted from moderators' verdicts (model/stage2/adapt.py).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
from tokenizers import Encoding, Tokenizer
from tokenizers.pre_tokenizers import BertPreTokenizer

from model.artifact import ModelLoadError
from model.cascade import sigmoid
from model.categories import CATEGORIES
from model.stage2.adapt import HeadAdapter

CONFIG_FORMAT = "stage2/1"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"
POOLED_NAME = "pooled"  # the mean-pooled encoder output the head reads, float32 [batch, hidden]
# The outputs a graph may have: exported before `pooled` existed (it scores, but cannot be adapted), or with it.
OUTPUT_LAYOUTS = ((OUTPUT_NAME,), (OUTPUT_NAME, POOLED_NAME))
FOLDER_FILES = ("model.onnx", "tokenizer.json", "config.json")
# What an int8 folder's config records of weights that score the same on every x86 CPU (model.stage2.quantize):
# 7-bit ones, or 8-bit ones stored unsigned. A graph with neither has signed 8-bit weights.
NARROW_WEIGHTS = "narrow_weights"
UNSIGNED_WEIGHTS = "unsigned_weights"
PORTABLE_WEIGHTS = (NARROW_WEIGHTS, UNSIGNED_WEIGHTS)
LONGEST_MAX_LENGTH = 4096
# One text per run: int8 dynamic quantization scales each run's activations by that run's range, so a text's
# scores would depend on the texts batched with it (measured on 300 Jigsaw comments with the 4-layer int8 encoder:
# mean |difference| 0.013, p99 0.084, max 0.17), and batches were no faster on the CPU (1.58 s against 1.22 s).
# Scored one at a time, a comment gets the same scores from the API, a batch, attach and evaluation.
DEFAULT_BATCH_SIZE = 1
# What ONNX Runtime raises for a graph it cannot parse, check or run.
ORT_ERRORS = (
    ort_errors.InvalidProtobuf,
    ort_errors.InvalidGraph,
    ort_errors.InvalidArgument,
    ort_errors.Fail,
    ort_errors.NotImplemented,
    ort_errors.NoSuchFile,
    ort_errors.NoModel,
    ort_errors.EngineError,
    ort_errors.EPFail,
    ort_errors.RuntimeException,
)


# The tokenizer reads a whole text before it truncates: a 20,000-character comment cost 24 ms of tokens thrown
# away. A long text is read up to a point where BERT's pre-tokenizer always splits (just after an ASCII space or
# punctuation mark), far enough in that max_length tokens almost always fit; the tokens before such a point are
# the whole text's, so when the prefix fills max_length the encoding is the whole text's. Otherwise the whole text.
PREFIX_CHARS_PER_TOKEN = 32
_SPLIT_AFTER = frozenset(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def split_prefix(text: str, chars: int) -> str | None:
    """The longest prefix of `text` of at most `chars` characters that ends just after an ASCII space or
    punctuation mark, or None if `text` fits in `chars` or has no such point."""
    if len(text) <= chars:
        return None
    for end in range(chars, 0, -1):
        if text[end - 1] in _SPLIT_AFTER:
            return text[:end]
    return None


# A long text's passages are looked for in its first PASSAGE_CHARS_PER_TOKEN characters per token they may hold
# (English averages under 5), so a hostile 20,000-character text costs no more than about 3,000 of them.
PASSAGE_CHARS_PER_TOKEN = 8


def passage_ranges(encoding: Encoding, width: int, most: int) -> list[tuple[int, int]]:
    """Character ranges of the first `most` passages of an encoded text (no special tokens): consecutive runs of
    at most `width` tokens, each cut before a word's first token, so that no word is split between two."""
    offsets, words = encoding.offsets, encoding.word_ids
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < len(offsets) and len(ranges) < most:
        end = min(start + width, len(offsets))
        if end < len(offsets):
            cut = end
            while cut > start + 1 and words[cut] is not None and words[cut] == words[cut - 1]:
                cut -= 1
            end = cut
        ranges.append((offsets[start][0], offsets[end - 1][1]))
        start = end
    return ranges


def encodings_of(tokenizer: Tokenizer, texts: Sequence[str]) -> list[Encoding]:
    """The tokenizer's encodings of `texts`, the same as `tokenizer.encode_batch(texts)`, but a long text costs
    no more than a short one where the tokenizer truncates on the right after BERT's pre-tokenizer."""
    truncation = tokenizer.truncation
    if (
        not truncation
        or truncation["direction"] != "right"
        or not isinstance(tokenizer.pre_tokenizer, BertPreTokenizer)
    ):
        return list(tokenizer.encode_batch(list(texts)))
    max_length = int(truncation["max_length"])
    prefixes = [split_prefix(text, max_length * PREFIX_CHARS_PER_TOKEN) for text in texts]
    encodings = list(tokenizer.encode_batch([p if p is not None else t for p, t in zip(prefixes, texts, strict=True)]))
    short = [
        i for i, (p, e) in enumerate(zip(prefixes, encodings, strict=True)) if p is not None and len(e.ids) < max_length
    ]
    for i, encoding in zip(short, tokenizer.encode_batch([texts[i] for i in short]), strict=True):
        encodings[i] = encoding
    return encodings


def encode_batch(tokenizer: Tokenizer, texts: Sequence[str], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The graph's inputs for some texts: token ids and attention mask, int64 [batch, longest], padded with
    `pad_id` (the tokenizer truncates)."""
    encodings = encodings_of(tokenizer, texts)
    longest = max((len(e.ids) for e in encodings), default=0)
    ids = np.full((len(encodings), max(longest, 1)), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1
    return ids, mask


@dataclass(frozen=True)
class Stage2Config:
    """The validated config.json of an exported stage-2 model."""

    encoder: str
    layers: int
    max_length: int
    categories: tuple[str, ...]
    slope: np.ndarray  # calibration a per category: p = sigmoid(a * logit + b)
    offset: np.ndarray  # calibration b per category
    quantized: bool
    seed: int
    reads_normalized: bool  # trained on model.normalize's text (config "input": "normalized: ..."), else raw text
    document: dict[str, Any]  # the whole config as written, training and metrics included


def _integer(document: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelLoadError(f"stage-2 config.json: {key} must be an integer from {low} to {high}, not {value!r}")
    return value


def _finite(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelLoadError(f"stage-2 config.json: {where} must be a finite number, not {value!r}")
    return float(value)


def parse_config(data: bytes) -> Stage2Config:
    """The config of a stage-2 folder, refused (ModelLoadError) unless it is a complete stage2/1 config."""
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"stage-2 config.json is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise ModelLoadError("stage-2 config.json must be a JSON object")
    if document.get("format") != CONFIG_FORMAT:
        raise ModelLoadError(f"stage-2 config.json has format {document.get('format')!r}, not {CONFIG_FORMAT!r}")
    if document.get("categories") != list(CATEGORIES):
        raise ModelLoadError(
            f"stage-2 config.json: categories must be {list(CATEGORIES)} in that order, "
            f"not {document.get('categories')!r}"
        )
    calibration = document.get("calibration")
    if not isinstance(calibration, dict) or set(calibration) != set(CATEGORIES):
        raise ModelLoadError("stage-2 config.json: calibration must give {a, b} for each of the seven categories")
    slope, offset = [], []
    for category in CATEGORIES:
        entry = calibration[category]
        if not isinstance(entry, dict):
            raise ModelLoadError(f"stage-2 config.json: calibration.{category} must be an object {{a, b}}")
        slope.append(_finite(entry.get("a"), f"calibration.{category}.a"))
        offset.append(_finite(entry.get("b"), f"calibration.{category}.b"))
    encoder = document.get("encoder")
    if not isinstance(encoder, str) or not encoder:
        raise ModelLoadError("stage-2 config.json: encoder must be a non-empty string")
    if not isinstance(document.get("quantized"), bool):
        raise ModelLoadError("stage-2 config.json: quantized must be true or false")
    text_input = document.get("input", "raw")
    if not isinstance(text_input, str) or text_input.split(":")[0] not in ("raw", "normalized"):
        raise ModelLoadError(f"stage-2 config.json: input must start with 'raw' or 'normalized', not {text_input!r}")
    for key in ("training", "metrics"):
        if not isinstance(document.get(key), dict):
            raise ModelLoadError(f"stage-2 config.json: {key} must be an object")
    return Stage2Config(
        encoder=encoder,
        layers=_integer(document, "layers", 1, 1000),
        max_length=_integer(document, "max_length", 2, LONGEST_MAX_LENGTH),
        categories=tuple(CATEGORIES),
        slope=np.array(slope),
        offset=np.array(offset),
        quantized=document["quantized"],
        seed=_integer(document, "seed", -(2**63), 2**63 - 1),
        reads_normalized=text_input.split(":")[0] == "normalized",
        document=document,
    )


def _checked_tokenizer_json(data: bytes) -> str:
    """The tokenizer JSON as text, refused unless it is a WordPiece tokenizer with its unknown token in its vocab.

    `tokenizers` raises a bare Exception on a malformed file, so the shape it needs is checked here first.
    """
    try:
        text = data.decode("utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"stage-2 tokenizer.json is not JSON: {error}") from error
    model = document.get("model") if isinstance(document, dict) else None
    if not isinstance(model, dict) or model.get("type") != "WordPiece":
        raise ModelLoadError("stage-2 tokenizer.json must hold a WordPiece model")
    vocab = model.get("vocab")
    if (
        not isinstance(vocab, dict)
        or not vocab
        or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in vocab.values())
    ):
        raise ModelLoadError("stage-2 tokenizer.json: the WordPiece vocab must map tokens to ids")
    if model.get("unk_token") not in vocab:
        raise ModelLoadError("stage-2 tokenizer.json: the unknown token is not in the vocab")
    return text


def _session(graph: bytes) -> ort.InferenceSession:
    """An inference session on one thread, sequential, on the CPU."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: they are raised as exceptions anyway
    try:
        session = ort.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
    except ORT_ERRORS as error:
        raise ModelLoadError(f"stage-2 model.onnx cannot be loaded by ONNX Runtime: {error}") from error
    # The Python wrapper keeps the serialized graph only to rebuild the session on a provider fallback, which a
    # CPU-only session never needs: without fallback it can go (90 MB for a 6-layer fp32 encoder, measured).
    session.disable_fallback()
    session._model_bytes = None
    return session


def _check_interface(session: ort.InferenceSession) -> bool:
    """Refuse a graph whose inputs and outputs are not the stage-2 interface; whether it answers `pooled`."""
    inputs = {node.name: node for node in session.get_inputs()}
    if set(inputs) != set(INPUT_NAMES):
        raise ModelLoadError(f"stage-2 model.onnx takes inputs {sorted(inputs)}, not {list(INPUT_NAMES)}")
    for name in INPUT_NAMES:
        node = inputs[name]
        if node.type != "tensor(int64)" or len(node.shape) != 2:
            raise ModelLoadError(
                f"stage-2 model.onnx: input {name} is {node.type} {node.shape}, not int64 [batch, seq]"
            )
    outputs = session.get_outputs()
    names = tuple(node.name for node in outputs)
    if names not in OUTPUT_LAYOUTS:
        raise ModelLoadError(
            f"stage-2 model.onnx has outputs {list(names)}, not {' or '.join(str(list(o)) for o in OUTPUT_LAYOUTS)}"
        )
    shape = outputs[0].shape
    width = shape[1] if len(shape) == 2 else None
    if outputs[0].type != "tensor(float)" or len(shape) != 2 or (isinstance(width, int) and width != len(CATEGORIES)):
        raise ModelLoadError(
            f"stage-2 model.onnx: output {OUTPUT_NAME} is {outputs[0].type} {shape}, not float32 [batch, 7]"
        )
    if len(outputs) == 2 and (outputs[1].type != "tensor(float)" or len(outputs[1].shape) != 2):
        raise ModelLoadError(
            f"stage-2 model.onnx: output {POOLED_NAME} is {outputs[1].type} {outputs[1].shape}, "
            "not float32 [batch, hidden]"
        )
    return len(outputs) == 2


class NoPooledOutput(ValueError):
    """The graph was exported without `pooled`: it scores, but cannot be adapted (re-export it: model.stage2.export)."""


class Stage2Model:
    """An exported encoder ready to score: seven calibrated probabilities per text, in CATEGORIES order."""

    def __init__(self, graph: bytes, tokenizer: bytes, config: bytes, adapter: HeadAdapter | None = None) -> None:
        self.config = parse_config(config)
        self._tokenizer = Tokenizer.from_str(_checked_tokenizer_json(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.config.max_length)
        # The same tokenizer reading a text to its end, to find a long text's passages.
        self._reader = Tokenizer.from_str(self._tokenizer.to_str())
        self._reader.no_truncation()
        pad = self._tokenizer.token_to_id("[PAD]")
        self._pad_id = 0 if pad is None else pad
        self._session = _session(graph)
        self.has_pooled = _check_interface(self._session)
        self.adapter: HeadAdapter | None = None
        if adapter is not None:
            self.adapter = self._adaptable(adapter)

    @property
    def categories(self) -> tuple[str, ...]:
        return self.config.categories

    def _adaptable(self, adapter: HeadAdapter) -> HeadAdapter:
        """The adapter, refused (ModelLoadError) when the graph has no pooled output or one of another width."""
        if not self.has_pooled:
            raise ModelLoadError("stage 2 carries a head adapter but its graph has no pooled output")
        width = self._session.get_outputs()[1].shape[1]
        if isinstance(width, int) and width != adapter.hidden:
            raise ModelLoadError(
                f"stage 2's head adapter reads {adapter.hidden} pooled features; the graph answers {width}"
            )
        return adapter

    def with_adapter(self, adapter: HeadAdapter | None) -> Stage2Model:
        """The same graph, tokenizer and config with `adapter` (None: none); the session is shared, not rebuilt."""
        adapted = copy.copy(self)
        adapted.adapter = None if adapter is None else self._adaptable(adapter)
        return adapted

    @property
    def window(self) -> int:
        """The tokens of a text one read takes in: max_length less [CLS] and [SEP]."""
        return self.config.max_length - 2

    def passages(self, text: str, most: int) -> list[tuple[int, int]]:
        """Character ranges of `text` in passages one read each takes in whole (passage_ranges), the first `most`
        of them; [(0, len(text))] when the whole text fits one read (a text of at most `window` characters
        always does: a token covers at least one character)."""
        whole = [(0, len(text))]
        if most <= 1 or len(text) <= self.window:
            return whole
        source = split_prefix(text, most * self.window * PASSAGE_CHARS_PER_TOKEN) or text
        encoding = self._reader.encode(source, add_special_tokens=False)
        if len(encoding.ids) <= self.window:
            return whole
        return passage_ranges(encoding, self.window, most)

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, int64 [batch, longest], truncated to max_length and padded."""
        return encode_batch(self._tokenizer, texts, self._pad_id)

    def _run(self, texts: Sequence[str], with_pooled: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The graph's raw logits [batch, 7] and, when asked, its pooled features [batch, hidden]."""
        if with_pooled and not self.has_pooled:
            raise NoPooledOutput("this stage 2's graph was exported without a pooled output")
        ids, mask = self.encode(texts)
        names = [OUTPUT_NAME, POOLED_NAME] if with_pooled else [OUTPUT_NAME]
        answers = self._session.run(names, {"input_ids": ids, "attention_mask": mask})
        logits = answers[0]
        if logits.shape != (len(texts), len(CATEGORIES)):
            raise ModelLoadError(f"stage-2 model.onnx answered logits of shape {logits.shape} for {len(texts)} texts")
        if not with_pooled:
            return np.asarray(logits, dtype=np.float64), None
        pooled = answers[1]
        if pooled.ndim != 2 or pooled.shape[0] != len(texts):
            raise ModelLoadError(f"stage-2 model.onnx answered pooled of shape {pooled.shape} for {len(texts)} texts")
        return np.asarray(logits, dtype=np.float64), np.asarray(pooled, dtype=np.float64)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The graph's raw logits, float [batch, 7]."""
        return self._run(texts, with_pooled=False)[0]

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """The mean-pooled encoder output the head reads, float [batch, hidden]; NoPooledOutput for older graphs."""
        pooled = self._run(texts, with_pooled=True)[1]
        assert pooled is not None  # asked for
        return pooled

    def features_many(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[float], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits [n, 7] and pooled features [n, hidden] for many texts, batched by length, in input order."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        logits = np.zeros((len(texts), len(CATEGORIES)))
        pooled: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch_logits, batch_pooled = self._run([texts[i] for i in chosen], with_pooled=True)
            assert batch_pooled is not None  # asked for
            if pooled is None:
                pooled = np.zeros((len(texts), batch_pooled.shape[1]))
            logits[chosen], pooled[chosen] = batch_logits, batch_pooled
            if progress is not None:
                progress(min(1.0, (start + len(chosen)) / len(order)))
        return logits, pooled if pooled is not None else np.zeros((0, 0))

    def calibrate(self, logits: np.ndarray, pooled: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities: sigmoid(a * logit + b), plus the head adapter's shift when there is one."""
        z = logits * self.config.slope + self.config.offset
        if self.adapter is not None:
            if pooled is None:
                raise ValueError("an adapted stage 2 needs the pooled features to calibrate")
            z = z + self.adapter.shift(pooled)
        return sigmoid(z)

    def _probabilities_of(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities [batch, 7] of one batch, the graph run once."""
        logits, pooled = self._run(texts, with_pooled=self.adapter is not None)
        return self.calibrate(logits, pooled)

    def probabilities(self, text: str) -> np.ndarray:
        """Calibrated probabilities for one text, in category order."""
        return self._probabilities_of([text])[0]  # type: ignore[no-any-return]

    def probabilities_many(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Calibrated probabilities [n, 7] for many texts, in batches of similar length (less padding)."""
        out = np.zeros((len(texts), len(CATEGORIES)))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._probabilities_of([texts[i] for i in chosen])
        return out


def load_stage2(members: Mapping[str, bytes], adapter: HeadAdapter | None = None) -> Stage2Model:
    """A stage-2 model from the bytes of its folder's three files, keyed by file name, with an optional adapter."""
    missing = [name for name in FOLDER_FILES if name not in members]
    if missing:
        raise ModelLoadError(f"stage 2 lacks {', '.join(missing)}")
    return Stage2Model(members["model.onnx"], members["tokenizer.json"], members["config.json"], adapter)


def record_self_check(model: Stage2Model, texts: Sequence[str], tolerance: float) -> dict[str, Any]:
    """The probabilities stage 2 gives `texts` now, for the manifest: every load must reproduce them."""
    return {
        "texts": list(texts),
        "probabilities": [[float(p) for p in model.probabilities(text)] for text in texts],
        "tolerance": tolerance,
    }


def self_check(model: Stage2Model, record: object, *, where: str) -> None:
    """Refuse a stage 2 that does not score the recorded texts as it did when it was attached."""
    if not isinstance(record, dict) or not isinstance(record.get("texts"), list) or not record["texts"]:
        raise ModelLoadError(f"{where}: stage 2 has no self-check record")
    texts, expected, tolerance = record["texts"], record.get("probabilities"), record.get("tolerance")
    if (
        not all(isinstance(text, str) for text in texts)
        or not isinstance(tolerance, float)
        or not 0.0 <= tolerance < 1.0
        or not isinstance(expected, list)
        or len(expected) != len(texts)
        or not all(isinstance(row, list) and len(row) == len(CATEGORIES) for row in expected)
        or not all(isinstance(p, float) and 0.0 <= p <= 1.0 for row in expected for p in row)
    ):
        raise ModelLoadError(f"{where}: stage 2's self-check record is malformed")
    try:
        actual = np.array([model.probabilities(text) for text in texts])
    except (*ORT_ERRORS, ValueError) as error:  # ValueError: an adapter that does not fit the graph's pooled width
        raise ModelLoadError(f"{where}: stage 2 fails to score its self-check texts: {error}") from error
    worst = float(np.max(np.abs(actual - np.asarray(expected, dtype=np.float64))))
    if not worst <= tolerance:
        signed = model.config.quantized and not any(key in model.config.document for key in PORTABLE_WEIGHTS)
        raise ModelLoadError(
            f"{where}: stage 2 does not score its self-check texts as recorded at build time "
            f"(off by {worst:.6f}, tolerance {tolerance})"
            + (
                "; its int8 graph has signed weights, which score otherwise on CPUs without VNNI: convert "
                "its folder with `python -m model.stage2.quantize` and attach it again"
                if signed
                else ""
            )
        )


def library_versions() -> dict[str, str]:
    """Versions of the libraries stage 2 is scored with."""
    import tokenizers

    return {"onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__}
