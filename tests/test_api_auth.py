"""Auth: every route declares its roles, undeclared routes are denied, keys by Bearer or X-API-Key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.auth import PUBLIC, SIGNED, by_session, declared_roles, roles

SIGNED_ENDPOINTS = {"coral.moderation"}  # Coral's signature instead of a key: tests/test_coral.py
PUBLIC_ENDPOINTS = {"health.healthz", "health.readyz", "health.metrics", "docs.openapi_json", "docs.docs"}
# The web app's pages that need no session (tests/test_web_*.py check the pages' own sign-in rules).
PUBLIC_PAGES = {"web_root", "web.index", "web.static", "web.sign_in", "web.sign_in_post", "web.sign_out_post"}

# (method, path, roles that may call it) for every route: the role matrix the README documents.
MATRIX: list[tuple[str, str, set[str]]] = [
    ("POST", "/v1/comments", {"site", "admin"}),
    ("POST", "/v1/comments/batch", {"site", "admin"}),
    ("GET", "/v1/comments/c1", {"site", "moderator", "admin"}),
    ("POST", "/v1/comments/c1/appeal", {"site", "admin"}),
    ("POST", "/v1/comments/c1/reversal", {"moderator", "admin"}),
    ("POST", "/v1/score", {"site", "moderator", "admin"}),
    ("POST", "/v1alpha1/comments:analyze", {"site", "moderator", "admin"}),
    ("POST", "/v1alpha1/comments:suggestscore", {"site", "moderator", "admin"}),
    ("GET", "/v1/queue", {"moderator", "admin"}),
    ("POST", "/v1/queue/next", {"moderator", "admin"}),
    ("GET", "/v1/queue/1", {"moderator", "admin"}),
    ("POST", "/v1/queue/1/claim", {"moderator", "admin"}),
    ("POST", "/v1/queue/1/release", {"moderator", "admin"}),
    ("POST", "/v1/queue/1/skip", {"moderator", "admin"}),
    ("POST", "/v1/queue/1/decision", {"moderator", "admin"}),
    ("GET", "/v1/decisions", {"site", "moderator", "admin"}),
    ("GET", "/v1/policy", {"admin"}),
    ("PUT", "/v1/policy", {"admin"}),
    ("GET", "/v1/policy/history", {"admin"}),
    ("GET", "/v1/keys", {"admin"}),
    ("POST", "/v1/keys", {"admin"}),
    ("DELETE", "/v1/keys/abc", {"admin"}),
    ("GET", "/v1/models", {"admin"}),
    ("GET", "/v1/models/activations", {"admin"}),
    ("GET", "/v1/models/v1", {"admin"}),
    ("GET", "/v1/models/v1/card", {"admin"}),
    ("POST", "/v1/models/train", {"admin"}),
    ("POST", "/v1/models/v1/activate", {"admin"}),
    ("POST", "/v1/models/rollback", {"admin"}),
    ("GET", "/v1/jobs", {"admin"}),
    ("GET", "/v1/jobs/1", {"admin"}),
    ("GET", "/v1/datasets", {"admin"}),
    ("POST", "/v1/datasets", {"admin"}),
    ("GET", "/v1/datasets/1", {"admin"}),
]


def test_every_route_declares_its_roles(app: Flask) -> None:
    undeclared = []
    for rule in app.url_map.iter_rules():
        allowed = declared_roles(app.view_functions[rule.endpoint])
        if allowed is None:
            undeclared.append(f"{rule.endpoint} {rule.rule}")
        elif allowed is PUBLIC:
            assert rule.endpoint in PUBLIC_ENDPOINTS | PUBLIC_PAGES, f"{rule.endpoint} is public but not meant to be"
        elif allowed is SIGNED:
            assert rule.endpoint in SIGNED_ENDPOINTS, f"{rule.endpoint} checks a signature but is not meant to"
        else:
            assert "admin" in allowed, f"admin may do everything, but not {rule.endpoint}"
    assert undeclared == [], "routes without a declared role (they are denied to everyone): " + ", ".join(undeclared)


def test_matrix_covers_every_route(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(path, method=method)[0] for method, path, _ in MATRIX}
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if by_session(app.view_functions[rule.endpoint])}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - PUBLIC_ENDPOINTS - SIGNED_ENDPOINTS - pages
    assert covered == endpoints
    for method, path, allowed in MATRIX:
        endpoint = adapter.match(path, method=method)[0]
        assert declared_roles(app.view_functions[endpoint]) == allowed, (method, path)


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX)
def test_roles_are_enforced(
    client: FlaskClient, auth: Callable[[str], dict[str, str]], method: str, path: str, allowed: set[str]
) -> None:
    assert client.open(path, method=method).status_code == 401
    for role in ("site", "moderator", "admin"):
        status = client.open(path, method=method, headers=auth(role)).status_code
        if role in allowed:
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)


def test_public_routes_need_no_key(client: FlaskClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path


def test_a_route_without_declared_roles_is_denied(app: Flask, auth: Callable[[str], dict[str, str]]) -> None:
    @app.get("/v1/forgotten")
    def forgotten() -> str:
        return "should never be served"

    response = app.test_client().get("/v1/forgotten", headers=auth("admin"))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_roles_reject_unknown_names() -> None:
    with pytest.raises(ValueError):
        roles("superuser")
    with pytest.raises(ValueError):
        roles()


def test_bearer_and_x_api_key_both_work(client: FlaskClient, api_keys: dict[str, str]) -> None:
    assert client.get("/v1/keys", headers={"Authorization": f"Bearer {api_keys['admin']}"}).status_code == 200
    assert client.get("/v1/keys", headers={"Authorization": f"bearer {api_keys['admin']}"}).status_code == 200
    assert client.get("/v1/keys", headers={"X-API-Key": api_keys["admin"]}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer mod_adm_000000000000_nope"},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "mod_adm_zzzzzzzzzzzz_x"},
    ],
)
def test_missing_or_unknown_keys_are_401_json(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/keys", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == "unauthorized" and body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_tampered_key_is_refused(client: FlaskClient, api_keys: dict[str, str]) -> None:
    secret = api_keys["admin"]
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert client.get("/v1/keys", headers={"X-API-Key": tampered}).status_code == 401


def test_a_key_made_with_the_cli_works_over_http(client: FlaskClient, runner) -> None:  # type: ignore[no-untyped-def]
    created = runner.invoke("keys", "create", "--role", "moderator", "--name", "cli")
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[-1]
    assert client.get("/v1/queue", headers={"X-API-Key": secret}).status_code == 200
    assert client.get("/v1/keys", headers={"X-API-Key": secret}).status_code == 403
