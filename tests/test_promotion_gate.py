"""The promotion gate never passes on nothing: the per-category minimums at their boundaries, the outcome of a
comparison (passed, worse, not measured), comparisons stored before the minimums, and the registry's refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model import artifact
from model.card import render_model_card
from model.compare import (
    MIN_NEGATIVES,
    MIN_POSITIVES,
    MIN_ROWS,
    NOT_MEASURABLE,
    NOT_MEASURED,
    NOT_WORSE,
    PASSED,
    WORSE,
    compare_models,
    judge,
)
from model.corpora import Example
from model.train import prepare
from moderation.errors import Conflict, Invalid
from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.training import registry
from moderation.training import retrain as rt
from tests.retrain_fixtures import add_verdicts, muppet_verdicts, retrain_settings
from tests.test_registry import make_candidate

NEEDED = "at least 30 rows with 5 positives and 5 negatives are needed"


def category(rows: int, positives: int, delta: float | None = 0.0) -> dict[str, Any]:
    """One category's side-by-side entry as `compare_models` stores it (AUCs 0.9 active, 0.9 + delta candidate)."""
    if rows == 0:
        return {"n": 0, "positives": 0, "candidate": None, "active": None, "delta_roc_auc": None}
    candidate = None if delta is None else round(0.9 + delta, 4)
    return {
        "n": rows,
        "positives": positives,
        "candidate": {"roc_auc": candidate, "average_precision": 0.8},
        "active": {"roc_auc": 0.9, "average_precision": 0.8},
        "delta_roc_auc": delta,
    }


def comparison(active_version: str = "v-active", **categories: dict[str, Any]) -> dict[str, Any]:
    return {"active_version": active_version, "rows": 100, "tolerance": 0.01, "categories": categories}


# An old row, as the issue's retrain from 5 verdicts stored it: no rows, nothing measurable, and `passed: true`.
ISSUE_ROW = {
    "active_version": "v-active",
    "rows": 0,
    "metric": "roc_auc",
    "tolerance": 0.01,
    "min_rows": 10,
    "categories": {
        name: {**category(0, 0), "verdict": "not measurable"}
        for name in ("identity_attack", "insult", "obscene", "severe_toxicity", "spam", "threat", "toxicity")
    },
    "by_source": {},
    "worse": [],
    "passed": True,
}


def test_the_minimums_are_thirty_rows_five_positives_and_five_negatives() -> None:
    assert (MIN_ROWS, MIN_POSITIVES, MIN_NEGATIVES) == (30, 5, 5)


@pytest.mark.parametrize(
    ("rows", "positives", "measured"),
    [
        (30, 5, True),  # at every minimum
        (29, 5, False),  # one row short
        (30, 4, False),  # one positive short
        (30, 25, True),  # exactly five negatives
        (30, 26, False),  # one negative short
        (30, 30, False),  # one class only: no ROC AUC
        (30, 0, False),
    ],
)
def test_a_category_is_measured_only_at_the_minimums(rows: int, positives: int, measured: bool) -> None:
    judged = judge(comparison(insult=category(rows, positives)))
    entry = judged["categories"]["insult"]
    assert entry["negatives"] == rows - positives
    if measured:
        assert entry["verdict"] == NOT_WORSE and entry["reason"] is None
        assert judged["measured"] == ["insult"] and judged["passed"] and judged["outcome"] == PASSED
    else:
        assert entry["verdict"] == NOT_MEASURABLE
        assert entry["reason"] == (
            f"{rows} rows, {positives} positive{'s' * (positives != 1)}, {rows - positives} negatives; {NEEDED}"
        )
        assert judged["measured"] == [] and not judged["passed"] and judged["outcome"] == NOT_MEASURED


def test_nothing_measured_never_passes_and_says_why() -> None:
    judged = judge(comparison(toxicity=category(12, 2), insult=category(3, 1, delta=0.3), spam=category(0, 0)))
    assert not judged["passed"] and judged["outcome"] == NOT_MEASURED and judged["worse"] == []
    assert judged["categories"]["toxicity"]["reason"] == f"12 rows, 2 positives, 10 negatives; {NEEDED}"
    assert judged["categories"]["spam"]["reason"] == f"no hold-out rows label it; {NEEDED}"
    assert judged["summary"] == (
        "not measured on any category: toxicity 12 rows with 2 positives and 10 negatives; insult 3 rows with "
        "1 positive and 2 negatives; no hold-out rows for spam; each category needs at least 30 hold-out rows "
        "with 5 positives and 5 negatives"
    )
    empty = judge(comparison())
    assert not empty["passed"] and empty["outcome"] == NOT_MEASURED


def test_a_partly_measured_comparison_passes_only_if_no_measured_category_is_worse() -> None:
    partly = judge(comparison(insult=category(40, 20, delta=0.05), spam=category(8, 2, delta=-0.3)))
    assert partly["passed"] and partly["outcome"] == PASSED and partly["measured"] == ["insult"]
    assert partly["categories"]["spam"]["verdict"] == NOT_MEASURABLE  # far worse, but on 8 rows: not judged
    assert partly["summary"] == "not worse on any measured category (insult); too few hold-out rows to measure spam"
    worse = judge(comparison(insult=category(40, 20, delta=0.05), toxicity=category(40, 20, delta=-0.02)))
    assert not worse["passed"] and worse["outcome"] == WORSE and worse["worse"] == ["toxicity"]
    assert worse["summary"] == "worse on toxicity"
    # Within the tolerance is not worse; just past it is.
    assert judge(comparison(insult=category(30, 5, delta=-0.01)))["passed"]
    assert judge(comparison(insult=category(30, 5, delta=-0.0101)))["outcome"] == WORSE


