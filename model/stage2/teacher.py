"""A trained stage 2 as a teacher: its graph's logits on the training texts, which a student run learns to match.

The teacher is a model file carrying stage 2 or an exported stage-2 folder (artifact.read_stage2). It must read the
same tokens as the student (the same encoder's tokenizer), which `train` checks through its max_length. Nothing
here needs torch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from model.artifact import read_stage2
from model.categories import CATEGORIES
from model.stage2.measure import onnx_logits, session

# Texts read between two progress reports.
_CHUNK = 8192


@dataclass(frozen=True)
class Teacher:
    """A teacher's graph bytes, how many tokens it reads and where it came from."""

    source: Path
    graph: bytes
    max_length: int

    @property
    def graph_sha256(self) -> str:
        """The SHA-256 of the teacher's graph, which names its logits' cache."""
        return hashlib.sha256(self.graph).hexdigest()


def read_teacher(source: Path) -> Teacher:
    """The stage 2 of a model file, or an exported folder; ModelLoadError when `source` holds neither."""
    exported = read_stage2(Path(source))
    return Teacher(Path(source), exported.files["model.onnx"], exported.model.config.max_length)


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
    return np.concatenate(chunks) if chunks else np.zeros((0, len(CATEGORIES)), dtype=np.float32)


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
