"""Comments: submit one or a batch, read one with its decision history, appeal, reverse."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import MAX_BATCH_BODY_BYTES, ratelimit, services
from api.auth import current_key, roles
from api.body import json_body, json_object, optional_json_object
from moderation import queue, service
from moderation.answer_record import BatchAnswer
from moderation.records import parse

bp = Blueprint("comments", __name__, url_prefix="/v1/comments")


@bp.post("")
@roles("site", "admin")
@ratelimit.charged_by_size
def submit() -> tuple[Response, int]:
    """Score, decide and record one comment; the same id and text again returns the stored answer."""
    found = services()
    document = json_body()
    ratelimit.charge_comments([document])
    answer = service.submit_comment(found.store, found.scorer, found.settings, document, current_key().id)
    return jsonify(answer), 200 if answer.get("replayed") else 201


@bp.post("/batch")
@roles("site", "admin")
@ratelimit.charged_by_size
def submit_batch() -> Response:
    """Submit up to 100 comments (`{"comments": [...]}` or a bare array); each is answered on its own."""
    found = services()
    document = json_body(MAX_BATCH_BODY_BYTES)
    items = document.get("comments") if isinstance(document, dict) else document
    if isinstance(items, list):  # each comment's text counts against the key's limit
        ratelimit.charge_comments(items[: service.MAX_BATCH])
    answers = service.submit_batch(found.store, found.scorer, found.settings, items, current_key().id)
    return jsonify(BatchAnswer.model_validate({"results": answers}).model_dump(exclude_unset=True))


@bp.get("/<comment_id>")
@roles("site", "moderator", "admin")
def get(comment_id: str) -> Response:
    """A comment's current status, open queue item and whole decision history."""
    return jsonify(service.get_comment(services().store, comment_id))


@bp.post("/<comment_id>/appeal")
@roles("site", "admin")
def appeal(comment_id: str) -> tuple[Response, int]:
    """Put a rejected comment back in the queue as an appeal, with the commenter's message."""
    appealed = parse(queue.AppealIn, optional_json_object(), "Bad appeal.")
    item = queue.appeal(services().store, comment_id, appealed.message, current_key().id)
    return jsonify(item), 201


@bp.post("/<comment_id>/reversal")
@roles("moderator", "admin")
def reverse(comment_id: str) -> tuple[Response, int]:
    """Reverse a comment's current decision with a new moderator decision (the site is told by webhook)."""
    reversal = parse(queue.ReversalIn, json_object(), "Bad reversal.")
    result = queue.reverse_decision(
        services().store,
        comment_id,
        current_key().id,
        reversal.action,
        reason=reversal.reason,
        labels=reversal.labels,
        expected_decision_id=reversal.expected_decision_id,
    )
    return jsonify(result), 201
