"""A routed comment read in passages: abuse after a paragraph of harmless text is not cut off by stage 2's window,
and harmless passages cost no reading (no torch, no ../shared)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from model import artifact
from model.cascade import CascadeSettings
from model.categories import CATEGORIES
from model.scorer import Scorer, load_scorer
from model.stage2 import runtime
from moderation.cli.cascade import attach_stage2_command
from tests import stage2_fixtures as fx
from tests.test_stage2_spans import HATE, write_folder

# Harmless words the tiny stage 2 reads as [UNK] (evidence 0): 40 of them fill more than one 30-token window.
FILLER = "The delegations met again in Tehran and talked about the border for many hours. " * 3
WINDOW = fx.MAX_LENGTH - 2


def cascade_reading(tiny_model_path: Path, folder: Path, out: Path, passages: int) -> Scorer:
    """A cascade of the tiny stage 1 and `folder` reading `passages` passages, reviewing stage 2's categories
    at 0.5."""
    stage1 = load_scorer(tiny_model_path).thresholds
    thresholds = {c: {"review": 0.5, "reject": 0.99} if c in fx.DECIDED else stage1[c] for c in CATEGORIES}
    artifact.attach_stage2(tiny_model_path, folder, out, replace(fx.LOOSE, passages=passages), thresholds=thresholds)
    return load_scorer(out)


@pytest.fixture(scope="module")
def scorers(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Scorer]:
    folder = tmp_path_factory.mktemp("passages")
    export = write_folder(folder / "export")
    return {n: cascade_reading(tiny_model_path, export, folder / f"passages-{n}.model", n) for n in (1, 4)}


def test_abuse_after_a_harmless_paragraph_is_read_in_its_passage(scorers: dict[int, Scorer]) -> None:
    text = FILLER + HATE
    first_window_only, in_passages = scorers[1].score(text), scorers[4].score(text)
    assert first_window_only.stage == in_passages.stage == 2  # "Armenians" routes both
    assert first_window_only.scores["identity_attack"] < 0.5 and first_window_only.spans == []
    assert in_passages.scores["identity_attack"] >= 0.5
    # Explained in the passage it was read in, with offsets into the comment as submitted.
    spans = [(s.start, s.text, s.stage) for s in in_passages.spans if s.category == "identity_attack"]
    assert spans == [(text.index("liars"), "liars", 2), (text.index("deserve"), "deserve", 2)]


def test_one_comment_and_a_batch_get_the_same_scores_in_passages(scorers: dict[int, Scorer]) -> None:
    scorer = scorers[4]
    texts = [FILLER + HATE, HATE, FILLER, FILLER * 3 + "you idiot", "thanks for the careful analysis"]
    batch = scorer.final_probabilities(texts)
    for text, row in zip(texts, batch, strict=True):
        assert scorer.score(text, explain=False).scores == dict(zip(CATEGORIES, map(float, row), strict=True))


def test_a_comment_within_one_window_scores_the_same_in_passages(scorers: dict[int, Scorer]) -> None:
    texts = [HATE, "you idiot, I will kill you", "thanks for the careful analysis of the border talks", ""]
    assert np.array_equal(scorers[1].final_probabilities(texts), scorers[4].final_probabilities(texts))


def test_passages_change_neither_stage1_scores_nor_which_comments_are_routed(scorers: dict[int, Scorer]) -> None:
    texts = [FILLER + HATE, HATE + " " + FILLER, FILLER * 3 + "You idiot.", FILLER * 2, FILLER + "I will kill you"]
    first_window_only, in_passages = scorers[1].read_both_stages(texts), scorers[4].read_both_stages(texts)
    assert np.array_equal(first_window_only.stage1, in_passages.stage1)
    assert np.array_equal(first_window_only.routed, in_passages.routed) and in_passages.routed.any()
    assert not np.array_equal(first_window_only.stage2, in_passages.stage2)  # what stage 2 read did change


def test_passages_are_cut_before_words_and_hold_at_most_one_window(stage2_folder: Path) -> None:
    model = runtime.load_stage2({name: (stage2_folder / name).read_bytes() for name in runtime.FOLDER_FILES})
    reader = runtime.Tokenizer.from_str(fx.tokenizer_json())
    text = "you " + "the talks ended, and killing is wrong; " * 12
    ranges = model.passages(text, 16)
    assert len(ranges) > 2
    pieces = [reader.encode(text[a:b], add_special_tokens=False).tokens for a, b in ranges]
    assert all(len(tokens) <= WINDOW for tokens in pieces)
    assert [t for tokens in pieces for t in tokens] == reader.encode(text, add_special_tokens=False).tokens
    assert all(not tokens[0].startswith("##") for tokens in pieces)  # "kill" "##ing" stay together
    assert [a for a, _ in ranges] == sorted(a for a, _ in ranges) and ranges[0][0] == 0
    assert model.passages(text, 2) == ranges[:2]
    assert model.passages(text, 1) == [(0, len(text))]
    assert model.passages("you idiot", 16) == [(0, len("you idiot"))]
    assert model.passages("x" * WINDOW, 16) == [(0, WINDOW)]  # at most one token a character: fits unread


@pytest.mark.parametrize("passages", [0, 17, True, "4", 2.0])
def test_a_manifest_with_passages_out_of_range_is_refused(passages: object) -> None:
    document = {**fx.LOOSE.as_dict(), "passages": passages}
    with pytest.raises(ValueError, match="passages must be a whole number"):
        CascadeSettings.from_dict(document)


def test_passages_are_recorded_in_the_manifest_only_when_read(tiny_model_path: Path, tmp_path: Path) -> None:
    assert "passages" not in fx.LOOSE.as_dict() and CascadeSettings.from_dict(fx.LOOSE.as_dict()).passages == 1
    folder = fx.write_stage2_folder(tmp_path / "export")
    out = tmp_path / "four.model"
    result = CliRunner().invoke(
        attach_stage2_command, [str(tiny_model_path), str(folder), "--out", str(out), "--passages", "4"]
    )
    assert result.exit_code == 0, result.output
    assert artifact.read_manifest(out)["stage2"]["passages"] == 4
    assert artifact.load(out).cascade_settings.passages == 4  # type: ignore[union-attr]
    one = tmp_path / "one.model"
    assert (
        CliRunner().invoke(attach_stage2_command, [str(tiny_model_path), str(folder), "--out", str(one)]).exit_code == 0
    )
    assert "passages" not in artifact.read_manifest(one)["stage2"]
    assert artifact.read_manifest(one)["version"] != artifact.read_manifest(out)["version"]  # they decide apart
    refused = CliRunner().invoke(
        attach_stage2_command, [str(tiny_model_path), str(folder), "--out", str(out), "--passages", "0"]
    )
    assert refused.exit_code == 2 and "--passages" in refused.output


def test_stage2_reads_the_first_passage_and_each_later_one_stage1_cannot_clear(
    scorers: dict[int, Scorer], monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = scorers[4]
    assert scorer.stage2 is not None
    reads = fx.record_stage2_reads(scorer, monkeypatch)
    hate_last, hate_first = FILLER + HATE, HATE + " " + FILLER
    assert scorer.cascade is not None
    count = scorer.cascade.passages
    assert len(scorer.stage2.passages(scorer._reading.text(hate_last), count)) == 2
    assert len(scorer.stage2.passages(hate_first, count)) == 2
    # A later passage naming a group (a routing word) is read after the first.
    assert scorer.score(hate_last, explain=False).scores["identity_attack"] >= 0.5
    assert len(reads[-1]) == 2 and reads[-1][1].endswith("happened to them.")
    # A later passage of harmless words that stage 1 clears is not read: only the first, which routed the comment.
    assert scorer.score(hate_first, explain=False).stage == 2
    assert len(reads[-1]) == 1 and reads[-1][0].startswith("all armenians")
    assert scorer.final_probabilities([hate_first, hate_last]).shape == (2, len(CATEGORIES))
    assert [len(r) for r in reads[-1:]] == [3]  # one batch: 1 + 2 passages
