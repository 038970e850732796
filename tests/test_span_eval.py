"""Span F1 against toxic-span annotations, as SemEval-2021 Task 5 scores it."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.span_eval import AnnotatedPost, char_f1, load_dev_posts, load_test_posts, mean_span_f1, span_offsets
from model.types import Span


def test_char_f1_scores_overlap_and_the_empty_cases() -> None:
    assert char_f1({1, 2, 3, 4}, {3, 4, 5, 6}) == pytest.approx(0.5)
    assert char_f1(set(), set()) == 1.0
    assert char_f1({1}, set()) == 0.0 and char_f1(set(), {1}) == 0.0


def test_mean_span_f1_averages_posts_over_the_spans_shown() -> None:
    text = "you idiot, fine"
    posts = [AnnotatedPost(text, frozenset(range(4, 9))), AnnotatedPost("all good", frozenset())]
    idiot = Span("insult", 4, 9, "idiot", 1.0)
    assert span_offsets([idiot, Span("toxicity", 0, 3, "you", 0.2)]) == {0, 1, 2, 4, 5, 6, 7, 8}
    assert mean_span_f1(posts, lambda t: [idiot] if t == text else []) == 1.0
    assert mean_span_f1(posts, lambda t: []) == 0.5  # the annotated post missed, the clean one right
    assert mean_span_f1([], lambda t: []) is None


def test_the_task_file_is_read_from_a_data_root(tmp_path: Path) -> None:
    folder = tmp_path / "civil_comments_toxic_spans"
    folder.mkdir()
    (folder / "tsd_test.csv").write_text('spans,text\n"[4, 5, 6]","you idiot"\n"[]",fine\n', encoding="utf-8")
    assert load_test_posts(tmp_path) == [
        AnnotatedPost("you idiot", frozenset({4, 5, 6})),
        AnnotatedPost("fine", frozenset()),
    ]
    assert load_test_posts(tmp_path / "missing") == []


def test_the_development_posts_are_the_train_and_trial_files_not_the_test_file(tmp_path: Path) -> None:
    folder = tmp_path / "civil_comments_toxic_spans"
    folder.mkdir()
    (folder / "tsd_test.csv").write_text('spans,text\n"[]",tested\n', encoding="utf-8")
    (folder / "tsd_train.csv").write_text('spans,text\n"[0, 1]",trained\n', encoding="utf-8")
    assert load_dev_posts(tmp_path) == [AnnotatedPost("trained", frozenset({0, 1}))]  # no trial file: skipped
    (folder / "tsd_trial.csv").write_text('spans,text\n"[]",tried\n', encoding="utf-8")
    assert [post.text for post in load_dev_posts(tmp_path)] == ["trained", "tried"]
