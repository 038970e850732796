"""A trained stage 2 as a teacher: its graph's logits on the training texts, which a student run learns to match.

The teacher is a model file carrying stage 2 (its `stage2/model.onnx` member) or an exported stage-2 folder. It must
read the same tokens as the student (the same encoder's tokenizer), which `train` checks through its max_length.
Nothing here needs torch.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from model.stage2.measure import onnx_logits, session

_MODEL_FILE_PREFIX = "stage2/"
# Texts read between two progress reports.
_CHUNK = 8192


@dataclass(frozen=True)
class Teacher:
    """A teacher's graph bytes, its config and where it came from."""

    source: Path
    graph: bytes
    config: dict

    @property
    def graph_sha256(self) -> str:
        """The SHA-256 of the teacher's graph, which names its logits' cache."""
        return hashlib.sha256(self.graph).hexdigest()


def read_teacher(source: Path) -> Teacher:
    """The stage 2 of a model file, or an exported folder; ValueError when `source` holds neither."""
    source = Path(source)
    if source.is_dir():
        graph, config = source / "model.onnx", source / "config.json"
        if not graph.is_file() or not config.is_file():
            raise ValueError(f"{source}: a stage-2 folder holds model.onnx and config.json")
        return Teacher(source, graph.read_bytes(), json.loads(config.read_text(encoding="utf-8")))
    try:
        with zipfile.ZipFile(source) as archive:
            graph_bytes = archive.read(_MODEL_FILE_PREFIX + "model.onnx")
            config_bytes = archive.read(_MODEL_FILE_PREFIX + "config.json")
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"{source}: not a model file carrying stage 2 ({error})") from error
    return Teacher(source, graph_bytes, json.loads(config_bytes))


def teacher_logits(
    teacher: Teacher,
    tokenizer: Tokenizer,
    texts: Sequence[str],
    threads: int,
    report: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The teacher's raw logits (n, 7) for `texts`, read in batches by length; `report` hears how many are read."""
    sess = session(teacher.graph, threads)
    chunks = []
    for start in range(0, len(texts), _CHUNK):
        chunks.append(onnx_logits(sess, tokenizer, texts[start : start + _CHUNK]))
        if report is not None:
            report(min(start + _CHUNK, len(texts)))
    return np.concatenate(chunks) if chunks else np.zeros((0, 7), dtype=np.float32)


def cached_teacher_logits(
    teacher: Teacher,
    tokenizer: Tokenizer,
    texts: Sequence[str],
    threads: int,
    folder: Path,
    report: Callable[[int], None] | None = None,
) -> np.ndarray:
    """teacher_logits, kept in `folder` under the teacher's graph hash and the texts' hash, so a resumed run reads
    them again instead of recomputing."""
    texts_sha = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()
    path = folder / f"teacher-{teacher.graph_sha256[:16]}-{texts_sha[:16]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    logits = teacher_logits(teacher, tokenizer, texts, threads, report)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, logits, allow_pickle=False)
    tmp.replace(path)
    return logits
