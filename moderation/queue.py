"""The review queue: listing by priority, claim leases, optimistic-locked decisions, reversals and appeals.

A queue item's `version` changes whenever the item does (claimed, released, decided); a decision must
name the version the moderator saw, so two moderators can never both decide one item.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from model.categories import CATEGORIES, Category
from moderation import outbox
from moderation.decisions import LoggedDecision, NewDecision, decision_from_row
from moderation.errors import Conflict, Invalid, NotFound
from moderation.paging import CURSOR_PROBLEM, limit_problem
from moderation.policy import URGENT_PRIORITY, Reason, queue_priority
from moderation.records import Record, parse
from moderation.storage import store as st
from moderation.storage.store import Store, Transaction

MODERATOR_ACTIONS: tuple[str, ...] = ("approve", "reject")
STATUS_FOR_ACTION: dict[str, Literal["approved", "rejected"]] = {"approve": "approved", "reject": "rejected"}
ITEM_STATES: tuple[str, ...] = ("pending", "decided")
DEFAULT_LEASE_SECONDS = 600
MAX_PAGE = 200
MAX_NOTE_CHARS = 2000
MAX_APPEAL_CHARS = 5000


# ---------------------------------------------------------------------------
# Shapes


def _claim_live(row: Mapping[str, Any], at: str) -> bool:
    return row["claimed_by"] is not None and row["claim_expires_at"] is not None and row["claim_expires_at"] > at


class NewQueueItem(Record):
    """A comment put in the queue: held at submission, or an appeal of its rejection."""

    comment_id: str
    priority: float
    category: str | None
    section: str | None
    article_id: str | None
    enqueued_at: str
    appealed: bool = False
    appeal_message: str | None = None
    appealed_by: str | None = None

    def row(self) -> dict[str, Any]:
        """The row to insert (the store keeps `appealed` as 0 or 1)."""
        return {**self.model_dump(), "appealed": int(self.appealed)}


class QueueComment(Record):
    """The queued comment, as much of it as a moderator needs beside the item."""

    text: str
    author_id: str
    author_name: str | None
    article_title: str | None
    article_url: str | None
    lang: str | None
    status: Literal["approved", "queued", "rejected"]


class QueueItem(Record):
    """A queue item as the API shows it, read from its row (with its comment when the row carries it) at a time:
    a claim whose lease ran out by then is shown as no claim."""

    model_config = ConfigDict(strict=False)  # a row's booleans are 0 and 1

    id: int
    comment_id: str
    state: Literal["pending", "decided"]
    priority: float
    urgent: bool = Field(description="Held on a threat or severe-toxicity score: listed before every other item.")
    score: float = Field(description="The deciding score (priority without the urgent lift).")
    category: str | None
    section: str | None
    article_id: str | None
    appealed: bool
    appeal_message: str | None
    enqueued_at: str
    claimed_by: str | None
    claim_expires_at: str | None
    version: int
    decided_at: str | None
    decision_id: int | None
    comment: QueueComment | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, row: Any, info: ValidationInfo) -> Any:
        if not isinstance(row, Mapping) or "urgent" in row:
            return row
        live = _claim_live(row, (info.context or {})["at"])
        urgent = row["priority"] >= URGENT_PRIORITY
        shown = {
            **row,
            "urgent": urgent,
            "score": row["priority"] - URGENT_PRIORITY if urgent else row["priority"],
            "claimed_by": row["claimed_by"] if live else None,
            "claim_expires_at": row["claim_expires_at"] if live else None,
        }
        shown.pop("comment", None)
        if "text" in row:
            shown["comment"] = {**row, "status": row["comment_status"]}
        return shown


def _item_dict(row: Mapping[str, Any], at: str) -> dict[str, Any]:
    return QueueItem.model_validate(row, context={"at": at}).model_dump(exclude_unset=True)


def encode_cursor(row: Mapping[str, Any]) -> str:
    """An opaque cursor for the queue position just after this item."""
    raw = json.dumps([row["priority"], row["enqueued_at"], row["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str, int]:
    """The queue position a cursor names; Invalid if it was not made by encode_cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        priority, enqueued_at, item_id = json.loads(raw)
        if not isinstance(enqueued_at, str) or not isinstance(item_id, int) or not 0 <= item_id <= st.MAX_ROWID:
            raise ValueError(cursor)
        return float(priority), enqueued_at, item_id
    except (ValueError, TypeError, binascii.Error):
        raise Invalid("Bad cursor.", fields={"cursor": CURSOR_PROBLEM}) from None


