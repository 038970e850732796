"""The store: one SQLite connection per process, short BEGIN IMMEDIATE writes, and every SQL statement.

Other modules never hold SQL: they open `store.write()` (or `store.read()`) and call the small named
functions below with the `db` it yields.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlite_utils import Database

from model import private_files
from moderation.errors import Duplicate, Unavailable
from moderation.settings import SYNCHRONOUS_MODES, Settings
from moderation.storage import chain, migrations

log = logging.getLogger(__name__)

Row = dict[str, Any]
# What the domain calls an open connection inside `Store.read()` or `Store.write()`: it names no driver type.
Transaction = Database
MAX_ROWID = 2**63 - 1  # the largest integer SQLite stores; larger Python ints cannot even be bound


# ---------------------------------------------------------------------------
# Time: stored as fixed-width ISO-8601 UTC text, so comparing strings compares instants.


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A datetime as stored: UTC, microseconds, `Z` (naive datetimes are taken to be UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> datetime:
    """A stored timestamp back as an aware datetime."""
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------------
# The connection


_write_guard: Callable[[], AbstractContextManager[object]] = nullcontext


# The (status, actor type) of each decision inserted in the write transaction under way in this context, so that
# `Store.write` can tell its listeners (the service's metrics) once the transaction has committed, and never for
# one rolled back.
_INSERTED_DECISIONS: ContextVar[list[tuple[str, str]] | None] = ContextVar("inserted_decisions", default=None)


def guard_writes(guard: Callable[[], AbstractContextManager[object]]) -> None:
    """Run each write transaction of this process inside `guard()` (a retrain job's pause lock: job_process)."""
    global _write_guard
    _write_guard = guard


class Store:
    """The database file and this process's one connection to it, opened on first use."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        migrate: bool = True,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self.busy_timeout_ms = busy_timeout_ms
        self.auto_migrate = migrate
        # Per-process memo of values derived from rows (e.g. the parsed policy); each user re-validates it.
        self.memo: dict[str, Any] = {}
        # Told (status, actor type) of every decision a committed write recorded: where decisions are counted.
        self.decision_listeners: list[Callable[[str, str], None]] = []
        self._db: Database | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._inherited: list[Database] = []

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> Store:
        """A store for the configured database file."""
        return cls(
            settings.db_path,
            synchronous=settings.synchronous,
            busy_timeout_ms=settings.busy_timeout_ms,
            migrate=migrate,
        )

    def __repr__(self) -> str:
        return f"<Store {self.path}>"

    @property
    def db(self) -> Database:
        """This process's connection, wrapped in sqlite_utils; opened (and migrated) on first use."""
        with self._process_lock():
            if self._db is None:
                self._db = self._open()
            return self._db

    def _process_lock(self) -> threading.RLock:
        # Checked before locking: a lock inherited through fork() may be held by a parent thread forever.
        if self._pid != os.getpid():
            self._after_fork()
        return self._lock

    def _after_fork(self) -> None:
        if self._db is not None:
            # SQLite forbids using a connection across fork(), and closing it in the child could
            # disturb the parent's locks: keep the inherited handle alive, unused, and open a new one.
            self._inherited.append(self._db)
            self._db = None
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self.memo = {}

    def _open(self) -> Database:
        private_files.make_dir(self.path.parent)
        _make_database_file_private(self.path)
        conn = sqlite3.connect(
            str(self.path),
            isolation_level=None,
            check_same_thread=False,
            timeout=self.busy_timeout_ms / 1000,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            self._enable_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            db = Database(conn, execute_plugins=False)
            if self.auto_migrate and not migrations.is_current(db):
                migrations.apply(db)
        except sqlite3.OperationalError as error:
            conn.close()
            _raise_typed(error)
        return db

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # WAL is persistent in the file, so this only switches a new database. The switch can fail at
        # once with "database is locked" (no busy handler) while another process is switching or migrating.
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() == "wal":
                return
            raise sqlite3.OperationalError(f"could not switch {self.path} to WAL mode (got {mode})")

    def close(self) -> None:
        """Close this process's connection (the next use opens a new one)."""
        with self._process_lock():
            if self._db is not None:
                self._db.close()
            self._db = None

    def migrate(self) -> list[int]:
        """Apply pending migrations now; return the versions applied."""
        with self._process_lock():
            return migrations.apply(self.db)

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One short write transaction, BEGIN IMMEDIATE; commits on success, rolls back on any error."""
        with self._process_lock(), _write_guard():
            db = self.db
            conn = db.conn
            try:
                # IMMEDIATE takes the write lock now, waiting up to busy_timeout; a deferred BEGIN would
                # upgrade later and fail at once ("database is locked") when another writer got there first.
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                _raise_typed(error)
            inserted: list[tuple[str, str]] = []
            token = _INSERTED_DECISIONS.set(inserted)
            try:
                yield db
                conn.execute("COMMIT")
            except sqlite3.OperationalError as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                _raise_typed(error)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                _INSERTED_DECISIONS.reset(token)
        for status, actor_type in inserted:
            for listener in self.decision_listeners:
                listener(status, actor_type)

    @contextmanager
    def read(self) -> Iterator[Database]:
        """The connection for reads; WAL lets them run beside other processes' writes without waiting."""
        with self._process_lock():
            try:
                yield self.db
            except sqlite3.OperationalError as error:
                _raise_typed(error)


def _make_database_file_private(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it (SQLite gives its -wal and -shm the file's mode);
    an existing one that others may read is made private, with its -wal and -shm."""
    try:
        os.close(private_files.create_file(path))
        return
    except FileExistsError:
        pass
    except OSError as error:
        raise Unavailable(f"The database file {path} cannot be created: {error.strerror}") from error
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if private_files.make_owned_file_private(file):
                log.warning("%s was readable by other users; it is now readable by its owner only", file)
        except OSError as error:  # e.g. a read-only mount: SQLite may still read it
            log.warning("could not make %s private: %s", file, error.strerror)


def _raise_typed(error: sqlite3.OperationalError) -> NoReturn:
    typed = _translate(error)
    if typed is error:
        raise error
    raise typed from error


def _translate(error: sqlite3.OperationalError) -> Exception:
    """Unavailable for a database that cannot serve now (disk full, busy too long), else the error."""
    name = getattr(error, "sqlite_errorname", "")
    message = str(error)
    if name == "SQLITE_FULL" or "database or disk is full" in message:
        return Unavailable("The database disk is full; nothing was recorded.")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "database is locked" in message:
        return Unavailable("The database is busy; try again.")
    if name in ("SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY"):
        return Unavailable(f"The database cannot be written: {message}")
    return error


# ---------------------------------------------------------------------------
# Small helpers


def _one(db: Database, sql: str, params: Sequence[Any] = ()) -> Row | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _all(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _insert(db: Database, table: str, row: Mapping[str, Any]) -> int:
    # Column names come from our own code, never from requests; values are always parameters.
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    try:
        cursor = db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
    except sqlite3.IntegrityError as error:
        if "UNIQUE" not in str(error):
            raise
        raise Duplicate(f"A {table} row with this key is already stored.") from error
    return int(cursor.lastrowid or 0)


def pragma(db: Database, name: str) -> Any:
    """The value of one PRAGMA (journal_mode, busy_timeout, synchronous...)."""
    row = db.execute(f"PRAGMA {name}").fetchone()
    return None if row is None else row[0]


def integrity_problems(db: Database) -> list[str]:
    """What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` find; empty when the file is sound."""
    found = [str(row[0]) for row in db.execute("PRAGMA integrity_check").fetchall()]
    problems = [] if found == ["ok"] else found
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall():
        problems.append(f"{table} row {rowid} refers to a missing {parent} row")
    return problems


def vacuum_into(db: Database, target: str) -> None:
    """Write a consistent, compacted copy of the database to a new file (one read snapshot; writers go on)."""
    db.execute("VACUUM INTO ?", (target,))


def set_max_page_count(db: Database, pages: int) -> int:
    """Cap how large this connection may grow the file (pages); the cap now in force. For fault tests."""
    row = db.execute(f"PRAGMA max_page_count = {int(pages)}").fetchone()
    return int(row[0])


# ---------------------------------------------------------------------------
# API keys


def insert_key(db: Database, row: Mapping[str, Any]) -> None:
    """Add one API key row (id, name, role, key_hash, created_at)."""
    _insert(db, "api_keys", row)


def key_row(db: Database, key_id: str) -> Row | None:
    """One API key row by id, or None."""
    return _one(db, "SELECT * FROM api_keys WHERE id = ?", (key_id,))


def key_rows(db: Database, include_revoked: bool = True) -> list[Row]:
    """Every API key row, oldest first (hashes included; callers drop them)."""
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    return _all(db, f"SELECT * FROM api_keys {where} ORDER BY created_at, id")


def mark_key_revoked(db: Database, key_id: str, at: str) -> int:
    """Revoke a key unless already revoked; the number of rows changed."""
    cursor = db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (at, key_id))
    return cursor.rowcount


def count_active_keys(db: Database, role: str) -> int:
    """How many unrevoked keys have this role."""
    row = db.execute("SELECT count(*) FROM api_keys WHERE role = ? AND revoked_at IS NULL", (role,)).fetchone()
    return int(row[0])


# ---------------------------------------------------------------------------
# Comments


def comment_row(db: Database, comment_id: str) -> Row | None:
    """One comment row by the site's id, or None."""
    return _one(db, "SELECT * FROM comments WHERE id = ?", (comment_id,))


def comment_text(db: Database, comment_id: str) -> str | None:
    """Just the text of a comment (the idempotency check), or None if it is not stored."""
    row = db.execute("SELECT text FROM comments WHERE id = ?", (comment_id,)).fetchone()
    return None if row is None else str(row[0])


def insert_comment(db: Database, row: Mapping[str, Any]) -> None:
    """Add one comment row."""
    _insert(db, "comments", row)


def set_comment_status(db: Database, comment_id: str, status: str) -> None:
    """Change a comment's current status (its decisions keep the history)."""
    db.execute("UPDATE comments SET status = ? WHERE id = ?", (status, comment_id))


def author_history(db: Database, author_id: str, since: str) -> tuple[int, int]:
    """(comments stored for this author, of those received since `since` how many are rejected)."""
    row = db.execute(
        "SELECT count(*), coalesce(sum(received_at >= ? AND status = 'rejected'), 0) FROM comments WHERE author_id = ?",
        (since, author_id),
    ).fetchone()
    return int(row[0]), int(row[1])


def purge_personal_data(db: Database, before: str, at: str, limit: int) -> int:
    """Blank the personal fields of up to `limit` comments received before `before`; how many were purged."""
    cursor = db.execute(
        "UPDATE comments SET ip_hash = NULL, email_hash = NULL, user_agent = NULL, author_name = NULL,"
        " purged_at = ? WHERE rowid IN (SELECT rowid FROM comments"
        " WHERE purged_at IS NULL AND received_at < ? LIMIT ?)",
        (at, before, limit),
    )
    return cursor.rowcount


# ---------------------------------------------------------------------------
# Decisions (append-only)


# Schema defaults of decision columns a caller may leave out; the row is hashed as it will be stored.
_DECISION_DEFAULTS: dict[str, Any] = {"reasons": "[]"}


def insert_decision(db: Database, row: Mapping[str, Any]) -> int:
    """Append one decision row, chained to the previous one (read under this transaction's write lock); its id."""
    if not db.conn.in_transaction:
        raise RuntimeError("decisions are appended inside store.write(), so the chain's last link cannot move")
    covered = (*chain.HASHED_COLUMNS, *chain.LATER_COLUMNS)
    if set(row) - set(covered) or "id" in row or "prev_hash" in row:
        raise ValueError(f"the chain sets id and prev_hash and covers only {covered}: {sorted(row)}")
    last = db.execute("SELECT id, row_hash FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
    sealed = {column: row.get(column, _DECISION_DEFAULTS.get(column)) for column in covered}
    sealed["id"] = 1 if last is None else int(last[0]) + 1
    sealed["prev_hash"] = chain.GENESIS if last is None else last[1]
    sealed["row_hash"] = chain.row_hash(sealed)
    decision_id = _insert(db, "decisions", sealed)
    inserted = _INSERTED_DECISIONS.get()
    if inserted is not None:
        inserted.append((str(sealed["status"]), str(sealed["actor_type"])))
    return decision_id


def decision_columns(db: Database) -> list[str]:
    """The columns the decisions table has now."""
    return [str(row[1]) for row in db.execute("PRAGMA table_info(decisions)").fetchall()]


def iter_decisions_for_chain(db: Database, batch: int = 2000) -> Iterator[Row]:
    """Every decision row in id order, read a batch at a time (for walking the hash chain)."""
    after = -1
    while True:
        rows = _all(db, "SELECT * FROM decisions WHERE id > ? ORDER BY id LIMIT ?", (after, batch))
        yield from rows
        if len(rows) < batch:
            return
        after = int(rows[-1]["id"])


def verify_chain(store: Store, anchors: Mapping[int, str] | None = None) -> chain.ChainReport:
    """Walk this database's decision chain (a read snapshot, so it runs beside the service's writes)."""
    with store.read() as db:
        columns = decision_columns(db)
        if set(columns) != chain.CHAIN_COLUMNS:
            missing = sorted(chain.CHAIN_COLUMNS - set(columns))
            extra = sorted(set(columns) - chain.CHAIN_COLUMNS)
            return chain.ChainReport(
                0,
                None,
                chain.GENESIS,
                None,
                f"the decisions table does not have the chained columns (missing {missing}, not hashed {extra})",
            )
        # Rows appended while this walks only extend the chain; it reads in id order, a batch at a time.
        return chain.verify_rows(iter_decisions_for_chain(db), anchors)


def decision_row(db: Database, decision_id: int) -> Row | None:
    """One decision row by id, or None."""
    return _one(db, "SELECT * FROM decisions WHERE id = ?", (decision_id,))


def decision_rows_for_comment(db: Database, comment_id: str) -> list[Row]:
    """A comment's decisions, oldest first."""
    return _all(db, "SELECT * FROM decisions WHERE comment_id = ? ORDER BY id", (comment_id,))


def first_decision_row(db: Database, comment_id: str) -> Row | None:
    """The decision made when the comment was submitted."""
    return _one(db, "SELECT * FROM decisions WHERE comment_id = ? ORDER BY id LIMIT 1", (comment_id,))


def latest_decision_row(db: Database, comment_id: str, actor_types: Sequence[str] | None = None) -> Row | None:
    """A comment's most recent decision, optionally only among these actor types."""
    if actor_types:
        marks = ", ".join("?" for _ in actor_types)
        return _one(
            db,
            f"SELECT * FROM decisions WHERE comment_id = ? AND actor_type IN ({marks}) ORDER BY id DESC LIMIT 1",
            (comment_id, *actor_types),
        )
    return _one(db, "SELECT * FROM decisions WHERE comment_id = ? ORDER BY id DESC LIMIT 1", (comment_id,))


def select_decisions(
    db: Database,
    *,
    since: str | None = None,
    until: str | None = None,
    actor: str | None = None,
    actor_type: str | None = None,
    status: str | None = None,
    article_id: str | None = None,
    comment_id: str | None = None,
    after_id: int | None = None,
    before_id: int | None = None,
    newest_first: bool = False,
    limit: int = 100,
) -> list[Row]:
    """Decision rows joined with their comment's article, filtered, in id order, at most `limit`."""
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("d.at >= ?", since),
        ("d.at < ?", until),
        ("d.actor = ?", actor),
        ("d.actor_type = ?", actor_type),
        ("d.status = ?", status),
        ("c.article_id = ?", article_id),
        ("d.comment_id = ?", comment_id),
        ("d.id > ?", after_id),
        ("d.id < ?", before_id),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = (
        "SELECT d.*, c.article_id AS article_id, c.section AS section FROM decisions d"
        " JOIN comments c ON c.id = d.comment_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + (" ORDER BY d.id DESC" if newest_first else " ORDER BY d.id")
        + " LIMIT ?"
    )
    return _all(db, sql, (*params, limit))


# ---------------------------------------------------------------------------
# Review queue


def insert_queue_item(db: Database, row: Mapping[str, Any]) -> int:
    """Add one queue item; its id."""
    return _insert(db, "queue_items", row)


def queue_item_row(db: Database, item_id: int) -> Row | None:
    """One queue item by id, or None."""
    return _one(db, "SELECT * FROM queue_items WHERE id = ?", (item_id,))


def open_queue_item_row(db: Database, comment_id: str) -> Row | None:
    """The pending queue item of a comment, or None."""
    return _one(db, "SELECT * FROM queue_items WHERE comment_id = ? AND state = 'pending'", (comment_id,))


@dataclass(frozen=True)
class QueueFilters:
    """Which queue items to look at; None means any."""

    state: str | None = "pending"
    category: str | None = None
    section: str | None = None
    article_id: str | None = None
    appealed: bool | None = None

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions and their parameters."""
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("q.state = ?", self.state),
            ("q.category = ?", self.category),
            ("q.section = ?", self.section),
            ("q.article_id = ?", self.article_id),
            ("q.appealed = ?", None if self.appealed is None else int(self.appealed)),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        return where, params


_QUEUE_COLUMNS = (
    "q.*, c.text AS text, c.author_id AS author_id, c.author_name AS author_name,"
    " c.article_title AS article_title, c.article_url AS article_url, c.lang AS lang,"
    " c.status AS comment_status"
)
_QUEUE_ORDER = " ORDER BY q.priority DESC, q.enqueued_at, q.id"


def select_queue(
    db: Database,
    filters: QueueFilters,
    *,
    after: tuple[float, str, int] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[Row]:
    """Queue items with their comment, highest priority then oldest first; `after` is a keyset position."""
    where, params = filters.where()
    if after is not None:
        priority, enqueued_at, item_id = after
        where.append("(q.priority < ? OR (q.priority = ? AND (q.enqueued_at > ? OR (q.enqueued_at = ? AND q.id > ?))))")
        params.extend([priority, priority, enqueued_at, enqueued_at, item_id])
    sql = (
        f"SELECT {_QUEUE_COLUMNS} FROM queue_items q JOIN comments c ON c.id = q.comment_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + _QUEUE_ORDER
        + " LIMIT ? OFFSET ?"
    )
    return _all(db, sql, (*params, limit, offset))


def queue_item_with_comment(db: Database, item_id: int) -> Row | None:
    """One queue item with its comment's text and author, or None."""
    return _one(
        db,
        f"SELECT {_QUEUE_COLUMNS} FROM queue_items q JOIN comments c ON c.id = q.comment_id WHERE q.id = ?",
        (item_id,),
    )


def count_queue(db: Database, filters: QueueFilters) -> int:
    """How many queue items match the filters."""
    where, params = filters.where()
    sql = "SELECT count(*) FROM queue_items q" + (" WHERE " + " AND ".join(where) if where else "")
    return int(db.execute(sql, params).fetchone()[0])


def next_claimable_item_id(
    db: Database, moderator: str, now: str, filters: QueueFilters, *, own_claims: bool = False
) -> int | None:
    """The highest-priority pending item nobody holds a live lease on (or, with `own_claims`, this moderator
    does) and this moderator has not skipped."""
    where, params = filters.where()
    where.append("(q.claimed_by IS NULL OR q.claim_expires_at <= ? OR q.claimed_by = ?)")
    params += [now, moderator if own_claims else None]
    where.append("NOT EXISTS (SELECT 1 FROM queue_skips s WHERE s.item_id = q.id AND s.moderator = ?)")
    params.append(moderator)
    sql = "SELECT q.id FROM queue_items q WHERE " + " AND ".join(where) + _QUEUE_ORDER + " LIMIT 1"
    row = db.execute(sql, params).fetchone()
    return None if row is None else int(row[0])


def set_queue_claim(db: Database, item_id: int, version: int, moderator: str | None, expires_at: str | None) -> int:
    """Set or clear an item's claim if it is still at `version`; bumps the version. Rows changed."""
    cursor = db.execute(
        "UPDATE queue_items SET claimed_by = ?, claim_expires_at = ?, version = version + 1"
        " WHERE id = ? AND version = ? AND state = 'pending'",
        (moderator, expires_at, item_id, version),
    )
    return cursor.rowcount


def close_queue_item(db: Database, item_id: int, version: int, decision_id: int, at: str) -> int:
    """Mark an item decided by a decision if it is still at `version`; bumps the version. Rows changed."""
    cursor = db.execute(
        "UPDATE queue_items SET state = 'decided', decided_at = ?, decision_id = ?, claimed_by = NULL,"
        " claim_expires_at = NULL, version = version + 1 WHERE id = ? AND version = ? AND state = 'pending'",
        (at, decision_id, item_id, version),
    )
    return cursor.rowcount


def insert_queue_skip(db: Database, item_id: int, moderator: str, at: str) -> None:
    """Remember that a moderator skipped an item, so claim_next does not hand it to them again."""
    db.execute(
        "INSERT OR REPLACE INTO queue_skips (item_id, moderator, at) VALUES (?, ?, ?)",
        (item_id, moderator, at),
    )


# ---------------------------------------------------------------------------
# Training labels


def insert_label(db: Database, row: Mapping[str, Any]) -> int:
    """Add one training label; its id."""
    return _insert(db, "labels", row)


def label_rows(db: Database, comment_id: str | None = None) -> list[Row]:
    """Labels, oldest first, optionally for one comment."""
    if comment_id is not None:
        return _all(db, "SELECT * FROM labels WHERE comment_id = ? ORDER BY id", (comment_id,))
    return _all(db, "SELECT * FROM labels ORDER BY id")


def latest_labels(db: Database, after_id: int = 0, limit: int = 10_000) -> list[Row]:
    """For retraining: each (comment, category)'s latest label with the comment text, by label id."""
    return _all(
        db,
        "SELECT l.id, l.comment_id, l.category, l.value, l.decision_id, l.at, c.text, c.lang, c.section"
        " FROM labels l JOIN comments c ON c.id = l.comment_id"
        " WHERE l.id > ? AND l.id = (SELECT max(id) FROM labels m"
        " WHERE m.comment_id = l.comment_id AND m.category = l.category)"
        " ORDER BY l.id LIMIT ?",
        (after_id, limit),
    )


# ---------------------------------------------------------------------------
# Policy changes (append-only)


def insert_policy_change(db: Database, at: str, actor_key_id: str | None, document: str) -> int:
    """Append one policy document; its id."""
    return _insert(db, "policy_changes", {"at": at, "actor_key_id": actor_key_id, "document": document})


def latest_policy_change_id(db: Database) -> int | None:
    """The id of the policy in force, or None when none was ever put."""
    row = db.execute("SELECT max(id) FROM policy_changes").fetchone()
    return None if row[0] is None else int(row[0])


def policy_change_row(db: Database, change_id: int) -> Row | None:
    """One policy change by id, or None."""
    return _one(db, "SELECT * FROM policy_changes WHERE id = ?", (change_id,))


def policy_change_rows(db: Database, limit: int = 100, before_id: int | None = None) -> list[Row]:
    """Policy changes, newest first."""
    if before_id is not None:
        return _all(db, "SELECT * FROM policy_changes WHERE id < ? ORDER BY id DESC LIMIT ?", (before_id, limit))
    return _all(db, "SELECT * FROM policy_changes ORDER BY id DESC LIMIT ?", (limit,))


# ---------------------------------------------------------------------------
# Webhook outbox


def insert_outbox_event(db: Database, event_type: str, body: str, at: str) -> int:
    """Queue one event for delivery, due at once; its id."""
    return _insert(db, "outbox", {"event_type": event_type, "body": body, "created_at": at, "next_attempt_at": at})


def lease_due_outbox_events(db: Database, now: str, owner: str, lease_until: str, limit: int) -> list[Row]:
    """Lease up to `limit` due, undelivered events nobody else holds, oldest due first; the leased rows."""
    rows = _all(
        db,
        "SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?"
        " AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY next_attempt_at, id LIMIT ?",
        (now, now, limit),
    )
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    db.execute(
        f"UPDATE outbox SET lease_owner = ?, lease_expires_at = ? WHERE id IN ({marks})",
        (owner, lease_until, *ids),
    )
    return _all(db, f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY next_attempt_at, id", ids)


def mark_outbox_delivered(db: Database, event_id: int, owner: str, at: str, status: int | None = None) -> int:
    """Record a successful delivery by the lease holder, with the site's status. Rows changed."""
    cursor = db.execute(
        "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_attempt_at = ?, last_error = NULL,"
        " last_status = ?, last_location = NULL, lease_owner = NULL, lease_expires_at = NULL"
        " WHERE id = ? AND lease_owner = ?",
        (at, at, status, event_id, owner),
    )
    return cursor.rowcount


def mark_outbox_failed(
    db: Database,
    event_id: int,
    owner: str,
    at: str,
    error: str,
    next_attempt_at: str,
    *,
    status: int | None = None,
    location: str | None = None,
) -> int:
    """Record a failed attempt by the lease holder (the site's status and Location, if it answered). Rows changed."""
    cursor = db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?, next_attempt_at = ?,"
        " last_status = ?, last_location = ?, lease_owner = NULL, lease_expires_at = NULL"
        " WHERE id = ? AND lease_owner = ?",
        (at, error[:1000], next_attempt_at, status, location, event_id, owner),
    )
    return cursor.rowcount


def outbox_row(db: Database, event_id: int) -> Row | None:
    """One outbox event by id, or None."""
    return _one(db, "SELECT * FROM outbox WHERE id = ?", (event_id,))


def outbox_rows(db: Database, *, pending_only: bool = False, limit: int = 100) -> list[Row]:
    """Outbox events, oldest first."""
    where = " WHERE delivered_at IS NULL" if pending_only else ""
    return _all(db, f"SELECT * FROM outbox{where} ORDER BY id LIMIT ?", (limit,))


def outbox_counts(db: Database) -> dict[str, int]:
    """How many events are delivered and pending."""
    row = db.execute(
        "SELECT coalesce(sum(delivered_at IS NOT NULL), 0), coalesce(sum(delivered_at IS NULL), 0) FROM outbox"
    ).fetchone()
    return {"delivered": int(row[0]), "pending": int(row[1])}


def release_outbox_leases(db: Database, event_ids: Sequence[int], owner: str) -> int:
    """Give back leased events untried, so they are due again at once. Rows changed."""
    marks = ", ".join("?" for _ in event_ids)
    cursor = db.execute(
        f"UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ? AND id IN ({marks})",
        (owner, *event_ids),
    )
    return cursor.rowcount


# ---------------------------------------------------------------------------
# Retraining: verdict labels, model versions, activations (append-only), jobs, imported datasets


def max_label_id(db: Database) -> int:
    """The newest training label's id (0 when there is none)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM labels").fetchone()[0])


def verdict_labels(db: Database, max_id: int) -> list[Row]:
    """Each (comment, category)'s latest label among ids <= max_id, with the comment text, by label id."""
    return _all(
        db,
        "SELECT l.id, l.comment_id, l.category, l.value, c.text"
        " FROM labels l JOIN comments c ON c.id = l.comment_id"
        " WHERE l.id = (SELECT max(m.id) FROM labels m"
        " WHERE m.comment_id = l.comment_id AND m.category = l.category AND m.id <= ?)"
        " ORDER BY l.id",
        (max_id,),
    )


# Suggested scores (Perspective's comments:suggestscore), append-only; the latest row per token counts.
_LATEST_FEEDBACK = (
    "client_token IS NULL OR id = (SELECT max(g.id) FROM perspective_feedback g"
    " WHERE g.community_id = f.community_id AND g.client_token = f.client_token AND g.id <= ?)"
)


def insert_feedback(db: Database, row: Mapping[str, Any]) -> int:
    """Keep one suggested score; its id."""
    return _insert(db, "perspective_feedback", row)


def has_feedback(db: Database, community_id: str, client_token: str) -> bool:
    """Whether a suggestion with this token was already kept in this community."""
    found = db.execute(
        "SELECT 1 FROM perspective_feedback WHERE community_id = ? AND client_token = ? LIMIT 1",
        (community_id, client_token),
    ).fetchone()
    return found is not None


def max_feedback_id(db: Database) -> int:
    """The newest suggested score's id (0 when there is none)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM perspective_feedback").fetchone()[0])


def latest_feedback(db: Database, max_id: int) -> list[Row]:
    """The suggestions that count among ids <= max_id (per token, the latest), by id."""
    return _all(
        db,
        f"SELECT * FROM perspective_feedback f WHERE f.id <= ? AND ({_LATEST_FEEDBACK}) ORDER BY f.id",
        (max_id, max_id),
    )


def feedback_counts(db: Database) -> list[Row]:
    """Per community: suggestions that count, how many flag the comment, the newest's time."""
    return _all(
        db,
        "SELECT community_id, count(*) AS examples, coalesce(sum(flagged), 0) AS flagged,"
        f" max(received_at) AS latest_at FROM perspective_feedback f WHERE {_LATEST_FEEDBACK}"
        " GROUP BY community_id ORDER BY community_id",
        (2**63 - 1,),
    )


def insert_model_version(db: Database, row: Mapping[str, Any]) -> None:
    """Register one model version."""
    _insert(db, "model_versions", row)


def model_version_row(db: Database, version: str) -> Row | None:
    """One registered model version."""
    return _one(db, "SELECT * FROM model_versions WHERE version = ?", (version,))


def model_version_by_content(db: Database, content_sha256: str) -> Row | None:
    """The registered version with these model contents, if any."""
    return _one(db, "SELECT * FROM model_versions WHERE content_sha256 = ?", (content_sha256,))


def model_version_rows(db: Database) -> list[Row]:
    """Every registered version, newest first."""
    return _all(db, "SELECT * FROM model_versions ORDER BY created_at DESC, version DESC")


def insert_model_activation(db: Database, row: Mapping[str, Any]) -> int:
    """Append one activation; its id."""
    return _insert(db, "model_activations", row)


def active_model_row(db: Database) -> Row | None:
    """The latest activation joined with its version row (None before the first activation)."""
    return _one(
        db,
        "SELECT a.id AS activation_id, a.at AS activated_at, a.kind AS activation_kind, v.*"
        " FROM model_activations a JOIN model_versions v ON v.version = a.version"
        " ORDER BY a.id DESC LIMIT 1",
    )


def model_activation_rows(db: Database, limit: int = 100) -> list[Row]:
    """Activations, newest first."""
    return _all(db, "SELECT * FROM model_activations ORDER BY id DESC LIMIT ?", (limit,))


def insert_job(db: Database, row: Mapping[str, Any]) -> int:
    """Add one job; its id."""
    return _insert(db, "jobs", row)


def job_row(db: Database, job_id: int) -> Row | None:
    """One job."""
    return _one(db, "SELECT * FROM jobs WHERE id = ?", (job_id,))


def unfinished_job_rows(db: Database, kind: str) -> list[Row]:
    """Queued or running jobs of a kind."""
    return _all(db, "SELECT * FROM jobs WHERE kind = ? AND state IN ('queued', 'running') ORDER BY id", (kind,))


def job_rows(db: Database, limit: int = 50) -> list[Row]:
    """Jobs, newest first."""
    return _all(db, "SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))


def update_job(db: Database, job_id: int, changes: Mapping[str, Any], states: Sequence[str]) -> int:
    """Set some columns of a job that is in one of `states`; rows changed (0 when its state moved on)."""
    # Column names come from our own code, never from requests; values are always parameters.
    assignments = ", ".join(f"{column} = ?" for column in changes)
    marks = ", ".join("?" for _ in states)
    cursor = db.execute(
        f"UPDATE jobs SET {assignments} WHERE id = ? AND state IN ({marks})",
        (*changes.values(), job_id, *states),
    )
    return cursor.rowcount


def insert_dataset(db: Database, row: Mapping[str, Any]) -> int:
    """Record one imported labelled file; its id."""
    return _insert(db, "datasets", row)


def dataset_row(db: Database, dataset_id: int) -> Row | None:
    """One imported dataset."""
    return _one(db, "SELECT * FROM datasets WHERE id = ?", (dataset_id,))


def dataset_by_sha256(db: Database, sha256: str) -> Row | None:
    """The imported dataset with these bytes, if any."""
    return _one(db, "SELECT * FROM datasets WHERE sha256 = ?", (sha256,))


def dataset_rows(db: Database) -> list[Row]:
    """Every imported dataset, oldest first."""
    return _all(db, "SELECT * FROM datasets ORDER BY id")


# ---------------------------------------------------------------------------
# Web app users (user name and password accounts an admin makes)


def insert_user(db: Database, row: Mapping[str, Any]) -> None:
    """Add one user row (name, role, password_hash, created_at, created_by)."""
    _insert(db, "users", row)


def user_row(db: Database, name: str) -> Row | None:
    """One user by name, or None."""
    return _one(db, "SELECT * FROM users WHERE name = ?", (name,))


def user_rows(db: Database) -> list[Row]:
    """Every user, oldest first (hashes included; callers drop them)."""
    return _all(db, "SELECT * FROM users ORDER BY created_at, name")


def mark_user_disabled(db: Database, name: str, at: str) -> int:
    """Disable a user unless already disabled; rows changed."""
    return db.execute("UPDATE users SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL", (at, name)).rowcount


def set_user_password(db: Database, name: str, password_hash: str) -> int:
    """Replace a user's password hash; rows changed."""
    return db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)).rowcount


def replace_user_password_hash(db: Database, name: str, old_hash: str, new_hash: str) -> int:
    """Store a new hash of the same password, unless the password changed meanwhile; rows changed."""
    return db.execute(
        "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?", (new_hash, name, old_hash)
    ).rowcount


def insert_ended_session(db: Database, session_id: str, at: str) -> None:
    """Record that a web session was signed out (again is a no-op)."""
    db.execute("INSERT OR IGNORE INTO ended_web_sessions (session_id, ended_at) VALUES (?, ?)", (session_id, at))


def session_has_ended(db: Database, session_id: str) -> bool:
    """Whether a web session was signed out."""
    return _one(db, "SELECT 1 FROM ended_web_sessions WHERE session_id = ?", (session_id,)) is not None


def delete_ended_sessions_before(db: Database, before: str) -> int:
    """Forget signed-out sessions ended before a time (their cookies have expired by then); rows removed."""
    return db.execute("DELETE FROM ended_web_sessions WHERE ended_at < ?", (before,)).rowcount


# ---------------------------------------------------------------------------
# Read-only aggregates for the moderators' pages (author history, dashboard, policy preview)


def author_counts(db: Database, author_id: str) -> Row:
    """How many comments an author has, and how many are approved, rejected and queued now."""
    row = _one(
        db,
        "SELECT count(*) AS comments, coalesce(sum(status = 'approved'), 0) AS approved,"
        " coalesce(sum(status = 'rejected'), 0) AS rejected, coalesce(sum(status = 'queued'), 0) AS queued"
        " FROM comments WHERE author_id = ?",
        (author_id,),
    )
    assert row is not None
    return row


def last_rejection_for_author(db: Database, author_id: str) -> Row | None:
    """The newest decision that rejected one of this author's comments, or None."""
    return _one(
        db,
        "SELECT d.* FROM decisions d JOIN comments c ON c.id = d.comment_id"
        " WHERE c.author_id = ? AND d.status = 'rejected' ORDER BY d.id DESC LIMIT 1",
        (author_id,),
    )


def oldest_pending_item(db: Database) -> Row | None:
    """The pending queue item that has waited longest, or None when the queue is empty."""
    return _one(
        db,
        "SELECT id, comment_id, enqueued_at, appealed FROM queue_items WHERE state = 'pending'"
        " ORDER BY enqueued_at, id LIMIT 1",
    )


def decision_counts_by_day(db: Database, since: str) -> list[Row]:
    """Decisions since a moment, counted per UTC day, actor type and actor."""
    return _all(
        db,
        "SELECT substr(at, 1, 10) AS day, actor_type, actor, count(*) AS n FROM decisions WHERE at >= ?"
        " GROUP BY day, actor_type, actor ORDER BY day",
        (since,),
    )


def automatic_decision_counts(db: Database, since: str) -> list[Row]:
    """Automatic final decisions (approve or reject at submission) since a moment, by action and category."""
    return _all(
        db,
        "SELECT action, top_category, count(*) AS n FROM decisions WHERE at >= ? AND kind = 'submission'"
        " AND actor_type IN ('model', 'rule') AND action IN ('approve', 'reject')"
        " GROUP BY action, top_category",
        (since,),
    )


def overturned_automatic_counts(db: Database, since: str) -> list[Row]:
    """Moderator decisions that overturned an automatic approve or reject made since a moment."""
    return _all(
        db,
        "SELECT p.action AS action, p.top_category AS top_category, count(*) AS n"
        " FROM decisions d JOIN decisions p ON p.id = d.supersedes"
        " WHERE d.actor_type = 'moderator' AND p.actor_type IN ('model', 'rule') AND p.at >= ?"
        " AND p.action IN ('approve', 'reject') AND d.action <> p.action"
        " GROUP BY p.action, p.top_category",
        (since,),
    )


def queue_outcome_counts(db: Database, since: str) -> list[Row]:
    """Queue items decided since a moment, by category, appealed or not, and the moderator's action."""
    return _all(
        db,
        "SELECT q.category AS category, q.appealed AS appealed, d.action AS action, count(*) AS n"
        " FROM queue_items q JOIN decisions d ON d.id = q.decision_id"
        " WHERE q.state = 'decided' AND q.decided_at >= ? GROUP BY q.category, q.appealed, d.action",
        (since,),
    )


def recorded_outcome_rows(db: Database, limit: int) -> list[Row]:
    """The newest submissions' scores and section, with the latest moderator action on each comment if any."""
    return _all(
        db,
        "SELECT d.scores AS scores, d.sentences AS sentences, c.section AS section,"
        " (SELECT m.action FROM decisions m WHERE m.comment_id = d.comment_id AND m.actor_type = 'moderator'"
        " ORDER BY m.id DESC LIMIT 1) AS human_action"
        " FROM decisions d JOIN comments c ON c.id = d.comment_id"
        " WHERE d.kind = 'submission' AND d.scores IS NOT NULL ORDER BY d.id DESC LIMIT ?",
        (limit,),
    )
