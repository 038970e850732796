"""Helpers for the fault tests (tests/test_faults_*.py, tests/soak/): gunicorn in its own process group,
its workers from /proc, retrying clients, and the database checks every fault test ends with."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation import keys
from moderation.storage import store as st
from moderation.storage.store import Store
from tests.conftest import REPO, LiveServer, free_port, wait_ready


def start_group_server(directory: Path, env: Mapping[str, str], ready_timeout: float = 90) -> LiveServer:
    """gunicorn as `make run` runs it, in a new session (its own process group, so all of it can be killed)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("MODERATION_") and k not in ("PORT", "WEB_CONCURRENCY")
    }
    full_env = {**inherited, "PORT": str(port), "MODERATION_HOST": "127.0.0.1", "WEB_CONCURRENCY": "2", **env}
    stdout_path, stderr_path = directory / "server.out", directory / "server.err"
    argv = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "api.wsgi:app"]
    with stdout_path.open("ab") as out, stderr_path.open("ab") as err:
        process = subprocess.Popen(
            argv, cwd=REPO, env=full_env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )
    server = LiveServer(
        process=process,
        base_url=f"http://127.0.0.1:{port}",
        db_path=Path(full_env["MODERATION_DB"]),
        env=full_env,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )
    wait_ready(server, ready_timeout)
    return server


def kill_group(server: LiveServer) -> None:
    """SIGKILL the master and every worker at once, as a power cut of the service would (not of the machine)."""
    try:
        os.killpg(server.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.process.wait(10)
    forget_metrics_directories(server)


def forget_metrics_directories(server: LiveServer) -> None:
    """Remove the per-run directories a killed server could not remove itself."""
    _, err = server.logs()
    for line in err.splitlines():
        if "metrics directory" in line:
            path = Path(json.loads(line)["message"].split("metrics directory ", 1)[1])
            if path.name.startswith("moderation-metrics-"):
                shutil.rmtree(path, ignore_errors=True)


def children(pid: int) -> set[int]:
    """The live child processes of a process (gunicorn's workers), read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the fields after it are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def wait_for_workers(master: int, count: int, other_than: set[int] = frozenset(), timeout: float = 60) -> set[int]:
    """Wait until the master has `count` workers none of which is in `other_than`; their pids."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = children(master)
        if len(workers) == count and not workers & other_than:
            return workers
        time.sleep(0.05)
    raise AssertionError(f"master {master} has workers {children(master)}, wanted {count} new ones")


def server_env(db_path: Path, model: Path, secret: str, **settings: str) -> dict[str, str]:
    """The environment of a test server on this database and model; `settings` by variable name."""
    return {"MODERATION_DB": str(db_path), "MODERATION_MODEL": str(model), "MODERATION_SECRET_KEY": secret, **settings}


def make_keys(db_path: Path) -> dict[str, str]:
    """One key per role in the database (migrating it first)."""
    store = Store(db_path)
    made = {role: keys.create_key(store, role, f"faults {role}")[1] for role in keys.ROLES}
    store.close()
    return made


@dataclass
class Answer:
    """One HTTP answer, or the transport error that stood for it."""

    status: int | None
    body: Any = None
    error: str | None = None


def call(port: int, method: str, path: str, body: Any = None, key: str | None = None, timeout: float = 30) -> Answer:
    """One request on a fresh connection; a reset, refused or cut connection is an Answer with `error`."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return Answer(response.status, parsed)


@dataclass
class Tally:
    """What clients saw: acknowledged comments (id -> decision id), retries, statuses, errors."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    replays: int = 0
    retries: int = 0
    transport_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)


def post_until_acknowledged(
    port: int, key: str, comment: dict[str, Any], tally: Tally, deadline: float, retry_5xx: bool = True
) -> bool:
    """POST one comment, retrying the same id after a cut connection (or a 503), until 200/201 or the deadline."""
    while time.monotonic() < deadline:
        answer = call(port, "POST", "/v1/comments", comment, key, timeout=10)
        if answer.status is not None:
            tally.statuses[answer.status] = tally.statuses.get(answer.status, 0) + 1
        if answer.status in (200, 201):
            tally.acknowledged[comment["id"]] = int(answer.body["decision_id"])
            tally.replays += answer.status == 200
            return True
        if answer.status is None:
            tally.transport_errors += 1
        elif answer.status >= 500:
            tally.server_errors.append(f"{answer.status} {str(answer.body)[:200]}")
            if not retry_5xx:
                return False
        else:
            raise AssertionError(f"unexpected {answer.status}: {answer.body}")
        tally.retries += 1
        time.sleep(0.02)
    return False


