"""The decision log (filters, stable cursor, CSV) and the policy-change history."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest

from moderation import decisions, queue, service
from moderation.errors import Invalid
from moderation.policy_changes import get_policy, policy_document, policy_history, put_policy
from moderation.settings import Settings
from moderation.storage.store import Store
from tests.conftest import WordListScorer

SITE, OTHER_SITE, ALICE = "sitekey00001", "sitekey00002", "modalice0001"


@pytest.fixture
def logged(store: Store, test_scorer: WordListScorer, settings: Settings, now: datetime) -> Store:
    """Six decisions over six days: c0..c4 submitted (c1, c3 queued), then Alice rejects c1."""
    for n, text in enumerate(["fine", "stupid", "kill", "idiot", '=HYPERLINK("x")']):
        payload = {"id": f"c{n}", "text": text, "article_id": "a2" if n == 4 else "a1", "author_id": f"u{n}"}
        site = OTHER_SITE if n == 4 else SITE
        service.submit_comment(store, test_scorer, settings, payload, site, now=now + timedelta(days=n))
    item = queue.list_queue(store)["items"][-1]
    assert item["comment_id"] == "c1"
    queue.decide_item(
        store,
        item["id"],
        ALICE,
        "reject",
        version=item["version"],
        reason="-rude",
        now=now + timedelta(days=5),
    )
    return store


def ids(page: dict[str, Any]) -> list[str]:
    return [d["comment_id"] for d in page["items"]]


def test_filters(logged: Store, now: datetime) -> None:
    assert ids(decisions.list_decisions(logged, order="asc")) == ["c0", "c1", "c2", "c3", "c4", "c1"]
    assert ids(decisions.list_decisions(logged)) == ["c1", "c4", "c3", "c2", "c1", "c0"]
    window = decisions.list_decisions(logged, since=now + timedelta(days=1), until=now + timedelta(days=3))
    assert ids(window) == ["c2", "c1"]
    assert ids(decisions.list_decisions(logged, since="2026-03-05")) == ["c1", "c4"]
    assert ids(decisions.list_decisions(logged, actor=ALICE)) == ["c1"]
    assert ids(decisions.list_decisions(logged, actor_type="moderator")) == ["c1"]
    assert ids(decisions.list_decisions(logged, status="rejected")) == ["c1", "c2"]
    assert ids(decisions.list_decisions(logged, article_id="a2")) == ["c4"]
    assert ids(decisions.list_decisions(logged, comment_id="c1", order="asc")) == ["c1", "c1"]
    with pytest.raises(Invalid) as raised:
        decisions.list_decisions(logged, since="last week", status="maybe", actor_type="robot")
    assert set(raised.value.fields) == {"since", "status", "actor_type"}


def test_cursor_pages_are_stable_while_decisions_are_added(
    logged: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    first = decisions.list_decisions(logged, limit=4, order="asc")
    assert ids(first) == ["c0", "c1", "c2", "c3"] and first["next_cursor"] is not None
    service.submit_comment(
        logged, test_scorer, settings, {"id": "c9", "text": "hi", "article_id": "a", "author_id": "u"}, SITE
    )
    second = decisions.list_decisions(logged, limit=4, order="asc", cursor=first["next_cursor"])
    assert ids(second) == ["c4", "c1", "c9"] and second["next_cursor"] is None

    newest = decisions.list_decisions(logged, limit=3)
    older = decisions.list_decisions(logged, limit=3, cursor=newest["next_cursor"])
    assert ids(newest) + ids(older) == ["c9", "c1", "c4", "c3", "c2", "c1"]
    with pytest.raises(Invalid):
        decisions.list_decisions(logged, cursor="abc")
    with pytest.raises(Invalid):
        decisions.list_decisions(logged, limit=0)


def test_csv_export_streams_every_decision(logged: Store) -> None:
    chunks = list(decisions.decisions_csv(decisions.iter_decisions(logged, batch=2)))
    assert len(chunks) == 1 + 6
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert [r["comment_id"] for r in rows] == ["c0", "c1", "c2", "c3", "c4", "c1"]
    assert list(rows[0]) == list(decisions.CSV_COLUMNS)
    assert rows[-1]["actor_type"] == "moderator" and rows[-1]["note"] == "'-rude"  # no formula injection
    assert rows[2]["status"] == "rejected" and '"threat": 0.97' in rows[2]["scores"]
    assert rows[0]["article_id"] == "a1" and rows[4]["article_id"] == "a2"
    only_rejected = list(
        csv.DictReader(
            io.StringIO("".join(decisions.decisions_csv(decisions.iter_decisions(logged, status="rejected"))))
        )
    )
    assert len(only_rejected) == 2


def test_policy_history_and_current_policy(store: Store, test_scorer: WordListScorer, now: datetime) -> None:
    assert get_policy(store, test_scorer).thresholds["toxicity"] == {"reject": 0.9, "review": 0.5}
    put_policy(store, test_scorer, {"thresholds": {"toxicity": {"review": 0.6}}}, "admin1", now)
    put_policy(store, test_scorer, {"blocked_terms": ["spoiler"]}, "admin2", now + timedelta(hours=1))
    policy = get_policy(store, test_scorer)
    assert policy.blocked_terms == ("spoiler",) and policy.thresholds["toxicity"]["review"] == 0.5
    assert policy_document(store, test_scorer)["blocked_terms"] == ["spoiler"]
    history = policy_history(store, limit=1)
    assert [(h["actor_key_id"], h["document"]) for h in history["items"]] == [
        ("admin2", {"blocked_terms": ["spoiler"]})
    ]
    older = policy_history(store, limit=5, cursor=history["next_cursor"])
    assert [h["actor_key_id"] for h in older["items"]] == ["admin1"] and older["next_cursor"] is None
    with pytest.raises(Invalid):
        put_policy(store, test_scorer, {"max_links": -1}, "admin1")
    assert len(policy_history(store)["items"]) == 2


def test_a_new_policy_applies_to_the_next_submission(
    store: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    def submit(comment_id: str) -> str:
        payload = {"id": comment_id, "text": "stupid", "article_id": "a", "author_id": comment_id}
        return str(service.submit_comment(store, test_scorer, settings, payload, SITE)["status"])

    assert submit("before") == "queued"
    put_policy(store, test_scorer, {"thresholds": {"toxicity": {"review": 0.6}}}, "admin1")
    assert submit("after") == "approved"
