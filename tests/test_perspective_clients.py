"""Real clients against gunicorn: the npm package `perspective-api-client` (as Node apps call Perspective) and the
requests Coral Talk sends (analyze and suggestscore to its custom endpoint; its external moderation phase, signed
with a rotated pair of secrets), each made by a Node script as the client's own source makes it (tests/node/).

`make test` installs tests/node's packages (`npm ci`); without Node or them these tests fail, naming the command.
The shipped model decides, so only shapes and robust orderings are asserted, never exact scores.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from moderation import coral, keys
from moderation.storage.store import Store
from tests.conftest import REPO, SHIPPED_MODEL, LiveServer, start_server

NODE_DIR = REPO / "tests" / "node"
NODE_TIMEOUT = 60
# Coral's signing secrets look like this (`empsec_` and hex); during a rotation Coral signs with the old and the new.
OLD_SECRET = "empsec_0f5e2a9c41d7b3e8a6c0d2f4b1e9a7c5d3f1b8e6"
NEW_SECRET = "empsec_7b1d9e3f5a2c8e0d4b6f1a3c5e7d9b2f4a6c8e0d"
UNKNOWN_SECRET = "empsec_00000000000000000000000000000000deadbeef"
TENANT = {
    "tenantID": "tenant-1",
    "tenantDomain": "news.example",
    "siteID": "site-1",
    "storyID": "story-tehran",
    "storyURL": "https://news.example/tehran-talks/",
}
POLITE = "A careful piece on the ceasefire talks; thank you."
ABUSIVE = "You are a worthless idiot and should be shot."
# Coral's answer for each of our statuses: 204 publishes, REJECTED rejects, SYSTEM_WITHHELD queues for its moderators.
CORAL_STATUS = {"approved": None, "rejected": "REJECTED", "queued": "SYSTEM_WITHHELD"}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: these tests run the real clients on Node.js (Node 20 or newer)")
    if not (NODE_DIR / "node_modules" / "perspective-api-client").is_dir():
        pytest.fail("tests/node's packages are missing: `make test` installs them (npm ci --prefix tests/node)")
    return node


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn on the shipped model with a site and an admin key, and Coral's rotated pair of secrets configured."""
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
            "MODERATION_CORAL_SIGNING_SECRETS": f"{OLD_SECRET},{NEW_SECRET}",
            "WEB_CONCURRENCY": "2",
        },
    )
    live.keys = made
    yield live
    live.stop()


def run_node(script: str, server: LiveServer, *args: str, stdin: Any = None) -> Any:
    """Run a script of tests/node against the server (its base URL first on the command line); its printed JSON."""
    done = subprocess.run(
        [_node(), str(NODE_DIR / script), server.base_url, *args],
        input=None if stdin is None else json.dumps(stdin),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        cwd=NODE_DIR,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "NODE_NO_WARNINGS": "1"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def summary(answer: dict[str, Any], attribute: str) -> float:
    """An attribute's summary score, checked to be a Perspective probability."""
    score = answer["attributeScores"][attribute]["summaryScore"]
    assert score["type"] == "PROBABILITY" and 0.0 <= score["value"] <= 1.0, score
    return float(score["value"])


def access_log(server: LiveServer) -> list[dict[str, Any]]:
    """The access log's entries so far (one JSON object per request on gunicorn's stdout)."""
    out, _ = server.logs()
    entries = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry.get("logger") == "gunicorn.access"]


def assert_key_never_logged(server: LiveServer, key: str) -> None:
    """Neither the key nor its secret part reaches the logs; the requests that carried it show `key=[redacted]`."""
    out, err = server.logs()
    secret = key.split("_", 3)[3]  # mod_<role>_<id>_<secret>: the secret itself may hold "_"
    assert key not in out and key not in err
    assert secret not in out and secret not in err
    perspective = [entry for entry in access_log(server) if entry["path"].startswith("/v1alpha1/")]
    assert perspective and {entry["query"] for entry in perspective} == {"key=[redacted]"}


