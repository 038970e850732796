"""The answer to a submitted comment, declared once: the first answer, a replay's and a dry run's are this record,
and so is the OpenAPI `Decision` component. Fields that do not apply are left out (never null)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field

from model.normalize import MAX_NORMALIZED_CHARS, WIDEST_EXPANSION
from model.types import ScoreResult, Span
from moderation.policy import Reason, Verdict
from moderation.records import Record

Status = Literal["approved", "queued", "rejected"]
Action = Literal["approve", "review", "reject"]


class SubmissionAnswer(Record):
    """What submitting a comment answers (and a dry run, and a replay of the first answer)."""

    model_config = ConfigDict(strict=False)  # built by our own code, from decisions and stored rows

    id: str
    status: Status
    scores: dict[str, float] = Field(description="Probability per category.")
    reasons: list[Reason]  # policy.Reason, the one declaration of a reason
    spans: list[Span]  # model.types.Span, the one declaration of a span
    model_version: str | None
    decided_by: Literal["model", "rule"]
    would_action: Action | None
    truncated: Literal[True] | None = Field(
        default=None,
        description="Present when the text was too long to score whole once normalized (NFKC makes up to "
        f"{WIDEST_EXPANSION} characters of one, e.g. U+FDFA): only its first `scored_chars` characters were "
        f"scored and matched against the policy's terms, at most {MAX_NORMALIZED_CHARS:,} characters once "
        "normalized.",
    )
    scored_chars: int | None = Field(
        default=None, ge=0, description="With `truncated`: how many leading characters of the text were scored."
    )
    stage: Literal[1, 2] | None = Field(
        default=None,
        description="Present when the model is a cascade: 1 when the linear model cleared the comment, 2 when the "
        "encoder rescored it (its scores then decide every category but those stage 1 keeps, spam by default).",
    )
    route_reason: str | None = Field(
        default=None, description="With `stage`: why the comment was routed so, e.g. \"addresses a person: 'you'\"."
    )
    decision_id: int | None = Field(default=None, description="The recorded decision (not in a dry run).")
    replayed: bool | None = Field(
        default=None, description="Whether this repeats the stored answer to an earlier post of the same id and text."
    )

    def as_dict(self) -> dict[str, Any]:
        """The JSON answer: the fields that apply (a span's `stage` only from a cascade, its weight rounded)."""
        answer = self.model_dump(exclude_unset=True)
        answer["spans"] = [span.as_dict() for span in self.spans]
        return answer


def _truncation(scored_chars: int | None) -> dict[str, Any]:
    return {} if scored_chars is None else {"truncated": True, "scored_chars": scored_chars}


def _cascade(stage: int | None, route_reason: str | None) -> dict[str, Any]:
    return {} if stage is None else {"stage": stage, "route_reason": route_reason}


def answer_for(comment_id: str, result: ScoreResult, verdict: Verdict, model_version: str) -> SubmissionAnswer:
    """The answer to a comment just scored and decided."""
    return SubmissionAnswer(
        id=comment_id,
        status=verdict.status,  # type: ignore[arg-type]
        scores=dict(result.scores),
        reasons=[reason.as_dict() for reason in verdict.reasons],  # type: ignore[misc]
        spans=[*result.spans, *verdict.sentence_spans],
        model_version=model_version,
        decided_by=verdict.decided_by,  # type: ignore[arg-type]
        would_action=verdict.would_action,  # type: ignore[arg-type]
        **_truncation(result.scored_chars),
        **_cascade(result.stage, result.route_reason),
    )


def answer_from_row(row: Mapping[str, Any], scored_chars: int | None = None) -> SubmissionAnswer:
    """The answer a submission gave, rebuilt from its stored decision row (for idempotent replays)."""

    def decoded(column: str) -> Any:
        raw = row.get(column)
        return None if raw is None else json.loads(raw)

    return SubmissionAnswer(
        id=row["comment_id"],
        status=row["status"],
        scores=decoded("scores") or {},
        reasons=decoded("reasons") or [],
        spans=decoded("spans") or [],
        model_version=row["model_version"],
        decided_by=row["actor_type"],
        would_action=row["would_action"],
        decision_id=row["id"],
        replayed=True,
        **_truncation(scored_chars),
        **_cascade(row.get("stage"), row.get("route_reason")),
    )


class ItemError(Record):
    """Why one comment of a batch was not recorded: the API's error code, message and bad fields."""

    code: str
    message: str
    fields: dict[str, str]


class BatchItemRefused(Record):
    """A comment of a batch that was refused, by its id if it had one."""

    id: str | None
    error: ItemError


class BatchAnswer(Record):
    """What a batch answers: each comment's answer, or why it was refused, in the order sent."""

    results: list[SubmissionAnswer | BatchItemRefused]
