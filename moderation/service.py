"""Submitting comments: validate, score (outside any lock), decide, then record in one short transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import ConfigDict

from model.normalize import normalized_prefix_length
from model.types import ScoreResult, Thresholds
from moderation.answer_record import answer_for, answer_from_row
from moderation.comment_record import CommentIn, validate_comment
from moderation.decisions import LoggedDecision, NewDecision, recorded_sentences
from moderation.errors import Conflict, Invalid, ModerationError, NotFound, TooLarge, Unavailable
from moderation.policy import AuthorHistory, CommentFacts, Policy, Verdict, decide, held_scores, queue_priority
from moderation.policy_changes import get_policy
from moderation.privacy import hash_email, hash_ip, pii_key
from moderation.queue import NewQueueItem
from moderation.records import Record
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store, Transaction

MAX_BATCH = 100


class Scorer(Protocol):
    """What the service needs from a classifier: a version, its thresholds, and pure scoring."""

    version: str
    thresholds: Thresholds

    def score(self, text: str) -> ScoreResult: ...


# ---------------------------------------------------------------------------
# Scoring and deciding (pure)


def _evaluate(
    scorer: Scorer, policy: Policy, comment: CommentIn, history: AuthorHistory
) -> tuple[ScoreResult, Verdict]:
    result = scorer.score(comment.text)
    facts = CommentFacts(comment.text, comment.section, comment.lang, result.scored_chars, result.sentences)
    verdict = decide(result.scores, policy, facts, history)
    return result, verdict


def dry_run(scorer: Scorer, policy: Policy, payload: object) -> dict[str, Any]:
    """What submitting this comment would answer (as a first comment by its author), recording nothing."""
    comment = validate_comment(payload, require_ids=False)
    result, verdict = _evaluate(scorer, policy, comment, AuthorHistory())
    return answer_for(comment.id or "", result, verdict, result.model_version or scorer.version).as_dict()


# ---------------------------------------------------------------------------
# Submitting


def _replay(db: Transaction, comment: CommentIn, stored_text: str) -> dict[str, Any]:
    if stored_text != comment.text:
        raise Conflict(
            f"Comment {comment.id} was already submitted with a different text.",
            fields={"id": "already used for a different text"},
        )
    first = st.first_decision_row(db, comment.id)
    if first is None:
        raise NotFound(f"Comment {comment.id} has no decision.")
    # Where normalization cut the text depends on the text alone, so the replay says what the first answer said.
    scored = normalized_prefix_length(comment.text)
    return answer_from_row(first, scored if scored < len(comment.text) else None).as_dict()


def submit_comment(
    store: Store,
    scorer: Scorer,
    settings: Settings,
    payload: object,
    actor_key_id: str | None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Score, decide and record one comment; posting the same id again returns the stored answer."""
    comment = validate_comment(payload)
    moment = now or st.utcnow()
    policy = get_policy(store, scorer)
    window_start = st.iso(moment - timedelta(days=policy.recent_rejection_days))
    with store.read() as db:
        stored_text = st.comment_text(db, comment.id)
        if stored_text is not None:
            return _replay(db, comment, stored_text)
        count, rejections = st.author_history(db, comment.author_id, window_start)
    result, verdict = _evaluate(scorer, policy, comment, AuthorHistory(count, rejections))
    model_version = result.model_version or scorer.version
    key = pii_key(settings) if comment.ip or comment.email else b""
    at = st.iso(moment)

    # The comment's row is the record as posted, its IP and e-mail replaced by their keyed hashes.
    comment_row = {
        **comment.model_dump(exclude={"ip", "email"}),
        "ip_hash": hash_ip(key, comment.ip) if comment.ip else None,
        "email_hash": hash_email(key, comment.email) if comment.email else None,
        "received_at": at,
        "status": verdict.status,
        "submitted_by": actor_key_id,
    }
    answer = answer_for(comment.id, result, verdict, model_version).as_dict()
    decision = NewDecision(
        comment_id=comment.id,
        at=at,
        actor_type=verdict.decided_by,  # type: ignore[arg-type]
        actor=actor_key_id,
        kind="submission",
        action=verdict.action,
        status=verdict.status,  # type: ignore[arg-type]
        would_action=verdict.would_action,
        top_category=verdict.top_category,
        model_version=model_version,
        scores=answer["scores"],
        thresholds=verdict.thresholds,
        reasons=answer["reasons"],
        spans=answer["spans"],
        stage=result.stage,
        route_reason=result.route_reason,
        sentences=recorded_sentences(result.sentences),
    )
    with store.write() as db:
        # Checked again under the write lock: a concurrent post of the same id may have landed meanwhile.
        stored_text = st.comment_text(db, comment.id)
        if stored_text is not None:
            return _replay(db, comment, stored_text)
        st.insert_comment(db, comment_row)
        decision_id = st.insert_decision(db, decision.row())
        if verdict.status == "queued":
            held = NewQueueItem(
                comment_id=comment.id,
                priority=queue_priority(
                    held_scores(result.scores, result.sentences), verdict.top_category, verdict.urgent
                ),
                category=verdict.top_category,
                section=comment.section,
                article_id=comment.article_id,
                enqueued_at=at,
            )
            st.insert_queue_item(db, held.row())
    return {**answer, "decision_id": decision_id, "replayed": False}


