"""The schema, as numbered migrations applied in order at start; `schema_migrations` records which ran."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from moderation.storage import chain


@dataclass(frozen=True)
class Migration:
    """One schema step: a version number, a name, the SQL that takes the schema there, and any data step."""

    version: int
    name: str
    sql: str
    # Runs after the SQL, in the same transaction, for work SQL alone cannot do (e.g. hashing rows).
    then: Callable[[Database], None] | None = None


INITIAL_SCHEMA = """
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('site', 'moderator', 'admin')),
    key_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    article_id TEXT NOT NULL,
    article_title TEXT,
    article_url TEXT,
    section TEXT,
    author_id TEXT NOT NULL,
    author_name TEXT,
    parent_id TEXT,
    ip_hash TEXT,
    email_hash TEXT,
    user_agent TEXT,
    lang TEXT,
    created_at TEXT,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('approved', 'queued', 'rejected')),
    submitted_by TEXT,
    purged_at TEXT
);
-- Covers the author-history count (comments, recent rejections) without touching the table.
CREATE INDEX comments_author ON comments (author_id, received_at, status);
CREATE INDEX comments_article ON comments (article_id);
CREATE INDEX comments_unpurged ON comments (received_at) WHERE purged_at IS NULL;

-- Rows are never deleted (see the triggers), so the rowid only grows and can serve as a stable cursor
-- without AUTOINCREMENT's extra write per insert.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    comment_id TEXT NOT NULL REFERENCES comments (id),
    at TEXT NOT NULL,
    actor_type TEXT NOT NULL CHECK (actor_type IN ('model', 'rule', 'moderator')),
    actor TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('submission', 'review', 'appeal', 'reversal')),
    action TEXT NOT NULL CHECK (action IN ('approve', 'review', 'reject')),
    status TEXT NOT NULL CHECK (status IN ('approved', 'queued', 'rejected')),
    would_action TEXT,
    top_category TEXT,
    model_version TEXT,
    scores TEXT,
    thresholds TEXT,
    reasons TEXT NOT NULL DEFAULT '[]',
    spans TEXT,
    note TEXT,
    queue_item_id INTEGER,
    supersedes INTEGER REFERENCES decisions (id)
);
CREATE INDEX decisions_comment ON decisions (comment_id, id);
CREATE INDEX decisions_at ON decisions (at);
CREATE INDEX decisions_actor ON decisions (actor, id);

CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead');
END;
CREATE TRIGGER decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: they cannot be deleted');
END;

CREATE TABLE queue_items (
    id INTEGER PRIMARY KEY,
    comment_id TEXT NOT NULL REFERENCES comments (id),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'decided')),
    priority REAL NOT NULL,
    category TEXT,
    section TEXT,
    article_id TEXT NOT NULL,
    appealed INTEGER NOT NULL DEFAULT 0,
    appeal_message TEXT,
    appealed_by TEXT,
    enqueued_at TEXT NOT NULL,
    claimed_by TEXT,
    claim_expires_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    decided_at TEXT,
    decision_id INTEGER REFERENCES decisions (id)
);
CREATE INDEX queue_order ON queue_items (state, priority DESC, enqueued_at, id);
-- At most one open item per comment: a second appeal or enqueue while one is pending is a conflict.
CREATE UNIQUE INDEX queue_open_item ON queue_items (comment_id) WHERE state = 'pending';

CREATE TABLE queue_skips (
    item_id INTEGER NOT NULL REFERENCES queue_items (id),
    moderator TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (item_id, moderator)
);

CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    comment_id TEXT NOT NULL REFERENCES comments (id),
    category TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (0, 1)),
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    source TEXT NOT NULL DEFAULT 'moderator',
    at TEXT NOT NULL
);
CREATE INDEX labels_comment ON labels (comment_id, category, id);

CREATE TABLE policy_changes (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_key_id TEXT,
    document TEXT NOT NULL
);
CREATE TRIGGER policy_changes_append_only_update BEFORE UPDATE ON policy_changes
BEGIN
    SELECT RAISE(ABORT, 'policy changes are append-only: put a new policy instead');
END;
CREATE TRIGGER policy_changes_append_only_delete BEFORE DELETE ON policy_changes
BEGIN
    SELECT RAISE(ABORT, 'policy changes are append-only: they cannot be deleted');
