"""Operations: health, readiness, Prometheus metrics, the OpenAPI document and docs page, JSON logs, README."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import openapi, openapi_path
from api.auth import PUBLIC, by_session, declared_roles
from api.logs import JsonFormatter
from api.metrics import Metrics, merge, render
from moderation.cli.serve import settings_markdown
from moderation.errors import Unavailable
from moderation.settings import Settings
from moderation.storage import store as store_module

Auth = Callable[[str], dict[str, str]]
REPO = Path(__file__).resolve().parent.parent
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_checks_database_and_model(client: FlaskClient) -> None:
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["checks"] == {"database": "ok", "model": "ok"}
    assert body["model_version"] == "test-wordlist-1"


def test_readyz_is_503_when_the_database_cannot_be_written(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.extensions["moderation"].store

    def locked() -> None:
        raise Unavailable("The database is busy; try again.")

    monkeypatch.setattr(store, "write", locked)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "database" in response.get_json()["message"]


def test_metrics_count_requests_decisions_queue_and_model(client: FlaskClient, auth: Auth) -> None:
    client.post(
        "/v1/comments", json={"id": "1", "text": "fine", "article_id": "a", "author_id": "u"}, headers=auth("site")
    )
    client.post(
        "/v1/comments", json={"id": "2", "text": "clown", "article_id": "a", "author_id": "u"}, headers=auth("site")
    )
    client.post(
        "/v1/comments", json={"id": "2", "text": "clown", "article_id": "a", "author_id": "u"}, headers=auth("site")
    )
    client.get("/v1/queue/7", headers=auth("moderator"))
    client.get("/nowhere")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert 'moderation_http_requests_total{route="/v1/comments",method="POST",status="201"} 2' in text
    assert 'moderation_http_requests_total{route="/v1/comments",method="POST",status="200"} 1' in text
    assert 'moderation_http_requests_total{route="/v1/queue/{item_id}",method="GET",status="404"} 1' in text
    assert 'moderation_http_requests_total{route="unmatched",method="GET",status="404"} 1' in text
    assert 'moderation_http_request_duration_seconds_count{route="/v1/comments",method="POST"} 3' in text
    assert 'moderation_decisions_total{status="approved",actor_type="model"} 1' in text
    assert 'moderation_decisions_total{status="queued",actor_type="model"} 1' in text  # the replay is not counted
    assert 'moderation_queue_depth{kind="review"} 1' in text
    assert 'moderation_queue_depth{kind="appeal"} 0' in text
    assert 'moderation_model_info{version="test-wordlist-1"} 1' in text
    assert "moderation_outbox_pending 0" in text
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r"[a-z_]+(\{.*\})? [0-9.e+-]+", line), line


def test_metrics_are_summed_across_worker_files(tmp_path: Path) -> None:
    first, second = Metrics(tmp_path), Metrics(None)
    first.observe_request("/healthz", "GET", 200, 0.002)
    second.observe_request("/healthz", "GET", 200, 0.030)
    second.count_decision("approved", "model")
    # What another worker process (or one that has exited) left behind.
    (tmp_path / "worker-999999999.json").write_text(json.dumps(second.snapshot()))
    (tmp_path / "worker-1.json").write_text("{half written")  # ignored, never a crash
    first.flush(force=True)
    assert (tmp_path / f"worker-{os.getpid()}.json").exists()
    collected = first.collect()
    assert collected["workers"] == 2
    assert collected["requests"][("/healthz", "GET", "200")] == 2
    assert collected["decisions"][("approved", "model")] == 1
    text = render(collected, queue={"review": 0}, outbox_pending=0, model_version="v")
    assert 'moderation_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="0.0025"} 1' in text
    assert 'moderation_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="0.05"} 2' in text
    assert 'moderation_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="+Inf"} 2' in text
    assert merge([]) == {"requests": {}, "latency": {}, "decisions": {}, "workers": 0}


def _app_operations(app: Flask) -> dict[tuple[str, str], frozenset[str]]:
    found = {}
    for rule in app.url_map.iter_rules():
        if by_session(app.view_functions[rule.endpoint]):
            continue  # the web app's pages are not part of the API document
        for method in (rule.methods or set()) - IGNORED_METHODS:
            found[(openapi_path(rule.rule), method.lower())] = declared_roles(app.view_functions[rule.endpoint])
    return found


def test_openapi_document_lists_exactly_the_routes_with_methods_and_roles(client: FlaskClient, app: Flask) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    in_document = {
        (path, method): frozenset(operation["x-roles"])
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    in_app = _app_operations(app)
    assert set(in_document) == set(in_app), {
        "missing from the document": sorted(set(in_app) - set(in_document)),
        "not served": sorted(set(in_document) - set(in_app)),
    }
    for operation, roles in in_app.items():
        expected = {"public"} if roles is PUBLIC else set(roles or ())
        assert in_document[operation] == expected, operation


def test_openapi_document_is_self_consistent(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', text)):
        assert ref[1] in document["components"][ref[0]], ref
    for path, methods in document["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for operation in methods.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
            assert operation["summary"] and operation["responses"]


def test_docs_page_lists_every_operation_without_outside_assets(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for operation in openapi.operations():
        assert f"<code>{operation['path']}</code>" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    # The same security headers as the web app; the style is a file, since the policy allows nothing inline.
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<style" not in page
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert stylesheet and client.get(stylesheet.group(1)).status_code == 200


def test_json_log_lines() -> None:
    record = logging.LogRecord("api", logging.WARNING, __file__, 1, "webhook %s failed", ("7",), None)
    record.status = 503
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "warning" and entry["message"] == "webhook 7 failed" and entry["status"] == 503
    assert entry["logger"] == "api" and entry["time"].endswith("+00:00")


def test_readme_settings_table_matches_the_settings() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- settings:start -->\n(.*?)<!-- settings:end -->", readme, re.S)
    assert match, "README.md needs the settings table between <!-- settings:start --> and <!-- settings:end -->"
    assert match.group(1) == settings_markdown(), "regenerate it with `moderation settings`:\n" + settings_markdown()


def test_readme_keeps_the_classifier_section() -> None:
    assert "\n## The classifier\n" in (REPO / "README.md").read_text(encoding="utf-8")


def test_request_with_closed_database_reopens(client: FlaskClient, app: Flask, auth: Auth) -> None:
    app.extensions["moderation"].store.close()
    assert client.get("/v1/decisions", headers=auth("site")).status_code == 200
    assert store_module.pragma(app.extensions["moderation"].store.db, "journal_mode") == "wal"


def test_without_a_given_scorer_the_app_serves_the_registrys_active_version(
    settings: Settings, tiny_model_path: Path
) -> None:
    from dataclasses import replace

    from api import create_app
    from model.artifact import read_manifest

    app = create_app({"TESTING": True, "SETTINGS": replace(settings, model_path=tiny_model_path)})
    try:
        body = app.test_client().get("/readyz").get_json()
        assert body["model_version"] == read_manifest(tiny_model_path)["version"]
        assert body["refused_model_versions"] == {}
    finally:
        app.extensions["moderation"].store.close()


def test_every_recorded_decision_is_counted_once_whichever_route_made_it(
    client: FlaskClient, auth: Auth, app: Flask
) -> None:
    for comment_id in ("q1", "q2"):
        body = {"id": comment_id, "text": "what a clown", "article_id": "a", "author_id": "u"}
        assert client.post("/v1/comments", json=body, headers=auth("site")).status_code == 201
    items = client.get("/v1/queue", headers=auth("moderator")).get_json()["items"]
    first = items[0]["id"]
    claimed = client.post(f"/v1/queue/{first}/claim", headers=auth("moderator")).get_json()
    decided = client.post(
        f"/v1/queue/{first}/decision",
        json={"action": "reject", "reason": "insult", "version": claimed["version"]},
        headers=auth("moderator"),
    )
    assert decided.status_code == 200
    stale = client.post(
        f"/v1/queue/{items[1]['id']}/decision", json={"action": "approve", "version": 999}, headers=auth("moderator")
    )
    assert stale.status_code == 409  # refused: nothing recorded, nothing counted
    reversed_ = client.post(
        f"/v1/comments/{decided.get_json()['comment']['id']}/reversal",
        json={"action": "approve", "reason": "on second reading"},
        headers=auth("moderator"),
    )
    assert reversed_.status_code == 201
    text = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_decisions_total{status="queued",actor_type="model"} 2' in text
    assert 'moderation_decisions_total{status="rejected",actor_type="moderator"} 1' in text
    assert 'moderation_decisions_total{status="approved",actor_type="moderator"} 1' in text
    with app.extensions["moderation"].store.read() as db:
        assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 4


# Components written by hand, each with its reason: none; the test below fails for any.
HAND_WRITTEN_COMPONENTS: dict[str, str] = {}
# Routes whose answer is not a record's: the document itself, and Prometheus text.
NOT_JSON_RECORDS = {("/openapi.json", "get"), ("/metrics", "get")}


def _refs(schema: Any) -> set[str]:
    """Every component a schema refers to, however deep."""
    if isinstance(schema, dict):
        found = {schema["$ref"].rsplit("/", 1)[-1]} if "$ref" in schema else set()
        return found.union(*(_refs(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_refs(value) for value in schema))
    return set()


def test_every_route_schema_is_generated_from_the_record_it_uses() -> None:
    from moderation.records import schema_of

    document = openapi.document()
    generated: set[str] = set()
    for record, mode in openapi.RECORDS:
        schema = schema_of(record, mode)
        generated |= {openapi.COMPONENT_NAMES.get(record.__name__, record.__name__), *schema.get("$defs", {})}
    hand_written = set(document["components"]["schemas"]) - generated
    assert hand_written == set(HAND_WRITTEN_COMPONENTS), hand_written
    problems = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if (path, method) in NOT_JSON_RECORDS:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            answers = [
                response["content"]["application/json"]["schema"]
                for status, response in operation["responses"].items()
                if status.startswith("2") and "application/json" in response.get("content", {})
            ]
            for schema in ([body] if body is not None else []) + answers:
                if not _refs(schema):
                    problems.append(f"{method.upper()} {path}: {schema}")
    assert not problems, problems
