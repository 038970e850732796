"""Perspective API's `comments:analyze` and `comments:suggestscore`, answered from our model and our store.

Perspective's clients (Coral Talk's custom endpoint, the `perspective-api-client` package, scripts posting to
`commentanalyzer.googleapis.com`) switch by changing the URL. Requests and answers keep Perspective's field
names; what differs is said in the README ("Replacing Perspective API"). Analysing records nothing. A suggested
score is kept as a labelled example (`perspective_feedback`), which the next retrain learns from as it learns
from a moderator's verdict; a later suggestion with the same `clientToken` in the same community replaces it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from model.sentences import sentence_ranges
from moderation.comment_record import MAX_TEXT_CHARS
from moderation.errors import Invalid
from moderation.records import Record
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.text_of_html import TextOfHtml, text_of_html, utf16_offsets

# Perspective's attribute names and the categories that answer them.
ATTRIBUTES: dict[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "SPAM": "spam",
}
# Perspective also served these names for its newer models; they are answered by the same categories.
EXPERIMENTAL_SUFFIX = "_EXPERIMENTAL"
EXPERIMENTAL_ATTRIBUTES = tuple(name + EXPERIMENTAL_SUFFIX for name in ATTRIBUTES if name != "SPAM")
SCORE_TYPE: Literal["PROBABILITY"] = "PROBABILITY"
FEEDBACK_SOURCE = "perspective:suggestscore"
MAX_SPANS = 50  # sentences scored for spanScores; the rest of a longer text is the last span
MAX_TOKEN_CHARS = 500
MAX_COMMUNITY_CHARS = 200
MAX_LANGUAGES = 10

ScoreTexts = Callable[[list[str]], Sequence[Mapping[str, float]]]


class LanguageNotSupported(Invalid):
    """None of the request's languages is one the model scores (Perspective's LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE)."""

    code = "language_not_supported_by_attribute"


# ---------------------------------------------------------------------------
# The records, as Perspective names their fields (unknown fields are ignored, as Perspective ignores them)


Language = Annotated[str, Field(min_length=1, max_length=35)]


class TextEntry(Record):
    """A comment's text, plain or HTML (reduced to its text before scoring)."""

    text: str = Field(max_length=MAX_TEXT_CHARS)
    type: Literal["PLAIN_TEXT", "HTML"] = "PLAIN_TEXT"


class AttributeParameters(Record):
    """What a client asks of one attribute: only probabilities, optionally only those at or above a threshold."""

    scoreType: Literal["PROBABILITY"] | None = None
    scoreThreshold: float | None = Field(default=None, ge=0.0, le=1.0)


class AnalyzeCommentRequest(Record):
    """The body of `comments:analyze`."""

    comment: TextEntry
    requestedAttributes: dict[str, AttributeParameters] = Field(min_length=1, max_length=len(ATTRIBUTES) * 2)
    spanAnnotations: bool = False
    languages: list[Language] = Field(default_factory=list, max_length=MAX_LANGUAGES)
    doNotStore: bool = False
    clientToken: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)
    sessionId: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)


class Score(Record):
    """A probability, as Perspective types it."""

    value: float = Field(ge=0.0, le=1.0)
    type: Literal["PROBABILITY"] = SCORE_TYPE


class SpanScore(Record):
    """One sentence's score: [begin, end) in UTF-16 code units of the text as sent."""

    begin: int
    end: int
    score: Score


class AttributeScores(Record):
    """One attribute's score for the whole text, and per sentence when spans were asked for."""

    summaryScore: Score
    spanScores: list[SpanScore] | None = None


class AnalyzeCommentResponse(Record):
    """The answer of `comments:analyze` (with our `model_version` beside Perspective's fields)."""

    attributeScores: dict[str, AttributeScores]
    languages: list[str]
    detectedLanguages: list[str]
    clientToken: str | None = None
    model_version: str


class SuggestedScore(Record):
    """A suggested score: Coral sends 0 (approved) or 1 (rejected); 0.5 and above counts as abusive."""

    value: float = Field(ge=0.0, le=1.0)
    type: Literal["PROBABILITY"] | None = None


class SuggestedAttribute(Record):
    """One attribute's suggested score for the whole comment (span suggestions are not used)."""

    summaryScore: SuggestedScore


class ContextEntry(Record):
    """A piece of context: Coral sends one, a JSON string with its comment id and URL."""

    text: str = Field(default="", max_length=4000)
    type: Literal["PLAIN_TEXT", "HTML"] | None = None


class Context(Record):
    """The context entries of a suggestion."""

    entries: list[ContextEntry] = Field(default_factory=list, max_length=10)


class SuggestCommentScoreRequest(Record):
    """The body of `comments:suggestscore`."""

    comment: TextEntry
    attributeScores: dict[str, SuggestedAttribute] = Field(min_length=1, max_length=len(ATTRIBUTES) * 2)
    context: Context | None = None
    languages: list[Language] = Field(default_factory=list, max_length=MAX_LANGUAGES)
    communityId: str | None = Field(default=None, max_length=MAX_COMMUNITY_CHARS)
    clientToken: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)
    sessionId: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)


class SuggestCommentScoreResponse(Record):
    """The answer of `comments:suggestscore`: Perspective's fields, and which stored example it became."""

    clientToken: str | None = None
    requestedLanguages: list[str]
    detectedLanguages: list[str]
    feedback_id: int
    replaced: bool


# ---------------------------------------------------------------------------
# Attributes, languages, text


def category_of(attribute: str) -> str | None:
    """The category that answers a Perspective attribute name, or None for one we do not score."""
    if attribute in EXPERIMENTAL_ATTRIBUTES:
        attribute = attribute.removesuffix(EXPERIMENTAL_SUFFIX)
    return ATTRIBUTES.get(attribute)


