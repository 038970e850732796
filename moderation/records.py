"""Records that cross the HTTP boundary, declared once as pydantic models: validation and the OpenAPI schema."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from moderation.errors import Invalid

R = TypeVar("R", bound="Record")


class Record(BaseModel):
    """A request or answer body: strict types (no "1" for 1), unknown fields ignored as Google's APIs do."""

    model_config = ConfigDict(extra="ignore", strict=True)


def parse(record: type[R], document: object) -> R:
    """A record from a JSON document; Invalid naming every bad field by its dotted path."""
    try:
        return record.model_validate(document)
    except ValidationError as error:
        fields = {
            ".".join(str(part) for part in problem["loc"]) or "body": problem["msg"] for problem in error.errors()
        }
        listed = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
        raise Invalid(f"Invalid request: {listed}", fields=fields) from None


def schema_of(record: type[Record], mode: str = "validation") -> dict[str, Any]:
    """A record's JSON Schema, its nested records under `$defs`, for the OpenAPI document."""
    return record.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