def comment_body(n: int, prefix: str) -> dict[str, Any]:
    """A site-like comment; about one in four lands in the review queue with the tiny model."""
    texts = (
        "The council should publish the budget before the vote.",
        "you are a stupid idiot and everyone hates you",
        "Great reporting, thanks for following up on the bus lanes.",
        "What a clown this minister is.",
    )
    return {
        "id": f"{prefix}{n}",
        "text": f"{texts[n % len(texts)]} ({n})",
        "article_id": f"article-{n % 7}",
        "author_id": f"author-{n % 13}",
        "ip": f"198.51.100.{n % 200}",
    }


def database_report(db_path: Path) -> dict[str, Any]:
    """Everything the fault tests require of a database after the fact, read with plain sqlite3."""
    with sqlite3.connect(db_path) as db:

        def count(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        report = {
            "integrity": [row[0] for row in db.execute("PRAGMA integrity_check")],
            "foreign_key_problems": len(db.execute("PRAGMA foreign_key_check").fetchall()),
            "comments": count("SELECT count(*) FROM comments"),
            "decisions": count("SELECT count(*) FROM decisions"),
            "comments_without_one_submission": count(
                "SELECT count(*) FROM comments c WHERE (SELECT count(*) FROM decisions d"
                " WHERE d.comment_id = c.id AND d.kind = 'submission') != 1"
            ),
            "decisions_without_comment": count(
                "SELECT count(*) FROM decisions d WHERE NOT EXISTS (SELECT 1 FROM comments c WHERE c.id = d.comment_id)"
            ),
            "status_not_latest_decision": count(
                "SELECT count(*) FROM comments c WHERE c.status != (SELECT d.status FROM decisions d"
                " WHERE d.comment_id = c.id ORDER BY d.id DESC LIMIT 1)"
            ),
            "queued_without_open_item": count(
                "SELECT count(*) FROM comments c WHERE c.status = 'queued' AND NOT EXISTS"
                " (SELECT 1 FROM queue_items q WHERE q.comment_id = c.id AND q.state = 'pending')"
            ),
            "open_items_not_queued": count(
                "SELECT count(*) FROM queue_items q JOIN comments c ON c.id = q.comment_id"
                " WHERE q.state = 'pending' AND c.status != 'queued'"
            ),
            "decided_items_without_decision": count(
                "SELECT count(*) FROM queue_items q WHERE q.state = 'decided' AND NOT EXISTS"
                " (SELECT 1 FROM decisions d WHERE d.id = q.decision_id AND d.actor_type = 'moderator')"
            ),
            "moderator_decisions_without_event": count(
                "SELECT count(*) FROM decisions d WHERE d.actor_type = 'moderator' AND NOT EXISTS"
                " (SELECT 1 FROM outbox o WHERE json_extract(o.body, '$.decision.id') = d.id)"
            ),
        }
    store = Store(db_path, migrate=False)
    try:
        report["chain"] = st.verify_chain(store).as_dict()
    finally:
        store.close()
    return report


def assert_sound(report: dict[str, Any]) -> None:
    """Integrity ok, the chain intact, and nothing half-written."""
    assert report["integrity"] == ["ok"], report
    assert report["chain"]["ok"], report["chain"]
    for name in (
        "foreign_key_problems",
        "comments_without_one_submission",
        "decisions_without_comment",
        "status_not_latest_decision",
        "queued_without_open_item",
        "open_items_not_queued",
        "decided_items_without_decision",
        "moderator_decisions_without_event",
    ):
        assert report[name] == 0, (name, report)


def submission_decisions(db_path: Path) -> dict[str, list[int]]:
    """Each comment's submission decision ids."""
    with sqlite3.connect(db_path) as db:
        found: dict[str, list[int]] = {}
        for comment_id, decision_id in db.execute(
            "SELECT comment_id, id FROM decisions WHERE kind = 'submission' ORDER BY id"
        ):
            found.setdefault(comment_id, []).append(int(decision_id))
    return found


def decision_ids(db_path: Path) -> set[int]:
    """Every decision id in the database."""
    with sqlite3.connect(db_path) as db:
        return {int(row[0]) for row in db.execute("SELECT id FROM decisions")}


def server_log_problems(server: LiveServer) -> list[str]:
    """Lines of the server's logs that speak of a locked database or an unhandled exception."""
    out, err = server.logs()
    return [
        line[:300]
        for line in (out + err).splitlines()
        if "database is locked" in line or ('"level": "error"' in line and "Traceback" in line)
    ]
