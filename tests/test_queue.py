"""The review queue: priority order, pagination, leases, optimistic locking, labels, reversals, appeals."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from moderation import queue, service
from moderation.errors import Conflict, Invalid, NotFound
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from tests.conftest import WordListScorer

SITE, ALICE, BOB = "sitekey00001", "modalice0001", "modbob000001"


@pytest.fixture
def submit(store: Store, test_scorer: WordListScorer, settings: Settings, now: datetime) -> Any:
    def submit_one(comment_id: str, text: str, minutes: int = 0, **extra: Any) -> dict[str, Any]:
        payload = {"id": comment_id, "text": text, "article_id": "a1", "author_id": comment_id, **extra}
        return service.submit_comment(store, test_scorer, settings, payload, SITE, now=now + timedelta(minutes=minutes))

    return submit_one


def item_for(store: Store, comment_id: str) -> dict[str, Any]:
    with store.read() as db:
        row = st.open_queue_item_row(db, comment_id)
    assert row is not None
    return queue.get_item(store, row["id"])


def outbox_events(store: Store) -> list[dict[str, Any]]:
    with store.read() as db:
        return [json.loads(row["body"]) for row in st.outbox_rows(db)]


def test_queue_is_ordered_by_score_then_age_and_paginates(store: Store, submit: Any, now: datetime) -> None:
    submit("low", "stupid", minutes=0)  # toxicity 0.55
    submit("mid-old", "idiot", minutes=1)  # toxicity 0.70
    submit("top", "casino", minutes=2, section="sport")  # spam 0.80
    submit("mid-new", "idiot", minutes=3)
    submit("clean", "fine words")  # approved: not queued

    page = queue.list_queue(store, limit=2, now=now)
    assert [i["comment_id"] for i in page["items"]] == ["top", "mid-old"]
    assert page["total"] == 4 and page["items"][0]["comment"]["text"] == "casino"
    submit("newcomer", "moron clown", minutes=4, lang="en")  # insult 0.93 → rejected, not queued
    submit("new-top", "casino idiot", minutes=5)  # ranks above page two: must not shift it
    second = queue.list_queue(store, limit=2, cursor=page["next_cursor"], now=now)
    assert [i["comment_id"] for i in second["items"]] == ["mid-new", "low"]
    assert second["next_cursor"] is None

    by_offset = queue.list_queue(store, limit=10, offset=2, now=now)
    assert [i["comment_id"] for i in by_offset["items"]] == ["mid-old", "mid-new", "low"]
    assert [i["comment_id"] for i in queue.list_queue(store, category="spam")["items"]] == ["top", "new-top"]
    assert [i["comment_id"] for i in queue.list_queue(store, section="sport")["items"]] == ["top"]
    assert queue.list_queue(store, article_id="other")["items"] == []
    with pytest.raises(Invalid):
        queue.list_queue(store, cursor="garbage!")
    with pytest.raises(Invalid):
        queue.list_queue(store, status="lost", limit=0)


def test_a_held_threat_goes_to_the_top_of_the_queue_marked_urgent(store: Store, submit: Any, now: datetime) -> None:
    submit("spam", "casino", minutes=0)  # spam 0.80
    submit("threat", "ambush", minutes=1)  # threat 0.60: over review, under reject, held
    submit("both", "idiot ambush", minutes=2)  # toxicity 0.70 decides, but a threat is held too
    items = queue.list_queue(store, now=now)["items"]
    assert [i["comment_id"] for i in items] == ["threat", "both", "spam"]
    assert [i["urgent"] for i in items] == [True, True, False]
    assert items[0]["score"] == pytest.approx(0.6) and items[2]["score"] == pytest.approx(0.8)
    assert items[0]["priority"] > items[2]["priority"] >= items[2]["score"]
    assert queue.claim_next(store, ALICE, now)["comment_id"] == "threat"  # type: ignore[index]


def test_a_claimed_item_is_not_handed_to_another_moderator_until_the_lease_lapses(
    store: Store, submit: Any, now: datetime
) -> None:
    submit("c1", "stupid")
    item = item_for(store, "c1")
    claimed = queue.claim(store, item["id"], ALICE, now, lease_seconds=60)
    assert claimed["claimed_by"] == ALICE and claimed["version"] == item["version"] + 1
    with pytest.raises(Conflict):
        queue.claim(store, item["id"], BOB, now + timedelta(seconds=59), lease_seconds=60)
    assert queue.claim_next(store, BOB, now + timedelta(seconds=30)) is None
    renewed = queue.claim(store, item["id"], ALICE, now + timedelta(seconds=30), lease_seconds=60)
    assert renewed["claim_expires_at"] == st.iso(now + timedelta(seconds=90))

    lapsed = now + timedelta(seconds=91)
    assert queue.get_item(store, item["id"], lapsed)["claimed_by"] is None
    taken = queue.claim(store, item["id"], BOB, lapsed, lease_seconds=60)
    assert taken["claimed_by"] == BOB
    with pytest.raises(Conflict):  # Alice's old version, and Bob holds it now
        queue.decide_item(store, item["id"], ALICE, "approve", version=renewed["version"], now=lapsed)
    with pytest.raises(Conflict):  # right version, but Bob's lease is live
        queue.decide_item(store, item["id"], ALICE, "approve", version=taken["version"], now=lapsed)
    queue.decide_item(store, item["id"], BOB, "approve", version=taken["version"], now=lapsed)


def test_claim_next_hands_out_distinct_items_by_priority_and_respects_skips(
    store: Store, submit: Any, now: datetime
) -> None:
    submit("low", "stupid")
    submit("high", "casino")
    first = queue.claim_next(store, ALICE, now)
    second = queue.claim_next(store, BOB, now)
    assert first is not None and second is not None
    assert (first["comment_id"], second["comment_id"]) == ("high", "low")
    assert queue.claim_next(store, "modcarol0001", now) is None

    queue.skip(store, first["id"], ALICE, now)
    assert queue.get_item(store, first["id"], now)["claimed_by"] is None
    assert queue.claim_next(store, ALICE, now) is None  # skipped by Alice; "low" is Bob's
    carol = queue.claim_next(store, "modcarol0001", now, category="spam")
    assert carol is not None and carol["comment_id"] == "high"

    with pytest.raises(Conflict):
        queue.release(store, carol["id"], BOB, now)
    released = queue.release(store, carol["id"], "modcarol0001", now)
    assert released["claimed_by"] is None
    assert queue.claim_next(store, BOB, now, category="toxicity") is None  # "low" still held by Bob himself


def test_two_moderators_cannot_both_decide_one_item(store: Store, submit: Any, now: datetime) -> None:
    submit("c1", "stupid")
    seen = item_for(store, "c1")
    queue.decide_item(store, seen["id"], ALICE, "reject", version=seen["version"], now=now)
    with pytest.raises(Conflict):
        queue.decide_item(store, seen["id"], BOB, "approve", version=seen["version"], now=now)
    with pytest.raises(NotFound):
        queue.decide_item(store, 999, BOB, "approve", version=1, now=now)
    assert service.get_comment(store, "c1")["status"] == "rejected"


def test_a_decision_records_row_status_label_and_event_together(store: Store, submit: Any, now: datetime) -> None:
    submit("c1", "stupid")
    item = item_for(store, "c1")
    result = queue.decide_item(
        store, item["id"], ALICE, "approve", version=item["version"], reason="sarcasm, not abuse", now=now
    )
    decision = result["decision"]
    assert decision["actor_type"] == "moderator" and decision["actor"] == ALICE and decision["kind"] == "review"
    assert decision["status"] == "approved" and decision["note"] == "sarcasm, not abuse"
    assert decision["model_version"] == "test-wordlist-1" and decision["scores"]["toxicity"] == 0.55
    assert decision["queue_item_id"] == item["id"] and decision["supersedes"] is not None
    assert result["item"]["state"] == "decided" and result["item"]["decision_id"] == decision["id"]
    assert service.get_comment(store, "c1")["status"] == "approved"

    with store.read() as db:
        (label,) = st.label_rows(db, "c1")
    assert (label["category"], label["value"], label["decision_id"], label["source"]) == (
        "toxicity",
        0,
        decision["id"],
        "moderator",
    )
    (event,) = outbox_events(store)
    assert event["type"] == "comment.decided" and event["comment_id"] == "c1" and event["status"] == "approved"
    assert event["decision"]["id"] == decision["id"] and event["decision"]["reason"] == "sarcasm, not abuse"


def test_explicit_labels_are_stored_and_checked(store: Store, submit: Any, now: datetime) -> None:
    submit("c1", "idiot")
    item = item_for(store, "c1")
    with pytest.raises(Invalid) as raised:
        queue.decide_item(store, item["id"], ALICE, "ban", version=item["version"], labels={"rudeness": 1, "spam": 2})
    assert set(raised.value.fields) == {"action", "labels.rudeness", "labels.spam"}
    queue.decide_item(store, item["id"], ALICE, "reject", version=item["version"], labels={"insult": 1, "toxicity": 1})
    with store.read() as db:
        assert {(r["category"], r["value"]) for r in st.label_rows(db, "c1")} == {
            ("insult", 1),
            ("toxicity", 1),
        }
        assert len(st.latest_labels(db)) == 2
    labels = queue.training_labels(store)
    assert {(r["comment_id"], r["category"], r["value"], r["text"]) for r in labels} == {
        ("c1", "insult", 1, "idiot"),
        ("c1", "toxicity", 1, "idiot"),
    }


def test_a_failure_inside_the_decision_transaction_changes_nothing(
    store: Store, submit: Any, now: datetime, db_path: Path
) -> None:
    submit("c1", "stupid")
    item = item_for(store, "c1")
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TRIGGER sabotage BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'sabotage'); END")
    raw.commit()
    raw.close()
    with pytest.raises(sqlite3.IntegrityError):
        queue.decide_item(store, item["id"], ALICE, "reject", version=item["version"], now=now)
    found = service.get_comment(store, "c1")
    assert found["status"] == "queued" and len(found["decisions"]) == 1
    assert queue.get_item(store, item["id"])["version"] == item["version"]
    with store.read() as db:
        assert st.label_rows(db) == []


def test_reversal_is_a_new_decision_never_an_edit(store: Store, submit: Any, now: datetime) -> None:
    submit("c1", "fine words")
    original = service.get_comment(store, "c1")["decisions"][0]
    with pytest.raises(Conflict):
        queue.reverse_decision(store, "c1", ALICE, "approve", now=now)  # already approved
    with pytest.raises(Conflict):
        queue.reverse_decision(store, "c1", ALICE, "reject", expected_decision_id=original["id"] + 1, now=now)
    result = queue.reverse_decision(
        store, "c1", ALICE, "reject", reason="doxxing", expected_decision_id=original["id"], now=now
    )
    assert result["decision"]["kind"] == "reversal" and result["decision"]["supersedes"] == original["id"]
    found = service.get_comment(store, "c1")
    assert found["status"] == "rejected"
    assert found["decisions"][0] == original
    assert [d["status"] for d in found["decisions"]] == ["approved", "rejected"]
    assert outbox_events(store)[0]["type"] == "comment.reversed"

    submit("q1", "stupid")
    with pytest.raises(Conflict):
        queue.reverse_decision(store, "q1", ALICE, "approve", now=now)  # decide its queue item instead
    with pytest.raises(NotFound):
        queue.reverse_decision(store, "nope", ALICE, "approve", now=now)


def test_appeal_puts_a_rejected_comment_back_and_its_outcome_is_sent(store: Store, submit: Any, now: datetime) -> None:
    submit("r1", "I will kill you")
    submit("ok", "fine words")
    with pytest.raises(Conflict):
        queue.appeal(store, "ok", "why?", SITE, now)
    item = queue.appeal(store, "r1", "It was a quote from a film.", SITE, now)
    assert item["appealed"] is True and item["appeal_message"] == "It was a quote from a film."
    assert item["category"] == "threat" and item["priority"] == 0.97
    assert service.get_comment(store, "r1")["status"] == "rejected"  # hidden until decided
    with pytest.raises(Conflict, match="already pending an appeal"):
        queue.appeal(store, "r1", "again", SITE, now)
    with pytest.raises(NotFound):
        queue.appeal(store, "missing", None, SITE, now)
    assert [i["comment_id"] for i in queue.list_queue(store, appealed=True)["items"]] == ["r1"]
    assert queue.list_queue(store, appealed=False)["items"] == []

    result = queue.decide_item(store, item["id"], BOB, "approve", version=item["version"], now=now)
    assert result["decision"]["kind"] == "appeal"
    assert service.get_comment(store, "r1")["status"] == "approved"
    (event,) = outbox_events(store)
    assert event["type"] == "comment.appeal_decided"
    assert event["appeal"] == {"outcome": "overturned", "message": "It was a quote from a film."}
    with store.read() as db:
        assert [(r["category"], r["value"]) for r in st.label_rows(db, "r1")] == [("threat", 0)]


def test_an_upheld_appeal_can_be_appealed_again_later(store: Store, submit: Any, now: datetime) -> None:
    submit("r1", "kill")
    item = queue.appeal(store, "r1", None, SITE, now)
    queue.decide_item(store, item["id"], BOB, "reject", version=item["version"], now=now)
    assert outbox_events(store)[0]["appeal"]["outcome"] == "upheld"
    assert queue.appeal(store, "r1", "please look again", SITE, now)["appealed"] is True
