"""Read-only views over recorded decisions for the moderators' pages: what a reviewer needs beside a queued
comment (its evidence, the parent comment, the author's history), the dashboard's aggregates, a policy
preview over recorded outcomes, and the model versions with their metrics.

Everything here reads; nothing decides. The pages show these beside the queue, decision and policy
functions the JSON API uses.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from model import artifact
from moderation.decisions import decision_from_row, lone_sentences
from moderation.errors import NotFound
from moderation.policy import RecordedOutcome, preview
from moderation.policy_changes import ModelThresholds, get_policy
from moderation.policy_document import policy_from_document
from moderation.service import get_comment
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import registry

PREVIEW_ROWS = 20_000
DASHBOARD_DAYS = 14


def _reason_text(decision: Mapping[str, Any]) -> str | None:
    if decision.get("note"):
        return str(decision["note"])
    reasons = decision.get("reasons") or []
    return str(reasons[0]["detail"]) if reasons else None


def author_history(store: Store, author_id: str) -> dict[str, Any]:
    """An author's comments so far: how many, approved, rejected, queued, and the last rejection's reason."""
    with store.read() as db:
        counts = st.author_counts(db, author_id)
        last = st.last_rejection_for_author(db, author_id)
    last_decision = None if last is None else decision_from_row(last)
    return {
        "author_id": author_id,
        **{name: int(counts[name]) for name in ("comments", "approved", "rejected", "queued")},
        "last_rejection": None
        if last_decision is None
        else {
            "comment_id": last_decision["comment_id"],
            "at": last_decision["at"],
            "actor_type": last_decision["actor_type"],
            "reason": _reason_text(last_decision),
        },
    }


def evidence(comment: Mapping[str, Any]) -> dict[str, Any] | None:
    """The latest model or rule decision in a comment's history (scores, thresholds, reasons, spans)."""
    for decision in reversed(comment["decisions"]):
        if decision["actor_type"] in ("model", "rule"):
            return dict(decision)
    return None


def review_context(store: Store, comment_id: str) -> dict[str, Any]:
    """What a moderator sees beside a queued comment: the comment and its history, the model's evidence,
    the parent comment when it is a reply (None if the site never sent it), and the author's history."""
    comment = get_comment(store, comment_id)
    parent = None
    if comment["parent_id"]:
        try:
            parent = get_comment(store, comment["parent_id"])
        except NotFound:
            parent = {"id": comment["parent_id"], "missing": True}
    return {
        "comment": comment,
        "evidence": evidence(comment),
        "parent": parent,
        "author": author_history(store, comment["author_id"]),
    }


# ---------------------------------------------------------------------------
# The dashboard


def _precision(agreed: int, total: int) -> float | None:
    return agreed / total if total else None


def dashboard(store: Store, days: int = DASHBOARD_DAYS, now: datetime | None = None) -> dict[str, Any]:
    """Queue depth and oldest item; decisions per day by actor; overturned automatic decisions; queue outcomes
    per category (the live precision of the review thresholds) over the last `days` days."""
    moment = now or st.utcnow()
    since = st.iso((moment - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0))
    with store.read() as db:
        depth = {
            "review": st.count_queue(db, st.QueueFilters(state="pending", appealed=False)),
            "appeal": st.count_queue(db, st.QueueFilters(state="pending", appealed=True)),
        }
        oldest = st.oldest_pending_item(db)
        per_day = st.decision_counts_by_day(db, since)
        automatic = st.automatic_decision_counts(db, since)
        overturned = st.overturned_automatic_counts(db, since)
        outcomes = st.queue_outcome_counts(db, since)

    day_names = [(moment - timedelta(days=offset)).strftime("%Y-%m-%d") for offset in range(days - 1, -1, -1)]
    series: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(day_names, 0))
    for row in per_day:
        # Model and rule decisions are one actor each; moderators are told apart by key or user.
        actor = None if row["actor_type"] in ("model", "rule") else row["actor"]
        if row["day"] in day_names:
            series[(row["actor_type"], actor)][row["day"]] += int(row["n"])

    auto: dict[str, dict[str, int]] = defaultdict(lambda: {"decisions": 0, "overturned": 0})
    for row in automatic:
        auto[row["action"]]["decisions"] += int(row["n"])
    for row in overturned:
        auto[row["action"]]["overturned"] += int(row["n"])
    auto_total = sum(entry["decisions"] for entry in auto.values())
    overturned_total = sum(entry["overturned"] for entry in auto.values())

    categories: dict[str, dict[str, int]] = defaultdict(
        lambda: {"approved": 0, "rejected": 0, "appeals_upheld": 0, "appeals_overturned": 0}
    )
    for row in outcomes:
        entry = categories[row["category"] or "(rules only)"]
        if row["appealed"]:
            entry["appeals_upheld" if row["action"] == "reject" else "appeals_overturned"] += int(row["n"])
        else:
            entry["rejected" if row["action"] == "reject" else "approved"] += int(row["n"])
    per_category = {
        name: {
            **entry,
            "review_precision": _precision(entry["rejected"], entry["rejected"] + entry["approved"]),
            "reject_precision": _precision(
                entry["appeals_upheld"], entry["appeals_upheld"] + entry["appeals_overturned"]
            ),
        }
        for name, entry in sorted(categories.items())
    }
    oldest_age = None
    if oldest is not None:
        oldest_age = max((moment - st.from_iso(oldest["enqueued_at"])).total_seconds(), 0.0)
    return {
        "since": since,
        "days": day_names,
        "depth": depth,
        "oldest": None if oldest is None else {**oldest, "age_seconds": oldest_age},
        "per_day": [
            {"actor_type": actor_type, "actor": actor, "counts": [counts[d] for d in day_names]}
            for (actor_type, actor), counts in sorted(series.items(), key=lambda pair: (pair[0][0], pair[0][1] or ""))
        ],
        "automatic": {
            "decisions": auto_total,
            "overturned": overturned_total,
            "rate": _precision(overturned_total, auto_total),
            "by_action": {action: dict(entry) for action, entry in sorted(auto.items())},
        },
        "categories": per_category,
    }


