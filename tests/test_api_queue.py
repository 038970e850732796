"""The review queue over HTTP: filters, priority order, pages, claims, stale versions, release, skip, next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

Auth = Callable[[str], dict[str, str]]


def submit(client: FlaskClient, auth: Auth, comment_id: str, text: str, **extra: Any) -> dict[str, Any]:
    body = {"id": comment_id, "text": text, "article_id": extra.pop("article_id", "a1"), "author_id": comment_id}
    response = client.post("/v1/comments", json={**body, **extra}, headers=auth("site"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def queued(client: FlaskClient, auth: Auth) -> list[str]:
    """Three queued comments: 'idiot' (toxicity 0.7), 'clown' (insult 0.6), 'stupid' (toxicity 0.55)."""
    submit(client, auth, "q-stupid", "that is stupid", section="sport", article_id="a2")
    submit(client, auth, "q-clown", "what a clown", section="politics")
    submit(client, auth, "q-idiot", "such an idiot", section="politics")
    submit(client, auth, "ok", "lovely weather")
    return ["q-idiot", "q-clown", "q-stupid"]


def listing(client: FlaskClient, auth: Auth, query: str = "") -> dict[str, Any]:
    response = client.get(f"/v1/queue{query}", headers=auth("moderator"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_queue_lists_by_priority_with_comment_text(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    page = listing(client, auth)
    assert [item["comment_id"] for item in page["items"]] == queued
    assert page["total"] == 3 and page["next_cursor"] is None
    assert page["items"][0]["comment"]["text"] == "such an idiot"


def test_queue_filters(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    assert [i["comment_id"] for i in listing(client, auth, "?category=insult")["items"]] == ["q-clown"]
    assert [i["comment_id"] for i in listing(client, auth, "?section=sport")["items"]] == ["q-stupid"]
    assert [i["comment_id"] for i in listing(client, auth, "?article_id=a2")["items"]] == ["q-stupid"]
    assert listing(client, auth, "?status=decided")["items"] == []
    assert listing(client, auth, "?appealed=true")["total"] == 0


def test_queue_pages_with_cursor(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    seen: list[str] = []
    query = "?limit=2"
    while True:
        page = listing(client, auth, query)
        seen.extend(item["comment_id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        query = f"?limit=2&cursor={page['next_cursor']}"
    assert seen == queued
    assert [i["comment_id"] for i in listing(client, auth, "?limit=1&offset=1")["items"]] == ["q-clown"]


def test_claim_decide_and_stale_version(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    item = listing(client, auth)["items"][0]
    claimed = client.post(f"/v1/queue/{item['id']}/claim", headers=auth("moderator"))
    assert claimed.status_code == 200
    claimed_item = claimed.get_json()
    assert claimed_item["claimed_by"] is not None and claimed_item["version"] == item["version"] + 1
    # Another moderator can neither claim nor decide it while the lease runs.
    assert client.post(f"/v1/queue/{item['id']}/claim", headers=auth("moderator2")).status_code == 409
    other = client.post(
        f"/v1/queue/{item['id']}/decision",
        json={"action": "approve", "version": claimed_item["version"]},
        headers=auth("moderator2"),
    )
    assert other.status_code == 409
    # The version seen before the claim is stale.
    stale = client.post(
        f"/v1/queue/{item['id']}/decision",
        json={"action": "reject", "version": item["version"]},
        headers=auth("moderator"),
    )
    assert stale.status_code == 409 and "version" in stale.get_json()["fields"]
    decided = client.post(
        f"/v1/queue/{item['id']}/decision",
        json={
            "action": "reject",
            "reason": "personal attack",
            "labels": {"toxicity": 1, "insult": 1},
            "version": claimed_item["version"],
        },
        headers=auth("moderator"),
    )
    assert decided.status_code == 200
    result = decided.get_json()
    assert result["comment"] == {"id": item["comment_id"], "status": "rejected"}
    assert result["decision"]["actor_type"] == "moderator" and result["decision"]["note"] == "personal attack"
    assert result["item"]["state"] == "decided"
    again = client.post(
        f"/v1/queue/{item['id']}/decision",
        json={"action": "approve", "version": result["item"]["version"]},
        headers=auth("moderator"),
    )
    assert again.status_code == 409
    assert listing(client, auth)["total"] == 2


def test_decision_validation(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    item = listing(client, auth)["items"][0]
    path = f"/v1/queue/{item['id']}/decision"
    bad = client.post(path, json={"action": "delete", "version": item["version"]}, headers=auth("moderator"))
    assert bad.status_code == 422 and "action" in bad.get_json()["fields"]
    bad = client.post(path, json={"action": "reject", "version": "1"}, headers=auth("moderator"))
    assert bad.status_code == 422 and "version" in bad.get_json()["fields"]
    bad = client.post(
        path,
        json={"action": "reject", "version": item["version"], "labels": {"toxicity": 5}},
        headers=auth("moderator"),
    )
    assert bad.status_code == 422 and "labels.toxicity" in bad.get_json()["fields"]
    assert (
        client.post(
            "/v1/queue/999/decision", json={"action": "reject", "version": 1}, headers=auth("moderator")
        ).status_code
        == 404
    )


def test_release_skip_and_next(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    first = client.post("/v1/queue/next", headers=auth("moderator"))
    assert first.status_code == 200 and first.get_json()["comment_id"] == "q-idiot"
    second = client.post("/v1/queue/next", headers=auth("moderator2"))
    assert second.get_json()["comment_id"] == "q-clown"  # the first is held
    released = client.post(f"/v1/queue/{first.get_json()['id']}/release", headers=auth("moderator"))
    assert released.status_code == 200 and released.get_json()["claimed_by"] is None
    skipped = client.post(f"/v1/queue/{first.get_json()['id']}/skip", headers=auth("moderator"))
    assert skipped.status_code == 200
    again = client.post("/v1/queue/next", headers=auth("moderator"))
    assert again.get_json()["comment_id"] == "q-stupid"  # skipped one not offered, clown held by moderator2
    assert client.post("/v1/queue/next", headers=auth("moderator")).status_code == 204  # nothing left for them
    assert client.post("/v1/queue/next?category=insult", headers=auth("admin")).status_code == 204
    held = client.post(f"/v1/queue/{second.get_json()['id']}/release", headers=auth("moderator"))
    assert held.status_code == 409


def test_get_item(client: FlaskClient, auth: Auth, queued: list[str]) -> None:
    item = listing(client, auth)["items"][0]
    shown = client.get(f"/v1/queue/{item['id']}", headers=auth("admin"))
    assert shown.status_code == 200 and shown.get_json()["comment"]["text"] == "such an idiot"
    assert client.get("/v1/queue/12345", headers=auth("moderator")).status_code == 404