def error_dict(error: ModerationError) -> dict[str, Any]:
    """A typed error as the JSON object an API answers with."""
    return {"code": error.code, "message": error.message, "fields": dict(error.fields)}


def submit_batch(
    store: Store,
    scorer: Scorer,
    settings: Settings,
    items: object,
    actor_key_id: str | None,
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Submit up to 100 comments; each answered on its own: an answer, or `{id, error}` for a bad one."""
    if not isinstance(items, list):
        raise Invalid("The batch must be a JSON array of comments.", fields={"comments": "must be an array"})
    if len(items) > MAX_BATCH:
        raise TooLarge(
            f"A batch holds at most {MAX_BATCH} comments, not {len(items)}.",
            fields={"comments": f"must hold at most {MAX_BATCH} comments"},
        )
    answers: list[dict[str, Any]] = []
    for item in items:
        try:
            answers.append(submit_comment(store, scorer, settings, item, actor_key_id, now=now))
        except Unavailable:
            # The store cannot write at all: the whole batch fails and the site retries it (idempotently).
            raise
        except ModerationError as error:
            item_id = item.get("id") if isinstance(item, Mapping) else None
            answers.append({"id": None if item_id is None else str(item_id), "error": error_dict(error)})
    return answers


class OpenItem(Record):
    """A comment's open queue item, in brief."""

    model_config = ConfigDict(strict=False)  # `appealed` is stored as 0 or 1

    id: int
    appealed: bool
    version: int


class CommentView(Record):
    """A stored comment as the API shows it: its fields, its open queue item and its whole decision history (never
    the keyed hashes of its IP or e-mail)."""

    model_config = ConfigDict(strict=False)

    id: str
    status: Literal["approved", "queued", "rejected"]
    text: str
    article_id: str
    article_title: str | None
    article_url: str | None
    section: str | None
    author_id: str
    author_name: str | None
    parent_id: str | None
    lang: str | None
    created_at: str | None
    received_at: str
    personal_data_purged: bool
    queue_item: OpenItem | None
    decisions: list[LoggedDecision]


def get_comment(store: Store, comment_id: str | int) -> dict[str, Any]:
    """A comment's current status, its open queue item if any, and its whole decision history."""
    key = str(comment_id)
    with store.read() as db:
        row = st.comment_row(db, key)
        if row is None:
            raise NotFound(f"No comment with id {key}.")
        history = st.decision_rows_for_comment(db, key)
        item = st.open_queue_item_row(db, key)
    view = CommentView.model_validate(
        {**row, "personal_data_purged": row["purged_at"] is not None, "queue_item": item, "decisions": history}
    )
    return view.model_dump(exclude_unset=True)
