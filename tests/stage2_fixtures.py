"""A tiny stage-2 folder built without torch: an ONNX graph from onnx.helper and a WordPiece tokenizer from a dict.

The graph is the exported models' interface in miniature: embedding lookup (Gather) of `input_ids`, a mean over
the tokens `attention_mask` keeps (the `pooled` output, as the exported encoders answer it), and a MatMul to
seven logits. Each word's embedding is its evidence per category, so "idiot" raises insult and toxicity, "kill"
threat, and so on (unknown words carry nothing), followed by a one-hot of the word itself: the head reads only
the evidence, but pooled features tell every known word apart, as a head adapter needs.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

from model import artifact
from model.cascade import CascadeSettings
from model.categories import CATEGORIES

# The categories stage 2 decides in the tests, and bounds high enough that only the lexicons route the tiny
# stage-1 model's plain texts.
DECIDED = tuple(c for c in CATEGORIES if c != "spam")
LOOSE = CascadeSettings({c: 0.5 for c in DECIDED}, DECIDED, "test: 0.5 everywhere")
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
# Word -> logit evidence per category (those not named: 0).
EVIDENCE: dict[str, dict[str, float]] = {
    "idiot": {"toxicity": 6.0, "insult": 7.0},
    "moron": {"toxicity": 6.0, "insult": 7.0},
    "stupid": {"toxicity": 5.0, "insult": 5.0},
    "kill": {"toxicity": 5.0, "threat": 8.0, "severe_toxicity": 4.0},
    "hurt": {"toxicity": 3.0, "threat": 6.0},
    "vermin": {"toxicity": 6.0, "identity_attack": 8.0},
    "shit": {"toxicity": 5.0, "obscene": 8.0},
    "subscribe": {"spam": 8.0},
}
PLAIN_WORDS = [
    "you", "the", "minister", "made", "a", "fair", "point", "about", "border", "talks", "i", "will", "find",
    "and", "all", "are", "immigrants", "thanks", "for", "careful", "analysis", "this", "is", "nonsense", "read",
    "article", "twice", "##s", "##ed", "##ing",
    # The words of tests/retrain_fixtures.py's verdicts: known to the tokenizer, no evidence of their own.
    "mayor", "council", "columnist", "senator", "editor", "our", "muppet", "numpty", "walnut", "absolute",
    "total", "spoke", "parking", "bus", "lanes", "number",
]  # fmt: skip
VOCAB: dict[str, int] = {token: index for index, token in enumerate(SPECIAL + list(EVIDENCE) + PLAIN_WORDS)}
BIAS = -4.0  # a text of plain words only scores sigmoid(-4) ≈ 0.018 before calibration
MAX_LENGTH = 32


def tokenizer_json() -> str:
    """A BERT-style WordPiece tokenizer over VOCAB, as a `tokenizers` JSON string."""
    tokenizer = Tokenizer(WordPiece(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", VOCAB["[CLS]"]), ("[SEP]", VOCAB["[SEP]"])]
    )
    return tokenizer.to_str()


def embeddings() -> np.ndarray:
    """One row per token: its evidence per category (special, plain and unknown tokens: zeros)."""
    table = np.zeros((len(VOCAB), len(CATEGORIES)), dtype=np.float32)
    for word, evidence in EVIDENCE.items():
        for category, value in evidence.items():
            table[VOCAB[word], CATEGORIES.index(category)] = value
    return table


POOLED_WIDTH = len(CATEGORIES) + len(VOCAB)


def pooled_embeddings() -> np.ndarray:
    """One row per token: its evidence (embeddings()), then a one-hot of the token (zeros for [PAD], [CLS], [SEP])."""
    identity = np.eye(len(VOCAB), dtype=np.float32) * 4.0
    for special in ("[PAD]", "[CLS]", "[SEP]"):
        identity[VOCAB[special]] = 0.0
    return np.hstack([embeddings(), identity])


def graph_bytes(
    *,
    input_names: tuple[str, str] = ("input_ids", "attention_mask"),
    output_name: str = "logits",
    n_outputs: int = len(CATEGORIES),
    scale: float = 8.0,
    pooled: bool = True,
    pooled_name: str = "pooled",
) -> bytes:
    """The serialized ONNX model, with a `pooled` output unless `pooled` is false (a graph exported before it);
    the other keyword arguments make graphs that break the interface, for the tests."""
    ids_name, mask_name = input_names
    table = pooled_embeddings()
    projection = np.zeros((POOLED_WIDTH, n_outputs), dtype=np.float32)
    np.fill_diagonal(projection, scale)  # the head reads the evidence columns only
    nodes = [
        helper.make_node("Gather", ["table", ids_name], ["embedded"]),  # [B, S, POOLED_WIDTH]
        helper.make_node("Cast", [mask_name], ["mask_float"], to=TensorProto.FLOAT),  # [B, S]
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_3d"]),  # [B, S, 1]
        helper.make_node("Mul", ["embedded", "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "token_axis"], ["summed"], keepdims=0),  # [B, POOLED_WIDTH]
        helper.make_node("ReduceSum", ["mask_float", "token_axis"], ["kept"], keepdims=1),  # [B, 1]
        helper.make_node("Max", ["kept", "one"], ["kept_at_least_one"]),
        helper.make_node("Div", ["summed", "kept_at_least_one"], [pooled_name]),
        helper.make_node("MatMul", [pooled_name, "projection"], ["projected"]),
        helper.make_node("Add", ["projected", "bias"], [output_name]),
    ]
    initializers = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(projection, "projection"),
        numpy_helper.from_array(np.full(n_outputs, BIAS, dtype=np.float32), "bias"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "token_axis"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
    ]
    outputs = [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", n_outputs])]
    if pooled:
        outputs.append(helper.make_tensor_value_info(pooled_name, TensorProto.FLOAT, ["batch", POOLED_WIDTH]))
    graph = helper.make_graph(
        nodes,
        "tiny-stage2",
        [
            helper.make_tensor_value_info(ids_name, TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(mask_name, TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def config(**changes: object) -> dict[str, object]:
    """The folder's config.json as the training pipeline writes it (identity calibration unless changed)."""
    document: dict[str, object] = {
        "format": "stage2/1",
        "encoder": "tiny-test-encoder",
        "layers": 1,
        "max_length": MAX_LENGTH,
        "categories": list(CATEGORIES),
        "input": "normalized: reads model.normalize.normalize_text of the comment",
        "calibration": {category: {"a": 1.0, "b": 0.0} for category in CATEGORIES},
        "quantized": False,
        "seed": 0,
        "training": {"rows": 0, "note": "built by tests/stage2_fixtures.py, not trained"},
        "metrics": {},
    }
    document.update(changes)
    return document


