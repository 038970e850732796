"""The README's walk through the three roles runs as written: its shell blocks, read from README.md at test time
(so they cannot drift), run top to bottom with bash and curl against gunicorn on a fresh database and the shipped
model, and every answer is checked: against the `# ...` answer the README shows under each command, and against
what the walk-through means (the retry replays, the appeal goes back to review, the revoked key is refused, ...).
The facts its prose states (PUT /v1/policy replaces, newest first unless order=asc, ...) are checked on the same
server afterwards."""

from __future__ import annotations

import base64
import json
import os
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
  out=$(command curl -sS --max-time 30 -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  printf '%s\t%s\t%s\n' "$status" "$(printf '%s' "$*" | base64 -w0)" "$(printf '%s' "$out" | base64 -w0)" >> "$CURL_LOG"
  printf '%s' "$out"
}
"""
# In a `# ...` answer: `"key": value`, the value kept when it is a JSON scalar (a string, number, true, false, null).
SHOWN_FIELD = re.compile(r'"(\w+)":\s*("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)?')


@dataclass
class Call:
    """One curl the walk-through made."""

    status: int
    command: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Shown:
    """One curl command of the README and the answer its `# ...` lines show (joined; empty if none)."""

    command: str
    answer: str


@dataclass
class Walk:
    """The walk-through run once: its calls, the README's commands they came from, its folder, server and admin key."""

    calls: list[Call]
    shown: list[Shown]
    work: Path
    server: LiveServer
    admin: str


def walkthrough_script() -> str:
    """The ```sh blocks of the README's walk-through section, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    blocks = re.findall(r"```sh\n(.*?)```", readme[start:end], re.S)
    assert len(blocks) >= 4, "the walk-through lost its shell blocks"
    return "\n".join(blocks)


def shown_commands(script: str) -> list[Shown]:
    """Each curl command of the script with the `# ...` lines under it (the answer the README shows)."""
    shown: list[Shown] = []
    for line in script.splitlines():
        if line.startswith("curl "):
            shown.append(Shown(line, ""))
        elif line.startswith("#") and shown:
            shown[-1].answer += " " + line.lstrip("# ")
    return shown


def _fields(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _fields(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _fields(inner)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # True is not 1


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    """Run the walk-through once against a fresh server."""
    if shutil.which("curl") is None or shutil.which("python3") is None:
        pytest.fail("curl and python3 must be on PATH: the README's walk-through is made of curl and python3 -c")
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
    script = walkthrough_script()
    try:
        done = subprocess.run(
            ["bash", "-c", PRELUDE + script],
            cwd=work,
            env={"PATH": os.environ["PATH"], "B": server.base_url, "ADMIN": admin, "CURL_LOG": str(log)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"the walk-through stopped: {done.stderr[-2000:]}"
        calls = [
            Call(int(status), base64.b64decode(command).decode(), base64.b64decode(body).decode())
            for status, command, body in (line.split("\t") for line in log.read_text().splitlines())
        ]
        yield Walk(calls, shown_commands(script), work, server, admin)
    finally:
        server.stop()


def call(calls: list[Call], *words: str) -> list[Call]:
    """The calls whose command has all these words."""
    return [c for c in calls if all(word in c.command for word in words)]


def policy_read(calls: list[Call]) -> Call:
    """The walk-through's one GET /v1/policy (a secret may hold "-X", so the method flag is matched as an argument)."""
    [read] = [c for c in call(calls, "/v1/policy -H") if " -X " not in f" {c.command}"]
    return read


def test_every_command_succeeds_until_the_revoked_key_is_refused(walked: Walk) -> None:
    calls = walked.calls
    assert len(calls) >= 18
    *before, last = calls
    failed = [(c.status, c.command[:120]) for c in before if c.status >= 300]
    assert not failed, failed
    assert last.status == 401 and last.json()["error"] == "unauthorized"


def test_each_answer_is_the_one_the_readme_shows_under_it(walked: Walk) -> None:
    """Every `"key": value` of a `# ...` answer is in the real answer (a placeholder, `<...>` or `...`, as a key),
    and `HTTP nnn` there is the real status."""
    assert len(walked.shown) == len(walked.calls), "every curl of the README ran, once"
    checked = 0
    for shown, made in zip(walked.shown, walked.calls, strict=True):
        path = re.search(r"\$B(/[^\s\"'$]*)", shown.command)
        assert path and path.group(1) in made.command, (shown.command, made.command)
        if not shown.answer:
            continue
        status = re.search(r"\bHTTP (\d{3})\b", shown.answer)
        assert status is None or int(status.group(1)) == made.status, (shown.answer, made.status)
        answer = list(_fields(made.json()))
        for key, literal in SHOWN_FIELD.findall(shown.answer):
            value = json.loads(literal) if literal else None
            if not literal or (isinstance(value, str) and ("..." in value or "<" in value)):
                assert any(k == key for k, _ in answer), (shown.command, key)
            else:
                assert any(k == key and _same(v, value) for k, v in answer), (shown.command, key, value)
            checked += 1
    assert checked >= 40