def test_comparisons_stored_before_the_minimums_are_judged_anew() -> None:
    judged = judge(ISSUE_ROW)
    assert not judged["passed"] and judged["outcome"] == NOT_MEASURED and judged["min_rows"] == MIN_ROWS
    assert all(entry["reason"].startswith("no hold-out rows label it") for entry in judged["categories"].values())
    # Judged "better" on 13 rows under the old minimum of 10: too few now.
    old_better = {**category(13, 9, delta=0.33), "verdict": "better"}
    assert judge({**ISSUE_ROW, "categories": {"insult": old_better}})["outcome"] == NOT_MEASURED
    assert judge(judge(ISSUE_ROW)) == judged  # judging is idempotent


def insult_rows(insults: int, fine: int) -> list[Any]:
    examples = [Example(f"the mayor is a muppet {i}", {"insult": 1}, "moderators") for i in range(insults)]
    examples += [Example(f"the mayor spoke about parking {i}", {"insult": 0}, "moderators") for i in range(fine)]
    return prepare(examples)


def test_compare_models_applies_the_minimums_to_real_rows(tiny_model_path: Path) -> None:
    model = artifact.load(tiny_model_path).model
    at_minimum = compare_models(model, model, insult_rows(5, 25), tolerance=0.01)
    assert at_minimum["passed"] and at_minimum["measured"] == ["insult"]
    assert at_minimum["categories"]["insult"]["verdict"] == NOT_WORSE
    one_short = compare_models(model, model, insult_rows(4, 26), tolerance=0.01)
    assert not one_short["passed"] and one_short["outcome"] == NOT_MEASURED
    assert one_short["categories"]["insult"]["reason"] == f"30 rows, 4 positives, 26 negatives; {NEEDED}"
    nothing = compare_models(model, model, [], tolerance=0.01)
    assert nothing["rows"] == 0 and not nothing["passed"] and nothing["outcome"] == NOT_MEASURED


@pytest.fixture
def rsettings(settings: Settings, tiny_model_path: Path) -> Settings:
    return retrain_settings(settings, tiny_model_path)


def test_the_registry_promotes_at_the_minimum_and_refuses_one_row_below(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    at_minimum = make_candidate(rsettings, store, 0.5, comparison(shipped, insult=category(30, 5)))
    one_short = make_candidate(rsettings, store, 0.7, comparison(shipped, insult=category(29, 5)))
    assert registry.get_version(store, one_short)["comparison"]["outcome"] == NOT_MEASURED
    with pytest.raises(Conflict) as refused:
        registry.activate(store, rsettings, one_short, "admin1")
    message = refused.value.message
    assert message.startswith(f"Model version {one_short} was not measured against the active version {shipped}: ")
    assert "insult 29 rows with 5 positives and 24 negatives" in message and "force and a reason" in message
    assert refused.value.fields == {"version": "not measured on any category: needs force and a reason"}
    assert registry.activate(store, rsettings, at_minimum, "admin1")["kind"] == "promote"


def test_an_old_row_that_passed_on_nothing_needs_force_and_a_reason(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    old = make_candidate(rsettings, store, 0.5, {**ISSUE_ROW, "active_version": shipped})
    listed = {entry["version"]: entry for entry in registry.list_versions(store)}
    assert listed[old]["comparison"]["outcome"] == NOT_MEASURED and not listed[old]["comparison"]["passed"]
    with pytest.raises(Conflict, match="was not measured against the active version"):
        registry.activate(store, rsettings, old, "admin1")
    with pytest.raises(Invalid, match="needs a reason"):
        registry.activate(store, rsettings, old, "admin1", force=True)
    record = registry.activate(store, rsettings, old, "admin1", force=True, reason="measured by hand")
    assert record["kind"] == "force" and record["reason"] == "measured by hand"


def test_the_model_card_says_not_measured_for_new_and_old_comparisons(store: Store, rsettings: Settings) -> None:
    registry.ensure_default(store, rsettings)
    add_verdicts(store, rsettings, muppet_verdicts(5))
    result = rt.retrain(store, rsettings, "admin1")
    card = registry.model_card(store, rsettings, result["version"])
    expected = f"**Outcome: not measured**: {result['summary']}. Activating it needs force and a reason."
    assert expected in card and "not worse" not in card
    assert "measured only with at least 30 rows, 5 of them positive and 5 negative" in card
    entry = registry.get_version(store, result["version"])
    manifest = artifact.load(registry.version_path(rsettings, entry)).manifest
    old_card = render_model_card({**manifest, "comparison": {**ISSUE_ROW, "active_version": manifest["version"]}})
    assert "**Outcome: not measured**: not measured on any category: no hold-out rows for toxicity" in old_card
    assert "not worse" not in old_card
