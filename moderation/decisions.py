"""The decision log: every decision by model, rule or moderator, filtered, paginated and exported as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Json

from model.types import LoneSentence
from moderation.errors import Invalid
from moderation.paging import check_limit, id_cursor
from moderation.records import Record
from moderation.storage import store as st
from moderation.storage.store import Store

ACTOR_TYPES: tuple[str, ...] = ("model", "rule", "moderator")
STATUSES: tuple[str, ...] = ("approved", "queued", "rejected")
MAX_PAGE = 1000

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "comment_id",
    "article_id",
    "section",
    "kind",
    "actor_type",
    "actor",
    "action",
    "status",
    "would_action",
    "top_category",
    "model_version",
    "note",
    "supersedes",
    "scores",
    "thresholds",
    "reasons",
)


JSON_COLUMNS: tuple[str, ...] = ("scores", "thresholds", "reasons", "spans", "sentences")


class NewDecision(Record):
    """A decision about to be appended to the log, by the model, a rule or a moderator: its columns, decoded."""

    model_config = ConfigDict(strict=False)

    comment_id: str
    at: str
    actor_type: Literal["model", "rule", "moderator"]
    actor: str | None
    kind: str
    action: str
    status: Literal["approved", "queued", "rejected"]
    would_action: str | None
    top_category: str | None = None
    model_version: str | None = None
    scores: dict[str, float] | None = None
    thresholds: dict[str, Any] | None = None
    reasons: list[dict[str, Any]] | None = None
    spans: list[dict[str, Any]] | None = None
    note: str | None = None
    queue_item_id: int | None = None
    supersedes: int | None = None
    stage: int | None = None
    route_reason: str | None = None
    # The lone sentences a cascade read: [{"start", "end", "scores"}] (their text is the comment's).
    sentences: list[dict[str, Any]] | None = None

    def row(self) -> dict[str, Any]:
        """The row to append: the columns given, JSON columns as text (the store fills in the others)."""
        values = self.model_dump(exclude_unset=True)
        for column in JSON_COLUMNS:
            if values.get(column) is not None:
                values[column] = json.dumps(values[column])
        return values


def recorded_sentences(sentences: Iterable[LoneSentence]) -> list[dict[str, Any]] | None:
    """Lone sentences as a decision's `sentences` column keeps them: place and scores, no text (the comment's)."""
    return [{"start": s.start, "end": s.end, "scores": dict(s.scores)} for s in sentences] or None


def lone_sentences(column: str | None) -> tuple[LoneSentence, ...]:
    """A decision's `sentences` column read back (recorded_sentences' inverse; the text is left empty)."""
    return tuple(LoneSentence(int(s["start"]), int(s["end"]), "", s["scores"]) for s in json.loads(column or "[]"))


class LoggedDecision(NewDecision):
    """A decision as the log keeps it: its row, the JSON columns decoded, and (in listings) its comment's article
    and section; `prev_hash` and `row_hash` link it into the tamper-evident chain."""

    id: int
    scores: Json[dict[str, float]] | None = None  # type: ignore[assignment]
    thresholds: Json[dict[str, Any]] | None = None  # type: ignore[assignment]
    reasons: Json[list[dict[str, Any]]] | None = None  # type: ignore[assignment]
    spans: Json[list[dict[str, Any]]] | None = None  # type: ignore[assignment]
    sentences: Json[list[dict[str, Any]]] | None = None  # type: ignore[assignment]
    prev_hash: str | None
    row_hash: str | None
    article_id: str | None = None
    section: str | None = None


def decision_from_row(row: st.Row) -> dict[str, Any]:
    """A decision row as the JSON answer (the columns it has; JSON columns decoded)."""
    return LoggedDecision.model_validate(row).model_dump(exclude_unset=True)


def _moment(value: datetime | str | None, field: str, errors: dict[str, str]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return st.iso(value)
    try:
        return st.iso(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: a time that falls outside years 1-9999 in UTC
        errors[field] = "must be an ISO 8601 date or date and time"
        return None


def _filters(
    since: datetime | str | None,
    until: datetime | str | None,
    actor: str | None,
    actor_type: str | None,
    status: str | None,
    article_id: str | None,
    comment_id: str | None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    filters = {
        "since": _moment(since, "since", errors),
        "until": _moment(until, "until", errors),
        "actor": actor or None,
        "actor_type": actor_type or None,
        "status": status or None,
        "article_id": None if article_id in (None, "") else str(article_id),
        "comment_id": None if comment_id in (None, "") else str(comment_id),
    }
    if filters["actor_type"] is not None and filters["actor_type"] not in ACTOR_TYPES:
        errors["actor_type"] = "must be one of " + ", ".join(ACTOR_TYPES)
    if filters["status"] is not None and filters["status"] not in STATUSES:
        errors["status"] = "must be one of " + ", ".join(STATUSES)
    if errors:
        raise Invalid("Bad decision filters.", fields=errors)
    return filters


def list_decisions(
    store: Store,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    actor: str | None = None,
    actor_type: str | None = None,
    status: str | None = None,
    article_id: str | None = None,
    comment_id: str | None = None,
    limit: int = 100,
    cursor: str | int | None = None,
    order: str = "desc",
) -> dict[str, Any]:
    """One page of decisions (`until` is exclusive); `next_cursor` (a decision id) fetches the next page."""
    if order not in ("asc", "desc"):
        raise Invalid("Bad order.", fields={"order": "must be asc or desc"})
    check_limit(limit, MAX_PAGE)
    filters = _filters(since, until, actor, actor_type, status, article_id, comment_id)
    position = id_cursor(cursor)
    newest_first = order == "desc"
    with store.read() as db:
        rows = st.select_decisions(
            db,
            **filters,
            after_id=None if newest_first else position,
            before_id=position if newest_first else None,
            newest_first=newest_first,
            limit=limit + 1,
        )
    page = rows[:limit]
    next_cursor = str(page[-1]["id"]) if len(rows) > limit else None
    return {"items": [decision_from_row(row) for row in page], "next_cursor": next_cursor}


def iter_decisions(
    store: Store,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    actor: str | None = None,
    actor_type: str | None = None,
    status: str | None = None,
    article_id: str | None = None,
    batch: int = 500,
) -> Iterator[dict[str, Any]]:
    """Every matching decision, oldest first, fetched a page at a time (for streaming exports)."""
    cursor: str | None = None
    while True:
        page = list_decisions(
            store,
            since=since,
            until=until,
            actor=actor,
            actor_type=actor_type,
            status=status,
            article_id=article_id,
            limit=batch,
            cursor=cursor,
            order="asc",
        )
        yield from page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A leading formula character would run as a formula when a moderator opens the CSV in a spreadsheet.
        return "'" + value
    return value


def decisions_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text, a header then one line per decision, yielded line by line for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
        yield buffer.getvalue()
