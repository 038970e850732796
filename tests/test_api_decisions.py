"""The decision log over HTTP: filters by time, actor, status and article; pages; streamed CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def logged(client: FlaskClient, auth: Auth, api_keys: dict[str, str]) -> dict[str, Any]:
    """Six submissions over two articles and one moderator decision."""
    for i, text in enumerate(["fine", "you moron", "what a clown", "nice", "casino bonus", "=HYPERLINK(1)"]):
        body = {"id": f"d{i}", "text": text, "article_id": f"art{i % 2}", "author_id": f"u{i}"}
        assert client.post("/v1/comments", json=body, headers=auth("site")).status_code == 201
    item = client.get("/v1/queue?category=insult", headers=auth("moderator")).get_json()["items"][0]
    decided = client.post(
        f"/v1/queue/{item['id']}/decision",
        json={"action": "approve", "version": item["version"]},
        headers=auth("moderator"),
    )
    moderator_id = decided.get_json()["decision"]["actor"]
    return {"moderator_id": moderator_id}


def get(client: FlaskClient, auth: Auth, query: str) -> dict[str, Any]:
    response = client.get(f"/v1/decisions{query}", headers=auth("moderator"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_filters(client: FlaskClient, auth: Auth, logged: dict[str, Any]) -> None:
    everything = get(client, auth, "")["items"]
    assert len(everything) == 7 and everything[0]["id"] > everything[-1]["id"]  # newest first
    assert [d["comment_id"] for d in get(client, auth, "?actor_type=moderator")["items"]] == ["d2"]
    assert [d["comment_id"] for d in get(client, auth, f"?actor={logged['moderator_id']}")["items"]] == ["d2"]
    rejected = get(client, auth, "?status=rejected")["items"]
    assert {d["comment_id"] for d in rejected} == {"d1"}
    assert {d["article_id"] for d in get(client, auth, "?article_id=art1")["items"]} == {"art1"}
    assert [d["kind"] for d in get(client, auth, "?comment_id=d2&order=asc")["items"]] == ["submission", "review"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert get(client, auth, f"?since={later.replace('+', '%2B')}")["items"] == []
    assert len(get(client, auth, f"?since={earlier.replace('+', '%2B')}")["items"]) == 7
    assert get(client, auth, f"?until={earlier.replace('+', '%2B')}")["items"] == []


def test_pages_in_both_orders(client: FlaskClient, auth: Auth, logged: dict[str, Any]) -> None:
    for order in ("asc", "desc"):
        seen: list[int] = []
        query = f"?limit=3&order={order}"
        while True:
            page = get(client, auth, query)
            seen.extend(d["id"] for d in page["items"])
            if page["next_cursor"] is None:
                break
            query = f"?limit=3&order={order}&cursor={page['next_cursor']}"
        assert seen == sorted(seen, reverse=order == "desc") and len(seen) == 7


def test_polling_with_since_for_sites(client: FlaskClient, auth: Auth, logged: dict[str, Any]) -> None:
    everything = client.get("/v1/decisions?order=asc", headers=auth("site")).get_json()["items"]
    since = everything[-1]["at"]
    recent = client.get(f"/v1/decisions?since={since}&actor_type=moderator", headers=auth("site")).get_json()
    assert [d["comment_id"] for d in recent["items"]] == ["d2"]


def test_csv_export_by_format_or_accept(client: FlaskClient, auth: Auth, logged: dict[str, Any]) -> None:
    by_format = client.get("/v1/decisions?format=csv", headers=auth("moderator"))
    by_accept = client.get("/v1/decisions", headers={**auth("moderator"), "Accept": "text/csv"})
    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.is_streamed
        assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(by_format.get_data(as_text=True))))
    assert len(table) == 7 and table == list(csv.DictReader(io.StringIO(by_accept.get_data(as_text=True))))
    assert [int(row["id"]) for row in table] == sorted(int(row["id"]) for row in table)  # oldest first
    filtered = client.get("/v1/decisions?format=csv&status=rejected", headers=auth("moderator"))
    assert [row["comment_id"] for row in csv.DictReader(io.StringIO(filtered.get_data(as_text=True)))] == ["d1"]
    # Accept listing JSON first, or anything, still gets JSON.
    assert client.get("/v1/decisions", headers={**auth("moderator"), "Accept": "*/*"}).mimetype == "application/json"


def test_csv_of_nothing_is_just_the_header(client: FlaskClient, auth: Auth) -> None:
    response = client.get("/v1/decisions?format=csv", headers=auth("moderator"))
    assert response.status_code == 200
    assert response.get_data(as_text=True).splitlines()[0].startswith("id,at,comment_id")
    assert len(response.get_data(as_text=True).splitlines()) == 1


def test_csv_streams_more_than_one_page(client: FlaskClient, auth: Auth) -> None:
    batch = [{"id": f"m{i}", "text": "fine", "article_id": "a", "author_id": "u"} for i in range(100)]
    for start in range(0, 600, 100):
        chunk = [{**c, "id": f"{c['id']}-{start}"} for c in batch]
        assert client.post("/v1/comments/batch", json=chunk, headers=auth("site")).status_code == 200
    response = client.get("/v1/decisions?format=csv", headers=auth("admin"))
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 601