def _check_filters(status: str | None, limit: int, offset: int, category: str | None = None) -> None:
    errors: dict[str, str] = {}
    if category is not None and category not in CATEGORIES:
        errors["category"] = "must be one of " + ", ".join(CATEGORIES)
    if status is not None and status not in ITEM_STATES:
        errors["status"] = "must be one of " + ", ".join(ITEM_STATES)
    if problem := limit_problem(limit, MAX_PAGE):
        errors["limit"] = problem
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        errors["offset"] = "must be a whole number of at least 0"
    if errors:
        raise Invalid("Bad queue filters.", fields=errors)


# ---------------------------------------------------------------------------
# Reading


def _queue_filters(
    state: str | None, category: str | None, section: str | None, article_id: str | None, appealed: bool | None
) -> st.QueueFilters:
    """The store's filters for a queue query (an article id may come as a number)."""
    return st.QueueFilters(
        state=state,
        category=category,
        section=section,
        article_id=None if article_id is None else str(article_id),
        appealed=appealed,
    )


def list_queue(
    store: Store,
    *,
    status: str | None = "pending",
    category: str | None = None,
    section: str | None = None,
    article_id: str | None = None,
    appealed: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One page of queue items, highest score first then oldest; `next_cursor` continues after it."""
    _check_filters(status, limit, offset, category)
    after = decode_cursor(cursor) if cursor else None
    filters = _queue_filters(status, category, section, article_id, appealed)
    with store.read() as db:
        rows = st.select_queue(db, filters, after=after, offset=offset, limit=limit + 1)
        total = st.count_queue(db, filters)
    page = rows[:limit]
    at = st.iso(now or st.utcnow())
    return {
        "items": [_item_dict(row, at) for row in page],
        "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None,
        "total": total,
    }


def get_item(store: Store, item_id: int, now: datetime | None = None) -> dict[str, Any]:
    """One queue item with its comment; NotFound if there is none."""
    with store.read() as db:
        row = st.queue_item_with_comment(db, item_id)
    if row is None:
        raise NotFound(f"No queue item {item_id}.")
    return _item_dict(row, st.iso(now or st.utcnow()))


def depth(store: Store) -> dict[str, int]:
    """How many items wait in the queue: `review` (held at submission) and `appeal`."""
    with store.read() as db:
        return {
            "review": st.count_queue(db, st.QueueFilters(state="pending", appealed=False)),
            "appeal": st.count_queue(db, st.QueueFilters(state="pending", appealed=True)),
        }


# ---------------------------------------------------------------------------
# Claims


def _pending_item(db: Transaction, item_id: int) -> st.Row:
    row = st.queue_item_row(db, item_id)
    if row is None:
        raise NotFound(f"No queue item {item_id}.")
    if row["state"] != "pending":
        raise Conflict(f"Queue item {item_id} has already been decided.")
    return row


def _refuse_if_held_by_other(row: Mapping[str, Any], moderator: str, at: str) -> None:
    if _claim_live(row, at) and row["claimed_by"] != moderator:
        raise Conflict(
            f"Queue item {row['id']} is claimed by another moderator until {row['claim_expires_at']}.",
            fields={"claimed_by": row["claimed_by"], "claim_expires_at": row["claim_expires_at"]},
        )


def _lease_end(moment: datetime, lease_seconds: int) -> str:
    if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, int) or lease_seconds <= 0:
        raise Invalid("Bad lease.", fields={"lease_seconds": "must be a whole number above 0"})
    return st.iso(moment + timedelta(seconds=lease_seconds))


def claim(
    store: Store,
    item_id: int,
    moderator_key_id: str,
    now: datetime | None = None,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
) -> dict[str, Any]:
    """Claim an item for a lease (renewing one's own); Conflict while another moderator's lease runs."""
    moment = now or st.utcnow()
    at, until = st.iso(moment), _lease_end(moment, lease_seconds)
    with store.write() as db:
        row = _pending_item(db, item_id)
        _refuse_if_held_by_other(row, moderator_key_id, at)
        st.set_queue_claim(db, item_id, row["version"], moderator_key_id, until)
        claimed = st.queue_item_with_comment(db, item_id)
    assert claimed is not None
    return _item_dict(claimed, at)


def claim_next(
    store: Store,
    moderator_key_id: str,
    now: datetime | None = None,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
    *,
    category: str | None = None,
    section: str | None = None,
    article_id: str | None = None,
    appealed: bool | None = None,
) -> dict[str, Any] | None:
    """Atomically claim the top item nobody holds and this moderator has not skipped; None if none."""
    _check_filters(None, 1, 0, category)
    moment = now or st.utcnow()
    at, until = st.iso(moment), _lease_end(moment, lease_seconds)
    with store.write() as db:
        filters = _queue_filters("pending", category, section, article_id, appealed)
        item_id = st.next_claimable_item_id(db, moderator_key_id, at, filters)
        if item_id is None:
            return None
        row = _pending_item(db, item_id)
        st.set_queue_claim(db, item_id, row["version"], moderator_key_id, until)
        claimed = st.queue_item_with_comment(db, item_id)
    assert claimed is not None
    return _item_dict(claimed, at)


def first_offered(
    store: Store,
    moderator_key_id: str,
    now: datetime | None = None,
    *,
    category: str | None = None,
    section: str | None = None,
    article_id: str | None = None,
    appealed: bool | None = None,
) -> dict[str, Any] | None:
    """The top item a moderator may work, claiming nothing: one they hold, or nobody does, and they did not skip."""
    _check_filters(None, 1, 0, category)
    at = st.iso(now or st.utcnow())
    filters = _queue_filters("pending", category, section, article_id, appealed)
    with store.read() as db:
        item_id = st.next_claimable_item_id(db, moderator_key_id, at, filters, own_claims=True)
        row = None if item_id is None else st.queue_item_with_comment(db, item_id)
    return None if row is None else _item_dict(row, at)


def count_pending(
    store: Store,
    *,
    category: str | None = None,
    section: str | None = None,
    article_id: str | None = None,
    appealed: bool | None = None,
) -> dict[str, int]:
    """For the queue's heading: pending items matching the filters (`waiting`) and pending appeals (`appeals`)."""
    filters = _queue_filters("pending", category, section, article_id, appealed)
    with store.read() as db:
        return {
            "waiting": st.count_queue(db, filters),
            "appeals": st.count_queue(db, st.QueueFilters(state="pending", appealed=True)),
        }


def _unclaim(db: Any, item_id: int, moderator_key_id: str, at: str) -> None:
    """Drop the claim on a pending item inside a write; Conflict if another moderator holds it."""
    row = _pending_item(db, item_id)
    _refuse_if_held_by_other(row, moderator_key_id, at)
    if row["claimed_by"] is not None:
        st.set_queue_claim(db, item_id, row["version"], None, None)


def release(store: Store, item_id: int, moderator_key_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Give up one's claim on an item (a no-op if unclaimed); Conflict if another moderator holds it."""
    at = st.iso(now or st.utcnow())
    with store.write() as db:
        _unclaim(db, item_id, moderator_key_id, at)
        released = st.queue_item_with_comment(db, item_id)
    assert released is not None
    return _item_dict(released, at)


def skip(store: Store, item_id: int, moderator_key_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Release an item and stop claim_next offering it to this moderator again (others still get it)."""
    at = st.iso(now or st.utcnow())
    with store.write() as db:
        _unclaim(db, item_id, moderator_key_id, at)
        st.insert_queue_skip(db, item_id, moderator_key_id, at)
        skipped = st.queue_item_with_comment(db, item_id)
    assert skipped is not None
    return _item_dict(skipped, at)


# ---------------------------------------------------------------------------
# Decisions by moderators


def _label(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("label", "must be 0 or 1")
    return value


class ModeratorDecisionIn(Record):
    """A moderator's decision on a queue item (or a reversal): the action, the item's version when it was seen,
    a note, and training labels."""

    action: Literal["approve", "reject"]
    version: int = Field(ge=0, le=st.MAX_ROWID, description="The item's version when the moderator saw it.")
    reason: str | None = Field(
        default=None, max_length=MAX_NOTE_CHARS, description="Kept in the log, sent to the site."
    )
    labels: dict[Category, Annotated[Literal[0, 1], BeforeValidator(_label)]] | None = Field(
        default=None, description="Training labels: category to 0 or 1."
    )


class ReversalIn(Record):
    """A moderator's reversal of a comment's current decision."""

    action: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    labels: dict[Category, Annotated[Literal[0, 1], BeforeValidator(_label)]] | None = None
    expected_decision_id: int | None = Field(
        default=None, ge=0, le=st.MAX_ROWID, description="Refuse (409) unless this is still the latest decision."
    )


class AppealIn(Record):
    """A commenter's appeal of a rejection, as the site sends it."""

    message: str | None = Field(default=None, max_length=MAX_APPEAL_CHARS)


class CommentStatus(Record):
    """A comment's id and its status after a decision."""

    id: str
    status: Literal["approved", "queued", "rejected"]


class ModeratorDecisionResult(Record):
    """What a moderator's decision on a queue item answers: the decision recorded, the item closed, the comment."""

    decision: LoggedDecision
    item: QueueItem
    comment: CommentStatus


class ReversalResult(Record):
    """What a reversal answers: the new decision and the comment's status now."""

    decision: LoggedDecision
    comment: CommentStatus


def _check_decision_input(action: str, reason: str | None, labels: object) -> dict[str, int] | None:
    """The labels of a decision, checked with the rest of it by its record (the version is checked elsewhere)."""
    document = {"action": action, "version": 0, "reason": reason, "labels": labels}
    labels = parse(ModeratorDecisionIn, document, "The decision has invalid fields.").labels
    return None if labels is None else {str(category): int(value) for category, value in labels.items()}


def _record_human_decision(
    db: Transaction,
    *,
    comment: Mapping[str, Any],
    moderator: str,
    action: str,
    kind: str,
    note: str | None,
    labels: dict[str, int] | None,
    held_by_category: str | None,
    item_id: int | None,
    at: str,
) -> int:
    """Append a moderator's decision, move the comment's status, store training labels; the decision id."""
    comment_id = comment["id"]
    evidence = st.latest_decision_row(db, comment_id, ("model", "rule"))
    previous = st.latest_decision_row(db, comment_id)
    status = STATUS_FOR_ACTION[action]
    detail = note or f"moderator {'approved' if action == 'approve' else 'rejected'}"
    decision = NewDecision(
        comment_id=comment_id,
        at=at,
        actor_type="moderator",
        actor=moderator,
        kind=kind,
        action=action,
        status=status,
        would_action=action,
        top_category=held_by_category,
        # The evidence the moderator saw: the model's scores and the thresholds then in force.
        model_version=None if evidence is None else evidence["model_version"],
        scores=None if evidence is None or evidence["scores"] is None else json.loads(evidence["scores"]),
        thresholds=None if evidence is None or evidence["thresholds"] is None else json.loads(evidence["thresholds"]),
        reasons=[Reason("moderator", action, detail).as_dict()],
        note=note,
        queue_item_id=item_id,
        supersedes=None if previous is None else previous["id"],
    )
    decision_id = st.insert_decision(db, decision.row())
    st.set_comment_status(db, comment_id, status)
    if labels is None:
        # Without explicit labels, the verdict labels the category that held the comment.
        labels = {} if held_by_category is None else {held_by_category: int(action == "reject")}
    for category, value in labels.items():
        st.insert_label(
            db,
            {
                "comment_id": comment_id,
                "category": category,
                "value": value,
                "decision_id": decision_id,
                "source": "moderator",
                "at": at,
            },
        )
    return decision_id


def _event_payload(
    comment: Mapping[str, Any],
    decision_id: int,
    action: str,
    kind: str,
    moderator: str,
    note: str | None,
    at: str,
) -> dict[str, Any]:
    return {
        "comment_id": comment["id"],
        "article_id": comment["article_id"],
        "status": STATUS_FOR_ACTION[action],
        "decision": {
            "id": decision_id,
            "kind": kind,
            "action": action,
            "actor_type": "moderator",
            "actor": moderator,
            "reason": note,
            "at": at,
        },
    }


def decide_item(
    store: Store,
    item_id: int,
    moderator_key_id: str,
    action: str,
    *,
    version: int,
    reason: str | None = None,
    labels: Mapping[str, int] | Mapping[Category, int] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Approve or reject a queued comment, in one transaction: decision, status, labels, outbox event.

    `version` is the item version the moderator saw: if the item changed since, Conflict.
    """
    checked_labels = _check_decision_input(action, reason, labels)
    at = st.iso(now or st.utcnow())
    with store.write() as db:
        row = _pending_item(db, item_id)
        if row["version"] != version:
            raise Conflict(
                f"Queue item {item_id} changed since you loaded it (version {row['version']}, not {version}).",
                fields={"version": f"is now {row['version']}"},
            )
        _refuse_if_held_by_other(row, moderator_key_id, at)
        comment = st.comment_row(db, row["comment_id"])
        assert comment is not None  # the foreign key guarantees it
        kind = "appeal" if row["appealed"] else "review"
        decision_id = _record_human_decision(
            db,
            comment=comment,
            moderator=moderator_key_id,
            action=action,
            kind=kind,
            note=reason,
            labels=checked_labels,
            held_by_category=row["category"],
            item_id=item_id,
            at=at,
        )
        if st.close_queue_item(db, item_id, version, decision_id, at) != 1:
            raise Conflict(f"Queue item {item_id} changed while being decided.")
        payload = _event_payload(comment, decision_id, action, kind, moderator_key_id, reason, at)
        if row["appealed"]:
            payload["appeal"] = {
                "outcome": "overturned" if action == "approve" else "upheld",
                "message": row["appeal_message"],
            }
            outbox.enqueue_event(db, "comment.appeal_decided", payload, at)
        else:
            outbox.enqueue_event(db, "comment.decided", payload, at)
        decision = st.decision_row(db, decision_id)
        item = st.queue_item_with_comment(db, item_id)
    assert decision is not None and item is not None
    return {
        "decision": decision_from_row(decision),
        "item": _item_dict(item, at),
        "comment": CommentStatus(id=comment["id"], status=STATUS_FOR_ACTION[action]).model_dump(),
    }


def reverse_decision(
    store: Store,
    comment_id: str | int,
    moderator_key_id: str,
    action: str,
    *,
    reason: str | None = None,
    labels: Mapping[str, int] | Mapping[Category, int] | None = None,
    expected_decision_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Reverse a comment's current decision by recording a new one (never an edit); the site is told.

    `expected_decision_id`, if given, must be the comment's latest decision (optimistic locking).
    """
    checked_labels = _check_decision_input(action, reason, labels)
    key = str(comment_id)
    at = st.iso(now or st.utcnow())
    with store.write() as db:
        comment = st.comment_row(db, key)
        if comment is None:
            raise NotFound(f"No comment with id {key}.")
        if st.open_queue_item_row(db, key) is not None:
            raise Conflict(f"Comment {key} is in the review queue: decide its queue item instead.")
        current = st.latest_decision_row(db, key)
        if expected_decision_id is not None and (current is None or current["id"] != expected_decision_id):
            raise Conflict(
                f"Comment {key} has a newer decision than {expected_decision_id}.",
                fields={"expected_decision_id": f"latest is {None if current is None else current['id']}"},
            )
        if comment["status"] == STATUS_FOR_ACTION[action]:
            raise Conflict(f"Comment {key} is already {comment['status']}.")
        evidence = st.latest_decision_row(db, key, ("model", "rule"))
        decision_id = _record_human_decision(
            db,
            comment=comment,
            moderator=moderator_key_id,
            action=action,
            kind="reversal",
            note=reason,
            labels=checked_labels,
            held_by_category=None if evidence is None else evidence["top_category"],
            item_id=None,
            at=at,
        )
        payload = _event_payload(comment, decision_id, action, "reversal", moderator_key_id, reason, at)
        outbox.enqueue_event(db, "comment.reversed", payload, at)
        decision = st.decision_row(db, decision_id)
    assert decision is not None
    return {
        "decision": decision_from_row(decision),
        "comment": CommentStatus(id=key, status=STATUS_FOR_ACTION[action]).model_dump(),
    }


# ---------------------------------------------------------------------------
# Appeals


def appeal(
    store: Store, comment_id: str | int, message: str | None, actor: str | None, now: datetime | None = None
) -> dict[str, Any]:
    """Put a rejected comment back in the queue flagged as appealed; Conflict unless rejected and not pending.

    The comment stays rejected (hidden) until a moderator decides the appeal.
    """
    if message is not None and (not isinstance(message, str) or len(message) > MAX_APPEAL_CHARS):
        raise Invalid("Bad appeal.", fields={"message": f"must be a string of at most {MAX_APPEAL_CHARS} characters"})
    key = str(comment_id)
    at = st.iso(now or st.utcnow())
    with store.write() as db:
        comment = st.comment_row(db, key)
        if comment is None:
            raise NotFound(f"No comment with id {key}.")
        pending = st.open_queue_item_row(db, key)
        if pending is not None:
            what = "an appeal" if pending["appealed"] else "review"
            raise Conflict(f"Comment {key} is already pending {what}.")
        if comment["status"] != "rejected":
            raise Conflict(f"Only rejected comments can be appealed; comment {key} is {comment['status']}.")
        evidence = st.latest_decision_row(db, key, ("model", "rule"))
        scores: dict[str, float] = {} if evidence is None or not evidence["scores"] else json.loads(evidence["scores"])
        category = None if evidence is None else evidence["top_category"]
        priority = queue_priority(scores, category)  # an appeal is never an urgent hold
        appeal = NewQueueItem(
            comment_id=key,
            priority=float(priority),
            category=category,
            section=comment["section"],
            article_id=comment["article_id"],
            enqueued_at=at,
            appealed=True,
            appeal_message=message,
            appealed_by=actor,
        )
        item_id = st.insert_queue_item(db, appeal.row())
        item = st.queue_item_with_comment(db, item_id)
    assert item is not None
    return _item_dict(item, at)


def training_labels(store: Store, after_id: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
    """Moderators' labels for retraining: each (comment, category)'s latest, with the text, by label id."""
    with store.read() as db:
        return st.latest_labels(db, after_id, limit)
