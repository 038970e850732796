"""The decision log's hash chain: sealed on insert under the write lock, backfilled by its migration, and
`moderation verify` names the first row edited, removed or rewritten behind the service's back."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from moderation import queue, service
from moderation.settings import Settings
from moderation.storage import chain, migrations
from moderation.storage import store as st
from moderation.storage.store import Store
from tests.conftest import ModerationRunner, WordListScorer


def submit(store: Store, settings: Settings, count: int, prefix: str = "c") -> None:
    scorer = WordListScorer()
    for i in range(count):
        text = "what a clown" if i % 3 == 0 else f"a fair point number {i}"
        payload = {"id": f"{prefix}{i}", "text": text, "article_id": "a", "author_id": f"u{i % 4}"}
        service.submit_comment(store, scorer, settings, payload, "site-key")


def tamper(db_path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the file the way someone with shell access would: raw sqlite3, append-only guards dropped."""
    with sqlite3.connect(db_path) as db:
        db.execute("DROP TRIGGER IF EXISTS decisions_append_only_update")
        db.execute("DROP TRIGGER IF EXISTS decisions_append_only_delete")
        db.execute(sql, params)


def test_every_decision_links_to_the_one_before(store: Store, settings: Settings) -> None:
    submit(store, settings, 12)
    claimed = queue.claim_next(store, "mod-1")
    assert claimed is not None
    queue.decide_item(store, claimed["id"], "mod-1", "approve", version=claimed["version"])
    with store.read() as db:
        rows = list(st.iter_decisions_for_chain(db, batch=5))
    assert [row["id"] for row in rows] == list(range(1, 14))
    assert rows[0]["prev_hash"] == chain.GENESIS
    for before, row in zip(rows, rows[1:], strict=False):
        assert row["prev_hash"] == before["row_hash"] and row["row_hash"] == chain.row_hash(row)
    report = st.verify_chain(store)
    assert report.ok and report.rows == 13 and report.head_id == 13 and report.head_hash == rows[-1]["row_hash"]


def test_the_chain_covers_every_column_of_the_decisions_table(store: Store) -> None:
    with store.read() as db:
        assert set(st.decision_columns(db)) == chain.CHAIN_COLUMNS


def test_columns_added_later_leave_the_hash_of_a_row_sealed_before_them() -> None:
    row = {column: None for column in chain.HASHED_COLUMNS} | {"id": 7, "comment_id": "c7", "action": "approve"}

    def sealed_as(values: list[object]) -> str:
        return hashlib.sha256(json.dumps(values, separators=(",", ":")).encode("ascii")).hexdigest()

    base = [row.get(column) for column in chain.HASHED_COLUMNS]
    assert chain.row_hash(row) == sealed_as(base)  # sealed before migration 8
    staged = {**row, "stage": 2, "route_reason": "toxicity 0.4"}
    assert chain.row_hash(staged) == sealed_as([*base, 2, "toxicity 0.4"])  # sealed between migrations 8 and 10
    lone = '[{"start":0,"end":9,"scores":{"toxicity":0.9}}]'
    assert chain.row_hash({**staged, "sentences": lone}) == sealed_as([*base, 2, "toxicity 0.4", lone])
    assert chain.row_hash({**row, "sentences": lone}) == sealed_as([*base, None, None, lone])
    assert len({chain.row_hash(r) for r in (row, staged, {**row, "sentences": lone})}) == 3


def test_an_edited_row_is_named(store: Store, settings: Settings, db_path: Path) -> None:
    submit(store, settings, 10)
    tamper(db_path, "UPDATE decisions SET status = 'approved', action = 'approve' WHERE id = 4")
    report = st.verify_chain(store)
    assert not report.ok and report.broken_id == 4 and "row_hash" in (report.problem or "")
    assert report.head_id == 3  # the last row that still holds


def test_a_removed_row_is_named_by_the_row_after_it(store: Store, settings: Settings, db_path: Path) -> None:
    submit(store, settings, 10)
    tamper(db_path, "DELETE FROM decisions WHERE id = 6")
    report = st.verify_chain(store)
    assert report.broken_id == 7 and "row 5" in (report.problem or "")


