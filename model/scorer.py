"""Score comments with a loaded model version: pure functions of the text, no I/O after loading."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from model import artifact
from model.cascade import CascadeSettings, final_rows, lone_sentence_ranges, merge
from model.categories import CATEGORIES
from model.explain import spans_for, token_contributions
from model.features import token_spans, tokens
from model.misspellings import ModelReading
from model.normalize import Normalized, normalized_prefix_length
from model.occlusion import occlusion_spans
from model.thresholds import action_for
from model.types import LoneSentence, ScoreResult, Span, Thresholds

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "default.model"


def default_model_path() -> Path:
    """The shipped default model inside the repository."""
    return DEFAULT_MODEL


@dataclass(frozen=True)
class StageTwoRead:
    """What stage 2 read of one comment: the text it read, its passages (ranges) and their probabilities."""

    source: str
    passages: list[tuple[int, int]]
    probabilities: np.ndarray  # [len(passages), 7]

    @property
    def highest(self) -> np.ndarray:
        """Per category, the highest probability over the passages: the comment's stage-2 score."""
        return self.probabilities.max(axis=0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class StageReadings:
    """What each stage read of some texts: stage 1's scores of all, the routed mask, stage 2's of the routed."""

    stage1: np.ndarray  # [n, 7], CATEGORIES order, rounded to 4 places as served
    routed: np.ndarray  # [n] bool
    stage2: np.ndarray  # [routed.sum(), 7], stage 2's calibrated probabilities (highest over the passages read)

    def final(self, settings: CascadeSettings | None) -> np.ndarray:
        """[n, 7] final scores: stage 1's, and the cascade's (final_rows) where stage 2 read."""
        if settings is None or not self.routed.any():
            return self.stage1
        final = self.stage1.copy()
        final[self.routed] = final_rows(self.stage1[self.routed], self.stage2, settings)
        return final


class Scorer:
    """A loaded model version that turns text into calibrated scores, spans and a default action."""

    def __init__(self, loaded: artifact.Artifact) -> None:
        self.model = loaded.model
        self.manifest = loaded.manifest
        self.version = loaded.version
        self.thresholds: Thresholds = loaded.thresholds
        self.categories = loaded.model.categories
        # The cascade's second stage and its routing, when the model file carries one (model/cascade.py).
        self.stage2 = loaded.stage2
        self.cascade = loaded.cascade_settings
        # Stretched letters resolve against the model's own words: "killlll" is read as "kill", not "kil"; and
        # misspellings of its most abusive words, and of the slurs the cascade routes on, are read as those words
        # ("vremin" as "vermin").
        self._reading = ModelReading.of(loaded.model, self.cascade.repaired_words() if self.cascade else ())
        self._review = np.array(
            [
                np.inf if self.thresholds[c]["review"] is None else float(self.thresholds[c]["review"])  # type: ignore[arg-type]
                for c in self.categories
            ]
        )

    def probabilities(self, text: str) -> np.ndarray:
        """Stage 1's calibrated probabilities for one comment, in category order."""
        return self._features_and_probabilities(self._reading.text(text))[1]

    def _features_and_probabilities(self, normalized_text: str) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """Stage 1's sparse features of a normalized text (kept for explaining it) and its calibrated probabilities."""
        vector = self.model.featurizer.vector(tokens(normalized_text))
        return vector, self.model.calibrate(self.model.margins(*vector))

    def score(self, text: str, explain: bool = True) -> ScoreResult:
        """Scores for one comment and, for each category at or above its review threshold, the spans behind it.

        With a cascade, stage 2 rescores the comments stage 1 cannot clear, and the spans are those of the stage
        that put each flagged category over its review threshold (`_spans_of_the_deciding_stage`).
        """
        # Text beyond ASCII is normalized once, with offsets, in case it needs explaining: its stages cost far
        # more than keeping offsets does. ASCII text takes the cheap way, and offsets only when it is flagged.
        normalized = self._reading.with_offsets(text) if explain and not text.isascii() else None
        normalized_text = normalized.text if normalized else self._reading.text(text)
        # Rounded as read_both_stages rounds, so that one comment and a batch get the very same scores.
        vector, probabilities = self._features_and_probabilities(normalized_text)
        probs = np.round(probabilities, 4)
        scores = {c: float(p) for c, p in zip(self.categories, probs, strict=True)}
        stage1_scores = scores
        stage: int | None = None
        why: str | None = None
        read: StageTwoRead | None = None
        lone: tuple[LoneSentence, ...] = ()
        if self.stage2 is not None and self.cascade is not None:
            decision = self.cascade.route(normalized_text, scores)
            stage, why = (2 if decision.run_stage2 else 1), decision.why
            if decision.run_stage2:
                source, windows = self._stage2_windows(text, normalized_text)
                read = StageTwoRead(source, windows, self.stage2.probabilities_many([source[a:b] for a, b in windows]))
                scores = merge(scores, read.highest, self.cascade)
                probs = np.array([scores[c] for c in self.categories])
                # A lone sentence can only hold a comment: one the model's thresholds already flag is not read again.
                if self.cascade.sentences and not (probs >= self._review).any():
                    lone = self._lone_sentences(text, normalized_text, normalized)
        spans: list[Span] = []
        flagged = [self.categories[i] for i in np.nonzero(probs >= self._review)[0]]
        if explain and flagged:
            normalized = normalized or self._reading.with_offsets(text)
            # The features already read are reused unless normalizing with offsets gave another text (it should not).
            spans = self.explain(text, flagged, normalized, vector if normalized.text == normalized_text else None)
            if stage is not None:
                spans = self._spans_of_the_deciding_stage(text, normalized, flagged, spans, stage1_scores, read)
        # A text whose normalized form would pass MAX_NORMALIZED_CHARS is scored by its prefix, and says so.
        scored = normalized.source_length if normalized else normalized_prefix_length(text)
        truncated_to = scored if scored < len(text) else None
        return ScoreResult(
            scores=scores,
            spans=spans,
            model_version=self.version,
            scored_chars=truncated_to,
            stage=stage,
            route_reason=why,
            sentences=lone,
        )

    def _lone_sentences(
        self, text: str, normalized_text: str, normalized: Normalized | None
    ) -> tuple[LoneSentence, ...]:
        """The sentences of a long routed comment stage 2 also reads on their own (CascadeSettings.sentences), in
        order, each with the cascade's scores of it as if it had been posted alone: of those lone_sentence_ranges
        allows, the ones stage 1 cannot clear by itself, furthest over their clear bounds first."""
        assert self.stage2 is not None and self.cascade is not None  # only routed comments get here
        reads_normalized = self.stage2.config.reads_normalized
        source = normalized_text if reads_normalized else text
        ranges = lone_sentence_ranges(source)
        if not ranges:
            return ()
        pieces = [source[a:b] for a, b in ranges]
        readable = pieces if reads_normalized else [self._reading.text(piece) for piece in pieces]
        bounds = self.cascade.clear_bounds
        candidates = [
            (max(stage1[c] / max(bound, 1e-6) for c, bound in bounds.items()), index, stage1)
            for index, stage1 in self._stage1_cannot_clear(readable)
        ]
        chosen = sorted(sorted(candidates, key=lambda c: -c[0])[: self.cascade.sentences], key=lambda c: c[1])
        if not chosen:
            return ()
        read = self.stage2.probabilities_many([pieces[index] for _, index, _ in chosen])
        to_original = _same_range
        if reads_normalized:
            to_original = (normalized or self._reading.with_offsets(text)).original_span
        lone: list[LoneSentence] = []
        for (_, index, stage1), probabilities in zip(chosen, read, strict=True):
            start, end = to_original(*ranges[index])
            lone.append(LoneSentence(start, end, text[start:end], merge(stage1, probabilities, self.cascade)))
        return tuple(lone)

    def _spans_of_the_deciding_stage(
        self,
        text: str,
        normalized: Normalized,
        flagged: Sequence[str],
        stage1_spans: list[Span],
        stage1_scores: Mapping[str, float],
        read: StageTwoRead | None,
    ) -> list[Span]:
        """A cascade's spans, each marked with its stage: per flagged category, the deciding stage's evidence.

        Stage 1's linear evidence stands where stage 1's own score reaches the review threshold (both stages
        agree, and those words alone flag it). Where stage 2 read the comment and lifted a category it decides
        over review from below, or stage 1 has no span for it, stage 2's occlusion spans (model/occlusion.py)
        replace stage 1's for that category; stage 1's stay only if occlusion finds no word. So a comment
        cleared or decided by stage 1's words costs no extra stage-2 reading; one stage 2 flagged costs at most
        three batched calls.
        """
        stage2_spans: list[Span] = []
        if read is not None and self.stage2 is not None and self.cascade:
            with_stage1_span = {span.category for span in stage1_spans}
            needs_stage2 = {
                category: CATEGORIES.index(category)
                for category in flagged
                if category in self.cascade.stage2_categories
                and (
                    stage1_scores[category] < self._review[self.categories.index(category)]
                    or category not in with_stage1_span
                )
            }
            to_original = normalized.original_span if self.stage2.config.reads_normalized else _same_range
            # Each category is explained in the passage that scored it highest (the one its score came from).
            by_passage: dict[int, dict[str, int]] = {}
            for category, column in needs_stage2.items():
                by_passage.setdefault(int(np.argmax(read.probabilities[:, column])), {})[category] = column
            for index, columns in sorted(by_passage.items()):
                start, end = read.passages[index]
                stage2_spans.extend(
                    occlusion_spans(
                        self.stage2,
                        read.source[start:end],
                        read.probabilities[index],
                        columns,
                        lambda a, b, start=start: to_original(a + start, b + start),  # type: ignore[misc]
                        text,
                        self.stage2.window,  # every word is at least one token
                    )
                )
        replaced = {span.category for span in stage2_spans}
        kept = [replace(span, stage=1) for span in stage1_spans if span.category not in replaced]
        return sorted(kept + stage2_spans, key=lambda span: (self.categories.index(span.category), span.start))

    def explain(
        self,
        text: str,
        categories: Iterable[str],
        normalized: Normalized | None = None,
        vector: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[Span]:
        """Spans of the submitted text that drove each named category's score (`normalized`: its normalization;
        `vector`: stage 1's features of it, when already computed)."""
        normalized = normalized or self._reading.with_offsets(text)
        offsets = token_spans(normalized.text)
        words = [normalized.text[start:end] for start, end in offsets]
        featurizer = self.model.featurizer
        ids, values = vector or featurizer.vector(words)
        categories = list(categories)
        columns = [self.categories.index(category) for category in categories]
        feature_weights = self.model.weights.take(ids, axis=0)[:, columns]
        contributions = token_contributions(featurizer, words, ids, values, feature_weights)
        spans: list[Span] = []
        for category, contribution in zip(categories, contributions, strict=True):
            spans.extend(spans_for(category, normalized, text, offsets, contribution))
        return spans

    def score_many(self, texts: list[str], read_all: bool = False) -> list[dict[str, float]]:
        """Scores for many comments at once (no spans), for batch work; the same final scores as `score` (with
        `read_all`, as `final_probabilities` reads them)."""
        rows = self.final_probabilities(texts, read_all)
        return [dict(zip(CATEGORIES, map(float, row), strict=True)) for row in rows]

    def final_probabilities(self, texts: Sequence[str], read_all: bool = False) -> np.ndarray:
        """[n, 7] final scores in CATEGORIES order, as `score` gives them (both stages' where stage 2 ran); with
        `read_all`, as if the cascade routed every text to stage 2 (what routing costs is measured against it)."""
        return self.read_both_stages(texts, read_all).final(self.cascade)

    def read_both_stages(self, texts: Sequence[str], read_all: bool = False) -> StageReadings:
        """Stage 1's scores of every text (4 places), which texts stage 2 must read (with `read_all`, every one),
        and its probabilities of them."""
        normalized = [self._reading.text(t) for t in texts]
        stage1 = np.round(self.model.probabilities_many(normalized), 4).reshape(-1, len(CATEGORIES))
        routed = np.zeros(len(normalized), dtype=bool)
        if self.stage2 is None or self.cascade is None:
            return StageReadings(stage1, routed, np.zeros((0, len(CATEGORIES))))
        for i, row in enumerate(stage1):
            scores = dict(zip(CATEGORIES, map(float, row), strict=True))
            routed[i] = read_all or self.cascade.route(normalized[i], scores).run_stage2
        indices = [int(i) for i in np.nonzero(routed)[0]]
        if not indices:
            return StageReadings(stage1, routed, np.zeros((0, len(CATEGORIES))))
        reads = [self._stage2_windows(texts[i], normalized[i]) for i in indices]
        # One batched call for every passage of every routed comment, then each comment's share of the answers.
        probabilities = self.stage2.probabilities_many([source[a:b] for source, windows in reads for a, b in windows])
        ends = np.cumsum([len(windows) for _, windows in reads])[:-1]
        per_comment = np.split(probabilities, ends)
        stage2 = np.array([StageTwoRead(*read, each).highest for read, each in zip(reads, per_comment, strict=True)])
        return StageReadings(stage1, routed, stage2)

    def _stage2_windows(self, text: str, normalized_text: str) -> tuple[str, list[tuple[int, int]]]:
        """The text stage 2 reads of a routed comment (as its config says it was trained: as stage 1 normalized
        it, or as submitted) and the passages of it it reads: the first, and each later one that stage 1 cannot
        clear by itself (its own scores over a clear bound, or a routing word in it), so a line of abuse after
        harmless text is read, and harmless passages cost nothing; a stage 2 reading raw text reads them all."""
        assert self.stage2 is not None and self.cascade is not None  # only routed comments get here
        if not self.stage2.config.reads_normalized:
            return text, self.stage2.passages(text, self.cascade.passages)
        passages = self.stage2.passages(normalized_text, self.cascade.passages)
        if len(passages) == 1:
            return normalized_text, passages
        later = [normalized_text[a:b] for a, b in passages[1:]]
        return normalized_text, [passages[0]] + [passages[1 + i] for i, _ in self._stage1_cannot_clear(later)]

    def _stage1_cannot_clear(self, pieces: Sequence[str]) -> list[tuple[int, dict[str, float]]]:
        """Of some normalized pieces of a routed comment (later passages, sentences), each that stage 1 cannot clear
        by itself (its own scores over a clear bound, or a routing word in it): its index and its scores (4 places)."""
        assert self.cascade is not None  # only routed comments get here
        rows = np.round(self.model.probabilities_many(list(pieces)), 4).reshape(-1, len(CATEGORIES))
        kept: list[tuple[int, dict[str, float]]] = []
        for index, (piece, row) in enumerate(zip(pieces, rows, strict=True)):
            scores = dict(zip(CATEGORIES, map(float, row), strict=True))
            if self.cascade.route(piece, scores).run_stage2:
                kept.append((index, scores))
        return kept

    def action(self, scores: dict[str, float]) -> str:
        """The model's default action for scores under its own thresholds."""
        return action_for(scores, self.thresholds)

    def describe(self) -> dict[str, Any]:
        """Version, thresholds, data and metrics, for the API and the admin pages."""
        keys = ("version", "created_at", "corpora", "params", "metrics", "thresholds", "libraries", "rows")
        return {key: self.manifest.get(key) for key in keys}


def _same_range(start: int, end: int) -> tuple[int, int]:
    """A range of text that is the text as submitted (stage 2 reading it raw)."""
    return start, end


def load_scorer(path: Path | str | None = None) -> Scorer:
    """Load a scorer from a model file (the shipped default when no path is given)."""
    return Scorer(artifact.load(Path(path) if path else default_model_path()))
