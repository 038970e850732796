"""Comments over HTTP: submit (idempotent), batch, read with history, dry-run score, appeal, reversal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

Auth = Callable[[str], dict[str, str]]


def comment(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "text": "A fair point about the budget.",
        "article_id": "a1",
        "article_title": "Budget",
        "section": "politics",
        "author_id": "u1",
        "author_name": "Ann",
        "ip": "192.0.2.7",
        "email": "ann@example.org",
        "lang": "en",
        **overrides,
    }


def rows(app: Flask, sql: str) -> list[tuple[Any, ...]]:
    with app.extensions["moderation"].store.read() as db:
        return [tuple(row) for row in db.execute(sql).fetchall()]


def test_submit_answers_the_decision(client: FlaskClient, auth: Auth, api_keys: dict[str, str]) -> None:
    response = client.post("/v1/comments", json=comment(), headers=auth("site"))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["id"] == "c1" and answer["status"] == "approved" and answer["decided_by"] == "model"
    assert set(answer) >= {"id", "status", "scores", "reasons", "spans", "model_version", "decided_by"}
    assert answer["model_version"] == "test-wordlist-1"
    assert answer["replayed"] is False


def test_rejected_and_queued_comments_carry_reasons_and_spans(client: FlaskClient, auth: Auth) -> None:
    rejected = client.post("/v1/comments", json=comment(id="r", text="you moron"), headers=auth("site")).get_json()
    assert rejected["status"] == "rejected"
    assert rejected["reasons"][0]["category"] == "insult"
    assert rejected["spans"] == [{"category": "insult", "start": 4, "end": 9, "text": "moron", "weight": 1.0}]
    queued = client.post("/v1/comments", json=comment(id="q", text="what a clown"), headers=auth("site")).get_json()
    assert queued["status"] == "queued"


def test_same_id_again_returns_the_stored_answer_and_records_nothing(
    client: FlaskClient, auth: Auth, app: Flask
) -> None:
    first = client.post("/v1/comments", json=comment(), headers=auth("site"))
    again = client.post("/v1/comments", json=comment(), headers=auth("site"))
    assert again.status_code == 200
    replay = again.get_json()
    assert replay["replayed"] is True
    for key in ("id", "status", "scores", "reasons", "spans", "model_version", "decided_by", "decision_id"):
        assert replay[key] == first.get_json()[key]
    assert rows(app, "SELECT count(*) FROM comments") == [(1,)]
    assert rows(app, "SELECT count(*) FROM decisions") == [(1,)]


def test_different_text_under_the_same_id_is_409(client: FlaskClient, auth: Auth, app: Flask) -> None:
    client.post("/v1/comments", json=comment(), headers=auth("site"))
    response = client.post("/v1/comments", json=comment(text="Something else."), headers=auth("site"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"
    assert rows(app, "SELECT text FROM comments") == [("A fair point about the budget.",)]


def test_integer_ids_are_the_same_as_their_strings(client: FlaskClient, auth: Auth) -> None:
    assert client.post("/v1/comments", json=comment(id=42), headers=auth("site")).status_code == 201
    assert client.post("/v1/comments", json=comment(id="42"), headers=auth("site")).status_code == 200
    assert client.get("/v1/comments/42", headers=auth("site")).get_json()["id"] == "42"


def test_personal_data_is_stored_only_as_keyed_hashes(client: FlaskClient, auth: Auth, app: Flask) -> None:
    client.post("/v1/comments", json=comment(), headers=auth("site"))
    ((ip_hash, email_hash),) = rows(app, "SELECT ip_hash, email_hash FROM comments")
    assert ip_hash and email_hash and "192.0.2.7" not in ip_hash and "ann@" not in email_hash
    shown = client.get("/v1/comments/c1", headers=auth("moderator")).get_data(as_text=True)
    assert "192.0.2.7" not in shown and "ann@example.org" not in shown


def test_batch_answers_each_comment_on_its_own(client: FlaskClient, auth: Auth, app: Flask) -> None:
    batch = [comment(id=f"b{i}", text=f"Comment number {i}") for i in range(5)]
    batch.append({"id": "bad", "text": 7})
    batch.append(comment(id="b0", text="Comment number 0"))  # a replay inside the batch
    response = client.post("/v1/comments/batch", json={"comments": batch}, headers=auth("site"))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == ["b0", "b1", "b2", "b3", "b4", "bad", "b0"]
    assert results[5]["error"]["code"] == "invalid" and "text" in results[5]["error"]["fields"]
    assert results[6]["replayed"] is True
    assert rows(app, "SELECT count(*) FROM comments") == [(5,)]
    bare = client.post("/v1/comments/batch", json=[comment(id="c9")], headers=auth("site"))
    assert bare.status_code == 200 and bare.get_json()["results"][0]["status"] == "approved"


def test_batch_of_more_than_100_is_413(client: FlaskClient, auth: Auth, app: Flask) -> None:
    batch = [comment(id=f"b{i}", text="short") for i in range(101)]
    response = client.post("/v1/comments/batch", json={"comments": batch}, headers=auth("site"))
    assert response.status_code == 413
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]
    full = [comment(id=f"b{i}", text="short") for i in range(100)]
    assert client.post("/v1/comments/batch", json=full, headers=auth("site")).status_code == 200


def test_get_comment_shows_status_and_whole_history(client: FlaskClient, auth: Auth) -> None:
    client.post("/v1/comments", json=comment(text="what a clown"), headers=auth("site"))
    item = client.get("/v1/queue", headers=auth("moderator")).get_json()["items"][0]
    client.post(
        f"/v1/queue/{item['id']}/decision",
        json={"action": "reject", "version": item["version"]},
        headers=auth("moderator"),
    )
    shown = client.get("/v1/comments/c1", headers=auth("site")).get_json()
    assert shown["status"] == "rejected"
    assert [(d["kind"], d["actor_type"], d["status"]) for d in shown["decisions"]] == [
        ("submission", "model", "queued"),
        ("review", "moderator", "rejected"),
    ]
    assert client.get("/v1/comments/nope", headers=auth("site")).status_code == 404


def test_score_is_a_dry_run(client: FlaskClient, auth: Auth, app: Flask) -> None:
    response = client.post("/v1/score", json={"text": "you moron"}, headers=auth("site"))
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["status"] == "rejected" and answer["scores"]["insult"] == 0.93
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]
    assert client.post("/v1/score", json={"text": "fine"}, headers=auth("moderator")).status_code == 200
    assert client.post("/v1/score", json={}, headers=auth("site")).status_code == 422


def test_appeal_puts_a_rejected_comment_back_in_the_queue(client: FlaskClient, auth: Auth) -> None:
    client.post("/v1/comments", json=comment(text="you moron"), headers=auth("site"))
    response = client.post(
        "/v1/comments/c1/appeal", json={"message": "It was a joke between friends."}, headers=auth("site")
    )
    assert response.status_code == 201
    item = response.get_json()
    assert item["appealed"] is True and item["appeal_message"] == "It was a joke between friends."
    assert client.post("/v1/comments/c1/appeal", json={}, headers=auth("site")).status_code == 409
    listed = client.get("/v1/queue?appealed=true", headers=auth("moderator")).get_json()
    assert [i["comment_id"] for i in listed["items"]] == ["c1"]
    decided = client.post(
        f"/v1/queue/{item['id']}/decision",
        json={"action": "approve", "version": item["version"]},
        headers=auth("moderator"),
    )
    assert decided.status_code == 200 and decided.get_json()["decision"]["kind"] == "appeal"
    assert client.get("/v1/comments/c1", headers=auth("site")).get_json()["status"] == "approved"


def test_appeal_needs_a_rejected_comment(client: FlaskClient, auth: Auth) -> None:
    client.post("/v1/comments", json=comment(), headers=auth("site"))
    assert client.post("/v1/comments/c1/appeal", headers=auth("site")).status_code == 409
    assert client.post("/v1/comments/zzz/appeal", json={"message": "hi"}, headers=auth("site")).status_code == 404


def test_reversal_records_a_new_moderator_decision(client: FlaskClient, auth: Auth) -> None:
    client.post("/v1/comments", json=comment(text="you moron"), headers=auth("site"))
    response = client.post(
        "/v1/comments/c1/reversal", json={"action": "approve", "reason": "satire"}, headers=auth("moderator")
    )
    assert response.status_code == 201
    assert response.get_json()["decision"]["kind"] == "reversal"
    assert (
        client.post("/v1/comments/c1/reversal", json={"action": "approve"}, headers=auth("moderator")).status_code
        == 409
    )
    assert (
        client.post(
            "/v1/comments/c1/reversal", json={"action": "reject", "expected_decision_id": 1}, headers=auth("moderator")
        ).status_code
        == 409
    )
    assert (
        client.post("/v1/comments/c1/reversal", json={"action": "maybe"}, headers=auth("moderator")).status_code == 422
    )


def test_admin_may_post_comments_too(client: FlaskClient, auth: Auth) -> None:
    assert client.post("/v1/comments", json=comment(), headers=auth("admin")).status_code == 201
    assert client.post("/v1/comments", json=comment(id="m"), headers=auth("moderator")).status_code == 403