def test_a_rewritten_tail_is_caught_by_an_anchor(store: Store, settings: Settings, db_path: Path) -> None:
    submit(store, settings, 8)
    head = st.verify_chain(store)
    # Someone who knows the algorithm edits row 3 and recomputes every hash after it.
    tamper(db_path, "UPDATE decisions SET status = 'rejected', action = 'reject' WHERE id = 3")
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        previous = db.execute("SELECT row_hash FROM decisions WHERE id = 2").fetchone()[0]
        for row in db.execute("SELECT * FROM decisions WHERE id >= 3 ORDER BY id").fetchall():
            fields = {**dict(row), "prev_hash": previous}
            previous = chain.row_hash(fields)
            db.execute(
                "UPDATE decisions SET prev_hash = ?, row_hash = ? WHERE id = ?",
                (fields["prev_hash"], previous, row["id"]),
            )
    assert st.verify_chain(store).ok  # the chain alone cannot tell...
    anchored = st.verify_chain(store, {head.head_id or 0: head.head_hash})
    assert not anchored.ok and anchored.broken_id == head.head_id  # ...a head recorded elsewhere can


def test_inserting_a_decision_outside_a_write_transaction_is_refused(store: Store) -> None:
    with store.read() as db, pytest.raises(RuntimeError):
        st.insert_decision(db, {"comment_id": "c1"})


def test_the_migration_chains_decisions_recorded_before_it(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chained = next(m for m in migrations.MIGRATIONS if m.then is not None and "hash chain" in m.name)
    earlier = tuple(m for m in migrations.MIGRATIONS if m.version < chained.version)
    monkeypatch.setattr(migrations, "MIGRATIONS", earlier)
    old = Store(db_path)
    with old.write() as db:
        for i in range(5):
            db.execute(
                "INSERT INTO comments (id, text, article_id, author_id, received_at, status)"
                " VALUES (?, 'old text', 'a', 'u', '2025-01-01T00:00:00.000000Z', 'approved')",
                (f"old{i}",),
            )
            db.execute(
                "INSERT INTO decisions (comment_id, at, actor_type, kind, action, status)"
                " VALUES (?, '2025-01-01T00:00:00.000000Z', 'model', 'submission', 'approve', 'approved')",
                (f"old{i}",),
            )
    old.close()
    monkeypatch.undo()
    store = Store(db_path)  # migrates on open
    report = st.verify_chain(store)
    assert report.ok and report.rows == 5
    with store.write() as db, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE decisions SET note = 'x' WHERE id = 1")
    store.close()


def _submit_in_child(db_path: str, prefix: str) -> None:
    settings = Settings.from_env({"MODERATION_DB": db_path, "MODERATION_SECRET_KEY": "s"})
    store = Store.from_settings(settings)
    submit(store, settings, 40, prefix)
    store.close()


def test_writers_in_several_processes_keep_one_linear_chain(store: Store, settings: Settings, db_path: Path) -> None:
    store.close()
    context = mp.get_context("fork")
    children = [context.Process(target=_submit_in_child, args=(str(db_path), f"p{n}-")) for n in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    report = st.verify_chain(store)
    assert report.ok and report.rows == 160


def test_verify_command(runner: ModerationRunner, store: Store, settings: Settings, db_path: Path) -> None:
    submit(store, settings, 6)
    result = runner.invoke("verify")
    assert result.exit_code == 0, result.output
    assert "integrity: ok" in result.output and "6 rows intact" in result.output
    head = result.output.split("head ")[1].split()[0]
    assert runner.invoke("verify", "--anchor", head).exit_code == 0
    tamper(db_path, "UPDATE decisions SET scores = '{}' WHERE id = 5")
    broken = runner.invoke("verify")
    assert broken.exit_code == 1 and "BROKEN at row 5" in broken.output
    as_json = runner.invoke("verify", "--json")
    assert '"broken_id": 5' in as_json.output
    assert runner.invoke("verify", str(db_path.with_name("missing.db"))).exit_code != 0
    assert runner.invoke("verify", "--anchor", "nonsense").exit_code == 2
