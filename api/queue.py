"""The review queue for moderators: list by priority, claim, release, skip, decide."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import services
from api.auth import current_key, roles
from api.body import bool_arg, choice_arg, int_arg, json_object, text_arg
from moderation import queue
from moderation.records import parse

bp = Blueprint("queue", __name__, url_prefix="/v1/queue")

ITEM = "/<rowid:item_id>"


@bp.get("")
@roles("moderator", "admin")
def list_items() -> Response:
    """One page of queue items, highest priority then oldest; filters status, category, section, article."""
    return jsonify(
        queue.list_queue(
            services().store,
            status=choice_arg("status") or "pending",
            category=choice_arg("category"),
            section=text_arg("section"),
            article_id=text_arg("article_id"),
            appealed=bool_arg("appealed"),
            limit=int_arg("limit", 50, 1, queue.MAX_PAGE),
            cursor=text_arg("cursor"),
            offset=int_arg("offset", 0, 0, 1_000_000),
        )
    )


@bp.post("/next")
@roles("moderator", "admin")
def claim_next() -> tuple[Response, int] | Response:
    """Claim the top item nobody holds and you have not skipped (same filters as the list); 204 if none."""
    item = queue.claim_next(
        services().store,
        current_key().id,
        lease_seconds=services().settings.lease_seconds,
        category=choice_arg("category"),
        section=text_arg("section"),
        article_id=text_arg("article_id"),
        appealed=bool_arg("appealed"),
    )
    if item is None:
        return Response(status=204)
    return jsonify(item)


@bp.get(ITEM)
@roles("moderator", "admin")
def get_item(item_id: int) -> Response:
    """One queue item with its comment."""
    return jsonify(queue.get_item(services().store, item_id))


@bp.post(ITEM + "/claim")
@roles("moderator", "admin")
def claim(item_id: int) -> Response:
    """Claim an item for the lease time (renewing your own claim); 409 while another moderator holds it."""
    found = services()
    return jsonify(queue.claim(found.store, item_id, current_key().id, lease_seconds=found.settings.lease_seconds))


@bp.post(ITEM + "/release")
@roles("moderator", "admin")
def release(item_id: int) -> Response:
    """Give up your claim on an item."""
    return jsonify(queue.release(services().store, item_id, current_key().id))


@bp.post(ITEM + "/skip")
@roles("moderator", "admin")
def skip(item_id: int) -> Response:
    """Release an item and stop `next` offering it to you again."""
    return jsonify(queue.skip(services().store, item_id, current_key().id))


@bp.post(ITEM + "/decision")
@roles("moderator", "admin")
def decide(item_id: int) -> Response:
    """Approve or reject a queued comment: `{action, reason?, labels?, version}`; 409 if the item changed."""
    decision = parse(queue.ModeratorDecisionIn, json_object(), "The decision has invalid fields.")
    result = queue.decide_item(
        services().store,
        item_id,
        current_key().id,
        decision.action,
        version=decision.version,
        reason=decision.reason,
        labels=decision.labels,
    )
    return jsonify(result)
