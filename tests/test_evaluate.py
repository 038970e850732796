"""Evaluation rows (the test split of trained corpora plus every row of unseen ones, once) and flag rates."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from model.corpora import Example
from model.evaluate import flag_rates_by_group, holdout_rows
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


def test_group_false_positive_rates_weigh_each_mention_by_its_own_corpus_rate() -> None:
    """A group named only in a corpus whose clean rows are often flagged is expected to be flagged as often."""
    texts = ["my jewish neighbour", "a fine day", "a fine day", "my jewish neighbour", "a fine day", "a fine day"]
    corpora = ["gab", "gab", "gab", "wiki", "wiki", "wiki"]
    flagged = [True, True, False, True, False, False]
    rates = flag_rates_by_group(texts, np.zeros(6), flagged, corpora)
    jewish = rates["groups"]["jewish"]
    assert (jewish["rows"], jewish["flagged"], jewish["false_positive_rate"]) == (2, 2, 1.0)
    # gab's clean rows are flagged 2 of 3, wiki's 1 of 3: two mentions expect 2/3 + 1/3 = 1 flag, and got 2.
    assert jewish["expected_flagged"] == pytest.approx(1.0)
    assert rates["overall"]["expected_flagged"] == pytest.approx(rates["overall"]["flagged"])
    assert "expected_flagged" not in flag_rates_by_group(texts, np.zeros(6), flagged)["groups"]["jewish"]
    with pytest.raises(ValueError, match="one corpus"):
        flag_rates_by_group(texts, np.zeros(6), flagged, corpora[:5])
