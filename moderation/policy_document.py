"""The policy as a document, declared once: `PolicyDocument` validates a put policy (naming every bad field in
words an admin can act on), reads a stored one back, and is the OpenAPI `Policy` component.

A document is laid over the defaults: a field left out takes its default (thresholds: the model's, per category
and limit). Read back `as_stored`, a document accepted before keeps working although rules were added since (at
most MAX_TERMS terms a list, no control characters in terms and section names).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from model.categories import CATEGORIES
from model.types import Thresholds
from moderation.errors import Invalid
from moderation.identifiers import IDENTIFIER_PATTERN, identifier_problem
from moderation.policy import (
    MAX_COUNT,
    MAX_REJECTION_DAYS,
    MAX_TERMS,
    THRESHOLD_KEYS,
    Policy,
    SentenceHolds,
    _copy_thresholds,
    _fmt,
    _model_defaults,
    _term_words,
)
from moderation.records import Record, parse

_DEFAULTS = Policy(thresholds={}, sections={})
_LANGUAGE_SUBTAG = re.compile(r"[a-z]{2,3}")
_THRESHOLDS_PROBLEM = "must be an object mapping categories to {reject, review}"


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("policy_field", message)


def _as_stored(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("as_stored"))


def _mapping(message: str) -> BeforeValidator:
    def check(value: object) -> object:
        if not isinstance(value, Mapping):
            raise _problem(message)
        return value

    return BeforeValidator(check)


def _category(value: object) -> str:
    if value not in CATEGORIES:
        raise _problem("unknown category; expected one of " + ", ".join(CATEGORIES))
    return str(value)


def _limit_key(value: object) -> str:
    if value not in THRESHOLD_KEYS:
        raise _problem("unknown field; expected reject or review")
    return str(value)


def _probability(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem("must be a number between 0 and 1, or null")
    if not 0.0 <= value <= 1.0:
        raise _problem("must be a number between 0 and 1, or null")
    return float(value)


def _section_name(value: object, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem("section name must be a non-empty string")
    if not _as_stored(info) and (problem := identifier_problem(value)):
        raise _problem("section name " + problem)
    return value


def _term_list(value: object, info: ValidationInfo) -> object:
    if not isinstance(value, list | tuple):
        raise _problem("must be a list of strings")
    if len(value) > MAX_TERMS and not _as_stored(info):
        raise _problem(f"must hold at most {MAX_TERMS:,} terms, not {len(value):,}")
    return list(value)


def _term(value: object, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem("must be a non-empty string")
    if not _as_stored(info) and (problem := identifier_problem(value)):  # the admin page edits them one a line
        raise _problem(problem)
    if not _term_words(value.strip()):
        raise _problem("has no letters or digits left once normalized")
    return value.strip()


def _first_spellings(terms: list[str]) -> list[str]:
    """The terms, each kept once by the normalized words it matches: the first spelling, in order."""
    first: dict[tuple[str, ...], str] = {}
    for term in terms:
        first.setdefault(_term_words(term), term)
    return list(first.values())


def _whole(minimum: int, maximum: int = MAX_COUNT, nullable: bool = False) -> Any:
    message = f"must be a whole number from {minimum} to {maximum}" + (", or null" if nullable else "")

    def check(value: object) -> int | None:
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise _problem(message)
        return value

    schema: dict[str, Any] = {"type": ["integer", "null"] if nullable else "integer", "minimum": minimum}
    return BeforeValidator(check), WithJsonSchema({**schema, "maximum": maximum})


def _language_list(value: object) -> object:
    if not isinstance(value, list | tuple):
        raise _problem("must be a list of language codes")
    return list(value)


def _language(value: object) -> str:
    if not isinstance(value, str) or not _LANGUAGE_SUBTAG.fullmatch(value.strip().lower()):
        raise _problem("must be a two- or three-letter language code like en")
    return value.strip().lower()


def _switch(value: object) -> bool:
    if not isinstance(value, bool):
        raise _problem("must be true or false")
    return value


Category = Annotated[str, BeforeValidator(_category), WithJsonSchema({"type": "string", "enum": list(CATEGORIES)})]
Limits = Annotated[
    dict[
        Annotated[str, BeforeValidator(_limit_key), WithJsonSchema({"type": "string", "enum": list(THRESHOLD_KEYS)})],
        Annotated[float | None, BeforeValidator(_probability), WithJsonSchema({"type": ["number", "null"]})],
    ],
    _mapping("must be an object with reject and/or review"),
]
Overrides = Annotated[dict[Category, Limits], _mapping(_THRESHOLDS_PROBLEM)]
SectionName = Annotated[
    str, BeforeValidator(_section_name), WithJsonSchema({"type": "string", "pattern": IDENTIFIER_PATTERN})
]
Term = Annotated[str, BeforeValidator(_term), WithJsonSchema({"type": "string", "pattern": IDENTIFIER_PATTERN})]
Terms = Annotated[
    list[Term],
    BeforeValidator(_term_list),
    AfterValidator(_first_spellings),
    Field(json_schema_extra={"maxItems": MAX_TERMS}),  # refused over it, unless read back as stored
]
Language = Annotated[str, BeforeValidator(_language), WithJsonSchema({"type": "string", "pattern": "^[a-z]{2,3}$"})]


class PolicyDocument(Record):
    """The moderation policy as admins put it and read it back; a field left out takes its default."""

    model_config = ConfigDict(extra="forbid")

    thresholds: Overrides = Field(default_factory=dict, description="Per category {reject, review} probabilities.")
    sections: Annotated[
        dict[SectionName, Overrides], _mapping("must be an object mapping section names to threshold overrides")
    ] = Field(default_factory=dict, description="Per section threshold overrides.")
    blocked_terms: Terms = Field(default_factory=list, description="Rejected when a comment contains one.")
    watched_terms: Terms = Field(default_factory=list, description="Sent to review when a comment contains one.")
    max_links: Annotated[int | None, *_whole(0, nullable=True)] = _DEFAULTS.max_links
    new_author_reviews: Annotated[int, *_whole(0)] = _DEFAULTS.new_author_reviews
    recent_rejections: Annotated[int, *_whole(0)] = _DEFAULTS.recent_rejections
    recent_rejection_days: Annotated[int, *_whole(1, MAX_REJECTION_DAYS)] = _DEFAULTS.recent_rejection_days
    known_languages: Annotated[list[Language], BeforeValidator(_language_list)] = Field(
        default_factory=lambda: list(_DEFAULTS.known_languages)
    )
    shadow_mode: Annotated[bool, BeforeValidator(_switch)] = _DEFAULTS.shadow_mode
    sentence_holds: SentenceHolds = Field(
        default=_DEFAULTS.sentence_holds,
        description="Which threshold a sentence of a long comment, read on its own, must reach to hold the comment "
        "for review (never reject): reject, review or off.",
    )


FIELDS: tuple[str, ...] = tuple(PolicyDocument.model_fields)


# ---------------------------------------------------------------------------
# Policies from documents and back


def _check_order(limits: Mapping[str, float | None], path: str, given: Sequence[str], errors: dict[str, str]) -> None:
    """Name the field the admin can fix when review would lie above reject: the one they set, else review."""
    reject, review = limits.get("reject"), limits.get("review")
    if reject is None or review is None or review <= reject:
        return
    if tuple(given) == ("reject",):
        errors.setdefault(f"{path}.reject", f"must not be below the review threshold {_fmt(review)}")
    else:
        errors.setdefault(f"{path}.review", f"must not be above the reject threshold {_fmt(reject)}")


def policy_from_document(doc: object, model_thresholds: Thresholds, *, as_stored: bool = False) -> Policy:
    """Build a policy from its JSON document, raising Invalid that names every bad field."""
    if not isinstance(doc, Mapping):
        raise Invalid("The policy must be a JSON object.", fields={"policy": "must be an object"})
    unknown = "unknown field; expected one of " + ", ".join(FIELDS)
    parsed = parse(
        PolicyDocument,
        doc,
        "The policy has invalid fields.",
        context={"as_stored": as_stored},
        messages={"extra_forbidden": unknown},
    )
    thresholds = _model_defaults(model_thresholds)
    errors: dict[str, str] = {}
    for category, limits in parsed.thresholds.items():
        thresholds[category].update(limits)
    for category, limits in thresholds.items():
        given = list(parsed.thresholds.get(category, {}))
        _check_order(limits, f"thresholds.{category}", given or ["review"], errors)
    for name, overrides in parsed.sections.items():
        for category, limits in overrides.items():
            _check_order({**thresholds[category], **limits}, f"sections.{name}.{category}", list(limits), errors)
    if errors:
        raise Invalid("The policy has invalid fields.", fields=errors)
    return Policy(
        thresholds=thresholds,
        sections={name: _copy_thresholds(overrides) for name, overrides in parsed.sections.items()},
        blocked_terms=tuple(parsed.blocked_terms),
        watched_terms=tuple(parsed.watched_terms),
        max_links=parsed.max_links,
        new_author_reviews=parsed.new_author_reviews,
        recent_rejections=parsed.recent_rejections,
        recent_rejection_days=parsed.recent_rejection_days,
        known_languages=tuple(dict.fromkeys(parsed.known_languages)),
        shadow_mode=parsed.shadow_mode,
        sentence_holds=parsed.sentence_holds,
    )


def policy_to_document(policy: Policy) -> dict[str, object]:
    """The policy as a JSON-ready document that policy_from_document reads back unchanged."""
    document: dict[str, object] = {}
    for field in FIELDS:
        value = getattr(policy, field)
        if field == "thresholds":
            value = _copy_thresholds(value)
        elif field == "sections":
            value = {name: _copy_thresholds(overrides) for name, overrides in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        document[field] = value
    return document
