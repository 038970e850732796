"""Bad input: every error is JSON {error, message} (+ fields) with the right 4xx, never a 5xx or a half row."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import MAX_BODY_BYTES
from moderation.json_documents import MAX_DEPTH
from moderation.storage import store as store_module

Auth = Callable[[str], dict[str, str]]


def comment(**overrides: Any) -> dict[str, Any]:
    return {"id": "c1", "text": "A fair point about the budget.", "article_id": "a1", "author_id": "u1", **overrides}


def count_rows(app: Flask, table: str) -> int:
    with app.extensions["moderation"].store.read() as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["error"] == code
    return body  # type: ignore[no-any-return]


def test_unknown_route_is_404_json(client: FlaskClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/v1/queue/not-a-number"), 404, "not_found")
    assert_error(client.get("/v1/queue/99999999999999999999999"), 404, "not_found")


def test_wrong_method_is_405_json_with_allow(client: FlaskClient) -> None:
    response = client.delete("/v1/comments")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_not_json_is_415(client: FlaskClient, auth: Auth) -> None:
    assert_error(client.post("/v1/comments", data="id=1&text=hi", headers=auth("site")), 415)
    assert_error(
        client.post("/v1/comments", data=json.dumps(comment()), content_type="text/plain", headers=auth("site")), 415
    )
    assert_error(
        client.post(
            "/v1/comments",
            data=json.dumps(comment()).encode("utf-16"),
            content_type="application/json; charset=utf-16",
            headers=auth("site"),
        ),
        415,
    )


def test_large_bodies_and_texts_are_413(client: FlaskClient, auth: Auth, app: Flask) -> None:
    body = assert_error(
        client.post("/v1/comments", json=comment(text="x" * 20_001), headers=auth("site")), 413, "too_large"
    )
    assert "text" in body["fields"]
    assert client.post("/v1/comments", json=comment(text="x" * 20_000), headers=auth("site")).status_code == 201
    assert_error(
        client.post("/v1/comments", json=comment(id="c2", text="y" * (MAX_BODY_BYTES + 1)), headers=auth("site")), 413
    )
    assert_error(
        client.post(
            "/v1/score", data=b"{" + b" " * 1_000_000 + b"}", content_type="application/json", headers=auth("site")
        ),
        413,
    )
    assert count_rows(app, "comments") == 1


def test_chunked_bodies_over_the_limit_are_413(client: FlaskClient, auth: Auth) -> None:
    # No Content-Length: the server only learns the size by reading (gunicorn marks the stream terminated).
    response = client.post(
        "/v1/comments",
        input_stream=io.BytesIO(b" " * (MAX_BODY_BYTES + 10)),
        content_type="application/json",
        headers=auth("site"),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413)
    for size in (MAX_BODY_BYTES + 1, 10 * MAX_BODY_BYTES):
        response = client.post(
            "/v1/comments",
            input_stream=io.BytesIO(b'{"text": "' + b"x" * size + b'"}'),
            content_type="application/json",
            headers={**auth("site"), "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
        assert_error(response, 413)
    exact = json.dumps(comment()).encode()
    response = client.post(
        "/v1/comments",
        input_stream=io.BytesIO(exact),
        content_type="application/json",
        headers={**auth("site"), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b"{'id': 1}",
        b'{"id": "c1",}',
        b"\xff\xfe{}",
        b'{"text": "\xc3\x28"}',
        b'{"id": "c1", "text": NaN}',
        b'{"n": Infinity}',
        b'{"text": "raw\x00nul"}',
        b'{"id": ' + b"9" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 30_000 + b"1" + b"}" * 30_000,
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b'{"id": "c1", "text": "\\ud800 lone surrogate", "article_id": "a", "author_id": "u"}',
        b'{"\\udfff": 1}',
        b'{"id": "c1", "text": "hi", "article_id": "a", "author_id": "u", "extra": -1e400}',
    ],
)
def test_malformed_json_is_400(client: FlaskClient, auth: Auth, app: Flask, raw: bytes) -> None:
    response = client.post("/v1/comments", data=raw[:60_000], content_type="application/json", headers=auth("site"))
    assert_error(response, 400, "malformed")
    assert count_rows(app, "comments") == 0


def test_nesting_up_to_the_limit_parses(client: FlaskClient, auth: Auth) -> None:
    nested: Any = "deep"
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    response = client.post("/v1/comments", json=comment(extra=nested), headers=auth("site"))
    assert response.status_code == 201


def test_missing_and_wrong_fields_are_422_naming_them(client: FlaskClient, auth: Auth) -> None:
    body = assert_error(client.post("/v1/comments", json={"text": 5}, headers=auth("site")), 422, "invalid")
    assert {"text", "id", "article_id", "author_id"} <= set(body["fields"])
    body = assert_error(client.post("/v1/comments", json=[comment()], headers=auth("site")), 422)
    assert body["fields"]
    body = assert_error(client.post("/v1/comments", json=comment(ip="300.1.1.1"), headers=auth("site")), 422)
    assert set(body["fields"]) == {"ip"}
    body = assert_error(client.post("/v1/queue/1/decision", json={"action": 1}, headers=auth("moderator")), 422)
    assert set(body["fields"]) == {"action", "version"}
    body = assert_error(client.get("/v1/queue?limit=0", headers=auth("moderator")), 422)
    assert set(body["fields"]) == {"limit"}


@pytest.mark.parametrize(
    "created_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "not a date", "2024-13-45"]
)
def test_impossible_dates_are_422(client: FlaskClient, auth: Auth, created_at: str) -> None:
    body = assert_error(client.post("/v1/comments", json=comment(created_at=created_at), headers=auth("site")), 422)
    assert set(body["fields"]) == {"created_at"}


@pytest.mark.parametrize(
    "query",
    [
        "since=9999-12-31T23:59:59-14:00",
        "until=0001-01-01T00:00:00%2B14:00",
        "since=yesterday",
        "cursor=99999999999999999999999999",
        "cursor=-1",
        "cursor=abc",
        "limit=99999999999999999999999",
        "status=maybe",
        "actor_type=robot",
        "order=sideways",
        "format=xml",
    ],
)
def test_bad_decision_filters_are_422(client: FlaskClient, auth: Auth, query: str) -> None:
    assert_error(client.get(f"/v1/decisions?{query}", headers=auth("moderator")), 422)
    if query.split("=")[0] not in ("cursor", "limit", "order"):  # the CSV export ignores paging
        assert_error(client.get(f"/v1/decisions?{query}&format=csv", headers=auth("moderator")), 422)


@pytest.mark.parametrize(
    "query",
    [
        "cursor=99999999999999999999999999",
        "cursor=W1sxXSwgIngiLCA5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",
        "cursor=!!!",
        "offset=-1",
        "offset=99999999999999999999999",
        "status=lost",
        "appealed=perhaps",
    ],
)
def test_bad_queue_filters_are_422(client: FlaskClient, auth: Auth, query: str) -> None:
    assert_error(client.get(f"/v1/queue?{query}", headers=auth("moderator")), 422)


def test_bad_policy_history_cursor_is_422(client: FlaskClient, auth: Auth) -> None:
    for cursor in ("x", "99999999999999999999999999", "-5"):
        assert_error(client.get(f"/v1/policy/history?cursor={cursor}", headers=auth("admin")), 422)


def test_unavailable_database_is_503_with_retry_after(
    client: FlaskClient, auth: Auth, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = auth("site")  # made before the disk "fills"

    def disk_full(db: Any, row: Any) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module, "insert_decision", disk_full)
    response = client.post("/v1/comments", json=comment(), headers=headers)
    assert_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) > 0
    # The comment row written before the failure was rolled back with it: no half-written submission.
    assert count_rows(app, "comments") == 0
    batch = client.post("/v1/comments/batch", json={"comments": [comment(), comment(id="c2")]}, headers=headers)
    assert_error(batch, 503)
    assert count_rows(app, "comments") == 0
    monkeypatch.undo()
    assert client.post("/v1/comments", json=comment(), headers=headers).status_code == 201
    assert count_rows(app, "comments") == count_rows(app, "decisions") == 1


def test_an_unexpected_bug_is_a_json_500(app: Flask, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    from moderation import service

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(service, "get_comment", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/v1/comments/c1", headers=auth("site"))
    assert_error(response, 500, "internal")


HOSTILE_BODIES: list[bytes] = [
    b"\x00" * 100,
    b"\xff" * 100,
    b"null",
    b"true",
    b"0",
    b"-1e999999",
    b"1" * 4000,
    b'"just a string"',
    b"[]",
    b"[1, 2, 3]",
    b"[[[[[[[[[[]]]]]]]]]]",
    b"{}",
    json.dumps({"id": 10**300, "text": "hi", "article_id": 1e308, "author_id": -1}).encode(),
    json.dumps({"id": True, "text": ["a"], "article_id": {"x": 1}, "author_id": None}).encode(),
    json.dumps(comment(text="nul \u0000 inside", id="n1")).encode(),
    json.dumps(comment(text="\u202e\u200b\ufeff zero widths", id="z1")).encode(),
    json.dumps(comment(id="", article_id=" ", author_id="\t")).encode(),
    json.dumps(comment(id="x" * 100_00)).encode(),
    json.dumps({"comments": [comment(id=str(i)) for i in range(101)]}).encode(),
    json.dumps({"comments": "not a list"}).encode(),
    json.dumps({"action": "approve", "version": 10**30}).encode(),
    json.dumps({"action": "approve", "version": -1, "labels": {"nope": 2}}).encode(),
    json.dumps({"action": "reject", "version": 1, "labels": [1, 2]}).encode(),
    json.dumps({"role": "root"}).encode(),
    json.dumps({"role": ["admin"], "name": {"a": 1}}).encode(),
    json.dumps({"message": 5}).encode(),
    json.dumps({"thresholds": {"toxicity": {"reject": 2, "review": -1}}, "max_links": 10**40}).encode(),
    json.dumps({"thresholds": [], "sections": "x", "blocked_terms": [None], "shadow_mode": "yes"}).encode(),
    b"{" + b'"k": 1,' * 9000 + b'"k": 2}',
    b"[" + b"1," * 30_000 + b"1]",
    b'{"text": "' + b"\\u0000" * 10_000 + b'"}',
]

POST_TARGETS = [
    ("POST", "/v1/comments", "site"),
    ("POST", "/v1/comments/batch", "site"),
    ("POST", "/v1/score", "site"),
    ("POST", "/v1/comments/c1/appeal", "site"),
    ("POST", "/v1/comments/c1/reversal", "moderator"),
    ("POST", "/v1/queue/1/decision", "moderator"),
    ("POST", "/v1/keys", "admin"),
    ("PUT", "/v1/policy", "admin"),
]


@pytest.mark.parametrize(("method", "path", "role"), POST_TARGETS)
def test_hostile_bodies_never_cause_a_5xx(
    client: FlaskClient, auth: Auth, app: Flask, method: str, path: str, role: str
) -> None:
    client.post("/v1/comments", json=comment(text="you idiot moron"), headers=auth("site"))
    headers = auth(role)
    bodies = [*HOSTILE_BODIES, b"{" * 1_000_000, b"x" * (1024 * 1024 + 1)]
    for raw in bodies:
        for content_type in ("application/json", "text/plain"):
            response = client.open(path, method=method, data=raw, content_type=content_type, headers=headers)
            assert 400 <= response.status_code < 500 or response.status_code in (200, 201), (
                raw[:80],
                response.status_code,
            )
            if response.status_code >= 400:
                assert_error(response, response.status_code)


def test_hostile_paths_and_headers_never_cause_a_5xx(client: FlaskClient, auth: Auth, api_keys: dict[str, str]) -> None:
    paths = [
        "/v1/comments/%00",
        "/v1/comments/%ff%fe",
        "/v1/comments/" + "a" * 5000,
        "/v1/comments/%ED%A0%80",
        "/v1/decisions?since=%00&actor=%ff&article_id=" + "z" * 3000,
        "/v1/queue?category=%00&section=%ff&cursor=%ff%00",
        "/v1/keys/%00",
        "/v1/policy/history?limit=abc",
        "/%2e%2e/%2e%2e/etc/passwd",
    ]
    for path in paths:
        for role in ("site", "moderator", "admin"):
            response = client.get(path, headers=auth(role))
            assert response.status_code < 500, (path, response.status_code)
        assert client.delete(path, headers=auth("admin")).status_code < 500
    for headers in (
        {"Authorization": "Bearer " + "\x00" * 10},
        {"Authorization": "Bearer " + api_keys["site"] + "\x00"},
        {"X-API-Key": "mod_site_" + "a" * 5000},
        {"Authorization": "Bearer mod_adm_aaaaaaaaaaaa_" + "é" * 10},
    ):
        assert client.get("/v1/decisions", headers=headers).status_code == 401


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
comment_like = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        for name in (
            "id",
            "text",
            "article_id",
            "author_id",
            "ip",
            "email",
            "created_at",
            "lang",
            "section",
            "parent_id",
        )
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values | comment_like)
def test_any_json_document_gets_an_answer_not_a_crash(client: FlaskClient, auth: Auth, document: Any) -> None:
    for path in ("/v1/comments", "/v1/score"):
        response = client.post(path, data=json.dumps(document), content_type="application/json", headers=auth("site"))
        assert response.status_code in (200, 201, 400, 409, 413, 422), (document, response.status_code)
