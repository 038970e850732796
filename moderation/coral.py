"""Coral Talk's external moderation phase: check Coral's signature, decide with our policy, answer as Coral reads it.

Coral posts every new or edited comment to the phase's URL, signed as its webhooks are: `X-Coral-Signature` holds
one `sha256=<hex>` HMAC-SHA256 of the raw body per active signing secret (two while a secret is being rotated).
We record the decision as a site's submission would be recorded, and answer 204 (publish), or 200 with
`REJECTED`, or `SYSTEM_WITHHELD` with a `FLAG` for what our policy would queue, so Coral's own queue holds it.

Coral sends no comment id. The comment is stored under `coral-` and the first 40 hex digits of a SHA-256 over
the tenant, site, story, author, parent, action and body, so a retried request replays the first answer instead
of recording twice; an edit (another body, action `EDIT`) is decided afresh under its own key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from moderation import service
from moderation.comment_record import MAX_ID_CHARS, MAX_TEXT_CHARS
from moderation.records import Record
from moderation.service import Scorer
from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.text_of_html import text_of_html

SIGNATURE_HEADER = "X-Coral-Signature"
ACTOR = "coral"  # the decisions' actor: Coral's phase authenticates by signature, not by one of our keys
KEY_PREFIX = "coral-"
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")

Identifier = Field(min_length=1, max_length=MAX_ID_CHARS)


class CoralComment(Record):
    """The comment's body (plain text or HTML, as the phase is set up) and its parent's id."""

    body: str = Field(max_length=2 * MAX_TEXT_CHARS)  # HTML markup on top of the longest text we score
    parentID: str | None = Field(default=None, max_length=MAX_ID_CHARS)


class CoralAuthor(Record):
    """Who wrote it."""

    id: str = Identifier
    role: str = Field(default="COMMENTER", max_length=50)


class CoralStory(Record):
    """Where it was written."""

    id: str = Identifier
    url: str = Field(default="", max_length=2000)


class CoralSite(Record):
    """The site of the story."""

    id: str = Identifier


class ExternalModerationRequest(Record):
    """Coral's body for an external moderation phase."""

    action: Literal["NEW", "EDIT"]
    comment: CoralComment
    author: CoralAuthor
    story: CoralStory
    site: CoralSite
    tenantID: str = Identifier
    tenantDomain: str = Field(default="", max_length=MAX_ID_CHARS)


class FlagAction(Record):
    """A flag Coral adds to the comment, which puts it in Coral's reported queue."""

    actionType: Literal["FLAG"] = "FLAG"
    reason: Literal["COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"]


class ExternalModerationResponse(Record):
    """Our answer with a body (a 204 has none): reject, or withhold for Coral's moderators with a flag."""

    status: Literal["REJECTED", "SYSTEM_WITHHELD"]
    actions: list[FlagAction] | None = None


def signatures(header: str | None) -> list[str]:
    """The `sha256=` values of a signature header (Coral separates several with commas)."""
    if not header:
        return []
    found = []
    for element in header.split(","):
        prefix, _, value = element.strip().partition("=")
        if prefix == "sha256" and value:
            found.append(value.strip().lower())
    return found


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 of a body under one secret, as hex (how Coral signs, and how tests sign as Coral)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Whether any signature in the header is the body's HMAC under any of our secrets (constant-time compares)."""
    offered = signatures(header)
    matched = False
    for secret in secrets:
        expected = sign(body, secret)
        for value in offered:
            matched |= hmac.compare_digest(expected, value)
    return matched


def comment_key(request: ExternalModerationRequest) -> str:
    """The id a Coral comment is stored under: the same request gives the same id, an edit another."""
    material = json.dumps(
        [
            request.tenantID,
            request.site.id,
            request.story.id,
            request.author.id,
            request.comment.parentID,
            request.action,
            request.comment.body,
        ],
        ensure_ascii=False,
    )
    return KEY_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def readable_body(body: str) -> str:
    """The text to score: an HTML body reduced to its text; a plain body as it is."""
    return text_of_html(body).text if _TAG.search(body) else body


def coral_answer(answer: dict[str, Any]) -> ExternalModerationResponse | None:
    """Coral's phase answer for our submission answer: None to publish (204), else a status and flag."""
    if answer["status"] == "approved":
        return None
    if answer["status"] == "rejected":
        return ExternalModerationResponse(status="REJECTED")
    flagged = {r.get("category") for r in answer["reasons"] if r.get("action") in ("review", "reject")}
    spam = flagged == {"spam"}
    flag = FlagAction(reason="COMMENT_DETECTED_SPAM" if spam else "COMMENT_DETECTED_TOXIC")
    return ExternalModerationResponse(status="SYSTEM_WITHHELD", actions=[flag])


def moderate(
    store: Store,
    scorer: Scorer,
    settings: Settings,
    request: ExternalModerationRequest,
    *,
    now: datetime | None = None,
) -> tuple[dict[str, Any] | None, ExternalModerationResponse | None]:
    """Decide and record one Coral comment as a site's submission; (our answer, Coral's answer or None).

    A comment with no text (Coral lets a GIF or an image go without any) has nothing to score: it is neither
    recorded nor held, and Coral publishes it (None, None)."""
    text = readable_body(request.comment.body)
    if not text.strip():
        return None, None
    payload = {
        "id": comment_key(request),
        "text": text,
        "article_id": request.story.id,
        "author_id": request.author.id,
        "parent_id": request.comment.parentID,
        "article_url": request.story.url or None,
    }
    answer = service.submit_comment(store, scorer, settings, payload, ACTOR, now=now)
    return answer, coral_answer(answer)
