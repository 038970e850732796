"""Run the functional suite through a scorer and a decision function: accuracy overall, per behaviour and group."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model.suite.cases import BEHAVIOURS, CLEAR, FLAG, GROUPS, Case

ScoreTexts = Callable[[list[str]], Sequence[Mapping[str, float]]]
DecideAction = Callable[[str, Mapping[str, float]], str]  # (text, scores) -> approve / review / reject
FLAGGING_ACTIONS = frozenset({"review", "reject"})
NO_GROUP = "(no group)"
BATCH = 256


@dataclass(frozen=True)
class CaseOutcome:
    """What the scorer and the decision made of one case."""

    case: Case
    action: str
    scores: Mapping[str, float]

    @property
    def flagged(self) -> bool:
        """Whether the decision sent the comment to review or rejected it."""
        return self.action in FLAGGING_ACTIONS

    @property
    def correct(self) -> bool:
        """Whether the decision is the outcome the case expects."""
        return self.flagged == (self.case.expected == FLAG)

    @property
    def wrongness(self) -> float:
        """How confidently wrong a failure is: the top score of a false flag, one minus it for a missed flag."""
        top = max(self.scores.values(), default=0.0)
        return top if self.case.expected == CLEAR else 1.0 - top


def scores_function(scorer: Any) -> ScoreTexts:
    """A batch scoring function for a scorer: its `score_many` when it has one, else `score(text).scores`."""
    if hasattr(scorer, "score_many"):
        return scorer.score_many  # type: ignore[no-any-return]
    return lambda texts: [scorer.score(text).scores for text in texts]


def run_suite(cases: Sequence[Case], score_texts: ScoreTexts, decide_action: DecideAction) -> list[CaseOutcome]:
    """Score every case in batches and decide each, in the cases' order."""
    outcomes: list[CaseOutcome] = []
    for start in range(0, len(cases), BATCH):
        batch = cases[start : start + BATCH]
        scores = score_texts([case.text for case in batch])
        for case, case_scores in zip(batch, scores, strict=True):
            outcomes.append(CaseOutcome(case, decide_action(case.text, case_scores), case_scores))
    return outcomes


def _tally(outcomes: Iterable[CaseOutcome]) -> dict[str, Any]:
    """Cases, correct ones and accuracy (None when there are no cases)."""
    listed = list(outcomes)
    correct = sum(outcome.correct for outcome in listed)
    accuracy = round(correct / len(listed), 4) if listed else None
    return {"n": len(listed), "correct": correct, "accuracy": accuracy}


def _failure(outcome: CaseOutcome) -> dict[str, Any]:
    """One failing case as a JSON-ready record, with its highest-scoring category."""
    top = max(outcome.scores, key=lambda category: outcome.scores[category]) if outcome.scores else None
    return {
        "text": outcome.case.text,
        "behaviour": outcome.case.behaviour,
        "group": outcome.case.group,
        "expected": outcome.case.expected,
        "action": outcome.action,
        "top_category": top,
        "top_score": None if top is None else round(float(outcome.scores[top]), 4),
    }


def suite_report(outcomes: Sequence[CaseOutcome], worst: int = 20) -> dict[str, Any]:
    """Accuracy overall, per behaviour (with its expected outcome) and per group, and the worst failures."""
    behaviours = {
        name: {"expected": meaning.expected, **_tally(o for o in outcomes if o.case.behaviour == name)}
        for name, meaning in BEHAVIOURS.items()
    }
    groups = {group: _tally(o for o in outcomes if o.case.group == group) for group in GROUPS}
    groups[NO_GROUP] = _tally(o for o in outcomes if o.case.group is None)
    failures = sorted((o for o in outcomes if not o.correct), key=lambda o: -o.wrongness)
    return {
        "overall": _tally(outcomes),
        "behaviours": behaviours,
        "groups": groups,
        "failures": [_failure(outcome) for outcome in failures[:worst]],
    }


def evaluate_suite(
    cases: Sequence[Case], score_texts: ScoreTexts, decide_action: DecideAction, worst: int = 20
) -> dict[str, Any]:
    """The suite report for a scorer's scores under a decision function (flagged = review or reject)."""
    return suite_report(run_suite(cases, score_texts, decide_action), worst)


def overlapping_texts(suite_texts: Iterable[str], training_texts: Iterable[str]) -> list[str]:
    """Suite texts that also occur in training texts, compared exactly after lower-casing (in suite order)."""
    training = {text.lower() for text in training_texts}
    return [text for text in suite_texts if text.lower() in training]
