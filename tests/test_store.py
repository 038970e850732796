"""The store: migrations, pragmas, append-only decisions, short BEGIN IMMEDIATE writes, typed failures."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from moderation.errors import Unavailable
from moderation.storage import migrations
from moderation.storage import store as st
from moderation.storage.store import Store


def _seed_comment_and_decision(store: Store) -> int:
    with store.write() as db:
        st.insert_comment(
            db,
            {
                "id": "c1",
                "text": "hello",
                "article_id": "a1",
                "author_id": "u1",
                "received_at": "2026-01-01T00:00:00.000000Z",
                "status": "approved",
            },
        )
        return st.insert_decision(
            db,
            {
                "comment_id": "c1",
                "at": "2026-01-01T00:00:00.000000Z",
                "actor_type": "model",
                "kind": "submission",
                "action": "approve",
                "status": "approved",
            },
        )


def test_store_opens_nothing_until_first_use(db_path: Path) -> None:
    store = Store(db_path)
    assert not db_path.exists()
    with store.read() as db:
        assert "comments" in db.table_names()
    assert db_path.exists()


def test_migrations_are_applied_at_start_and_idempotent(store: Store) -> None:
    with store.read() as db:
        assert migrations.applied_versions(db) == [m.version for m in migrations.MIGRATIONS]
        tables = set(db.table_names())
    assert {
        "api_keys",
        "comments",
        "decisions",
        "queue_items",
        "labels",
        "policy_changes",
        "outbox",
    } <= tables
    assert store.migrate() == []
    assert store.migrate() == []
    with store.read() as db:
        assert db["schema_migrations"].count == len(migrations.MIGRATIONS)


def test_migrations_apply_once_when_two_stores_start_together(db_path: Path) -> None:
    first, second = Store(db_path, migrate=False), Store(db_path, migrate=False)
    assert first.migrate() == [m.version for m in migrations.MIGRATIONS]
    assert second.migrate() == []


def test_wal_busy_timeout_and_synchronous_are_set(store: Store, db_path: Path) -> None:
    with store.read() as db:
        assert st.pragma(db, "journal_mode") == "wal"
        assert st.pragma(db, "busy_timeout") == 5000
        assert st.pragma(db, "synchronous") == 1  # NORMAL
        assert st.pragma(db, "foreign_keys") == 1
    full = Store(db_path, synchronous="FULL", busy_timeout_ms=1234)
    with full.read() as db:
        assert st.pragma(db, "synchronous") == 2
        assert st.pragma(db, "busy_timeout") == 1234
    full.close()


def test_decisions_refuse_update_and_delete_even_in_raw_sql(store: Store, db_path: Path) -> None:
    decision_id = _seed_comment_and_decision(store)
    raw = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE decisions SET status = 'rejected' WHERE id = ?", (decision_id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM decisions WHERE id = ?", (decision_id,))
    raw.rollback()
    assert raw.execute("SELECT status FROM decisions").fetchall() == [("approved",)]
    raw.close()


def test_policy_changes_are_append_only(store: Store, db_path: Path) -> None:
    with store.write() as db:
        st.insert_policy_change(db, "2026-01-01T00:00:00.000000Z", None, "{}")
    raw = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE policy_changes SET document = '{\"max_links\": 9}'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM policy_changes")
    raw.close()


def test_write_begins_immediate_and_rolls_back_on_error(store: Store) -> None:
    statements: list[str] = []
    with store.read() as db:
        db.conn.set_trace_callback(statements.append)
    with pytest.raises(RuntimeError), store.write() as db:
        st.insert_policy_change(db, "2026-01-01T00:00:00.000000Z", None, "{}")
        raise RuntimeError("boom")
    with store.read() as db:
        db.conn.set_trace_callback(None)
        assert st.latest_policy_change_id(db) is None
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[-1] == "ROLLBACK"


def test_writer_waiting_past_busy_timeout_gets_unavailable(db_path: Path) -> None:
    store = Store(db_path, busy_timeout_ms=100)
    store.migrate()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Unavailable, match="busy"), store.write():
            pass
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with store.write():
        pass  # the lock is free again and the connection still usable
    store.close()


def test_disk_full_inside_a_write_is_unavailable_and_nothing_is_kept(store: Store) -> None:
    with store.read() as db:
        pages = st.pragma(db, "page_count")
        db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(Unavailable, match="disk is full"), store.write() as db:
        for n in range(200):
            st.insert_policy_change(db, "2026-01-01T00:00:00.000000Z", None, "x" * 4000 + str(n))
    with store.read() as db:
        assert st.latest_policy_change_id(db) is None


def test_reads_do_not_wait_for_another_process_writing(store: Store, db_path: Path) -> None:
    _seed_comment_and_decision(store)
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE comments SET status = 'rejected'")
    try:
        with store.read() as db:
            assert st.comment_row(db, "c1")["status"] == "approved"  # type: ignore[index]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_store_reopens_its_connection_in_a_forked_child(store: Store) -> None:
    _seed_comment_and_decision(store)
    parent_db = store.db
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must not touch the parent's connection
        os.close(read)
        try:
            child_db = store.db
            ok = child_db is not parent_db and st.comment_row(child_db, "c1") is not None
            with store.write() as db:
                st.set_comment_status(db, "c1", "rejected")
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert store.db is parent_db
    with store.read() as db:
        assert st.comment_row(db, "c1")["status"] == "rejected"  # type: ignore[index]


def test_threads_share_the_connection_without_mixing_transactions(store: Store) -> None:
    errors: list[BaseException] = []

    def insert_many(prefix: str) -> None:
        try:
            for n in range(50):
                with store.write() as db:
                    st.insert_policy_change(db, f"2026-01-01T00:00:{n:02d}.000000Z", prefix, "{}")
        except BaseException as error:  # noqa: BLE001 - reported to the main thread below
            errors.append(error)

    threads = [threading.Thread(target=insert_many, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.read() as db:
        assert db["policy_changes"].count == 150


def _open_and_write(path: str, results: Any) -> None:
    try:
        store = Store(path)
        with store.write() as db:
            st.insert_policy_change(db, "2026-01-01T00:00:00.000000Z", str(os.getpid()), "{}")
        results.put("ok")
    except Exception as error:  # noqa: BLE001 - reported to the parent process
        results.put(repr(error))


def test_several_processes_opening_a_new_database_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for trial in range(3):
        path = str(tmp_path / f"fresh{trial}.db")
        results = context.Queue()
        workers = [context.Process(target=_open_and_write, args=(path, results)) for _ in range(6)]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert outcomes == ["ok"] * 6
        with Store(path).read() as db:
            assert db["policy_changes"].count == 6
            assert migrations.applied_versions(db) == [m.version for m in migrations.MIGRATIONS]


def test_decision_listeners_hear_of_committed_decisions_only(store: Store) -> None:
    heard: list[tuple[str, str]] = []
    store.decision_listeners.append(lambda status, actor_type: heard.append((status, actor_type)))
    comment = {
        "id": "c1",
        "text": "t",
        "article_id": "a",
        "author_id": "u",
        "received_at": "2026-01-01T00:00:00Z",
        "status": "approved",
    }
    decision = {"comment_id": "c1", "at": "2026-01-01T00:00:00Z", "actor_type": "model", "kind": "submission"}
    with store.write() as db:
        st.insert_comment(db, comment)
        st.insert_decision(db, {**decision, "action": "approve", "status": "approved"})
        assert heard == []  # not before the commit
    assert heard == [("approved", "model")]
    with pytest.raises(RuntimeError), store.write() as db:
        st.insert_decision(db, {**decision, "action": "reject", "status": "rejected", "actor_type": "moderator"})
        raise RuntimeError("rolled back")
    assert heard == [("approved", "model")]  # a rolled-back decision is never counted
