"""Real clients against gunicorn: the npm package `perspective-api-client` (as Node apps call Perspective) and the
requests Coral Talk sends (analyze and suggestscore to its custom endpoint; its external moderation phase, signed
with a rotated pair of secrets), each built by a Node script as its own source builds them (tests/node/).

`make test` installs tests/node's packages (`npm ci`); without them these tests fail, naming the command.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moderation import keys
from moderation.storage.store import Store
from tests.conftest import REPO, SHIPPED_MODEL, LiveServer, start_server

NODE_DIR = REPO / "tests" / "node"
OLD_SECRET, NEW_SECRET = "coral-old-secret-0123456789", "coral-new-secret-9876543210"
TENANT = {
    "tenantID": "tenant-1",
    "tenantDomain": "news.example",
    "siteID": "site-1",
    "storyID": "story-tehran",
    "storyURL": "https://news.example/tehran-talks/",
}
NODE_TIMEOUT = 60


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: these tests run the real clients on Node.js (apt-get install nodejs)")
    if not (NODE_DIR / "node_modules" / "perspective-api-client").is_dir():
        pytest.fail("tests/node's packages are missing: `make test` installs them (npm ci --prefix tests/node)")
    return node


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn on the shipped model with a site and an admin key, and Coral's two signing secrets configured."""
    directory = tmp_path_factory.mktemp("clients")
    db = directory / "moderation.db"
    store = Store(db)
    made = {role: keys.create_key(store, role, f"clients {role}")[1] for role in ("site", "admin")}
    store.close()
    live = start_server(
        directory,
        {
            "MODERATION_DB": str(db),
            "MODERATION_SECRET_KEY": "clients-pii-secret",
            "MODERATION_MODEL": str(SHIPPED_MODEL),
            "MODERATION_CORAL_SIGNING_SECRETS": f"{NEW_SECRET},{OLD_SECRET}",
            "WEB_CONCURRENCY": "2",
        },
    )
    live.keys = made
    yield live
    live.stop()


def run_node(script: str, server: LiveServer, stdin: Any = None, **env: str) -> Any:
    """Run a script of tests/node against the server; its printed JSON."""
    done = subprocess.run(
        [_node(), str(NODE_DIR / script)],
        input=None if stdin is None else json.dumps(stdin),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        cwd=NODE_DIR,
        env={"PATH": "/usr/bin:/bin", "BASE_URL": server.base_url, **env},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def summary(answer: dict[str, Any], attribute: str) -> float:
    score = answer["attributeScores"][attribute]["summaryScore"]
    assert score["type"] == "PROBABILITY" and 0.0 <= score["value"] <= 1.0, score
    return float(score["value"])


def test_the_perspective_api_client_gets_parsed_results(server: LiveServer) -> None:
    site = server.keys["site"]
    got = run_node("perspective_client.js", server, API_KEY=site)
    polite, abusive = got["polite"], got["abusive"]
    assert set(polite["attributeScores"]) == {"TOXICITY", "INSULT", "THREAT"}
    assert polite["model_version"] and polite["languages"] == ["en"]
    for attribute in ("TOXICITY", "INSULT"):
        assert summary(abusive, attribute) > summary(polite, attribute) + 0.3, attribute
    assert summary(abusive, "INSULT") > 0.5 and summary(polite, "TOXICITY") < 0.3

    # Span annotations: one per sentence, offsets in UTF-16 code units of the text as sent (checked in Node).
    spans = got["spans"]
    assert spans["clientToken"] == "node-client-1"
    assert got["span_substrings"] == ["Thanks for the piece on the talks 🙂.", "You are a worthless idiot!", "See you."]
    insult = [span["score"]["value"] for span in spans["attributeScores"]["INSULT"]["spanScores"]]
    assert insult[1] == max(insult) and insult[1] > 0.5

    assert summary(got["html"], "INSULT") > 0.5  # the client stripped the tags itself
    refused = got["unknown_attribute"]
    assert refused["error"] == "ResponseError" and refused["status"] == 400
    assert refused["google_status"] == "INVALID_ARGUMENT" and "FLIRTATION" in refused["message"]

    # The key came as ?key=: the access log names the request but never the key.
    out, err = server.logs()
    assert "/v1alpha1/comments:analyze" in out and "key=[redacted]" in out
    assert site not in out and site not in err


def test_coral_requests_as_coral_builds_them(server: LiveServer) -> None:
    site, admin = server.keys["site"], server.keys["admin"]
    abusive = "You are a worthless idiot and should be shot."
    polite = "A careful piece on the ceasefire talks; thank you."

    def phase(body: str, secrets: list[str], author: str = "author-1", action: str = "NEW") -> dict[str, Any]:
        return {"kind": "phase", "body": body, "secrets": secrets, "authorID": author, "action": action, **TENANT}

    def suggestion(comment_id: str, status: str, text: str) -> dict[str, Any]:
        return {
            "kind": "suggestscore",
            "key": site,
            "text": text,
            "commentID": comment_id,
            "status": status,
            "tenantURL": "https://news.example/",
            **TENANT,
        }

    def decisions() -> int:
        status, page = server.json("GET", "/v1/decisions?limit=1000", key=admin)
        assert status == 200
        return len(page["items"])

    before = decisions()
    answers = run_node(
        "coral_requests.js",
        server,
        stdin=[
            {"kind": "analyze", "key": site, "text": abusive},
            suggestion("c-1", "APPROVED", polite),
            suggestion("c-1", "DELETED", polite),  # the moderator changed their mind: the later label counts
            phase(polite, [NEW_SECRET, OLD_SECRET]),
            phase(abusive, [NEW_SECRET, OLD_SECRET]),
            phase(abusive, [NEW_SECRET, OLD_SECRET]),  # a retry: replayed, not recorded twice
            phase(abusive, ["an-unknown-secret-000000"], author="author-2"),
            phase(polite, [OLD_SECRET], author="author-3"),  # only the old secret of the rotation
        ],
    )
    analyze, first, second, approved, rejected, retried, unsigned, rotated = answers
    assert analyze["status"] == 200 and summary(analyze["body"], "TOXICITY") > 0.5
    assert first["status"] == 200 and first["body"]["replaced"] is False
    assert second["status"] == 200 and second["body"]["replaced"] is True
    assert second["body"]["clientToken"] == "comment:c-1"

    assert approved == {"status": 204, "body": None}
    assert rejected["status"] == 200
    assert rejected["body"] in (
        {"status": "REJECTED"},
        {"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]},
    )
    assert retried == rejected
    assert unsigned["status"] == 401 and unsigned["body"]["error"] == "unauthorized"
    assert rotated == {"status": 204, "body": None}
    assert decisions() == before + 3  # polite, abusive (once), the rotated one; nothing for the unsigned

    status, models = server.json("GET", "/v1/models", key=admin)
    assert status == 200
    counts = {row["community_id"]: row for row in models["suggested_scores"]}
    assert counts["Coral:https://news.example/"]["examples"] == 1  # one comment, its latest label
    assert counts["Coral:https://news.example/"]["flagged"] == 1


def test_the_node_packages_are_pinned(tmp_path: Path) -> None:
    manifest = json.loads((NODE_DIR / "package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert manifest["dependencies"] == {"perspective-api-client": "3.1.0"}
    assert lock["packages"]["node_modules/perspective-api-client"]["version"] == "3.1.0"
