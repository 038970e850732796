"""Plain result types shared by the scorer and its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field


@dataclass(frozen=True)
class Span:
    """A stretch of the submitted text that drove a category's score."""

    category: str
    start: Annotated[int, Field(description="Code-point offset into the text as submitted.")]
    end: Annotated[int, Field(description="Exclusive.")]
    text: str
    weight: Annotated[
        float,
        Field(
            description="The span's share of its category's evidence, 0..1: of the linear model's positive terms "
            "(stage 1), or of the drops in the category's log-odds that deleting each word caused (stage 2); 1 for "
            "a sentence that, read on its own, holds the comment (a `sentence` reason)."
        ),
    ]
    stage: Annotated[
        Literal[1, 2] | None,
        Field(
            description="Present when the model is a cascade: whose evidence the span is, the linear model's (1) or "
            "the encoder's, found by deleting words and reading again (2). A flagged category shows the evidence "
            "of the stage that put it over its review threshold."
        ),
    ] = None

    def as_dict(self) -> dict[str, object]:
        """The span as the API answers it (`stage` only from a cascade model)."""
        out: dict[str, object] = {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "weight": round(self.weight, 4),
        }
        if self.stage is not None:
            out["stage"] = self.stage
        return out


@dataclass(frozen=True)
class LoneSentence:
    """A sentence of a long routed comment that the cascade also read on its own, and what it scored there."""

    start: int  # code-point offsets into the text as submitted
    end: int
    text: str
    scores: dict[str, float]


@dataclass(frozen=True)
class ScoreResult:
    """Calibrated per-category probabilities for one comment, with explanation spans."""

    scores: dict[str, float]
    spans: list[Span] = field(default_factory=list)
    model_version: str = ""
    # When the text was too long to score whole once normalized: how many of its leading characters were scored.
    scored_chars: int | None = None
    # With a cascade model only (None otherwise): which stage's scores decided (1 or 2), and why it routed so.
    stage: int | None = None
    route_reason: str | None = None
    # With a cascade that reads lone sentences (CascadeSettings.sentences): the sentences of a long routed comment
    # read on their own. They leave `scores` alone; the policy may hold the comment for a person over them.
    sentences: tuple[LoneSentence, ...] = ()


# Thresholds per category: {"toxicity": {"reject": 0.93, "review": 0.41}, ...}.
# "reject" may be None where no threshold reaches the precision target (never auto-reject).
Thresholds = dict[str, dict[str, float | None]]
