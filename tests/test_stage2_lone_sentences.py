"""Lone sentences: in a long routed comment, a short line of abuse that the text around it thins out in stage 2's
read is also read on its own, and holds the comment for a person, never rejects it (no torch, no ../shared)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from model import artifact
from model.cascade import (
    LONE_SENTENCE_MAX_CHARS,
    LONE_SENTENCE_MIN_CHARS,
    LONE_SENTENCES_LOOKED_AT,
    CascadeSettings,
    lone_sentence_ranges,
)
from model.categories import CATEGORIES
from model.scorer import Scorer, load_scorer
from model.types import LoneSentence, Span, Thresholds
from moderation.cli.cascade import attach_stage2_command
from moderation.insights import preview_policy
from moderation.policy import AuthorHistory, CommentFacts, SentenceHolds, decide, default_policy, held_scores
from moderation.policy_document import policy_to_document
from moderation.service import dry_run, submit_comment
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from tests import stage2_fixtures as fx
from tests.test_stage2_spans import HATE, write_folder

# Three harmless sentences the tiny stage 2 reads as [UNK] and stage 1 clears, longer together than its window.
NEWS = "The delegations met again in Tehran and talked about the border for many hours. " * 3
REVIEW, REJECT = 0.5, 0.9


def thresholds_of(tiny_model_path: Path) -> Thresholds:
    """Stage 1's thresholds, with review 0.5 and reject 0.9 for the categories stage 2 decides."""
    stage1 = load_scorer(tiny_model_path).thresholds
    return {c: {"review": REVIEW, "reject": REJECT} if c in fx.DECIDED else stage1[c] for c in CATEGORIES}


@pytest.fixture(scope="module")
def scorers(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Scorer]:
    """Cascades of the tiny stages reading their first window only, and 0, 1 or 4 lone sentences."""
    folder = tmp_path_factory.mktemp("lone")
    export = write_folder(folder / "export")
    thresholds = thresholds_of(tiny_model_path)
    out: dict[int, Scorer] = {}
    for count in (0, 1, 4):
        path = folder / f"sentences-{count}.model"
        artifact.attach_stage2(tiny_model_path, export, path, replace(fx.LOOSE, sentences=count), thresholds=thresholds)
        out[count] = load_scorer(path)
    return out


def test_a_line_of_abuse_after_harmless_sentences_is_read_on_its_own(scorers: dict[int, Scorer]) -> None:
    text = NEWS + HATE
    assert len(text) >= LONE_SENTENCE_MIN_CHARS
    without, with_lone = scorers[0].score(text), scorers[4].score(text)
    assert without.stage == with_lone.stage == 2 and without.sentences == ()
    assert without.scores["identity_attack"] < REVIEW  # past the first window: stage 2 never saw it
    [lone] = with_lone.sentences
    assert (lone.start, lone.end, lone.text) == (text.index(HATE), len(text), HATE)
    assert lone.scores["identity_attack"] >= REJECT
    assert with_lone.scores == without.scores  # lone sentences change no score


def test_lone_sentence_offsets_point_into_the_text_as_submitted(scorers: dict[int, Scorer]) -> None:
    line = "ALL ARMENIANS ARE LIARS and deserve what happened to them!!"
    text = "Ｔｈｅ talks…  " + NEWS + line + " Thanks for reading."
    [lone] = scorers[4].score(text, explain=False).sentences
    assert text[lone.start : lone.end] == lone.text == line


def test_a_short_comment_or_a_single_sentence_reads_no_lone_sentence(scorers: dict[int, Scorer]) -> None:
    scorer = scorers[4]
    short = "Thanks for the piece. " + HATE
    assert len(short) < LONE_SENTENCE_MIN_CHARS and scorer.score(short).sentences == ()
    one_sentence = "the delegations met again in tehran and talked about the border for many hours, " * 3 + HATE
    assert len(one_sentence) >= LONE_SENTENCE_MIN_CHARS and scorer.score(one_sentence).sentences == ()
    assert scorer.score(NEWS * 2).sentences == ()  # routed? no: nothing here for stage 2 to read


def test_a_comment_the_model_already_flags_reads_no_lone_sentence(scorers: dict[int, Scorer]) -> None:
    text = "Armenians are liars, liars who deserve it. " + NEWS + HATE
    result = scorers[4].score(text)
    assert result.scores["identity_attack"] >= REVIEW  # a lone sentence could only hold it, and it is held
    assert result.sentences == ()


