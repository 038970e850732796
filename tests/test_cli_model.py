"""`moderation train` and `moderation evaluate` on our fixture corpora: reports, recorded evaluation, clean errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from model import artifact
from moderation.cli.classifier import evaluate_command, train_command

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-model") / "fixture.model"
    result = CliRunner().invoke(train_command, ["--shippable-only", "--data", str(FIXTURES), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert re.search(r"wrote \S+ version \S+ in \d+ s", result.output)
    return out


def test_evaluate_prints_hold_out_and_cross_corpus_with_the_peer_and_records_them(trained: Path) -> None:
    card = trained.with_name("CARD.md")
    args = [str(trained), "--data", str(FIXTURES), "--record", "--card", str(card)]
    result = CliRunner().invoke(evaluate_command, args)
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "hold-out (ours): category" in output and "ROC-AUC  AvgPrec  review@thr (P / R)" in output
    assert "cross-corpus: trained without jigsaw_toxic_2018, tested on it (ours)" in output
    assert "ours AUC  peer AUC   ours AP   peer AP" in output
    # Trained without Jigsaw, nothing else labels severe toxicity: it is reported untrained, not as AUC 0.5.
    without_jigsaw = output.split("trained without jigsaw_toxic_2018, per corpus:")[1].split("\n\n")[0]
    assert "severe_toxicity" in without_jigsaw and "untrained" in without_jigsaw
    recorded = artifact.load(trained).manifest["evaluation"]
    assert set(recorded) >= {"holdout", "cross_corpus", "fairness", "peer"}
    text = card.read_text()
    assert "| impermium_insults |" in text and "(evaluation only)" in text
    assert "Detecting Insults in Social Commentary" in text


def test_the_hold_out_never_counts_a_row_twice(trained: Path) -> None:
    recorded = artifact.load(trained).manifest["evaluation"]["holdout"]["ours"]["by_corpus"]
    # Impermium is evaluation-only: every one of its fixture rows is in the hold-out exactly once.
    impermium_rows = sum(1 for path in (FIXTURES / "impermium_insults").glob("*.csv") for _ in path.open()) - 2
    assert recorded["impermium_insults"]["toxicity"]["n"] == impermium_rows


def test_unusable_data_is_a_one_line_error_not_a_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(train_command, ["--data", str(empty), "--out", str(tmp_path / "x.model")])
    assert result.exit_code == 1
    assert "no labelled corpora found" in result.output and "Traceback" not in result.output
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"not a model")
    result = CliRunner().invoke(evaluate_command, [str(broken), "--data", str(FIXTURES)])
    assert result.exit_code == 1 and "not a readable model" in result.output
