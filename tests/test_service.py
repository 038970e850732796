"""Submitting comments: validation, scoring, one transaction per comment, idempotency, batches, races."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from moderation import service
from moderation.errors import Conflict, Invalid, NotFound, TooLarge, Unavailable
from moderation.policy import default_policy
from moderation.policy_changes import put_policy
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from tests.conftest import WordListScorer

SITE = "sitekey00001"


def comment(comment_id: str | int = "c1", text: str = "A thoughtful remark about the budget.", **extra: Any) -> dict:
    return {"id": comment_id, "text": text, "article_id": "a1", "author_id": "u1", **extra}


def counts(store: Store) -> dict[str, int]:
    with store.read() as db:
        return {table: db[table].count for table in ("comments", "decisions", "queue_items", "outbox", "labels")}


def test_clean_comment_is_approved_and_recorded_with_its_evidence(
    store: Store, test_scorer: WordListScorer, settings: Settings, now: datetime
) -> None:
    answer = service.submit_comment(store, test_scorer, settings, comment(), SITE, now=now)
    assert answer["id"] == "c1" and answer["status"] == "approved" and answer["decided_by"] == "model"
    assert answer["model_version"] == "test-wordlist-1"
    assert set(answer["scores"]) >= {"toxicity", "threat"} and answer["reasons"] == [] and answer["spans"] == []
    assert answer["replayed"] is False
    with store.read() as db:
        (decision,) = st.decision_rows_for_comment(db, "c1")
        row = st.comment_row(db, "c1")
    assert row is not None and row["status"] == "approved" and row["submitted_by"] == SITE
    assert decision["actor_type"] == "model" and decision["actor"] == SITE and decision["kind"] == "submission"
    assert decision["at"] == st.iso(now) and decision["model_version"] == "test-wordlist-1"
    assert '"toxicity"' in decision["scores"] and '"review": 0.5' in decision["thresholds"]
    assert counts(store) == {"comments": 1, "decisions": 1, "queue_items": 0, "outbox": 0, "labels": 0}


def test_borderline_comment_is_queued_by_its_top_score(
    store: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    answer = service.submit_comment(store, test_scorer, settings, comment(text="That is a stupid idea"), SITE)
    assert answer["status"] == "queued"
    assert answer["reasons"][0]["category"] == "toxicity" and answer["reasons"][0]["action"] == "review"
    assert answer["spans"] == [{"category": "toxicity", "start": 10, "end": 16, "text": "stupid", "weight": 1.0}]
    with store.read() as db:
        item = st.open_queue_item_row(db, "c1")
    assert item is not None and item["priority"] == 0.55 and item["category"] == "toxicity"
    assert counts(store)["outbox"] == 0  # model decisions are not sent to the site


def test_clear_violation_is_rejected(store: Store, test_scorer: WordListScorer, settings: Settings) -> None:
    answer = service.submit_comment(store, test_scorer, settings, comment(text="I will kill you"), SITE)
    assert answer["status"] == "rejected" and answer["decided_by"] == "model"
    assert counts(store)["queue_items"] == 0


def test_a_rule_decision_is_marked_as_decided_by_rule(
    store: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    put_policy(store, test_scorer, {"blocked_terms": ["forbidden word"]}, "admin1")
    answer = service.submit_comment(store, test_scorer, settings, comment(text="This has a forbidden word"), SITE)
    assert answer["status"] == "rejected" and answer["decided_by"] == "rule"
    with store.read() as db:
        assert st.first_decision_row(db, "c1")["actor_type"] == "rule"  # type: ignore[index]


def test_integer_ids_are_stored_as_strings(store: Store, test_scorer: WordListScorer, settings: Settings) -> None:
    answer = service.submit_comment(
        store, test_scorer, settings, {**comment(42), "article_id": 7, "author_id": 9}, SITE
    )
    assert answer["id"] == "42"
    assert service.get_comment(store, 42)["article_id"] == "7"


def test_invalid_comment_names_every_bad_field(store: Store, test_scorer: WordListScorer, settings: Settings) -> None:
    bad = {"text": 5, "article_id": [], "ip": "999.1.1.1", "created_at": "yesterday", "lang": 3, "id": True}
    with pytest.raises(Invalid) as raised:
        service.submit_comment(store, test_scorer, settings, bad, SITE)
    assert set(raised.value.fields) == {"id", "text", "article_id", "author_id", "ip", "created_at", "lang"}
    with pytest.raises(Invalid):
        service.submit_comment(store, test_scorer, settings, ["not", "an", "object"], SITE)
    with pytest.raises(Invalid) as raised:
        service.submit_comment(store, test_scorer, settings, comment(text="   "), SITE)
    assert raised.value.fields == {"text": "must not be empty"}
    assert counts(store)["comments"] == 0


def test_text_over_20000_characters_is_too_large(store: Store, test_scorer: WordListScorer, settings: Settings) -> None:
    with pytest.raises(TooLarge):
        service.submit_comment(store, test_scorer, settings, comment(text="a" * 20_001), SITE)
    assert service.submit_comment(store, test_scorer, settings, comment(text="a" * 20_000), SITE)["status"]


def test_posting_the_same_id_again_replays_the_stored_answer(
    store: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    first = service.submit_comment(store, test_scorer, settings, comment(text="stupid clown"), SITE)
    before = counts(store)
    again = service.submit_comment(store, test_scorer, settings, comment(text="stupid clown"), SITE)
    assert again.pop("replayed") is True and first.pop("replayed") is False
    assert again == first
    assert counts(store) == before
    with pytest.raises(Conflict):
        service.submit_comment(store, test_scorer, settings, comment(text="a different text"), SITE)
    assert counts(store) == before


def test_personal_data_is_stored_only_as_keyed_hashes(
    store: Store, test_scorer: WordListScorer, settings: Settings, db_path: Path
) -> None:
    payload = comment(ip="203.0.113.77", email="Reader.Person@example.org", user_agent="UA/1")
    service.submit_comment(store, test_scorer, settings, payload, SITE)
    with store.read() as db:
        row = st.comment_row(db, "c1")
    assert row is not None and len(row["ip_hash"]) == 64 and len(row["email_hash"]) == 64
    raw = b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())
    assert b"203.0.113.77" not in raw and b"reader.person@example.org" not in raw.lower()


def test_batch_answers_each_comment_on_its_own(store: Store, test_scorer: WordListScorer, settings: Settings) -> None:
    answers = service.submit_batch(
        store,
        test_scorer,
        settings,
        [
            comment("b1"),
            {"id": "b2", "article_id": "a1", "author_id": "u1"},
            comment("b1"),
            comment("b3", "stupid"),
        ],
        SITE,
    )
    assert [a.get("status") for a in answers] == ["approved", None, "approved", "queued"]
    assert answers[1] == {
        "id": "b2",
        "error": {
            "code": "invalid",
            "message": "The comment has invalid fields.",
            "fields": {"text": "is required"},
        },
    }
    assert answers[2]["replayed"] is True
    assert counts(store)["comments"] == 2
    with pytest.raises(TooLarge):
        service.submit_batch(store, test_scorer, settings, [comment(str(n)) for n in range(101)], SITE)
    with pytest.raises(Invalid):
        service.submit_batch(store, test_scorer, settings, {"id": 1}, SITE)


def test_get_comment_shows_status_and_whole_history(
    store: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    service.submit_comment(store, test_scorer, settings, comment(text="stupid"), SITE)
    found = service.get_comment(store, "c1")
    assert found["status"] == "queued" and found["queue_item"]["appealed"] is False
    assert [d["actor_type"] for d in found["decisions"]] == ["model"]
    assert isinstance(found["decisions"][0]["scores"], dict)
    assert "ip_hash" not in found and "email_hash" not in found
    with pytest.raises(NotFound):
        service.get_comment(store, "missing")


def test_dry_run_scores_without_recording(store: Store, test_scorer: WordListScorer) -> None:
    answer = service.dry_run(test_scorer, default_policy(test_scorer.thresholds), {"text": "moron"})
    assert answer["status"] == "rejected"
    assert counts(store)["comments"] == 0


def test_author_with_recent_rejections_goes_to_review(
    store: Store, test_scorer: WordListScorer, settings: Settings, now: datetime
) -> None:
    long_ago = now - timedelta(days=45)
    service.submit_comment(store, test_scorer, settings, comment("old1", "kill"), SITE, now=long_ago)
    service.submit_comment(store, test_scorer, settings, comment("old2", "kill"), SITE, now=long_ago)
    assert service.submit_comment(store, test_scorer, settings, comment("x1"), SITE, now=now)["status"] == "approved"
    service.submit_comment(store, test_scorer, settings, comment("r1", "kill"), SITE, now=now)
    service.submit_comment(store, test_scorer, settings, comment("r2", "kill"), SITE, now=now)
    answer = service.submit_comment(store, test_scorer, settings, comment("x2"), SITE, now=now)
    assert answer["status"] == "queued" and answer["decided_by"] == "rule"
    assert answer["reasons"][0]["kind"] == "author_rejections"


def test_a_failing_decision_insert_leaves_no_comment_row(
    store: Store, test_scorer: WordListScorer, settings: Settings, db_path: Path
) -> None:
    store.migrate()  # the schema must exist before the sabotage trigger is added
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TRIGGER sabotage BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'sabotage'); END")
    raw.commit()
    raw.close()
    with pytest.raises(sqlite3.IntegrityError, match="sabotage"):
        service.submit_comment(store, test_scorer, settings, comment(text="stupid"), SITE)
    assert counts(store) == {"comments": 0, "decisions": 0, "queue_items": 0, "outbox": 0, "labels": 0}


def test_a_full_disk_is_unavailable_and_leaves_nothing_half_written(
    store: Store, test_scorer: WordListScorer, settings: Settings
) -> None:
    with store.read() as db:
        db.execute(f"PRAGMA max_page_count = {st.pragma(db, 'page_count')}")
    with pytest.raises(Unavailable):
        service.submit_comment(store, test_scorer, settings, comment(text="x " * 9000), SITE)
    assert counts(store)["comments"] == 0


def _submit_many(store: Store, settings: Settings, worker: int, queue: Any) -> None:
    scorer = WordListScorer()
    errors = []
    for n in range(200):
        text = "stupid" if n % 5 == 0 else f"comment {n} from worker {worker}"
        try:
            service.submit_comment(store, scorer, settings, comment(f"w{worker}-{n}", text), SITE)
            if n % 10 == 0:  # the same ids from both processes race: each must be recorded once
                service.submit_comment(store, scorer, settings, comment(f"shared-{n}", "same text"), SITE)
        except Exception as error:  # noqa: BLE001 - reported to the parent process
            errors.append(repr(error))
    queue.put(errors)


def test_two_writer_processes_never_see_database_is_locked(
    store: Store, settings: Settings, test_scorer: WordListScorer
) -> None:
    service.submit_comment(
        store, test_scorer, settings, comment("before-fork"), SITE
    )  # the parent's connection is open
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_submit_many, args=(store, settings, w, results)) for w in (1, 2)]
    for process in workers:
        process.start()
    errors = [results.get(timeout=120) for _ in workers]
    for process in workers:
        process.join(timeout=30)
    assert errors == [[], []]
    assert counts(store)["comments"] == 1 + 400 + 20
    assert counts(store)["decisions"] == 1 + 400 + 20
    assert counts(store)["queue_items"] == 80
