"""A trained stage 2 as a teacher (model/stage2/teacher.py): read from a folder or a model file, its logits cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from model import artifact
from model.categories import CATEGORIES
from model.stage2 import teacher as tc
from tests import stage2_fixtures as fx

TEXTS = ["you idiot", "the minister made a fair point", "i will kill you", "subscribe"]


def test_a_teacher_is_read_alike_from_its_folder_and_from_a_model_file(
    stage2_folder: Path, cascade_model: Path
) -> None:
    from_folder, from_file = tc.read_teacher(stage2_folder), tc.read_teacher(cascade_model)
    assert from_folder.graph == from_file.graph == (stage2_folder / "model.onnx").read_bytes()
    assert from_folder.max_length == from_file.max_length == fx.MAX_LENGTH
    tokenizer = Tokenizer.from_str(fx.tokenizer_json())
    logits = tc.teacher_logits(from_file, tokenizer, TEXTS, threads=1)
    assert logits.shape == (len(TEXTS), len(CATEGORIES))
    insult, threat = CATEGORIES.index("insult"), CATEGORIES.index("threat")
    assert logits[0, insult] > logits[1, insult] and logits[2, threat] > logits[1, threat]


def test_the_logits_are_cached_under_the_graph_and_the_texts(stage2_folder: Path, tmp_path: Path) -> None:
    teacher = tc.read_teacher(stage2_folder)
    tokenizer = Tokenizer.from_str(fx.tokenizer_json())
    first = tc.cached_teacher_logits(teacher, tokenizer, TEXTS, 1, tmp_path)
    (cache,) = tmp_path.glob("teacher-*.npy")
    assert cache.name.startswith(f"teacher-{teacher.graph_sha256[:16]}-")
    heard: list[int] = []
    assert np.array_equal(tc.teacher_logits(teacher, tokenizer, TEXTS * 3000, 1, heard.append)[-4:], first)
    assert heard == [8192, len(TEXTS) * 3000]
    np.save(cache, first + 1.0)  # what is cached is what is read back: no second reading
    assert np.array_equal(tc.cached_teacher_logits(teacher, tokenizer, TEXTS, 1, tmp_path), first + 1.0)
    other = tc.cached_teacher_logits(teacher, tokenizer, TEXTS[:2], 1, tmp_path)
    assert np.array_equal(other, first[:2]) and len(list(tmp_path.glob("teacher-*.npy"))) == 2


def test_a_source_without_stage2_is_refused(tiny_model_path: Path, tmp_path: Path) -> None:
    with pytest.raises(artifact.ModelLoadError, match=r"model file .* is damaged: .*stage2/model.onnx"):
        tc.read_teacher(tiny_model_path)
    with pytest.raises(artifact.ModelLoadError, match=r"stage-2 folder .* is incomplete"):
        tc.read_teacher(tmp_path)
    assert artifact.read_manifest(tiny_model_path).get("stage2") is None