def test_the_answers_mean_what_the_walk_through_says(walked: Walk) -> None:
    calls, work = walked.calls, walked.work
    made = call(calls, "/v1/keys", "-X POST")
    assert [c.status for c in made] == [201, 201] and made[1].json()["key"]["role"] == "moderator"
    mod_id = made[1].json()["key"]["id"]
    policy_before = policy_read(calls)

    first, again = call(calls, "/v1/comments", '"id": "c-1004"', "-X POST")
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
    assert ids == sorted(ids) and len(ids) == 2  # oldest first with order=asc; the replay and dry run recorded nothing

    [claim] = call(calls, "/claim")
    claimed = claim.json()
    assert claimed["comment_id"] == "c-1004" and claimed["state"] == "pending" and claimed["claimed_by"] == mod_id
    assert claimed["version"] == 2 and claimed["claim_expires_at"]
    assert claimed["comment"]["text"].startswith("The author")
    [decided] = call(calls, "/queue/1/decision")
    assert decided.json()["decision"]["status"] == "approved" and decided.json()["item"]["state"] == "decided"
    [following] = call(calls, "/v1/queue/next")
    assert following.status == 200 and following.json()["comment_id"] == "c-1005"  # the appeal
    assert following.json()["claimed_by"] == mod_id
    assert (work / "decisions.csv").read_text().startswith("id,at,comment_id")

    [put] = call(calls, "-X PUT")
    model_insult = policy_before.json()["thresholds"]["insult"]
    assert put.json()["watched_terms"] == ["refund"] and put.json()["new_author_reviews"] == 1
    assert put.json()["thresholds"]["insult"] == {"reject": model_insult["reject"], "review": 0.4}
    [changes] = call(calls, "/v1/policy/history")
    [change] = changes.json()["items"]
    assert walked.admin.split("_")[2] == change["actor_key_id"]
    assert {c["field"] for c in change["changes"]} == {
        "new_author_reviews",
        "thresholds.insult.review",
        "watched_terms",
    }
    [revoked] = call(calls, "-X DELETE")
    assert revoked.status == 200 and revoked.json()["revoked_at"] and revoked.json()["id"] == mod_id


def test_what_the_prose_says_is_what_the_server_does(walked: Walk) -> None:
    """Run after the walk-through, on the same server."""
    server, admin = walked.server, walked.admin
    policy_before = policy_read(walked.calls)
    site = json.loads((walked.work / "site-key.json").read_text())["secret"]

    # GET /v1/decisions lists newest first, since= or not, unless order=asc; order=asc&cursor=<id> starts after it.
    status, newest = server.json("GET", "/v1/decisions?since=2025-06-01T00:00:00Z", key=admin)
    ids = [d["id"] for d in newest["items"]]
    assert status == 200 and len(ids) == 3 and ids == sorted(ids, reverse=True)
    status, after = server.json("GET", f"/v1/decisions?order=asc&cursor={ids[-1]}", key=admin)
    assert status == 200 and [d["id"] for d in after["items"]] == sorted(ids)[1:]

    # A dry run's id is "" unless one is sent, and it records nothing.
    status, dry = server.json("POST", "/v1/score", {"id": "c-9", "text": "Would this pass?"}, key=site)
    assert status == 200 and dry["id"] == "c-9"
    assert [d["id"] for d in server.json("GET", "/v1/decisions", key=admin)[1]["items"]] == ids

    # /v1/queue/next answers 204, with no body, when there is nothing to claim.
    status, _, body = server.request("POST", "/v1/queue/next?article_id=no-such-article", key=admin)
    assert status == 204 and body == b""

    # PUT /v1/policy replaces the policy in force: a field left out takes its default, not its value in force.
    _, model = server.json("GET", "/v1/policy", key=admin)
    assert model["watched_terms"] == ["refund"]
    status, replaced = server.json("PUT", "/v1/policy", {"max_links": 5}, key=admin)
    assert status == 200 and replaced["max_links"] == 5
    assert replaced["watched_terms"] == [] and replaced["new_author_reviews"] == 0
    assert replaced["thresholds"] == policy_before.json()["thresholds"]  # the model's again
    assert server.json("GET", "/v1/policy", key=admin)[1] == replaced
