"""Evaluation rows: the hold-out is the test split of trained corpora plus every row of unseen corpora, once."""

from __future__ import annotations

from collections import Counter

from model.corpora import Example
from model.evaluate import holdout_rows
from model.identity_balance import INFO as BALANCE_INFO
from model.train import TrainParams, prepare, split_examples


def examples() -> list[Example]:
    rows = [Example(f"trained comment number {i}", {"toxicity": i % 2}, "trained_corpus") for i in range(200)]
    rows += [Example(f"unseen comment number {i}", {"toxicity": int(i % 3 == 0)}, "unseen_corpus") for i in range(100)]
    rows += [Example(f"I am balance sentence {i}", {"toxicity": 0}, BALANCE_INFO.name) for i in range(20)]
    return rows


def test_holdout_counts_each_row_once_and_only_test_rows_of_trained_corpora() -> None:
    params = TrainParams()
    rows = holdout_rows(examples(), params, {"trained_corpus", BALANCE_INFO.name})
    texts = [item.example.text for item in rows]
    assert len(texts) == len(set(texts))
    by_corpus = Counter(item.example.corpus for item in rows)
    assert by_corpus["unseen_corpus"] == 100
    assert BALANCE_INFO.name not in by_corpus
    test_split = split_examples(prepare([e for e in examples() if e.corpus == "trained_corpus"]), params).test
    assert 0 < by_corpus["trained_corpus"] == len(test_split) < 200