def write_stage2_folder(folder: Path, *, graph: bytes | None = None, **config_changes: object) -> Path:
    """Write model.onnx, tokenizer.json and config.json into `folder`; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(graph if graph is not None else graph_bytes())
    (folder / "tokenizer.json").write_text(tokenizer_json(), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps(config(**config_changes), indent=2), encoding="utf-8")
    return folder


def with_flipped_byte(source: Path, target: Path, member: str, position: int) -> Path:
    """A copy of model file `source` at `target`, one bit of `member` flipped at `position` (negative: from its end)."""
    with zipfile.ZipFile(source) as old:
        entries = {name: old.read(name) for name in old.namelist()}
    data = bytearray(entries[member])
    data[position] ^= 0x01
    entries[member] = bytes(data)
    with zipfile.ZipFile(target, "w") as new:
        for name, content in entries.items():
            new.writestr(name, content)
    return target


def forge(source: Path, target: Path, change: Callable[[dict[str, bytes], dict[str, Any]], object]) -> Path:
    """A copy of a model file with members or manifest changed and every hash recomputed to match: the graph's and
    the adapter's in the stage2 section, the decision hash and the content hash (a consistent forgery: only what
    the hashes cannot see, like the self-check, can refuse it)."""
    entries = _members(source)
    manifest = json.loads(entries.pop("manifest.json"))
    del entries["manifest.sha256"]
    change(entries, manifest)
    member_hashes = {name: hashlib.sha256(data).hexdigest() for name, data in entries.items()}
    section = manifest.get("stage2")
    if isinstance(section, dict):
        if "stage2/model.onnx" in entries:
            section["graph_sha256"] = member_hashes["stage2/model.onnx"]
        record = section.get("adapter")
        if isinstance(record, dict) and all(name in entries for name in record["members"].values()):
            record["sha256"] = {role: member_hashes[name] for role, name in record["members"].items()}
    return _write_sealed(target, entries, artifact.sealed_manifest(manifest, member_hashes))


def resealed(source: Path, target: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """A copy of a model file with its manifest changed and only the manifest's own seal recomputed: the content
    and decision hashes still name the file as written."""
    entries = _members(source)
    manifest = json.loads(entries["manifest.json"])
    change(manifest)
    return _write_sealed(target, entries, manifest)


def _members(source: Path) -> dict[str, bytes]:
    """Every member of a model file, by name."""
    with zipfile.ZipFile(source) as old:
        return {name: old.read(name) for name in old.namelist()}


def _write_sealed(target: Path, entries: dict[str, bytes], manifest: dict[str, Any]) -> Path:
    """Write `entries` with `manifest` as the manifest and its own SHA-256 as the manifest's seal."""
    entries["manifest.json"] = json.dumps(manifest).encode()
    entries["manifest.sha256"] = hashlib.sha256(entries["manifest.json"]).hexdigest().encode()
    with zipfile.ZipFile(target, "w") as new:
        for name, data in entries.items():
            new.writestr(name, data)
    return target


def record_stage2_reads(scorer: Any, monkeypatch: Any) -> list[list[str]]:
    """The texts of each call the scorer's stage 2 answers from now on, in order (its answers unchanged)."""
    reads: list[list[str]] = []
    many = scorer.stage2.probabilities_many

    def recorded(texts: list[str], batch_size: int = 1) -> np.ndarray:
        reads.append(list(texts))
        return many(texts, batch_size)  # type: ignore[no-any-return]

    monkeypatch.setattr(scorer.stage2, "probabilities_many", recorded)
    return reads
