"""Identifiers are clean: no control or format characters in any id or name, no `/` in a comment id, the same
rule in the OpenAPI document; ids stored before the rule still work in the web pages without a 500; a sign-in
`next` holding a control character falls back to the queue."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import openapi
from moderation import comment_record, identifiers
from moderation.settings import Settings
from tests.test_web_client import db_rows, post, sign_in, token

Auth = Callable[[str], dict[str, str]]

# C0 (CR LF, NUL, ESC), DEL, C1 (NEL), soft hyphen, zero-width space, right-to-left override, BOM, U+2028/2029.
CONTROLS = ["\r\n", "\n", "\x00", "\x1b", "\x7f", "\x85", "\u00ad", "\u200b", "\u202e", "\ufeff", "\u2028", "\u2029"]
COMMENT_FIELDS = ["id", "article_id", "author_id", "parent_id", "section", "lang", "article_url"]


def comment(**overrides: Any) -> dict[str, Any]:
    return {"id": "c1", "text": "A fair point.", "article_id": "a1", "author_id": "u1", **overrides}


def refused_fields(response: Any) -> dict[str, str]:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True)[:300])
    answer = response.get_json()
    assert answer["error"] == "invalid" and answer["message"]
    return dict(answer["fields"])


# ---------------------------------------------------------------------------
# The rule itself, and the document's pattern


def test_the_forbidden_characters_are_exactly_unicodes_control_format_and_separator_categories() -> None:
    listed = {code for first, last in identifiers.forbidden_ranges() for code in range(first, last + 1)}
    categories = {code for code in range(0x110000) if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")}
    assert listed == categories, f"Unicode {unicodedata.unidata_version}: update moderation/identifiers.py"


SAMPLES = ["c-1004", "Politique étrangère", "作者-42", "emoji 🙂 ok", "a/b", "a\nb", "tail\n", "\u200bx", "x\U000e0041"]


@pytest.mark.parametrize("value", SAMPLES)
def test_the_documents_patterns_say_what_the_server_checks(value: str) -> None:
    # JSON Schema patterns are ECMA-262, where `$` is only the very end; Python's own `$` also matches before a
    # final newline, so it is read here as `\Z`.
    def matches(pattern: str) -> bool:
        assert pattern.endswith("$")
        return re.search(pattern[:-1] + r"\Z", value) is not None

    assert matches(identifiers.IDENTIFIER_PATTERN) == (identifiers.identifier_problem(value) is None)
    assert matches(identifiers.COMMENT_ID_PATTERN) == (identifiers.identifier_problem(value, comment_id=True) is None)


def test_the_openapi_document_carries_the_patterns() -> None:
    document = json.loads(json.dumps(openapi.document()))
    comment_in = document["components"]["schemas"]["CommentIn"]["properties"]
    assert comment_in["id"]["pattern"] == identifiers.COMMENT_ID_PATTERN
    for field in ("article_id", "author_id", "parent_id", "section", "lang", "article_url"):
        assert comment_in[field]["pattern"] == identifiers.IDENTIFIER_PATTERN, field
    for path in ("/v1/comments/{comment_id}", "/v1/comments/{comment_id}/appeal", "/v1/comments/{comment_id}/reversal"):
        [parameter] = [p for op in document["paths"][path].values() for p in op.get("parameters", [])]
        assert parameter["schema"]["pattern"] == identifiers.COMMENT_ID_PATTERN, path


# ---------------------------------------------------------------------------
# The API refuses them, naming the field


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c[-1]):04X}" for c in CONTROLS])
@pytest.mark.parametrize("field", COMMENT_FIELDS)
def test_a_comment_field_with_a_control_character_is_refused_naming_it(
    client: FlaskClient, auth: Auth, app: Flask, field: str, control: str
) -> None:
    value = f"x{control}y" if field != "article_url" else f"https://example.org/a{control}b"
    fields = refused_fields(client.post("/v1/comments", json=comment(**{field: value}), headers=auth("site")))
    assert set(fields) == {field}
    assert f"U+{ord(control[0]):04X}" in fields[field]
    assert db_rows(app.extensions["moderation"].settings, "SELECT count(*) FROM comments") == [(0,)]


@pytest.mark.parametrize("field", COMMENT_FIELDS)
def test_the_dry_run_and_each_comment_of_a_batch_are_refused_alike(client: FlaskClient, auth: Auth, field: str) -> None:
    bad = comment(**{field: "x\r\ny"})
    assert set(refused_fields(client.post("/v1/score", json=bad, headers=auth("site")))) == {field}
    batch = client.post("/v1/comments/batch", json={"comments": [bad, comment(id="fine")]}, headers=auth("site"))
    assert batch.status_code == 200
    first, second = batch.get_json()["results"]
    assert first["error"]["code"] == "invalid" and set(first["error"]["fields"]) == {field}
    assert second["status"] == "approved"


def test_ordinary_text_in_identifiers_is_still_accepted(client: FlaskClient, auth: Auth) -> None:
    accepted = comment(
        id="c-é-🙂 1", article_id="budget 2025 (draft)", author_id="作者-42", parent_id="p/1",
        section="Politique étrangère", lang="fr-CA", article_url="https://example.org/a?b=c#d",
    )  # fmt: skip
    response = client.post("/v1/comments", json=accepted, headers=auth("site"))
    assert response.status_code == 201, response.get_json()
    read = client.get("/v1/comments/" + quote("c-é-🙂 1", safe=""), headers=auth("site"))
    assert read.status_code == 200 and read.get_json()["id"] == "c-é-🙂 1"


def test_key_names_policy_sections_terms_and_dataset_names_refuse_control_characters(
    client: FlaskClient, auth: Auth
) -> None:
    key = client.post("/v1/keys", json={"role": "site", "name": "news\r\nsite"}, headers=auth("admin"))
    assert set(refused_fields(key)) == {"name"}

    section = client.put("/v1/policy", json={"sections": {"poli\ntics": {}}}, headers=auth("admin"))
    assert set(refused_fields(section)) == {"sections.poli\ntics"}
    for field in ("blocked_terms", "watched_terms"):
        terms = client.put("/v1/policy", json={field: ["fine", "two\nlines"]}, headers=auth("admin"))
        assert set(refused_fields(terms)) == {f"{field}.1"}

    dataset = client.post(
        "/v1/datasets?name=" + quote("local\r\n.csv"),
        data=b"text,insult\nyou clown,1\n",
        content_type="text/csv",
        headers=auth("admin"),
    )
    assert set(refused_fields(dataset)) == {"name"}


# ---------------------------------------------------------------------------
# `/` in a comment id: refused when submitted, so every route can address every new comment


def test_a_slash_in_a_comment_id_is_refused_and_no_route_answers_500(client: FlaskClient, auth: Auth) -> None:
    fields = refused_fields(client.post("/v1/comments", json=comment(id="news/1004"), headers=auth("site")))
    assert set(fields) == {"id"} and "'/'" in fields["id"]
    batch = client.post("/v1/comments/batch", json=[comment(id="a/b")], headers=auth("site")).get_json()
    assert set(batch["results"][0]["error"]["fields"]) == {"id"}
    # Nothing was stored, and every route taking a comment id answers a JSON 404 for one with a slash.
    for method, path, role, body in [
        ("GET", "/v1/comments/news/1004", "site", None),
        ("GET", "/v1/comments/news%2F1004", "site", None),
        ("POST", "/v1/comments/news%2F1004/appeal", "site", {}),
        ("POST", "/v1/comments/news%2F1004/reversal", "moderator", {"action": "approve"}),
    ]:
        response = client.open(path, method=method, json=body, headers=auth(role))
        assert response.status_code == 404 and response.get_json()["error"] == "not_found", (path, response.status_code)


# ---------------------------------------------------------------------------
# Ids stored before the rule: readable, decidable, reversible, never a 500


@pytest.fixture
def legacy_comment(
    client: FlaskClient, auth: Auth, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], tuple[str, int | None]]:
    """Store a comment under an id the service refuses today, as a database from before the rule holds it;
    (its status, its open queue item's id)."""

    def store(comment_id: str, text: str) -> tuple[str, int | None]:
        with monkeypatch.context() as before_the_rule:
            before_the_rule.setattr(comment_record, "identifier_problem", lambda value, comment_id=False: None)
            response = client.post("/v1/comments", json=comment(id=comment_id, text=text), headers=auth("site"))
        assert response.status_code == 201, response.get_json()
        items = db_rows(
            settings, "SELECT id FROM queue_items WHERE comment_id = ? AND state = 'pending'", (comment_id,)
        )
        return response.get_json()["status"], items[0][0] if items else None

    return store


def test_a_stored_id_with_a_line_break_is_decided_in_the_web_queue_without_a_500(
    client: FlaskClient,
    auth: Auth,
    api_keys: dict[str, str],
    settings: Settings,
    legacy_comment: Callable[[str, str], tuple[str, int | None]],
) -> None:
    _, scripted = legacy_comment("legacy\r\nSet-Cookie: x=1", "what a clown")
    _, plain = legacy_comment("legacy\n2", "what a clown")
    sign_in(client, api_keys["moderator"])
    assert client.get("/web/queue").status_code == 200

    opened = post(client, f"/web/queue/{scripted}/open", {}, fetch=True)
    assert opened.status_code == 200
    version = client.get(f"/v1/queue/{scripted}", headers=auth("moderator")).get_json()["version"]
    decided = post(client, f"/web/queue/{scripted}/decide", {"action": "approve", "version": version}, fetch=True)
    assert decided.status_code == 200, decided.get_data(as_text=True)[:300]
    assert decided.headers["X-Done-Item"] == str(scripted)
    message = decided.headers["X-Done-Message"]
    assert message.startswith("Approved comment legacy") and "\r" not in message and "\n" not in message
    assert all("x=1" not in cookie for cookie in decided.headers.getlist("Set-Cookie"))

    # Without the script: a redirect back to the queue, and the message on the page.
    post(client, f"/web/queue/{plain}/open", {}, fetch=True)
    version = client.get(f"/v1/queue/{plain}", headers=auth("moderator")).get_json()["version"]
    redirected = post(
        client, f"/web/queue/{plain}/decide", {"action": "reject", "version": version, "reason_choice": "insult"}
    )
    assert redirected.status_code == 303
    assert client.get(redirected.headers["Location"]).status_code == 200

    statuses = db_rows(settings, "SELECT id, status FROM comments ORDER BY id")
    assert statuses == [("legacy\n2", "rejected"), ("legacy\r\nSet-Cookie: x=1", "approved")]


@pytest.mark.parametrize("legacy_id", ["legacy\r\n3", "news/1004", "tab\there\u2028"])
def test_a_stored_id_with_a_line_break_or_slash_has_a_working_web_page_and_reversal(
    client: FlaskClient,
    auth: Auth,
    api_keys: dict[str, str],
    settings: Settings,
    legacy_comment: Callable[[str, str], tuple[str, int | None]],
    legacy_id: str,
) -> None:
    assert legacy_comment(legacy_id, "you moron") == ("rejected", None)
    sign_in(client, api_keys["moderator"])
    page_path = "/web/comments/" + quote(legacy_id, safe="/")
    page = client.get(page_path)
    assert page.status_code == 200, page.status_code
    reversed_ = post(client, page_path + "/reverse", {"action": "approve", "reason_text": "fair"})
    assert reversed_.status_code == 303
    location = reversed_.headers["Location"]
    assert not identifiers.has_control_characters(location)
    assert client.get(location).status_code == 200
    assert db_rows(settings, "SELECT status FROM comments WHERE id = ?", (legacy_id,)) == [("approved",)]
    decisions = client.get("/web/decisions").get_data(as_text=True)
    assert 'href="' + page_path + '"' in decisions  # its link in the decision log leads to that page

    if "/" in legacy_id:
        return  # refused from now on, and beyond the API's routes: the web pages are its way in
    # Over the API it is read, reversed and appealed like any other.
    api_path = "/v1/comments/" + quote(legacy_id, safe="")
    assert client.post(api_path + "/reversal", json={"action": "reject"}, headers=auth("moderator")).status_code == 201
    assert client.post(api_path + "/appeal", json={"message": "please"}, headers=auth("site")).status_code == 201
    assert client.get(api_path, headers=auth("site")).get_json()["queue_item"]["appealed"] is True


def test_signing_out_of_a_page_with_a_line_break_in_its_path_leads_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/web/comments/" + quote("legacy\r\n4", safe=""))
    assert response.status_code == 303 and "\n" not in response.headers["Location"]


# ---------------------------------------------------------------------------
# The sign-in `next`


@pytest.mark.parametrize("control", ["\r\n", "\n", "\x00", "\x7f", "\x85", "\u2028"])
def test_a_next_page_with_a_control_character_falls_back_to_the_queue(
    client: FlaskClient, api_keys: dict[str, str], control: str
) -> None:
    target = f"/web/decisions{control}Set-Cookie: x=1"
    shown = client.get("/web/sign-in?next=" + quote(target, safe=""))
    assert shown.status_code == 200 and "Set-Cookie" not in shown.get_data(as_text=True)
    response = client.post(
        "/web/sign-in",
        data={"method": "key", "key": api_keys["moderator"], "csrf_token": token(client), "next": target},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].endswith("/web/queue")
    assert "Set-Cookie" not in response.headers or "x=1" not in response.headers["Set-Cookie"]


def test_a_clean_next_page_is_still_followed(client: FlaskClient, api_keys: dict[str, str]) -> None:
    response = client.post(
        "/web/sign-in",
        data={
            "method": "key",
            "key": api_keys["moderator"],
            "csrf_token": token(client),
            "next": "/web/decisions?days=7",
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/web/decisions?days=7")
