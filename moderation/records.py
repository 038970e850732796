"""Records that cross the HTTP boundary, declared once as pydantic models: validation and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from moderation.errors import Invalid

R = TypeVar("R", bound="Record")


class Record(BaseModel):
    """A request or answer body: strict types (no "1" for 1), unknown fields ignored as Google's APIs do."""

    model_config = ConfigDict(extra="ignore", strict=True)


def _message(problem: Any) -> str:
    """A field's problem in the API's words: `is required`, `must be a string`, or pydantic's message."""
    kind = problem["type"]
    if kind == "missing":
        return "is required"
    if kind == "string_type":
        return "must be a string"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind == "string_too_long":
        return f"must be at most {problem['ctx']['max_length']} characters"
    return str(problem["msg"])


def parse(
    record: type[R],
    document: object,
    message: str | None = None,
    *,
    context: dict[str, Any] | None = None,
    messages: Mapping[str, str] | None = None,
) -> R:
    """A record from a JSON document; Invalid naming every bad field by its dotted path (with `message`, or
    one that lists them). `context` reaches the record's validators; `messages` words a kind of problem."""
    try:
        return record.model_validate(document, context=context)
    except ValidationError as error:
        fields: dict[str, str] = {}
        for problem in error.errors():
            # A bad key of a mapping is named by the key itself (`labels.rudeness`), not `labels.rudeness.[key]`.
            where = ".".join(str(part) for part in problem["loc"] if part != "[key]") or "body"
            fields.setdefault(where, (messages or {}).get(problem["type"]) or _message(problem))
        listed = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
        raise Invalid(message or f"Invalid request: {listed}", fields=fields) from None


def schema_of(record: type[Record], mode: str = "validation") -> dict[str, Any]:
    """A record's JSON Schema, its nested records under `$defs`, for the OpenAPI document."""
    return record.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
