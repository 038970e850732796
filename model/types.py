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
    # Share of the category's evidence, 0..1: of the linear model's positive terms (stage 1), or of the drops in
    # log-odds that deleting each word caused (stage 2, model/occlusion.py).
    weight: float
    # With a cascade model only (None otherwise): whose evidence the span is, stage 1's linear model or stage 2's.
    stage: int | None = None

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