def test_the_perspective_api_client_gets_parsed_results(server: LiveServer) -> None:
    site = server.keys["site"]
    got = run_node("perspective_client.js", server, site)
    # The interceptor sat on the axios the package itself uses, and every call went through it to this server.
    assert got["axios"]["version"].startswith("0.18.")
    assert got["redirected"] == ["/v1alpha1/comments:analyze"] * 9

    polite, abusive = got["polite"], got["abusive"]
    assert set(polite["attributeScores"]) == set(abusive["attributeScores"]) == {"TOXICITY", "INSULT", "THREAT"}
    assert polite["model_version"] == abusive["model_version"] and polite["model_version"]
    assert polite["languages"] == ["en"] and "spanScores" not in polite["attributeScores"]["TOXICITY"]
    for attribute in ("TOXICITY", "INSULT", "THREAT"):
        summary(polite, attribute)
        summary(abusive, attribute)
    for attribute in ("TOXICITY", "INSULT"):
        assert summary(abusive, attribute) > summary(polite, attribute) + 0.3, attribute
    assert summary(abusive, "INSULT") > 0.5 > summary(polite, "TOXICITY")

    # Span annotations: one per sentence, [begin, end) in UTF-16 code units of the text as sent, checked in Node
    # with JavaScript's own substring (the text has emoji outside the BMP, a skin tone and a flag).
    spans = got["spans"]
    assert spans["clientToken"] == "node-client-1"
    sentences = ["Thanks for the piece on the talks 🙂👍🏽.", "You are a worthless idiot!", "See you in Tehran 🇮🇷."]
    for attribute in ("TOXICITY", "INSULT"):
        sliced = got["spanned"][attribute]
        assert [span["text"] for span in sliced] == sentences, attribute
        assert all(span["valid"] for span in sliced), sliced
        scores = [span["score"]["value"] for span in spans["attributeScores"][attribute]["spanScores"]]
        assert all(0.0 <= value <= 1.0 for value in scores)
        assert scores[1] > max(scores[0], scores[2]), (attribute, scores)  # the abusive sentence stands out
    # HTML analysed as HTML: the sentences of its text, located in the HTML as sent.
    html = got["html_spanned"]["INSULT"]
    assert all(span["valid"] for span in html), html
    assert [span["text"] for span in html] == ["Thanks 🙂 for this.", "You are a worthless &amp; stupid <b>idiot</b>!"]
    html_scores = [span["score"]["value"] for span in got["html_spans"]["attributeScores"]["INSULT"]["spanScores"]]
    assert html_scores[1] > html_scores[0]

    assert summary(got["stripped"], "INSULT") > 0.5  # the client stripped the tags itself
    assert set(got["threshold"]["attributeScores"]) == {"INSULT"}  # TOXICITY under its scoreThreshold: left out

    # Errors reach the caller as the client's ResponseError, carrying our Google-shaped message.
    refused = got["unknown_attribute"]
    assert refused["error"] == "ResponseError" and refused["isResponseError"] and refused["status"] == 400
    error = refused["body"]["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert refused["message"] == error["message"] and "FLIRTATION" in error["message"]
    language = got["unsupported_language"]
    assert language["error"] == "ResponseError" and language["status"] == 400
    details = language["body"]["error"]["details"]
    assert details[0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert language["message"] == language["body"]["error"]["message"]
    unknown = got["unknown_key"]
    assert unknown["error"] == "ResponseError" and unknown["status"] == 401
    assert unknown["body"]["error"]["status"] == "UNAUTHENTICATED" and unknown["message"]

    # Every request carried the key as ?key= (the client's only way): the access log names them, never the key.
    by_client = [entry for entry in access_log(server) if (entry["user_agent"] or "").startswith("axios/0.18.")]
    assert [entry["path"] for entry in by_client] == ["/v1alpha1/comments:analyze"] * 9
    assert_key_never_logged(server, site)


def test_coral_requests_as_coral_builds_them(server: LiveServer) -> None:
    site, admin = server.keys["site"], server.keys["admin"]
    other_tenant = "https://other.example/"

    def analyze(text: str, **extra: Any) -> dict[str, Any]:
        return {"kind": "analyze", "key": site, "text": text, **extra}

    def suggestion(comment_id: str, status: str, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "kind": "suggestscore",
            "key": site,
            "text": text,
            "commentID": comment_id,
            "commentStatus": status,
            "tenantURL": "https://news.example/",
            **TENANT,
            **extra,
        }

    def phase(body: str, secrets: list[str], author: str, **extra: Any) -> dict[str, Any]:
        return {"kind": "phase", "body": body, "secrets": secrets, "authorID": author, **TENANT, **extra}

    def coral_decisions() -> list[dict[str, Any]]:
        status, page = server.json("GET", "/v1/decisions?actor=coral&limit=1000", key=admin)
        assert status == 200
        return list(page["items"])

    rotated = [OLD_SECRET, NEW_SECRET]
    before = len(coral_decisions())
    answers = run_node(
        "coral_requests.js",
        server,
        stdin=[
            # comments:analyze, as the toxic phase asks it (the custom endpoint with or without a trailing slash).
            analyze(ABUSIVE),
            analyze(POLITE, endpoint=f"{server.base_url}/v1alpha1/"),
            analyze(ABUSIVE, model="SEVERE_TOXICITY"),
            analyze(POLITE, locale="fr-FR"),  # a French tenant: Coral asks for "fr", which this model does not score
            # comments:suggestscore, as Coral sends a moderator's decision; the later one for a comment replaces it.
            suggestion("c-1", "APPROVED", POLITE),
            suggestion("c-1", "DELETED", POLITE),
            suggestion("c-2", "APPROVED", "Agreed.", parentID="c-1", tenantURL=other_tenant),
            # The external moderation phase.
            phase(POLITE, rotated, "author-1"),
            phase(ABUSIVE, rotated, "author-1"),
            phase(ABUSIVE, rotated, "author-1"),  # Coral's retry of the same comment: replayed, not recorded twice
            phase(f"<p>{ABUSIVE.replace('idiot', '<b>idiot</b>')}</p>", rotated, "author-4"),  # a phase set to HTML
            phase("Thanks for the balanced article on the talks in Tehran 🙂 — très bien.", rotated, "author-5"),
            phase("Agreed, thanks.", rotated, "author-6", parentID="coral-comment-1"),  # a reply
            phase("Agreed, thanks (edited).", rotated, "author-6", parentID="coral-comment-1", action="EDIT"),
            phase(ABUSIVE, [UNKNOWN_SECRET], "author-2"),  # an unknown secret
            phase(ABUSIVE, [], "author-2"),  # no signature at all
            phase(POLITE, rotated, "author-2", tamper=[POLITE, ABUSIVE]),  # a body changed after signing
            phase(POLITE, [OLD_SECRET], "author-3"),  # only the old secret of the rotation
            phase(POLITE, [NEW_SECRET], "author-7"),  # only the new one, once the old has expired
        ],
    )
    toxic, polite_analyzed, severe, french, first, second, reply, *phases = answers
    approved, rejected, retried, html, unicode, reply_phase, edited, unknown, unsigned, tampered, old, new = phases

    # comments:analyze answers what Coral reads: attributeScores[model].summaryScore.value, and Coral's default
    # threshold (0.8) withholds the abusive comment and not the polite one.
    assert toxic["status"] == 200 and polite_analyzed["status"] == 200
    assert summary(toxic["body"], "TOXICITY") > summary(polite_analyzed["body"], "TOXICITY")
    assert toxic["coral"]["withheld"] is True and polite_analyzed["coral"]["withheld"] is False
    assert severe["status"] == 200 and set(severe["body"]["attributeScores"]) == {"SEVERE_TOXICITY"}
    assert french["status"] == 400 and french["body"]["error"]["status"] == "INVALID_ARGUMENT"

    assert first["status"] == 200 and first["body"]["replaced"] is False
    assert second["status"] == 200 and second["body"]["replaced"] is True
    assert second["body"]["clientToken"] == "comment:c-1" and second["body"]["requestedLanguages"] == ["en"]
    assert reply["status"] == 200 and reply["body"]["replaced"] is False

    assert approved["status"] == 204 and approved["body"] is None
    allowed = (
        {"status": "REJECTED"},
        {"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]},
    )
    assert rejected["status"] == 200 and rejected["body"] in allowed
    assert (retried["status"], retried["body"]) == (rejected["status"], rejected["body"])
    assert html["status"] == 200 and html["body"] in allowed  # the HTML was read as its text
    assert unicode["status"] in (200, 204)  # signed over its UTF-8 bytes, as Coral signs
    assert reply_phase["status"] in (200, 204) and edited["status"] in (200, 204)
    for refused in (unknown, unsigned, tampered):
        assert refused["status"] == 401 and refused["body"]["error"] == "unauthorized", refused
    assert old["status"] == 204 and new["status"] == 204  # either secret of the pair alone still signs

    # One decision per comment Coral sent with a good signature (the retry replayed the first), none for the others.
    recorded = [approved, rejected, html, unicode, reply_phase, edited, old, new]
    decisions = coral_decisions()
    assert len(decisions) == before + len(recorded)
    for answer in recorded:
        request = coral.ExternalModerationRequest.model_validate_json(answer["sent"])
        status, comment = server.json("GET", f"/v1/comments/{coral.comment_key(request)}", key=admin)
        assert status == 200, answer
        assert comment["author_id"] == request.author.id and comment["article_id"] == request.story.id
        assert comment["parent_id"] == request.comment.parentID
        assert comment["article_url"] == request.story.url
        assert len(comment["decisions"]) == 1 and comment["decisions"][0]["actor"] == "coral"
        got = None if answer["status"] == 204 else answer["body"]["status"]
        assert CORAL_STATUS[comment["status"]] == got, (comment["status"], answer)
    unicode_sent = coral.ExternalModerationRequest.model_validate_json(unicode["sent"])
    status, comment = server.json("GET", f"/v1/comments/{coral.comment_key(unicode_sent)}", key=admin)
    assert comment["text"] == "Thanks for the balanced article on the talks in Tehran 🙂 — très bien."
    for refused in (unknown, unsigned):
        request = coral.ExternalModerationRequest.model_validate_json(refused["sent"])
        assert server.json("GET", f"/v1/comments/{coral.comment_key(request)}", key=admin)[0] == 404

    # The suggestions are kept per community: c-1 once (its later label), the reply in the other tenant's.
    status, models = server.json("GET", "/v1/models", key=admin)
    assert status == 200
    counts = {row["community_id"]: row for row in models["suggested_scores"]}
    assert counts["Coral:https://news.example/"]["examples"] == 1
    assert counts["Coral:https://news.example/"]["flagged"] == 1
    assert counts[f"Coral:{other_tenant}"]["examples"] == 1 and counts[f"Coral:{other_tenant}"]["flagged"] == 0

    # Coral's user agents reached the log; its key, sent as ?key=, did not.
    agents = {
        entry["path"]: entry["user_agent"] for entry in access_log(server) if "Coral" in (entry["user_agent"] or "")
    }
    assert agents["/v1/coral/moderation"].startswith("Coral Moderation/")
    assert agents["/v1alpha1/comments:suggestscore"].startswith("Coral Perspective/")
    assert_key_never_logged(server, site)


def test_the_node_packages_are_pinned() -> None:
    manifest = json.loads((NODE_DIR / "package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert manifest["dependencies"] == {"perspective-api-client": "3.1.0"}
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert lock["packages"]["node_modules/perspective-api-client"]["version"] == "3.1.0"
    assert lock["packages"]["node_modules/axios"]["version"].startswith("0.18.")
    assert "node_modules/" in (NODE_DIR / ".gitignore").read_text().split()
