"""Policy over HTTP: admins read and replace it; every change is kept with who and when."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

Auth = Callable[[str], dict[str, str]]


def test_get_policy_is_the_full_default_document(client: FlaskClient, auth: Auth) -> None:
    response = client.get("/v1/policy", headers=auth("admin"))
    assert response.status_code == 200
    document = response.get_json()
    assert document["thresholds"]["insult"] == {"reject": 0.9, "review": 0.5}
    assert document["shadow_mode"] is False
    assert document["sentence_holds"] == "reject"


def test_put_policy_sets_where_a_lone_sentence_holds_and_refuses_other_values(client: FlaskClient, auth: Auth) -> None:
    put = client.put("/v1/policy", json={"sentence_holds": "review"}, headers=auth("admin"))
    assert put.status_code == 200, put.get_json()
    assert client.get("/v1/policy", headers=auth("admin")).get_json()["sentence_holds"] == "review"
    refused = client.put("/v1/policy", json={"sentence_holds": "always"}, headers=auth("admin"))
    assert refused.status_code == 422
    assert refused.get_json()["fields"] == {"sentence_holds": "Input should be 'reject', 'review' or 'off'"}
    assert client.get("/v1/policy", headers=auth("admin")).get_json()["sentence_holds"] == "review"


def test_put_policy_changes_decisions_and_is_recorded(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str]
) -> None:
    body = {"id": "c1", "text": "what a clown", "article_id": "a", "author_id": "u"}
    assert client.post("/v1/score", json=body, headers=auth("site")).get_json()["status"] == "queued"
    put = client.put(
        "/v1/policy",
        json={"thresholds": {"insult": {"reject": 0.55}}, "blocked_terms": ["spoiler"]},
        headers=auth("admin"),
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["thresholds"]["insult"] == {"reject": 0.55, "review": 0.5}
    assert client.post("/v1/score", json=body, headers=auth("site")).get_json()["status"] == "rejected"
    blocked = client.post("/v1/score", json={**body, "text": "huge spoiler ahead"}, headers=auth("site")).get_json()
    assert blocked["status"] == "rejected" and blocked["decided_by"] == "rule"
    history = client.get("/v1/policy/history", headers=auth("admin")).get_json()
    (change,) = history["items"]
    admin_id = client.get("/v1/keys", headers=auth("admin")).get_json()["items"]
    assert change["actor_key_id"] in {k["id"] for k in admin_id if k["role"] == "admin"}
    assert change["at"] and change["document"]["blocked_terms"] == ["spoiler"]


def test_invalid_policy_is_422_and_changes_nothing(client: FlaskClient, auth: Auth) -> None:
    response = client.put(
        "/v1/policy", json={"thresholds": {"insult": {"reject": 1.5}}, "colour": "red"}, headers=auth("admin")
    )
    assert response.status_code == 422
    assert {"colour", "thresholds.insult.reject"} <= set(response.get_json()["fields"])
    assert client.get("/v1/policy/history", headers=auth("admin")).get_json()["items"] == []
    assert client.put("/v1/policy", json=[1], headers=auth("admin")).status_code == 422


def test_history_pages_newest_first(client: FlaskClient, auth: Auth) -> None:
    for links in range(1, 6):
        assert client.put("/v1/policy", json={"max_links": links}, headers=auth("admin")).status_code == 200
    page = client.get("/v1/policy/history?limit=2", headers=auth("admin")).get_json()
    assert [c["document"]["max_links"] for c in page["items"]] == [5, 4]
    rest = client.get(f"/v1/policy/history?limit=10&cursor={page['next_cursor']}", headers=auth("admin")).get_json()
    assert [c["document"]["max_links"] for c in rest["items"]] == [3, 2, 1] and rest["next_cursor"] is None


def test_only_admins_touch_policy(client: FlaskClient, auth: Auth) -> None:
    for role in ("site", "moderator"):
        assert client.get("/v1/policy", headers=auth(role)).status_code == 403
        assert client.put("/v1/policy", json={}, headers=auth(role)).status_code == 403


def test_history_says_what_each_change_changed(client: FlaskClient, auth: Auth) -> None:
    puts = [
        {"max_links": 2, "watched_terms": ["refund"]},
        {"max_links": 3, "watched_terms": ["refund", "crypto"], "thresholds": {"insult": {"review": 0.4}}},
        {"max_links": 3, "watched_terms": ["crypto"]},
    ]
    for document in puts:
        assert client.put("/v1/policy", json=document, headers=auth("admin")).status_code == 200
    newest, middle, oldest = client.get("/v1/policy/history", headers=auth("admin")).get_json()["items"]
    assert oldest["changes"] == [
        {"field": "max_links", "before": None, "after": 2},
        {"field": "watched_terms", "before": None, "after": ["refund"], "added": ["refund"], "removed": []},
    ]
    assert middle["changes"] == [
        {"field": "max_links", "before": 2, "after": 3},
        {"field": "thresholds.insult.review", "before": None, "after": 0.4},
        {
            "field": "watched_terms",
            "before": ["refund"],
            "after": ["refund", "crypto"],
            "added": ["crypto"],
            "removed": [],
        },
    ]
    assert newest["changes"] == [
        {"field": "thresholds.insult.review", "before": 0.4, "after": None},
        {
            "field": "watched_terms",
            "before": ["refund", "crypto"],
            "after": ["crypto"],
            "added": [],
            "removed": ["refund"],
        },
    ]
    # A page's oldest change is measured against the change before it, off the page.
    paged = client.get("/v1/policy/history?limit=1&cursor=" + str(newest["id"]), headers=auth("admin")).get_json()
    assert paged["items"][0]["changes"] == middle["changes"]
