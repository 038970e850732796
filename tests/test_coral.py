"""Coral Talk's external moderation phase: only requests Coral signed are read; each is decided by our policy and
recorded once like a site's submission; the answer is what Coral's phase expects (204, REJECTED, or
SYSTEM_WITHHELD with a flag)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from moderation import coral, service
from moderation.settings import Settings
from tests.conftest import WordListScorer

PHASE = "/v1/coral/moderation"
OLD, NEW = "old-secret-0123456789", "new-secret-9876543210"


@pytest.fixture
def coral_app(settings: Settings) -> Iterator[Flask]:
    """The app with the two secrets of a rotation configured."""
    from api import create_app

    configured = replace(settings, coral_signing_secrets=(NEW, OLD))
    app = create_app({"TESTING": True, "SETTINGS": configured, "SCORER": WordListScorer()})
    yield app
    app.extensions["moderation"].store.close()


def phase_request(body: str, action: str = "NEW", parent: str | None = None, author: str = "u-1") -> dict[str, Any]:
    return {
        "action": action,
        "comment": {"body": body, "parentID": parent},
        "author": {"id": author, "role": "COMMENTER"},
        "story": {"id": "story-1", "url": "https://news.example/tehran-talks/"},
        "site": {"id": "site-1"},
        "tenantID": "tenant-1",
        "tenantDomain": "news.example",
    }


def key_of(request: dict[str, Any]) -> str:
    """The id the phase stores this request's comment under."""
    return coral.comment_key(coral.ExternalModerationRequest.model_validate(request))


def encoded(request: dict[str, Any]) -> bytes:
    """The body as Coral serializes it: JSON.stringify(data, null, 2)."""
    return json.dumps(request, indent=2, ensure_ascii=False).encode("utf-8")


Send = Callable[..., Any]


@pytest.fixture
def send(coral_app: Flask) -> Send:
    client: FlaskClient = coral_app.test_client()

    def post(request: dict[str, Any], *secrets: str, header: str | None = None, raw: bytes | None = None) -> Any:
        body = raw if raw is not None else encoded(request)
        signature = header if header is not None else ",".join(f"sha256={coral.sign(body, s)}" for s in secrets)
        headers = {coral.SIGNATURE_HEADER: signature} if signature else {}
        return client.post(PHASE, data=body, headers=headers, content_type="application/json")

    return post


def stored(app: Flask) -> tuple[int, int]:
    with app.extensions["moderation"].store.read() as db:
        return (
            db.execute("SELECT count(*) FROM comments").fetchone()[0],
            db.execute("SELECT count(*) FROM decisions").fetchone()[0],
        )


def test_an_approved_comment_answers_204_and_is_recorded_as_a_submission(send: Send, coral_app: Flask) -> None:
    request = phase_request("A fair summary of the talks in Tehran.", parent="c-0")
    response = send(request, NEW)
    assert response.status_code == 204 and response.get_data() == b""
    comment = service.get_comment(
        coral_app.extensions["moderation"].store,
        key_of(phase_request("A fair summary of the talks in Tehran.", parent="c-0")),
    )
    assert comment["status"] == "approved" and comment["article_id"] == "story-1" and comment["author_id"] == "u-1"
    assert comment["parent_id"] == "c-0" and comment["article_url"] == "https://news.example/tehran-talks/"
    decision = comment["decisions"][0]
    assert decision["actor"] == coral.ACTOR and decision["kind"] == "submission"


def test_reject_and_withhold_answers(send: Send) -> None:
    rejected = send(phase_request("what a hateful moron"), NEW)
    assert rejected.status_code == 200 and rejected.get_json() == {"status": "REJECTED"}
    held = send(phase_request("what a clown"), NEW)
    assert held.get_json() == {
        "status": "SYSTEM_WITHHELD",
        "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}],
    }
    spam = send(phase_request("best casino deals here"), NEW)
    assert spam.get_json()["actions"] == [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}]


def test_a_retried_request_replays_instead_of_recording_twice(send: Send, coral_app: Flask) -> None:
    request = phase_request("what a clown")
    first = send(request, NEW)
    before = stored(coral_app)
    second = send(request, NEW)
    assert second.status_code == first.status_code and second.get_json() == first.get_json()
    assert stored(coral_app) == before


