"""The project's functional suite: its size and coverage, its determinism, its evaluation arithmetic, the CLI table."""

from __future__ import annotations

import ast
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.categories import CATEGORIES
from model.identity_balance import identity_balance_corpus
from model.suite import cases as suite_cases
from model.suite.cases import BEHAVIOURS, CLEAR, FLAG, GROUPS, OUTCOMES, Case, functional_suite
from model.suite.evaluate import NO_GROUP, evaluate_suite, overlapping_texts, scores_function
from moderation.cli import _register_commands, cli
from moderation.cli.classifier import evaluate_command
from moderation.cli.suite import default_policy_decision
from tests.conftest import REPO, WordListScorer

MIN_CASES = 1500
MIN_PER_BEHAVIOUR = 30  # every behaviour has at least this many cases
MIN_PER_GROUP = 80  # every listed group is the target of at least this many cases
MIN_FRAMES = 10  # every behaviour is written in at least this many distinct frames (or sentences)
CLEAR_BEHAVIOURS = {"counter_quote", "counter_reference", "negated_hate", "identity_positive", "identity_neutral",
                    "profanity_untargeted", "abuse_object", "slur_reclaimed", "slur_homonym"}  # fmt: skip
SITE_GROUPS = {"armenians", "azerbaijanis", "turks", "russians", "iranians", "georgians", "kurds", "jews", "muslims",
               "christians", "women", "gay people", "trans people", "immigrants", "black people",
               "disabled people"}  # fmt: skip


@pytest.fixture(scope="module")
def suite() -> list[Case]:
    return functional_suite()


def test_the_suite_has_at_least_1500_cases(suite: list[Case]) -> None:
    assert len(suite) >= MIN_CASES


def test_every_behaviour_and_every_site_group_is_covered_with_a_minimum_count(suite: list[Case]) -> None:
    behaviours = Counter(case.behaviour for case in suite)
    groups = Counter(case.group for case in suite)
    assert set(GROUPS) == SITE_GROUPS
    assert {b: n for b, n in behaviours.items() if n < MIN_PER_BEHAVIOUR} == {}
    assert set(behaviours) == set(BEHAVIOURS)
    assert {g: groups[g] for g in SITE_GROUPS if groups[g] < MIN_PER_GROUP} == {}


def test_every_behaviour_is_written_in_at_least_ten_frames() -> None:
    frames: dict[str, int] = {name: len(table) for name, table in suite_cases.GROUP_FRAMES.items()}
    frames["slur"] = len(suite_cases.SLUR_FRAMES)
    frames["slur_reclaimed"] = sum(len(table) for table in suite_cases.RECLAIMED_FRAMES.values())
    frames["slur_homonym"] = sum(len(sentences) for sentences in suite_cases.slurs.HOMONYMS.values())
    for name, table in [
        ("threat_public_figure", suite_cases.THREAT_FIGURE_FRAMES),
        ("profanity_targeted", suite_cases.PROFANITY_TARGETED_FRAMES),
        ("profanity_untargeted", suite_cases.PROFANITY_UNTARGETED_FRAMES),
        ("abuse_object", suite_cases.ABUSE_OBJECT_FRAMES),
        ("abuse_individual", suite_cases.ABUSE_INDIVIDUAL_FRAMES),
        ("abuse_group", suite_cases.ABUSE_GROUP_FRAMES),
    ]:
        frames[name] = len(table)
    for evasion in suite_cases.EVASIONS:
        frames[evasion] = len(suite_cases.EVASION_FRAMES)
    assert set(frames) == set(BEHAVIOURS)
    assert {name: n for name, n in frames.items() if n < MIN_FRAMES} == {}
    # An evasion disguises a word of a sentence that names its group: by the slur itself, or the group's adjective.
    assert all("{adj} {key}" in frame for frame in suite_cases.EVASION_FRAMES)


def test_no_two_cases_share_a_text_and_none_has_an_unfilled_slot(suite: list[Case]) -> None:
    lowered = Counter(case.text.lower() for case in suite)
    assert [text for text, n in lowered.items() if n > 1] == []
    assert [case.text for case in suite if re.search(r"[{}]|\s{2}|^\s|\s$", case.text)] == []
    assert all(case.text[0].isupper() or case.text[0] in "@'\"" for case in suite)