def test_only_sentences_stage1_cannot_clear_are_read_the_furthest_over_first(
    scorers: dict[int, Scorer], monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = scorers[1]
    assert scorer.stage2 is not None
    reads = fx.record_stage2_reads(scorer, monkeypatch)
    mild, worst = "Armenians live there.", "You are an idiot and I will kill you."
    result = scorer.score(NEWS + mild + " " + NEWS + worst, explain=False)
    # One read of the comment's first window, then one of the single lone sentence this cascade reads: of the
    # two routed sentences, the one stage 1 scores furthest over its clear bounds; the news is never read alone.
    assert [len(texts) for texts in reads] == [1, 1] and reads[1] == [worst.lower()]
    assert [s.text for s in result.sentences] == [worst]


def test_lone_sentences_are_looked_for_among_the_first_sentences_only() -> None:
    text = "The talks went on for hours. " * (LONE_SENTENCES_LOOKED_AT + 5)
    ranges = lone_sentence_ranges(text)
    assert len(ranges) == LONE_SENTENCES_LOOKED_AT
    assert [text[a:b] for a, b in ranges[:2]] == ["The talks went on for hours."] * 2
    long_line = "x" * 200 + ". " + "Short one. " * 5
    assert (0, 201) not in lone_sentence_ranges(long_line)  # more than a third of the comment
    longer = "y" * LONE_SENTENCE_MAX_CHARS + ". " + "Short one. " * 100
    assert (0, LONE_SENTENCE_MAX_CHARS + 1) not in lone_sentence_ranges(longer)  # longer than a line
    assert (0, LONE_SENTENCE_MAX_CHARS) in lone_sentence_ranges(longer[1:])
    assert lone_sentence_ranges("Short. Too short.") == []


def test_a_batch_scores_the_same_with_lone_sentences(scorers: dict[int, Scorer]) -> None:
    texts = [NEWS + HATE, HATE, NEWS, "you idiot, I will kill you"]
    assert np.array_equal(scorers[0].final_probabilities(texts), scorers[4].final_probabilities(texts))


def lone(category: str, score: float, text: str = "They all deserve it.") -> LoneSentence:
    scores = dict.fromkeys(CATEGORIES, 0.01) | {category: score}
    return LoneSentence(300, 300 + len(text), text, scores)


THRESHOLDS: Thresholds = {c: {"review": REVIEW, "reject": REJECT} for c in CATEGORIES} | {
    "threat": {"review": REVIEW, "reject": None}
}


def verdict_with(  # type: ignore[no-untyped-def]
    *sentences: LoneSentence, scores: dict[str, float] | None = None, holds: SentenceHolds = "reject"
):
    calm = scores or dict.fromkeys(CATEGORIES, 0.01)
    policy = replace(default_policy(THRESHOLDS), sentence_holds=holds)
    return decide(calm, policy, CommentFacts("a long comment", sentences=sentences), AuthorHistory())


def test_a_lone_sentence_at_a_reject_threshold_holds_the_comment_for_review_never_rejects() -> None:
    verdict = verdict_with(lone("identity_attack", 0.97))
    assert (verdict.action, verdict.status, verdict.decided_by) == ("review", "queued", "model")
    [reason] = verdict.reasons
    assert (reason.kind, reason.action, reason.category, reason.value, reason.threshold) == (
        "sentence",
        "review",
        "identity_attack",
        0.97,
        REJECT,
    )
    assert "“They all deserve it.”" in reason.detail and "characters 300-320" in reason.detail
    assert verdict.top_category == "identity_attack"
    assert verdict.sentence_spans == (Span("identity_attack", 300, 320, "They all deserve it.", 1.0, stage=2),)


def test_a_sentence_that_holds_on_two_categories_is_marked_for_each_and_one_that_does_not_is_not() -> None:
    both = lone("identity_attack", 0.97)
    both.scores["insult"] = 0.95
    calm = lone("insult", 0.2, "The minister spoke.")
    verdict = verdict_with(calm, both)
    assert [(span.category, span.text) for span in verdict.sentence_spans] == [
        ("identity_attack", "They all deserve it."),
        ("insult", "They all deserve it."),
    ]
    assert verdict_with(both, holds="off").sentence_spans == ()


def test_a_lone_sentence_under_its_reject_threshold_holds_nothing() -> None:
    assert verdict_with(lone("identity_attack", 0.89)).action == "approve"
    assert verdict_with(lone("threat", 0.99)).action == "approve"  # threat has no reject threshold here
    assert verdict_with().action == "approve"


def test_a_comment_held_by_a_sentence_that_reads_as_a_threat_goes_first() -> None:
    threatening = lone("toxicity", 0.95)
    threatening.scores["threat"] = 0.6  # over review; threat has no reject threshold here
    assert verdict_with(threatening).urgent
    assert not verdict_with(lone("toxicity", 0.95)).urgent
    assert not verdict_with(threatening, holds="off").urgent  # not held by it: nothing to put first


def test_a_policy_chooses_the_threshold_a_lone_sentence_holds_at() -> None:
    under_reject = lone("threat", 0.6)
    assert verdict_with(under_reject).action == "approve"
    held = verdict_with(under_reject, holds="review")
    assert held.action == "review" and held.urgent  # a threat held for a person goes first
    assert "≥ review threshold 0.5" in held.reasons[0].detail
    assert verdict_with(lone("identity_attack", 0.99), holds="off").action == "approve"


def test_the_comment_s_own_scores_still_reject_beside_a_lone_sentence() -> None:
    verdict = verdict_with(lone("insult", 0.95), scores=dict.fromkeys(CATEGORIES, 0.01) | {"toxicity": 0.95})
    assert verdict.action == "reject"
    assert [(r.kind, r.action) for r in verdict.reasons] == [("score", "reject"), ("sentence", "review")]


def test_a_held_comment_is_ordered_by_its_lone_sentence_scores() -> None:
    calm = dict.fromkeys(CATEGORIES, 0.01)
    assert held_scores(calm, [lone("insult", 0.95)])["insult"] == 0.95
    assert held_scores(calm, [])["insult"] == 0.01


def test_submitting_a_long_comment_with_a_line_of_abuse_queues_it(scorers: dict[int, Scorer]) -> None:
    scorer = scorers[4]
    policy = default_policy(scorer.thresholds)
    held = dry_run(scorer, policy, {"text": NEWS + HATE})
    assert held["status"] == "queued"
    assert [r["kind"] for r in held["reasons"]] == ["sentence"]
    # The answer marks the sentence that held it, at its place in the text as submitted.
    [span] = [span for span in held["spans"] if span["weight"] == 1.0 and span.get("stage") == 2]
    assert (NEWS + HATE)[span["start"] : span["end"]] == span["text"] == HATE.strip()
    assert span["category"] == held["reasons"][0]["category"]
    unread = dry_run(scorers[0], default_policy(scorers[0].thresholds), {"text": NEWS + HATE})
    assert unread["status"] == "approved"


def test_a_submission_records_its_lone_sentences_and_the_policy_preview_replays_their_hold(
    scorers: dict[int, Scorer], store: Store, settings: Settings
) -> None:
    scorer = scorers[4]
    long, calm = (
        {"id": i, "article_id": "a", "author_id": i, "text": t} for i, t in (("long-1", NEWS + HATE), ("calm-1", NEWS))
    )
    answer = submit_comment(store, scorer, settings, long, None)
    submit_comment(store, scorer, settings, calm, None)
    assert answer["status"] == "queued"
    with store.read() as db:
        [row] = [r for r in st.iter_decisions_for_chain(db) if r["comment_id"] == "long-1"]
    [recorded] = json.loads(row["sentences"])
    assert (NEWS + HATE)[recorded["start"] : recorded["end"]] == HATE.strip()
    assert recorded["scores"] == pytest.approx(scorer.score(NEWS + HATE).sentences[0].scores)
    assert st.verify_chain(store).ok
    document = policy_to_document(default_policy(scorer.thresholds))
    seen = preview_policy(store, scorer, document)["edited"]
    assert seen["total"] == 2 and seen["sentence_holds"]["count"] == 1 and seen["actions"]["review"]["count"] == 1
    off = preview_policy(store, scorer, {**document, "sentence_holds": "off"})["edited"]
    assert off["sentence_holds"]["count"] == 0 and off["actions"]["approve"]["count"] == 2


@pytest.mark.parametrize("sentences", [-1, 9, True, "4", 2.0])
def test_a_manifest_with_sentences_out_of_range_is_refused(sentences: object) -> None:
    document = {**fx.LOOSE.as_dict(), "sentences": sentences}
    with pytest.raises(ValueError, match="sentences must be a whole number"):
        CascadeSettings.from_dict(document)


def test_sentences_are_recorded_in_the_manifest_and_the_version(tiny_model_path: Path, tmp_path: Path) -> None:
    assert "sentences" not in fx.LOOSE.as_dict() and CascadeSettings.from_dict(fx.LOOSE.as_dict()).sentences == 0
    folder = fx.write_stage2_folder(tmp_path / "export")
    paths = {count: tmp_path / f"{count}.model" for count in (0, 4)}
    for count, out in paths.items():
        args = [str(tiny_model_path), str(folder), "--out", str(out), "--sentences", str(count)]
        result = CliRunner().invoke(attach_stage2_command, args)
        assert result.exit_code == 0, result.output
    assert artifact.read_manifest(paths[4])["stage2"]["sentences"] == 4
    assert artifact.load(paths[4]).cascade_settings.sentences == 4  # type: ignore[union-attr]
    assert "sentences" not in artifact.read_manifest(paths[0])["stage2"]
    assert artifact.read_manifest(paths[0])["version"] != artifact.read_manifest(paths[4])["version"]
    refused = CliRunner().invoke(
        attach_stage2_command, [str(tiny_model_path), str(folder), "--out", str(paths[0]), "--sentences", "9"]
    )
    assert refused.exit_code == 2 and "--sentences" in refused.output