def test_an_edit_is_decided_afresh(send: Send, coral_app: Flask) -> None:
    assert send(phase_request("what a clown"), NEW).status_code == 200
    edited = phase_request("what a considered reply", action="EDIT")
    before = stored(coral_app)
    assert send(edited, NEW).status_code == 204
    assert stored(coral_app) == (before[0] + 1, before[1] + 1)
    assert key_of(edited) != key_of(phase_request("what a considered reply"))


def test_either_secret_of_a_rotation_signs(send: Send) -> None:
    assert send(phase_request("fine words", author="a"), OLD).status_code == 204
    assert send(phase_request("fine words", author="b"), NEW).status_code == 204
    assert send(phase_request("fine words", author="c"), "some-other-secret-000", OLD).status_code == 204


@pytest.mark.parametrize(
    "header",
    [
        "",
        "sha256=",
        "sha256=deadbeef",
        "sha1=" + "0" * 40,
        "sha256=" + coral.sign(b"another body", NEW),
    ],
)
def test_unsigned_or_badly_signed_requests_get_401_and_record_nothing(
    send: Send, coral_app: Flask, header: str
) -> None:
    before = stored(coral_app)
    response = send(phase_request("what a clown"), header=header)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert stored(coral_app) == before


def test_a_signature_by_an_unknown_secret_or_an_api_key_is_not_enough(
    send: Send, coral_app: Flask, settings: Settings
) -> None:
    from moderation import keys

    store = coral_app.extensions["moderation"].store
    _, secret = keys.create_key(store, "admin", "admin")
    client = coral_app.test_client()
    response = client.post(PHASE, json=phase_request("what a clown"), headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert send(phase_request("what a clown"), "unknown-secret-000000").status_code == 401
    assert stored(coral_app) == (0, 0)


def test_without_configured_secrets_everything_is_refused(app: Flask) -> None:
    body = encoded(phase_request("fine"))
    response = app.test_client().post(
        PHASE,
        data=body,
        content_type="application/json",
        headers={coral.SIGNATURE_HEADER: "sha256=" + coral.sign(body, "")},
    )
    assert response.status_code == 401 and "MODERATION_CORAL_SIGNING_SECRETS" in response.get_json()["message"]


def test_a_signed_but_malformed_request_is_refused_without_a_record(send: Send, coral_app: Flask) -> None:
    assert send({}, NEW, raw=b"{not json").status_code == 400
    missing = phase_request("hello")
    del missing["author"]
    response = send(missing, NEW)
    assert response.status_code == 422 and "author" in response.get_json()["fields"]
    assert send({**phase_request("hi"), "action": "DELETE"}, NEW).status_code == 422
    assert stored(coral_app) == (0, 0)


def test_an_html_body_is_decided_on_its_text(send: Send, coral_app: Flask) -> None:
    request = phase_request("<p>What a <b>clown</b> &amp; a fool</p>")
    assert send(request, NEW).status_code == 200
    comment = service.get_comment(coral_app.extensions["moderation"].store, key_of(request))
    assert comment["text"] == "What a clown & a fool"


def test_signature_headers_are_read_as_coral_writes_them() -> None:
    assert coral.signatures("sha256=ab, sha256=CD,sha1=ef,garbage") == ["ab", "cd"]
    assert coral.signature_matches(b"x", f"sha256={coral.sign(b'x', NEW)}", [OLD, NEW])
    assert not coral.signature_matches(b"x", f"sha256={coral.sign(b'x', NEW)}", [])


@pytest.mark.parametrize("body", ["", "<p></p>", "   "])
def test_a_comment_without_text_is_published_and_recorded_nowhere(send: Send, coral_app: Flask, body: str) -> None:
    # Coral lets a comment with only a GIF or an image through with an empty body: nothing to score or hold.
    response = send(phase_request(body), NEW)
    assert response.status_code == 204 and response.get_data() == b""
    assert stored(coral_app) == (0, 0)
