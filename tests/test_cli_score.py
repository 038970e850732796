"""The batch scoring CLI contract: JSON Lines in, JSON Lines out, in order, bad lines reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.model_fixtures import train_tiny_model

ROOT = Path(__file__).resolve().parent.parent
CATEGORY_NAMES = {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "spam"}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("tiny"))


def run_score(model: Path, stdin: bytes, *args: str, module: bool = False) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "moderation"] if module else [str(Path(sys.executable).parent / "moderation")]
    env = {**os.environ, "MODERATION_MODEL": str(model)}
    return subprocess.run([*command, "score", *args], input=stdin, capture_output=True, env=env, cwd=ROOT, timeout=120)


def test_each_line_gains_scores_action_and_version_in_order(tiny_model: Path) -> None:
    lines = [{"text": f"comment number {i} about the talks", "id": i, "meta": {"keep": [i]}} for i in range(600)]
    lines[5]["text"] = "you idiot, you pathetic loser"
    stdin = "".join(json.dumps(line) + "\n" for line in lines).encode()
    result = run_score(tiny_model, stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [row["id"] for row in out] == list(range(600))
    assert all(row["meta"] == {"keep": [row["id"]]} for row in out)
    assert all(set(row["scores"]) == CATEGORY_NAMES for row in out)
    assert all(row["action"] in {"approve", "review", "reject"} for row in out)
    assert len({row["model_version"] for row in out}) == 1
    assert out[5]["scores"]["insult"] > out[6]["scores"]["insult"]


def test_bad_lines_are_reported_with_line_numbers_and_do_not_stop_the_run(tiny_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "input.jsonl"
    source.write_bytes(
        b'{"text": "first fine comment"}\n'
        b"{not json\n"
        b'["a list"]\n'
        b'{"no_text": 1}\n'
        b'{"text": "\xff\xfe broken utf8"}\n'
        b'{"text": 42}\n'
        b"\n"
        b'{"text": "lone \\ud800 surrogate"}\n'
        b'{"text": "not a number", "n": NaN}\n'
        b'{"text": "too large", "n": 1e400}\n'
        b'{"text": "last fine comment", "n": 11}\n'
    )
    result = run_score(tiny_model, b"", str(source))
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [row["text"] for row in out] == ["first fine comment", "last fine comment"]
    assert out[1]["n"] == 11
    errors = result.stderr.decode()
    for number in (2, 3, 4, 5, 6, 8, 9, 10):
        assert f"line {number}:" in errors
    assert "surrogate" in errors and "NaN" in errors and "too large" in errors
    assert "line 1:" not in errors and "line 7:" not in errors and "line 11:" not in errors
    assert "10 line(s) could not be scored" not in errors and "8 line(s) could not be scored" in errors
    assert result.returncode == 1


def test_python_dash_m_reads_stdin(tiny_model: Path) -> None:
    result = run_score(tiny_model, b'{"text": "hello there", "site": "x"}\n', module=True)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["site"] == "x" and set(row["scores"]) == CATEGORY_NAMES