END;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT,
    delivered_at TEXT,
    lease_owner TEXT,
    lease_expires_at TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
"""

RETRAINING_SCHEMA = """
-- Model versions the service may serve; `file` is a name inside the models directory.
CREATE TABLE model_versions (
    version TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    content_sha256 TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL CHECK (source IN ('shipped', 'retrain')),
    mode TEXT,
    base_version TEXT,
    job_id INTEGER,
    created_at TEXT NOT NULL,
    created_by TEXT,
    training TEXT,
    comparison TEXT
);

-- The active version is the latest row: one rowid lookup, cheap enough for every worker once a second.
CREATE TABLE model_activations (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL REFERENCES model_versions (version),
    at TEXT NOT NULL,
    actor TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('initial', 'promote', 'force', 'rollback', 'reactivate')),
    previous_version TEXT,
    reason TEXT
);
CREATE TRIGGER model_activations_append_only_update BEFORE UPDATE ON model_activations
BEGIN
    SELECT RAISE(ABORT, 'model activations are append-only: activate again instead');
END;
CREATE TRIGGER model_activations_append_only_delete BEFORE DELETE ON model_activations
BEGIN
    SELECT RAISE(ABORT, 'model activations are append-only: they cannot be deleted');
END;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    actor TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    heartbeat_at TEXT,
    stage TEXT,
    percent REAL NOT NULL DEFAULT 0,
    pid INTEGER,
    error TEXT,
    result TEXT
);
-- One queued or running job of a kind at a time, even if two admins start one in the same instant.
CREATE UNIQUE INDEX jobs_one_active ON jobs (kind) WHERE state IN ('queued', 'running');

