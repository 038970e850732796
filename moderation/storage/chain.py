"""Tamper evidence for the decision log: every decision row hashes its own fields and the previous row's hash.

`store.insert_decision` seals each new row inside the write transaction that inserts it, so the previous
hash is read under the write lock and the chain stays linear however many workers write. `verify_rows` (over
a database, `store.verify_chain`) walks the chain and names the first row whose hash or link does not hold: a
row edited, deleted, inserted or reordered behind the service's back. Someone able to rewrite the file could
recompute every later hash too; recording the head (`moderation verify` prints it) somewhere else and checking
it later with `--anchor` catches that. This module is pure: it never reads the database itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

# What a row's hash covers: every column of `decisions` except `row_hash` itself, in this fixed order.
# A migration that adds a column to decisions must add it here (verify fails while the two differ).
HASHED_COLUMNS: tuple[str, ...] = (
    "id",
    "comment_id",
    "at",
    "actor_type",
    "actor",
    "kind",
    "action",
    "status",
    "would_action",
    "top_category",
    "model_version",
    "scores",
    "thresholds",
    "reasons",
    "spans",
    "note",
    "queue_item_id",
    "supersedes",
    "prev_hash",
)
# Columns added after rows were sealed, one tuple per migration that added them, in the order they came
# (migration 8: which cascade stage scored a submission, and why; migration 10: the scores of the lone sentences
# a cascade read). They are hashed after the others, up to the last tuple with a value set, so a row sealed
# before a tuple existed keeps its hash.
LATER_GROUPS: tuple[tuple[str, ...], ...] = (("stage", "route_reason"), ("sentences",))
LATER_COLUMNS: tuple[str, ...] = tuple(column for group in LATER_GROUPS for column in group)
CHAIN_COLUMNS: frozenset[str] = frozenset({*HASHED_COLUMNS, *LATER_COLUMNS, "row_hash"})


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 hex of the row's hashed columns as a canonical JSON array (fixed order, ASCII, no spaces)."""
    values = [row.get(column) for column in HASHED_COLUMNS]
    later = [[row.get(column) for column in group] for group in LATER_GROUPS]
    while later and all(value is None for value in later[-1]):
        later.pop()
    for group in later:
        values += group
    canonical = json.dumps(values, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the decision chain."""

    rows: int
    head_id: int | None
    head_hash: str
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every row's hash and link held."""
        return self.broken_id is None and self.problem is None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "broken_id": self.broken_id,
            "problem": self.problem,
        }


def verify_rows(rows: Iterable[Mapping[str, Any]], anchors: Mapping[int, str] | None = None) -> ChainReport:
    """Walk decision rows in id order; the report names the first row whose hash or link is wrong.

    `anchors` maps row ids to hashes recorded earlier (e.g. a head printed by a past verify); a row that no
    longer has its recorded hash, or is gone, breaks the chain even if every later hash was recomputed.
    """
    expected_prev = GENESIS
    previous_id: int | None = None
    count = 0
    pending = dict(anchors or {})
    for row in rows:
        row_id = int(row["id"])
        count += 1
        if row.get("prev_hash") != expected_prev:
            before = "the start of the log" if previous_id is None else f"row {previous_id}"
            return ChainReport(
                count,
                previous_id,
                expected_prev,
                row_id,
                f"prev_hash does not match {before}; a row before it was removed, inserted or edited",
            )
        if row.get("row_hash") != row_hash(row):
            return ChainReport(
                count, previous_id, expected_prev, row_id, "its fields do not match its row_hash (edited)"
            )
        anchored = pending.pop(row_id, None)
        if anchored is not None and anchored != row["row_hash"]:
            return ChainReport(
                count,
                previous_id,
                expected_prev,
                row_id,
                "its hash is not the one recorded for it; the log was rewritten from here on",
            )
        expected_prev = str(row["row_hash"])
        previous_id = row_id
    if pending:
        missing = min(pending)
        return ChainReport(count, previous_id, expected_prev, missing, "recorded earlier, no longer in the log")
    return ChainReport(count, previous_id, expected_prev)