def _categories(names: Sequence[str], where: str) -> dict[str, str]:
    unknown = [name for name in names if category_of(name) is None]
    if unknown:
        scored = ", ".join(ATTRIBUTES)
        raise Invalid(
            f"Unknown attribute{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. This service scores {scored}.",
            fields={f"{where}.{name}": "is not an attribute this service scores" for name in unknown},
        )
    return {name: str(category_of(name)) for name in names}


def _primary(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]


def check_languages(requested: Sequence[str], known: Sequence[str], attribute: str) -> list[str]:
    """The languages to answer with: those requested (some must be known), else the model's first."""
    if not requested:
        return [known[0]] if known else []
    if not any(_primary(language) in known for language in requested):
        raise LanguageNotSupported(
            f"Attribute {attribute} does not support request languages: {', '.join(requested)}. "
            f"This service scores {', '.join(known) or 'no language'}.",
            fields={"languages": f"must include one of: {', '.join(known)}"},
        )
    return list(requested)


def readable_text(entry: TextEntry) -> TextOfHtml | None:
    """The text to score of a comment entry: HTML reduced to its text (with offsets back), else None (as sent)."""
    return text_of_html(entry.text) if entry.type == "HTML" else None


def _nonempty(text: str) -> None:
    if not text.strip():
        raise Invalid("Comment must be non-empty.", fields={"comment.text": "must not be empty"})


# ---------------------------------------------------------------------------
# comments:analyze


def analyze(
    score_texts: ScoreTexts, known_languages: Sequence[str], model_version: str, request: AnalyzeCommentRequest
) -> dict[str, Any]:
    """Perspective's answer to `comments:analyze`, from our scores; nothing is recorded."""
    names = list(request.requestedAttributes)
    categories = _categories(names, "requestedAttributes")
    languages = check_languages(request.languages, known_languages, names[0])
    reduced = readable_text(request.comment)
    text = reduced.text if reduced is not None else request.comment.text
    _nonempty(text)
    spans = sentence_ranges(text, MAX_SPANS) if request.spanAnnotations else []
    scored = score_texts([text] + [text[start:end] for start, end in spans])
    whole, per_sentence = scored[0], scored[1:]
    units = utf16_offsets(request.comment.text)

    def sent(start: int, end: int) -> tuple[int, int]:
        begin, finish = reduced.source_range(start, end) if reduced is not None else (start, end)
        return units[begin], units[finish]

    located = [sent(start, end) for start, end in spans]
    attribute_scores: dict[str, AttributeScores] = {}
    for name, parameters in request.requestedAttributes.items():
        category = categories[name]
        value = float(whole[category])
        if parameters.scoreThreshold is not None and value < parameters.scoreThreshold:
            continue  # Perspective leaves out an attribute under its threshold
        attribute_scores[name] = AttributeScores(
            summaryScore=Score(value=value),
            spanScores=[
                SpanScore(begin=begin, end=end, score=Score(value=float(row[category])))
                for (begin, end), row in zip(located, per_sentence, strict=True)
            ]
            if request.spanAnnotations
            else None,
        )
    answer = AnalyzeCommentResponse(
        attributeScores=attribute_scores,
        languages=languages,
        detectedLanguages=[],  # we do not detect languages: `languages` says what the text was scored as
        clientToken=request.clientToken,
        model_version=model_version,
    )
    return answer.model_dump(exclude_none=True)


# ---------------------------------------------------------------------------
# comments:suggestscore


def suggested_labels(attributes: Mapping[str, SuggestedAttribute]) -> dict[str, int]:
    """Category labels from suggested scores: 1 at 0.5 and above, else 0."""
    categories = _categories(list(attributes), "attributeScores")
    labels: dict[str, int] = {}
    for name, suggested in attributes.items():
        labels[categories[name]] = int(suggested.summaryScore.value >= 0.5)
    return dict(sorted(labels.items()))


def record_suggestion(
    store: Store,
    request: SuggestCommentScoreRequest,
    key_id: str | None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Keep a suggested score as a labelled example; a later one with the same token and community replaces it."""
    labels = suggested_labels(request.attributeScores)
    reduced = readable_text(request.comment)
    text = reduced.text if reduced is not None else request.comment.text
    _nonempty(text)
    context = [entry.text for entry in request.context.entries] if request.context else []
    community, token = request.communityId or "", request.clientToken or None
    row = {
        "community_id": community,
        "client_token": token,
        "text": text,
        "labels": json.dumps(labels),
        "flagged": int(any(labels.values())),
        "context": json.dumps(context) if context else None,
        "languages": json.dumps(request.languages) if request.languages else None,
        "source": FEEDBACK_SOURCE,
        "key_id": key_id,
        "received_at": st.iso(now or st.utcnow()),
    }
    with store.write() as db:
        replaced = token is not None and st.has_feedback(db, community, token)
        feedback_id = st.insert_feedback(db, row)
    answer = SuggestCommentScoreResponse(
        clientToken=request.clientToken,
        requestedLanguages=list(request.languages),
        detectedLanguages=[],
        feedback_id=feedback_id,
        replaced=replaced,
    )
    return answer.model_dump(exclude_none=True)


def feedback_counts(store: Store) -> list[dict[str, Any]]:
    """Per community: the suggestions a retrain would learn from (a replaced one counts once), how many say
    abusive, and the newest."""
    with store.read() as db:
        return [
            {
                "community_id": row["community_id"],
                "examples": int(row["examples"]),
                "flagged": int(row["flagged"]),
                "latest_at": row["latest_at"],
            }
            for row in st.feedback_counts(db)
        ]