def test_each_case_expects_its_behaviours_outcome_and_both_outcomes_occur(suite: list[Case]) -> None:
    for case in suite:
        assert case.expected in OUTCOMES and case.expected == BEHAVIOURS[case.behaviour].expected, case
        assert case.group is None or case.group in GROUPS, case
        assert case.category is None or case.category in CATEGORIES, case
        assert case.category is None or case.expected == FLAG, case
    clear = {name for name, meaning in BEHAVIOURS.items() if meaning.expected == CLEAR}
    assert clear == CLEAR_BEHAVIOURS
    outcomes = {case.behaviour: case.expected for case in suite}
    assert {outcomes[b] for b in ("threat_direct", "threat_normative", "threat_public_figure")} == {FLAG}
    assert {outcomes[b] for b in ("counter_quote", "counter_reference", "negated_hate")} == {CLEAR}
    assert outcomes["negated_praise"] == FLAG and outcomes["slur"] == FLAG
    # Threats name titles, never a person: no case of those behaviours is about a group or a named individual.
    assert {case.group for case in suite if case.behaviour == "threat_public_figure"} == {None}


def test_the_suite_is_deterministic(suite: list[Case]) -> None:
    assert functional_suite() == suite


def test_the_evasions_disguise_the_word_as_they_say() -> None:
    rng = random.Random(7)
    for word in ("parasites", "faggots", "kikes", "vermin"):
        swapped = suite_cases.swap_letters(word, rng)
        assert swapped != word and sorted(swapped) == sorted(word) and swapped[0] == word[0]
        deleted = suite_cases.delete_letter(word, rng)
        assert len(deleted) == len(word) - 1 and deleted[0] == word[0] and deleted[-1] == word[-1]
        leet = suite_cases.leet_spelling(word, rng)
        assert leet != word and len(leet) == len(word) and re.search(r"[0-9$]", leet)
        spaced = suite_cases.space_letters(word, rng)
        assert re.sub(r"[ ._-]", "", spaced) == word and len(spaced) >= 2 * len(word) - 1


def test_evaluation_counts_review_and_reject_as_flagged_exactly(test_scorer: WordListScorer) -> None:
    # WordListScorer: "kill" 0.97 (reject), "idiot" 0.7 (review), "stupid" 0.55 (review), anything else 0.01.
    cases = [
        Case("I will kill the mayor.", "threat_public_figure", None, FLAG, "threat"),  # reject: right
        Case("I will hurt the mayor.", "threat_public_figure", None, FLAG, "threat"),  # approve: wrong
        Case("The mayor is an idiot.", "abuse_individual", None, FLAG, "insult"),  # review: right
        Case("A stupid deal.", "abuse_object", None, CLEAR),  # review: wrong
        Case("A bad deal.", "abuse_object", None, CLEAR),  # approve: right
        Case("The deal is poor.", "abuse_object", None, CLEAR),  # approve: right
        Case("Kurds are not idiots.", "negated_hate", "kurds", CLEAR),  # approve ("idiots" is not "idiot"): right
        Case("Kurds: stupid.", "derogation_direct", "kurds", FLAG, "identity_attack"),  # review: right
    ]
    scorer = WordListScorer()
    report = evaluate_suite(cases, scores_function(scorer), default_policy_decision(scorer.thresholds))
    assert report["overall"] == {"n": 8, "correct": 6, "accuracy": 0.75}
    behaviours = report["behaviours"]
    assert behaviours["threat_public_figure"] == {"expected": FLAG, "n": 2, "correct": 1, "accuracy": 0.5}
    assert behaviours["abuse_individual"] == {"expected": FLAG, "n": 1, "correct": 1, "accuracy": 1.0}
    assert behaviours["abuse_object"] == {"expected": CLEAR, "n": 3, "correct": 2, "accuracy": 0.6667}
    assert behaviours["negated_hate"]["accuracy"] == 1.0 and behaviours["derogation_direct"]["accuracy"] == 1.0
    assert behaviours["slur"] == {"expected": FLAG, "n": 0, "correct": 0, "accuracy": None}
    assert report["groups"]["kurds"] == {"n": 2, "correct": 2, "accuracy": 1.0}
    assert report["groups"][NO_GROUP] == {"n": 6, "correct": 4, "accuracy": 0.6667}
    # The most confidently wrong failure first: a missed flag whose top score is 0.01 (wrong by 0.99), then a
    # clear case flagged at 0.55 (wrong by 0.55).
    assert [(f["text"], f["action"], f["top_score"]) for f in report["failures"]] == [
        ("I will hurt the mayor.", "approve", 0.01),
        ("A stupid deal.", "review", 0.55),
    ]


def test_a_scorer_that_flags_everything_scores_each_behaviour_by_its_expected_outcome(suite: list[Case]) -> None:
    thresholds = {category: {"reject": 0.9, "review": 0.5} for category in CATEGORIES}
    report = evaluate_suite(
        suite, lambda texts: [{"toxicity": 0.6} for _ in texts], default_policy_decision(thresholds)
    )
    flags = sum(case.expected == FLAG for case in suite)
    assert report["overall"] == {"n": len(suite), "correct": flags, "accuracy": round(flags / len(suite), 4)}
    for name, entry in report["behaviours"].items():
        assert entry["accuracy"] == (1.0 if BEHAVIOURS[name].expected == FLAG else 0.0), name
    for group, entry in report["groups"].items():
        members = [c for c in suite if c.group == (None if group == NO_GROUP else group)]
        assert entry["correct"] == sum(c.expected == FLAG for c in members), group


