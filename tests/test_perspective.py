"""Perspective API's routes: analyze answers Perspective's shape from our scores and records nothing; suggestscore
keeps labelled examples (the latest per client token) that the next retrain learns from; errors in Google's shape;
the key as `?key=`, never logged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from model.sentences import sentence_ranges
from moderation import perspective
from moderation.redaction import redacted_line, redacted_query
from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.text_of_html import text_of_html, utf16_offsets
from moderation.training import retrain as rt
from tests.retrain_fixtures import muppet_verdicts, retrain_settings

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
Auth = Callable[[str], dict[str, str]]


def analyze_body(text: str, *attributes: str, **extra: Any) -> dict[str, Any]:
    return {"comment": {"text": text}, "requestedAttributes": {a: {} for a in attributes or ("TOXICITY",)}, **extra}


def suggestion(text: str, value: float, token: str | None = None, community: str = "Coral:https://news.example"):
    body: dict[str, Any] = {
        "comment": {"text": text},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}},
        "communityId": community,
        "context": {
            "entries": [{"text": json.dumps({"Coral_comment_id": token or "x", "url": "https://n.example/a"})}]
        },
    }
    if token is not None:
        body["clientToken"] = token
    return body


def counts(store: Store) -> tuple[int, int, int]:
    with store.read() as db:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("comments", "decisions", "perspective_feedback")
        )


# ---------------------------------------------------------------------------
# analyze


def test_analyze_answers_perspectives_shape_with_our_scores(client: FlaskClient, auth: Auth) -> None:
    body = analyze_body(
        "You idiot, I will kill you", "TOXICITY", "THREAT", "PROFANITY", clientToken="abc", sessionId="s"
    )
    response = client.post(ANALYZE, json=body, headers=auth("site"))
    assert response.status_code == 200
    answer = response.get_json()
    assert set(answer["attributeScores"]) == {"TOXICITY", "THREAT", "PROFANITY"}
    # The word-list test scorer: "idiot" is toxicity 0.7, "kill" threat 0.97; obscene (PROFANITY) has no word.
    assert answer["attributeScores"]["TOXICITY"]["summaryScore"] == {"value": 0.7, "type": "PROBABILITY"}
    assert answer["attributeScores"]["THREAT"]["summaryScore"]["value"] == 0.97
    assert answer["attributeScores"]["PROFANITY"]["summaryScore"]["value"] == 0.01
    assert "spanScores" not in answer["attributeScores"]["TOXICITY"]
    assert answer["languages"] == ["en"] and answer["detectedLanguages"] == []
    assert answer["clientToken"] == "abc" and answer["model_version"] == "test-wordlist-1"


def test_analyze_records_nothing(client: FlaskClient, auth: Auth, app: Any) -> None:
    store = app.extensions["moderation"].store
    before = counts(store)
    assert (
        client.post(ANALYZE, json=analyze_body("what a clown", doNotStore=False), headers=auth("site")).status_code
        == 200
    )
    assert counts(store) == before


def test_score_threshold_leaves_out_attributes_under_it(client: FlaskClient, auth: Auth) -> None:
    body = {
        "comment": {"text": "what a clown"},
        "requestedAttributes": {"INSULT": {"scoreThreshold": 0.5}, "THREAT": {"scoreThreshold": 0.5}},
    }
    answer = client.post(ANALYZE, json=body, headers=auth("site")).get_json()
    assert list(answer["attributeScores"]) == ["INSULT"]


def test_experimental_names_are_answered_by_the_same_category(client: FlaskClient, auth: Auth) -> None:
    answer = client.post(ANALYZE, json=analyze_body("idiot", "TOXICITY_EXPERIMENTAL"), headers=auth("site")).get_json()
    assert answer["attributeScores"]["TOXICITY_EXPERIMENTAL"]["summaryScore"]["value"] == 0.7


def test_span_scores_per_sentence_in_utf16_offsets_of_the_text_as_sent(client: FlaskClient, auth: Auth) -> None:
    text = "Good piece 😀. You idiot! Fine.\nI will kill"
    answer = client.post(
        ANALYZE, json=analyze_body(text, "TOXICITY", "THREAT", spanAnnotations=True), headers=auth("site")
    )
    spans = answer.get_json()["attributeScores"]["TOXICITY"]["spanScores"]
    utf16 = text.encode("utf-16-le")
    pieces = [utf16[2 * s["begin"] : 2 * s["end"]].decode("utf-16-le") for s in spans]
    assert pieces == ["Good piece 😀.", "You idiot!", "Fine.", "I will kill"]
    assert [s["score"]["value"] for s in spans] == [0.01, 0.7, 0.01, 0.01]
    threat = answer.get_json()["attributeScores"]["THREAT"]["spanScores"]
    assert [s["score"]["value"] for s in threat] == [0.01, 0.01, 0.01, 0.97]


def test_html_is_reduced_to_its_text_and_spans_point_into_the_html(client: FlaskClient, auth: Auth) -> None:
    html = "<p>Nice &amp; <b>calm</b>.</p><p>You <i>idiot</i>!</p>"
    body = {"comment": {"text": html, "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": True}
    answer = client.post(ANALYZE, json=body, headers=auth("site")).get_json()["attributeScores"]["TOXICITY"]
    assert answer["summaryScore"]["value"] == 0.7
    assert [html[s["begin"] : s["end"]] for s in answer["spanScores"]] == [
        "Nice &amp; <b>calm</b>.",
        "You <i>idiot</i>!",
    ]


@pytest.mark.parametrize(
    ("body", "field", "status_word"),
    [
        (analyze_body("hello", "FLIRTATION"), "requestedAttributes.FLIRTATION", "Unknown attribute"),
        (analyze_body("   "), "comment.text", "non-empty"),
        (analyze_body("x" * 20_001), "comment.text", "20000"),
        ({"comment": {"text": "hi"}, "requestedAttributes": {}}, "requestedAttributes", "at least 1"),
        ({"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}, "comment.text", "string"),
        (analyze_body("hi", **{"requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}}), "scoreType", "PROBABILITY"),
        ({"requestedAttributes": {"TOXICITY": {}}}, "comment", "required"),
    ],
)
def test_bad_requests_get_400_invalid_argument_naming_the_field(
    client: FlaskClient, auth: Auth, body: dict[str, Any], field: str, status_word: str
) -> None:
    response = client.post(ANALYZE, json=body, headers=auth("site"))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and status_word in error["message"]
    violations = [v for d in error["details"] for v in d.get("fieldViolations", [])]
    assert any(field in v["field"] for v in violations), violations


def test_a_language_we_do_not_score_is_refused_as_perspective_does(client: FlaskClient, auth: Auth) -> None:
    response = client.post(ANALYZE, json=analyze_body("Hallo", languages=["de"]), headers=auth("site"))
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    # English in any form, among others, is scored; the answer says which languages were asked for.
    answer = client.post(ANALYZE, json=analyze_body("hi", languages=["de", "en-GB"]), headers=auth("site"))
    assert answer.status_code == 200 and answer.get_json()["languages"] == ["de", "en-GB"]


def test_unknown_fields_are_ignored_as_perspective_ignores_them(client: FlaskClient, auth: Auth) -> None:
    body = {**analyze_body("idiot"), "context": {"entries": [{"text": "parent"}]}, "somethingNew": 1}
    assert client.post(ANALYZE, json=body, headers=auth("site")).status_code == 200


def test_the_key_may_come_as_a_query_parameter_on_these_routes_only(
    client: FlaskClient, api_keys: dict[str, str]
) -> None:
    site = api_keys["site"]
    assert client.post(f"{ANALYZE}?key={site}", json=analyze_body("hi")).status_code == 200
    refused = client.post(f"{ANALYZE}?key=not-a-key", json=analyze_body("hi"))
    assert refused.status_code == 401 and refused.get_json()["error"]["status"] == "UNAUTHENTICATED"
    # Elsewhere a key in the URL is not a key: it would end up in logs and browser histories.
    assert client.post(f"/v1/score?key={site}", json={"text": "hi"}).status_code == 401


def test_a_moderator_may_analyze_but_a_missing_key_may_not(client: FlaskClient, auth: Auth) -> None:
    assert client.post(ANALYZE, json=analyze_body("hi"), headers=auth("moderator")).status_code == 200
    error = client.post(ANALYZE, json=analyze_body("hi")).get_json()["error"]
    assert error == {"code": 401, "message": error["message"], "status": "UNAUTHENTICATED"}


def test_over_the_rate_limit_answers_429_resource_exhausted(
    app: Any, client: FlaskClient, auth: Auth, settings: Settings
) -> None:
    app.extensions["moderation.ratelimit"].per_key_rate = 1.0
    app.extensions["moderation.ratelimit"].per_key_burst = 2
    statuses = [client.post(ANALYZE, json=analyze_body("hi"), headers=auth("site")) for _ in range(4)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert limited[0].get_json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert int(limited[0].headers["Retry-After"]) >= 1


def test_the_key_is_redacted_from_logged_query_strings() -> None:
    assert redacted_query("key=mod_site_abc_secret") == "key=[redacted]"
    assert redacted_query("alt=json&key=s3cret&x=1") == "alt=json&key=[redacted]&x=1"
    assert redacted_query("k%65y=s3cret") == "k%65y=[redacted]"  # however it is spelled
    assert redacted_query("keys=1&monkey=2") == "keys=1&monkey=2" and redacted_query("") is None
    # nginx's error log quotes the request line.
    line = 'upstream timed out, request: "POST /v1alpha1/comments:analyze?alt=json&key=mod_s3cret HTTP/1.1"'
    assert redacted_line(line) == line.replace("mod_s3cret", "[redacted]")


# ---------------------------------------------------------------------------
# suggestscore


def test_a_suggestion_is_kept_and_a_later_one_with_its_token_replaces_it(
    client: FlaskClient, auth: Auth, app: Any
) -> None:
    store = app.extensions["moderation"].store
    first = client.post(SUGGEST, json=suggestion("you muppet", 0, "comment:1"), headers=auth("site"))
    assert first.status_code == 200
    assert first.get_json() == {
        "clientToken": "comment:1",
        "requestedLanguages": [],
        "detectedLanguages": [],
        "feedback_id": 1,
        "replaced": False,
    }
    second = client.post(SUGGEST, json=suggestion("you muppet", 1, "comment:1"), headers=auth("site")).get_json()
    assert second["replaced"] is True
    client.post(SUGGEST, json=suggestion("nice one", 0, "comment:2"), headers=auth("site"))
    client.post(SUGGEST, json=suggestion("no token", 0), headers=auth("site"))
    client.post(
        SUGGEST, json=suggestion("elsewhere", 1, "comment:1", community="Coral:https://b"), headers=auth("site")
    )
    found = {row["community_id"]: row for row in perspective.feedback_counts(store)}
    assert found["Coral:https://news.example"]["examples"] == 3  # comment:1 once, comment:2, the token-less one
    assert found["Coral:https://news.example"]["flagged"] == 1  # comment:1's latest says abusive
    assert found["Coral:https://b"]["examples"] == 1
    models = client.get("/v1/models", headers=auth("admin")).get_json()["suggested_scores"]
    assert {row["community_id"]: row["examples"] for row in models} == {
        "Coral:https://b": 1,
        "Coral:https://news.example": 3,
    }


def test_bad_suggestions_are_refused_and_keep_nothing(client: FlaskClient, auth: Auth, app: Any) -> None:
    store = app.extensions["moderation"].store
    bad = [
        {**suggestion("x", 1), "attributeScores": {"NONSENSE": {"summaryScore": {"value": 1}}}},
        suggestion("x", 2),
        suggestion("", 1),
        {**suggestion("x", 1), "attributeScores": {}},
        {**suggestion("x", 1), "communityId": "c" * 201},
    ]
    for body in bad:
        response = client.post(SUGGEST, json=body, headers=auth("site"))
        assert response.status_code == 400 and response.get_json()["error"]["status"] == "INVALID_ARGUMENT", body
    assert counts(store)[2] == 0


def test_suggested_scores_train_the_next_retrain_and_a_share_is_held_out(
    client: FlaskClient, auth: Auth, app: Any, settings: Settings, tiny_model_path: Path
) -> None:
    store = app.extensions["moderation"].store
    for comment_id, text, labels in muppet_verdicts(160, prefix="c"):
        value = labels["toxicity"]
        assert (
            client.post(
                SUGGEST, json=suggestion(text, value, f"comment:{comment_id}"), headers=auth("site")
            ).status_code
            == 200
        )
    # A moderator in Coral changed their mind about one comment: the later decision is the one learnt.
    client.post(SUGGEST, json=suggestion(muppet_verdicts(160, prefix="c")[0][1], 0, "comment:c0"), headers=auth("site"))
    rsettings = retrain_settings(settings, tiny_model_path)
    verdicts = rt.load_verdicts(store, rt.RetrainParams())
    examples = verdicts.train + verdicts.holdout
    assert len(examples) == 160 and {e.corpus for e in examples} == {rt.FEEDBACK_CORPUS}
    first = next(e for e in examples if e.group.endswith("comment:c0"))
    assert first.labels == {"toxicity": 0}
    assert 20 < len(verdicts.holdout) < 60  # about a quarter, drawn by token

    result = rt.retrain(store, rsettings, "admin1")
    suggested = result["verdicts"]["suggested_scores"]
    assert suggested["rows"] == 160 and suggested["max_id"] == 161
    assert suggested["train"] + suggested["holdout"] == 160 and suggested["holdout"] == len(verdicts.holdout)
    assert result["created"] and "toxicity" in result["measured"]
    # A rebuild reads exactly the suggestions the version learnt from, even after more arrive.
    client.post(SUGGEST, json=suggestion("the council is a walnut", 1, "comment:new"), headers=auth("site"))
    again = rt.load_verdicts(store, rt.rebuild_params(store, rsettings, result["version"]))
    assert again.feedback_ids == verdicts.feedback_ids


# ---------------------------------------------------------------------------
# Pieces


def test_text_of_html_keeps_where_each_character_came_from() -> None:
    source = "<p>AT&amp;T &#233;t&eacute;</p><script>x()</script><br>AT&T <3"
    reduced = text_of_html(source)
    assert reduced.text == "AT&T été\nAT&T <3"
    start = reduced.text.index("été")
    assert source[slice(*reduced.source_range(start, start + 3))] == "&#233;t&eacute;"


def test_utf16_offsets_count_astral_characters_twice() -> None:
    assert utf16_offsets("a😀b") == [0, 1, 3, 4]


def test_sentences_split_on_ends_and_lines_and_cap_their_number() -> None:
    assert sentence_ranges("One. Two!  Three?\nFour", 50) == [(0, 4), (5, 9), (11, 17), (18, 22)]
    assert sentence_ranges("e.g. this", 50) == [(0, 4), (5, 9)]
    many = " ".join(f"S{i}." for i in range(60))
    capped = sentence_ranges(many, 50)
    assert len(capped) == 50 and capped[-1][1] == len(many)


def test_analyze_is_counted_in_the_metrics(client: FlaskClient, auth: Auth) -> None:
    client.post(ANALYZE, json=analyze_body("hi"), headers=auth("site"))
    client.post(ANALYZE, json=analyze_body("hi", "NOPE"), headers=auth("site"))
    metrics = client.get("/metrics").get_data(as_text=True)
    route = 'route="/v1alpha1/comments:analyze",method="POST"'
    assert f'moderation_http_requests_total{{{route},status="200"}} 1' in metrics
    assert f'moderation_http_requests_total{{{route},status="400"}} 1' in metrics
