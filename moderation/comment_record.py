"""A posted comment, declared once: validation, its limits, and the OpenAPI schema all come from `CommentIn`.

Ids may be strings or integers (stored as strings); optional text fields may be null or "" (not given). Names
(ids, section, language, article URL) refuse control and format characters, and a comment's own id also `/`
(moderation.identifiers). A text over MAX_TEXT_CHARS is refused before validation with 413 (TooLarge), as the
rest of the API refuses an over-long body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from moderation.errors import Invalid, TooLarge
from moderation.identifiers import COMMENT_ID_PATTERN, IDENTIFIER_PATTERN, identifier_problem
from moderation.privacy import normalize_ip
from moderation.records import Record, parse
from moderation.storage import store as st

MAX_TEXT_CHARS = 20_000
MAX_ID_CHARS = 200


def _problem(message: str) -> PydanticCustomError:
    """A field's problem in our words (the API's `fields` show the message as it is)."""
    return PydanticCustomError("invalid_field", message)


def _identifier(value: object, info: ValidationInfo) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _problem("must be a string or an integer")
    text = str(value)
    if not text.strip():
        raise _problem("must not be empty")
    if len(text) > MAX_ID_CHARS:
        raise _problem(f"must be at most {MAX_ID_CHARS} characters")
    # Only the comment's own id is a URL segment; a parent id may still name a comment stored before that rule.
    if problem := identifier_problem(text, comment_id=info.field_name == "id"):
        raise _problem(problem)
    return text


def _optional_identifier(value: object, info: ValidationInfo) -> str | None:
    return None if value is None else _identifier(value, info)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("must be a string")
    if not value.strip():
        raise _problem("must not be empty")
    return value


def _optional(
    longest: int, name: bool = False, then: Callable[[str], str] | None = None, note: str | None = None
) -> Any:
    """An optional text field of at most `longest` characters: null or "" is not given; `name` refuses control
    and format characters; `then` checks or normalizes what is left; `note` describes it in the schema."""

    def check(value: object) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise _problem("must be a string")
        if len(value) > longest:
            raise _problem(f"must be at most {longest} characters")
        if name and (problem := identifier_problem(value)):
            raise _problem(problem)
        return then(value) if then else value

    schema: dict[str, Any] = {"type": ["string", "null"], "maxLength": longest}
    if name:
        schema["pattern"] = IDENTIFIER_PATTERN
    if note:
        schema["description"] = note
    return BeforeValidator(check), WithJsonSchema(schema)


def _ip(value: str) -> str:
    try:
        normalize_ip(value)
    except ValueError:
        raise _problem("must be an IPv4 or IPv6 address") from None
    return value


def _moment(value: str) -> str:
    try:
        return st.iso(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: outside years 1-9999 once converted to UTC
        raise _problem("must be an ISO 8601 date and time, like 2024-05-01T12:00:00Z") from None


def _id_schema(pattern: str, nullable: bool = False) -> WithJsonSchema:
    kinds = ["string", "integer", "null"] if nullable else ["string", "integer"]
    return WithJsonSchema({"type": kinds, "maxLength": MAX_ID_CHARS, "pattern": pattern})


CommentId = Annotated[str, BeforeValidator(_identifier), _id_schema(COMMENT_ID_PATTERN)]
Identifier = Annotated[str, BeforeValidator(_identifier), _id_schema(IDENTIFIER_PATTERN)]
ParentId = Annotated[str | None, BeforeValidator(_optional_identifier), _id_schema(IDENTIFIER_PATTERN, nullable=True)]
Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": "string", "maxLength": MAX_TEXT_CHARS})]
HASHED = "Stored only as a keyed hash."
WRITTEN = "When the comment was written (ISO 8601), as the site knows it."


class CommentIn(Record):
    """A comment as the site posts it, validated and normalised (ids as strings)."""

    model_config = ConfigDict(frozen=True)

    id: CommentId
    text: Text
    article_id: Identifier
    author_id: Identifier
    parent_id: ParentId = None
    article_title: Annotated[str | None, *_optional(1000)] = None
    article_url: Annotated[str | None, *_optional(2000, name=True)] = None
    section: Annotated[str | None, *_optional(200, name=True)] = None
    author_name: Annotated[str | None, *_optional(200)] = None
    user_agent: Annotated[str | None, *_optional(1000)] = None
    email: Annotated[str | None, *_optional(320, note=HASHED)] = None
    lang: Annotated[str | None, *_optional(35, name=True)] = None
    ip: Annotated[str | None, *_optional(64, then=_ip, note=HASHED)] = None
    created_at: Annotated[str | None, *_optional(64, then=_moment, note=WRITTEN)] = None


class ScoreIn(CommentIn):
    """A comment for a dry run: only the text is needed."""

    id: CommentId = ""
    article_id: Identifier = ""
    author_id: Identifier = ""


def validate_comment(payload: object, *, require_ids: bool = True) -> CommentIn:
    """Check a posted comment, raising TooLarge for an over-long text and Invalid naming every bad field."""
    if not isinstance(payload, Mapping):
        raise Invalid("The comment must be a JSON object.", fields={"comment": "must be an object"})
    text = payload.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        raise TooLarge(
            f"The text is {len(text)} characters; at most {MAX_TEXT_CHARS} are accepted.",
            fields={"text": f"must be at most {MAX_TEXT_CHARS} characters"},
        )
    record: type[CommentIn] = CommentIn if require_ids else ScoreIn
    return parse(record, payload, "The comment has invalid fields.")
