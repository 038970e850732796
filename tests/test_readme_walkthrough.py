"""The README's walk through the three roles runs as written: its shell blocks, read from README.md at test time
(so they cannot drift), run top to bottom with bash and curl against gunicorn on a fresh database and the shipped
model, and every answer is checked."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moderation import keys
from moderation.storage.store import Store
from tests.conftest import REPO, SHIPPED_MODEL, LiveServer, start_server

SECTION = "## A walk through the three roles"
# Every curl the walk-through makes is logged (its arguments, status and body) by this wrapper, which hands the
# body on as curl would, so `$(...)` and `>` in the README work unchanged.
PRELUDE = r"""
set -euo pipefail
curl() {
  local out status
  out=$(command curl -sS -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  printf '%s\t%s\t%s\n' "$status" "$(printf '%s' "$*" | base64 -w0)" "$(printf '%s' "$out" | base64 -w0)" >> "$CURL_LOG"
  printf '%s' "$out"
}
"""


@dataclass
class Call:
    """One curl the walk-through made."""

    status: int
    command: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def walkthrough_script() -> str:
    """The ```sh blocks of the README's walk-through section, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    blocks = re.findall(r"```sh\n(.*?)```", readme[start:end], re.S)
    assert len(blocks) >= 4, "the walk-through lost its shell blocks"
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Call], Path, LiveServer]]:
    """Run the walk-through once against a fresh server; the calls it made, its folder and the server."""
    if shutil.which("curl") is None:
        pytest.fail("curl is missing: the README's walk-through is made of curl commands")
    directory = tmp_path_factory.mktemp("walkthrough")
    db = directory / "moderation.db"
    store = Store(db)
    _, admin = keys.create_key(store, "admin", "first admin")  # as `make run` prints on first start
    store.close()
    server = start_server(
        directory, {"MODERATION_DB": str(db), "MODERATION_SECRET_KEY": "walk", "MODERATION_MODEL": str(SHIPPED_MODEL)}
    )
    work = directory / "work"
    work.mkdir()
    log = directory / "curl.log"
    try:
        done = subprocess.run(
            ["bash", "-c", PRELUDE + walkthrough_script()],
            cwd=work,
            env={"PATH": "/usr/bin:/bin", "B": server.base_url, "ADMIN": admin, "CURL_LOG": str(log)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"the walk-through stopped: {done.stderr[-2000:]}"
        calls = [
            Call(int(status), base64.b64decode(command).decode(), base64.b64decode(body).decode())
            for status, command, body in (line.split("\t") for line in log.read_text().splitlines())
        ]
        yield calls, work, server
    finally:
        server.stop()


def call(calls: list[Call], *words: str) -> list[Call]:
    """The calls whose command has all these words."""
    return [c for c in calls if all(word in c.command for word in words)]


def test_every_command_succeeds_until_the_revoked_key_is_refused(walked: tuple[list[Call], Path, LiveServer]) -> None:
    calls, _, _ = walked
    assert len(calls) >= 18
    *before, last = calls
    failed = [(c.status, c.command[:120]) for c in before if c.status >= 300 and c.status != 204]
    assert not failed, failed
    assert last.status == 401 and last.json()["error"] == "unauthorized"


def test_the_answers_are_the_ones_the_readme_shows(walked: tuple[list[Call], Path, LiveServer]) -> None:
    calls, work, _ = walked
    made = call(calls, "/v1/keys", "-X POST")
    assert [c.status for c in made] == [201, 201] and made[1].json()["key"]["role"] == "moderator"

    first, again = call(calls, "/v1/comments", "c-1004", "-X POST")
    assert first.status == 201 and first.json()["status"] == "queued" and first.json()["replayed"] is False
    assert again.status == 200 and again.json()["replayed"] is True
    assert {k: v for k, v in again.json().items() if k != "replayed"} == {
        k: v for k, v in first.json().items() if k != "replayed"
    }
    [rejected] = call(calls, "/v1/comments", '"id": "c-1005"')
    assert rejected.status == 201 and rejected.json()["status"] == "rejected"
    [history] = call(calls, "/v1/comments/c-1004 ")
    assert history.json()["status"] == "queued" and len(history.json()["decisions"]) == 1

    [dry] = call(calls, "/v1/score")
    assert dry.json()["id"] == "" and "decision_id" not in dry.json()
    [appeal] = call(calls, "/appeal")
    assert appeal.status == 201 and appeal.json()["comment_id"] == "c-1005" and appeal.json()["appealed"] is True
    [polled] = call(calls, "/v1/decisions?since")
    ids = [d["id"] for d in polled.json()["items"]]
    assert ids == sorted(ids) and len(ids) == 2  # oldest first with order=asc; the replay recorded nothing

    [claim] = call(calls, "/claim")
    claimed = claim.json()
    assert claimed["comment_id"] == "c-1004" and claimed["state"] == "pending" and claimed["claimed_by"]
    assert claimed["version"] == 2 and claimed["comment"]["text"].startswith("This article")
    [decided] = call(calls, "/queue/1/decision")
    assert decided.json()["decision"]["status"] == "approved"
    [following] = call(calls, "/v1/queue/next")
    assert following.status == 200 and following.json()["comment_id"] == "c-1005"  # the appeal
    assert (work / "decisions.csv").read_text().startswith("id,at,comment_id")

    [put] = call(calls, "-X PUT")
    assert put.json()["watched_terms"] == ["refund"] and put.json()["thresholds"]["insult"]["review"] == 0.4
    [changes] = call(calls, "/v1/policy/history")
    [change] = changes.json()["items"]
    assert {c["field"] for c in change["changes"]} == {
        "new_author_reviews",
        "thresholds.insult.review",
        "watched_terms",
    }
    [revoked] = call(calls, "-X DELETE")
    assert revoked.status == 200 and revoked.json()["revoked_at"] and revoked.json()["role"] == "moderator"
