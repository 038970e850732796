"""Policy term lists stay linear: capped at MAX_TERMS each, duplicates dropped by their normalized form in one
pass, each term normalized once, and matching a comment costs the same however many terms there are. Counted in
operations (normalizations, comparisons of terms), never in wall-clock time; benchmarks/bench_service.py times
10,000 terms."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from moderation import policy as policy_module
from moderation.errors import Invalid
from moderation.policy import MAX_TERMS, AuthorHistory, CommentFacts, decide
from moderation.policy_document import policy_from_document
from moderation.settings import Settings
from tests.test_web_client import sign_in

CONSONANTS = "bcdfghjklmnprstvz"
VOWELS = "aeiou"


def distinct_words(count: int) -> list[str]:
    """`count` different six-letter words (consonant, vowel, ...) that normalization leaves as they are."""
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    words = ("".join(parts) for parts in itertools.product(syllables, repeat=3))
    return list(itertools.islice(words, count))


class CountedTerm(str):
    """A term that counts every comparison and hash of itself: what a pairwise dedupe or a scan would do."""

    operations = 0

    def __eq__(self, other: object) -> bool:
        CountedTerm.operations += 1
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        CountedTerm.operations += 1
        return str.__hash__(self)

    def strip(self, chars: str | None = None) -> CountedTerm:
        return CountedTerm(str.strip(self, chars))


@pytest.fixture
def fresh_term_cache() -> Iterator[None]:
    """Start with no normalized terms cached, so counts do not depend on the tests run before."""
    policy_module._term_words.cache_clear()
    yield
    policy_module._term_words.cache_clear()


@pytest.fixture
def normalizations(monkeypatch: pytest.MonkeyPatch, fresh_term_cache: None) -> Callable[[], int]:
    """How many times the policy has normalized a text (a term or a comment) so far."""
    calls = [0]
    normalize = policy_module.normalize_text

    def counting(text: str, lexicon: Any = None) -> str:
        calls[0] += 1
        return normalize(text, lexicon)

    monkeypatch.setattr(policy_module, "normalize_text", counting)
    return lambda: calls[0]


@pytest.mark.parametrize("field", ["blocked_terms", "watched_terms"])
def test_each_list_holds_at_most_max_terms(field: str) -> None:
    accepted = policy_from_document({field: distinct_words(MAX_TERMS)}, {})
    assert len(getattr(accepted, field)) == MAX_TERMS == 10_000

    with pytest.raises(Invalid) as refused:
        policy_from_document({field: distinct_words(MAX_TERMS + 1)}, {})
    assert set(refused.value.fields) == {field}
    assert "at most 10,000 terms, not 10,001" in refused.value.fields[field]


def test_over_the_cap_nothing_is_normalized(normalizations: Callable[[], int]) -> None:
    with pytest.raises(Invalid):
        policy_from_document({"blocked_terms": ["idiot"] * (MAX_TERMS + 1)}, {})
    assert normalizations() == 0


def test_the_api_refuses_a_list_over_the_cap_naming_it(
    client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    def put(document: dict[str, object]) -> Any:
        body = json.dumps(document, separators=(",", ":"))  # 10,001 short terms fit in the 64 KB body limit
        return client.put("/v1/policy", data=body, content_type="application/json", headers=auth("admin"))

    for field in ("blocked_terms", "watched_terms"):
        refused = put({field: ["ab"] * (MAX_TERMS + 1)})
        assert refused.status_code == 422, refused.get_json()
        answer = refused.get_json()
        assert answer["error"] == "invalid" and set(answer["fields"]) == {field}
        accepted = put({field: ["ab", "cd"] * (MAX_TERMS // 2)})
        assert accepted.status_code == 200, accepted.get_json()
        assert accepted.get_json()[field] == ["ab", "cd"]


def test_duplicates_by_normalized_form_keep_the_first_spelling_in_order() -> None:
    terms = ["Idiot", "moron", " idiot ", "1D10T", "go to hell", "moron", "GO  TO... HELL", "clown", "i d i o t"]
    parsed = policy_from_document({"blocked_terms": terms, "watched_terms": ["refund", "REFUND", "scam"]}, {})
    assert parsed.blocked_terms == ("Idiot", "moron", "go to hell", "clown")
    assert parsed.watched_terms == ("refund", "scam")
    # The kept spelling still matches every spelling dropped for it.
    verdict = decide({}, parsed, CommentFacts("what a 1d10t, go to hell"), AuthorHistory())
    assert [reason.term for reason in verdict.reasons] == ["Idiot", "go to hell"]


def _operations_to_parse(count: int) -> int:
    terms = [CountedTerm(word) for word in distinct_words(count)]
    terms += terms[: count // 2]  # half of them again: the duplicates must not be found by comparing pairs
    CountedTerm.operations = 0
    parsed = policy_from_document({"blocked_terms": terms}, {})
    assert len(parsed.blocked_terms) == count
    parsed.term_matcher  # noqa: B018  (built on first use: its cost belongs to loading the policy)
    return CountedTerm.operations


def test_parsing_and_building_the_matcher_take_operations_linear_in_the_terms(fresh_term_cache: None) -> None:
    small = _operations_to_parse(500)
    policy_module._term_words.cache_clear()
    double = _operations_to_parse(1000)
    assert 0 < small <= 10 * 500  # a handful per term; comparing every pair would be about 125,000
    assert double <= 2 * small + 10


def test_each_term_is_normalized_once_and_a_comment_once(normalizations: Callable[[], int]) -> None:
    for count in (400, 800):
        policy_module._term_words.cache_clear()
        before = normalizations()
        parsed = policy_from_document({"blocked_terms": distinct_words(count), "watched_terms": ["refund"]}, {})
        decide({}, parsed, CommentFacts("a first comment about a refund"), AuthorHistory())
        decide({}, parsed, CommentFacts("a second comment"), AuthorHistory())
        assert normalizations() - before == count + 1 + 2  # each term once, then each comment once


def test_matching_a_comment_does_not_touch_every_term(fresh_term_cache: None) -> None:
    def operations_to_match(count: int) -> int:
        terms = [CountedTerm(word) for word in distinct_words(count)]
        parsed = policy_from_document({"blocked_terms": terms, "watched_terms": [CountedTerm("refund")]}, {})
        decide({}, parsed, CommentFacts("warm the matcher up"), AuthorHistory())
        CountedTerm.operations = 0
        verdict = decide({}, parsed, CommentFacts(f"{terms[7]} and a refund, twice: {terms[7]}"), AuthorHistory())
        assert [reason.term for reason in verdict.reasons] == [terms[7], "refund"]
        return CountedTerm.operations

    assert operations_to_match(2000) == operations_to_match(200)


def test_a_policy_stored_before_the_cap_and_the_clean_terms_rule_stays_in_force(
    client: FlaskClient, auth: Callable[[str], dict[str, str]], api_keys: dict[str, str], settings: Settings
) -> None:
    legacy = {"blocked_terms": ["two\nlines", *distinct_words(MAX_TERMS + 1)], "sections": {"poli\ntics": {}}}
    with sqlite3.connect(settings.db_path) as db:  # written as the service of the day accepted it
        db.execute(
            "INSERT INTO policy_changes (at, actor_key_id, document) VALUES (?, ?, ?)",
            ("2025-01-01T00:00:00Z", None, json.dumps(legacy)),
        )
    stored_term = distinct_words(MAX_TERMS + 1)[-1]
    body = {"id": "c1", "text": f"you {stored_term}", "article_id": "a", "author_id": "u"}
    decided = client.post("/v1/comments", json=body, headers=auth("site"))
    assert decided.status_code == 201, decided.get_json()
    assert decided.get_json()["status"] == "rejected"
    assert decided.get_json()["reasons"][0]["term"] == stored_term
    in_force = client.get("/v1/policy", headers=auth("admin")).get_json()
    assert len(in_force["blocked_terms"]) == MAX_TERMS + 2 and "poli\ntics" in in_force["sections"]
    sign_in(client, api_keys["admin"])
    assert client.get("/web/admin/policy").status_code == 200  # the editor opens, to fix it
    # Putting it again is checked by today's rules.
    again = client.put("/v1/policy", json={"blocked_terms": ["two\nlines"]}, headers=auth("admin"))
    assert again.status_code == 422 and set(again.get_json()["fields"]) == {"blocked_terms.0"}