def test_overlapping_texts_matches_exactly_after_lower_casing() -> None:
    suite_texts = ["Kurds Are Welcome.", "The deal failed.", "kurds are welcome"]
    assert overlapping_texts(suite_texts, ["kurds are welcome.", "the deal  failed."]) == ["Kurds Are Welcome."]
    assert overlapping_texts([], ["anything"]) == []


def test_no_suite_text_is_in_the_stage_1_identity_balance_training_data(suite: list[Case]) -> None:
    training = [example.text for example in identity_balance_corpus().examples]
    assert overlapping_texts([case.text for case in suite], training) == []


def test_the_slur_list_is_used_by_the_suite_alone() -> None:
    importers = []
    sources = [path for package in ("model", "moderation", "api", "tests", "benchmarks") for path in
               (REPO / package).rglob("*.py")]  # fmt: skip
    for path in sources:
        # The suite's own package, and the test that checks our training sentences use none of these words.
        if path.parent == REPO / "model" / "suite" or path == REPO / "tests" / "test_stage2_data.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import | ast.ImportFrom) else []
            module = node.module if isinstance(node, ast.ImportFrom) else ""
            if (
                module == "model.suite.slurs"
                or "model.suite.slurs" in names
                or (module == "model.suite" and "slurs" in names)
            ):
                importers.append(str(path.relative_to(REPO)))
    assert importers == []


def test_moderation_suite_prints_the_tables_for_the_shipped_model_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    _register_commands()
    result = CliRunner().invoke(cli, ["suite", "--json", str(out), "--failures", "3"])
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert re.search(r"functional suite .*: \d+ of \d+ correct, accuracy \d+\.\d %", output)
    assert "behaviour                expects    n  correct  accuracy %" in output
    for name in BEHAVIOURS:
        assert re.search(rf"^  {name} +(flag|clear) +\d+ +\d+ +\d+\.\d$", output, re.MULTILINE), name
    for group in GROUPS:
        assert re.search(rf"^  {group} +\d+ +\d+ +\d+\.\d$", output, re.MULTILINE), group
    report = json.loads(out.read_text())
    assert report["overall"]["n"] == len(functional_suite())
    assert set(report["behaviours"]) == set(BEHAVIOURS) and set(report["groups"]) == set(GROUPS) | {NO_GROUP}
    assert sum(entry["n"] for entry in report["behaviours"].values()) == report["overall"]["n"]


def test_moderation_evaluate_with_suite_prints_and_reports_the_suite(tiny_model_path: Path, tmp_path: Path) -> None:
    data = tiny_model_path.parent / "fixture_comments.jsonl"
    out = tmp_path / "report.json"
    args = [str(tiny_model_path), "--data", str(data), "--no-cross", "--suite", "--json-out", str(out)]
    result = CliRunner().invoke(evaluate_command, args)
    assert result.exit_code == 0, result.output
    assert "hold-out (ours): category" in result.stdout
    assert re.search(r"functional suite .*: \d+ of \d+ correct", result.stdout)
    assert "  counter_quote            clear" in result.stdout and "  disabled people" in result.stdout
    report = json.loads(out.read_text())
    assert report["suite"]["overall"]["n"] == len(functional_suite())
    without = CliRunner().invoke(evaluate_command, args[:-3])
    assert without.exit_code == 0 and "functional suite" not in without.stdout


def test_the_model_card_shows_the_suite_per_behaviour_and_group_when_it_was_run(suite: list[Case]) -> None:
    from model.card import _suite_section

    thresholds = {category: {"reject": 0.9, "review": 0.5} for category in CATEGORIES}
    report = evaluate_suite(
        suite, lambda texts: [{"toxicity": 0.6} for _ in texts], default_policy_decision(thresholds)
    )
    lines = _suite_section({"evaluation": {"suite": report}})
    flags = sum(case.expected == FLAG for case in suite)
    assert f"Right on {flags} of {len(suite)} cases ({flags / len(suite) * 100:.1f} %)" in "\n".join(lines)
    assert "| negated_hate | clear | " + str(report["behaviours"]["negated_hate"]["n"]) + " | 0.0 % |" in lines
    assert "| threat_direct | flag | " + str(report["behaviours"]["threat_direct"]["n"]) + " | 100.0 % |" in lines
    assert sum(line.startswith("| armenians |") for line in lines) == 1
    assert _suite_section({"evaluation": {}}) == [] and _suite_section({}) == []