# ---------------------------------------------------------------------------
# Policy preview over recorded decisions


def recorded_outcomes(store: Store, limit: int = PREVIEW_ROWS) -> list[RecordedOutcome]:
    """The newest submissions' recorded scores, each with the moderators' latest verdict on it if any."""
    with store.read() as db:
        rows = st.recorded_outcome_rows(db, limit)
    return [
        RecordedOutcome(
            scores=json.loads(row["scores"]),
            section=row["section"],
            human_action=row["human_action"] if row["human_action"] in ("approve", "reject") else None,
            sentences=lone_sentences(row["sentences"]),
        )
        for row in rows
    ]


def preview_policy(
    store: Store,
    scorer: ModelThresholds,
    document: Mapping[str, Any],
    limit: int = PREVIEW_ROWS,
    *,
    as_stored: bool = False,
) -> dict[str, Any]:
    """`policy.preview` of a policy document (Invalid names bad fields; `as_stored` for the one in force) and of
    the policy in force, side by side, over the same recorded outcomes."""
    edited = policy_from_document(document, scorer.thresholds, as_stored=as_stored)
    outcomes = recorded_outcomes(store, limit)
    return {
        "edited": preview(edited, outcomes),
        "current": preview(get_policy(store, scorer), outcomes),
    }


# ---------------------------------------------------------------------------
# Model versions with their metrics


def version_metrics(settings: Settings, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """A registered version's hold-out metrics and thresholds from its file's manifest (None if unreadable)."""
    try:
        manifest = artifact.read_manifest(registry.version_path(settings, dict(entry)))
    except (OSError, ValueError, KeyError, artifact.ModelLoadError):
        return None
    categories = ((manifest.get("metrics") or {}).get("holdout") or {}).get("categories") or {}
    return {
        "not_measured_because": None if categories else _why_not_measured(manifest),
        "created_at": manifest.get("created_at"),
        "rows": manifest.get("rows"),
        "corpora": [corpus.get("name") for corpus in manifest.get("corpora") or [] if isinstance(corpus, dict)],
        "thresholds": manifest.get("thresholds") or {},
        "categories": {
            name: {
                "roc_auc": values.get("roc_auc"),
                "average_precision": values.get("average_precision"),
                "review_precision": (values.get("review") or {}).get("precision"),
                "review_recall": (values.get("review") or {}).get("recall"),
                "reject_precision": (values.get("reject") or {}).get("precision"),
                "reject_recall": (values.get("reject") or {}).get("recall"),
            }
            for name, values in sorted(categories.items())
            if isinstance(values, dict)
        },
    }


def _why_not_measured(manifest: Mapping[str, Any]) -> str:
    """Why a version's file records no hold-out metrics, in words for the models page."""
    holdout_rows = (manifest.get("rows") or {}).get("holdout") if isinstance(manifest.get("rows"), dict) else None
    if holdout_rows == 0:
        return (
            "its hold-out had no rows: every labelled comment trained it (a quarter of the verdicts is held out, "
            "so more verdicts give it rows to be measured on)"
        )
    reasons = sorted(
        {
            f"{category}: {entry['reason']}"
            for category, entry in ((manifest.get("comparison") or {}).get("categories") or {}).items()
            if isinstance(entry, dict) and entry.get("reason")
        }
    )
    if reasons:
        return "no category had enough labelled hold-out rows (" + "; ".join(reasons) + ")"
    return "its file records no hold-out metrics"


def model_versions(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """Every registered version (newest first, the active one marked) with its metrics and thresholds."""
    return [{**entry, "metrics": version_metrics(settings, entry)} for entry in registry.list_versions(store)]