-- Labelled files imported by admins; `file` is a path inside the datasets directory.
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    rows INTEGER NOT NULL,
    categories TEXT NOT NULL,
    imported_by TEXT,
    imported_at TEXT NOT NULL
);
"""

WEB_USERS_SCHEMA = """
-- People who sign in to the web app with a user name and password an admin gave them (scrypt hashes only).
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('moderator', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT,
    disabled_at TEXT
);
"""

DECISION_CHAIN_SCHEMA = """
-- Tamper evidence (moderation/storage/chain.py): each decision hashes its fields and the previous row's hash.
ALTER TABLE decisions ADD COLUMN prev_hash TEXT;
ALTER TABLE decisions ADD COLUMN row_hash TEXT;
"""

ENDED_WEB_SESSIONS_SCHEMA = """
-- Web sessions ended by signing out: a copy of the signed cookie is refused afterwards, not only forgotten.
-- Rows outlive the session's own lifetime by a little and are then pruned.
CREATE TABLE ended_web_sessions (
    session_id TEXT PRIMARY KEY,
    ended_at TEXT NOT NULL
);
CREATE INDEX ended_web_sessions_ended_at ON ended_web_sessions (ended_at);
"""

OUTBOX_LAST_ANSWER_SCHEMA = """
-- The site's answer to the last webhook attempt: its HTTP status (NULL when nothing came back) and, for a
-- redirect, which is never followed, the Location it pointed to.
ALTER TABLE outbox ADD COLUMN last_status INTEGER;
ALTER TABLE outbox ADD COLUMN last_location TEXT;
"""

JOB_PROCESS_START_SCHEMA = """
-- When the job's process (its minder, then the job itself) started, in clock ticks since boot: with the pid, it
-- tells the process apart from a later one that reused the pid, so a live job is never taken for a dead one.
ALTER TABLE jobs ADD COLUMN pid_started INTEGER;
"""

DECISION_STAGE_SCHEMA = """
-- With a cascade model: which stage's scores decided a submission (1 or 2) and why stage 2 read it or not, so a
-- replayed answer says what the first one did. NULL for every other decision and for linear-only models.
ALTER TABLE decisions ADD COLUMN stage INTEGER;
ALTER TABLE decisions ADD COLUMN route_reason TEXT;
"""

DECISION_SENTENCES_SCHEMA = """
-- With a cascade that reads lone sentences of a long comment: each sentence's place and scores (JSON
-- [{"start", "end", "scores"}], no text: the comment holds it), so a policy preview can replay sentence holds.
-- NULL when no sentence was read alone.
ALTER TABLE decisions ADD COLUMN sentences TEXT;
"""

PERSPECTIVE_FEEDBACK_SCHEMA = """
-- Scores suggested through Perspective's comments:suggestscore (Coral sends each moderator decision there), kept
-- as labelled examples for retraining. Append-only: a later suggestion with the same client token in the same
-- community replaces an earlier one by being newer (the latest row per token counts), so a rebuild that reads
-- rows up to an id sees exactly what the first build saw.
CREATE TABLE perspective_feedback (
    id INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL,
    client_token TEXT,
    text TEXT NOT NULL,
    labels TEXT NOT NULL,
    flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
    context TEXT,
    languages TEXT,
    source TEXT NOT NULL,
    key_id TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX perspective_feedback_token ON perspective_feedback (community_id, client_token, id);
CREATE TRIGGER perspective_feedback_append_only_update BEFORE UPDATE ON perspective_feedback
BEGIN
    SELECT RAISE(ABORT, 'suggested scores are append-only: a newer one with the same token replaces an older');
END;
"""

_DECISIONS_APPEND_ONLY_UPDATE = """
CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead');
END
"""


def _chain_existing_decisions(db: Database) -> None:
    """Seal the decisions recorded before the chain existed, oldest first, lifting the update guard meanwhile."""
    conn = db.conn
    # The guard is dropped and put back inside the migration's own transaction: no other writer sees it gone.
    conn.execute("DROP TRIGGER decisions_append_only_update")
    previous = chain.GENESIS
    after = -1
    while True:
        cursor = conn.execute("SELECT * FROM decisions WHERE id > ? ORDER BY id LIMIT 1000", (after,))
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        for row in rows:
            row["prev_hash"] = previous
            previous = chain.row_hash(row)
            conn.execute(
                "UPDATE decisions SET prev_hash = ?, row_hash = ? WHERE id = ?", (row["prev_hash"], previous, row["id"])
            )
        if len(rows) < 1000:
            break
        after = int(rows[-1]["id"])
    conn.execute(_DECISIONS_APPEND_ONLY_UPDATE)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", INITIAL_SCHEMA),
    Migration(2, "retraining: model versions, activations, jobs, datasets", RETRAINING_SCHEMA),
    Migration(3, "web app users", WEB_USERS_SCHEMA),
    Migration(4, "hash chain over decisions", DECISION_CHAIN_SCHEMA, then=_chain_existing_decisions),
    Migration(5, "web sessions ended by signing out", ENDED_WEB_SESSIONS_SCHEMA),
    Migration(6, "webhook outbox: the last answer's status and Location", OUTBOX_LAST_ANSWER_SCHEMA),
    Migration(7, "jobs: when the job's process started", JOB_PROCESS_START_SCHEMA),
    Migration(8, "decisions: the cascade stage that scored a submission", DECISION_STAGE_SCHEMA),
    Migration(9, "scores suggested through Perspective's comments:suggestscore", PERSPECTIVE_FEEDBACK_SCHEMA),
    Migration(10, "decisions: the scores of the lone sentences a cascade read", DECISION_SENTENCES_SCHEMA),
)

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


def applied_versions(db: Database) -> list[int]:
    """The versions already applied to this database, in order."""
    if not db["schema_migrations"].exists():
        return []
    return [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


def pending(db: Database) -> list[Migration]:
    """The migrations this database still needs."""
    done = set(applied_versions(db))
    return [m for m in MIGRATIONS if m.version not in done]


def apply(db: Database, now: datetime | None = None) -> list[int]:
    """Apply pending migrations, each in its own BEGIN IMMEDIATE transaction; the versions applied."""
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("migrations must run outside a transaction")
    applied: list[int] = []
    for migration in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(_CREATE_MIGRATIONS_TABLE)
            # Re-checked under the write lock: two processes starting at once must not both apply a step.
            done = conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)).fetchone()
            if done is None:
                db.executescript(migration.sql)
                if migration.then is not None:
                    migration.then(db)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, (now or datetime.now(UTC)).isoformat()),
                )
                applied.append(migration.version)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return applied


def is_current(db: Database) -> bool:
    """Whether every migration has been applied (a cheap check made on each new connection)."""
    if not db["schema_migrations"].exists():
        return False
    # Counted too, not only the newest: a database may have a later step but lack one numbered before it.
    row = db.execute("SELECT count(*), max(version) FROM schema_migrations").fetchone()
    return row[0] == len(MIGRATIONS) and row[1] == MIGRATIONS[-1].version
