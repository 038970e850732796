"""Policy storage: the policy in force is the latest row of the append-only `policy_changes` table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from pydantic import Field

from model.types import Thresholds
from moderation.errors import Invalid
from moderation.paging import id_cursor
from moderation.policy import Policy, default_policy
from moderation.policy_document import policy_from_document, policy_to_document
from moderation.records import Record
from moderation.storage import store as st
from moderation.storage.store import Store


class ModelThresholds(Protocol):
    """The part of a scorer a policy needs: the model's version and its per-category thresholds."""

    version: str
    thresholds: Thresholds


def get_policy(store: Store, scorer: ModelThresholds) -> Policy:
    """The policy in force: the latest document put, over this model's thresholds; the default if none."""
    with store.read() as db:
        change_id = st.latest_policy_change_id(db)
        memo_key = (change_id, scorer.version)
        cached = store.memo.get("policy")
        # The parsed policy is reused while neither the latest change nor the model version moved.
        if cached is not None and cached[0] == memo_key:
            return cached[1]  # type: ignore[no-any-return]
        row = None if change_id is None else st.policy_change_row(db, change_id)
    if row is None:
        policy = default_policy(scorer.thresholds)
    else:
        policy = policy_from_document(json.loads(row["document"]), scorer.thresholds, as_stored=True)
    store.memo["policy"] = (memo_key, policy)
    return policy


def put_policy(
    store: Store,
    scorer: ModelThresholds,
    document: Mapping[str, Any],
    actor: str | None,
    now: datetime | None = None,
) -> Policy:
    """Validate a policy document (Invalid names every bad field) and make it the one in force."""
    if not isinstance(document, Mapping):
        raise Invalid("The policy must be a JSON object.", fields={"policy": "must be an object"})
    policy = policy_from_document(document, scorer.thresholds)
    # The document is stored as given (not as expanded), so a later model's thresholds still apply
    # to every category the admin did not set.
    text = json.dumps(dict(document), sort_keys=True)
    with store.write() as db:
        st.insert_policy_change(db, st.iso(now or st.utcnow()), actor, text)
    return policy


class FieldChange(Record):
    """What one field of the policy did from one change to the next."""

    field: str = Field(description="Its dotted path, e.g. thresholds.insult.review.")
    before: Any = None
    after: Any = None
    added: list[Any] | None = Field(default=None, description="For term lists: the terms added.")
    removed: list[Any] | None = Field(default=None, description="For term lists: the terms removed.")


class PolicyChange(Record):
    """One policy put: who, when, the document as sent, and what it changed from the one before."""

    id: int
    at: str
    actor_key_id: str | None
    document: dict[str, Any]
    changes: list[FieldChange]


class PolicyHistory(Record):
    """A page of policy changes, newest first."""

    items: list[PolicyChange]
    next_cursor: str | None


def policy_history(store: Store, limit: int = 100, cursor: str | int | None = None) -> dict[str, Any]:
    """Policy changes, newest first, with who put each and when; `next_cursor` pages back in time."""
    before_id = id_cursor(cursor)
    with store.read() as db:
        # One more than the page, to know there is a next page, and one more again: the change before the
        # page's oldest, which that one's `changes` are measured against.
        rows = st.policy_change_rows(db, limit + 2, before_id)
    page = rows[:limit]
    documents = [json.loads(r["document"]) for r in rows]
    history = PolicyHistory.model_validate(
        {
            "items": [
                {
                    **r,
                    "document": documents[i],
                    "changes": document_changes(documents[i + 1] if i + 1 < len(documents) else {}, documents[i]),
                }
                for i, r in enumerate(page)
            ],
            "next_cursor": str(page[-1]["id"]) if len(rows) > limit else None,
        }
    )
    return history.model_dump(exclude_unset=True)


def _leaves(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A document's values by dotted path (`thresholds.insult.review`); lists and scalars are leaves."""
    found: dict[str, Any] = {}
    for name, value in document.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping) and value:
            found.update(_leaves(value, path + "."))
        else:
            found[path] = value
    return found


def document_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a policy document changed from the one before it, field by field (dotted paths, in order): `before`
    and `after` values (None where absent), and for lists of terms the `added` and `removed` ones."""
    old, new = _leaves(before), _leaves(after)
    changes: list[dict[str, Any]] = []
    for field in sorted(old.keys() | new.keys()):
        was, now = old.get(field), new.get(field)
        if was == now:
            continue
        change: dict[str, Any] = {"field": field, "before": was, "after": now}
        if isinstance(was, list | type(None)) and isinstance(now, list | type(None)):
            earlier, later = was or [], now or []
            change["added"] = [item for item in later if item not in earlier]
            change["removed"] = [item for item in earlier if item not in later]
        changes.append(change)
    return changes


def policy_document(store: Store, scorer: ModelThresholds) -> dict[str, object]:
    """The policy in force as a full document (every field, thresholds expanded)."""
    return policy_to_document(get_policy(store, scorer))
