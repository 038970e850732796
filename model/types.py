"""Plain result types shared by the scorer and its callers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A stretch of the submitted text that drove a category's score."""

    category: str
    start: int  # code-point offset into the text as submitted
    end: int  # exclusive
    text: str
    weight: float  # share of the category's positive evidence, 0..1

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "weight": round(self.weight, 4),
        }


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


# Thresholds per category: {"toxicity": {"reject": 0.93, "review": 0.41}, ...}.
# "reject" may be None where no threshold reaches the precision target (never auto-reject).
Thresholds = dict[str, dict[str, float | None]]
