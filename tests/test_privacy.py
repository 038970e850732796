"""Personal data: keyed hashes, the generated secret file, and purging past retention."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from moderation import privacy
from moderation.errors import Invalid
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store


def _comment(comment_id: str, received: datetime) -> dict[str, object]:
    return {
        "id": comment_id,
        "text": "hello",
        "article_id": "a1",
        "author_id": "u1",
        "author_name": "Alice",
        "ip_hash": "i" * 64,
        "email_hash": "e" * 64,
        "user_agent": "Firefox",
        "received_at": st.iso(received),
        "status": "approved",
    }


def test_hashes_are_keyed_and_canonical() -> None:
    key = b"k1"
    assert privacy.hash_ip(key, "192.0.2.1") == privacy.hash_ip(key, "::ffff:192.0.2.1")
    assert privacy.hash_ip(key, "2001:db8::1") == privacy.hash_ip(key, "2001:0db8:0:0:0:0:0:1")
    assert privacy.hash_email(key, " Alice@Example.org ") == privacy.hash_email(key, "alice@example.org")
    assert privacy.hash_ip(key, "192.0.2.1") != privacy.hash_ip(b"k2", "192.0.2.1")
    assert "192.0.2.1" not in privacy.hash_ip(key, "192.0.2.1")
    with pytest.raises(ValueError):
        privacy.normalize_ip("not an ip")


def test_secret_is_generated_once_beside_the_database_with_0600(tmp_path: Path) -> None:
    db_path = tmp_path / "sub" / "m.db"
    settings = Settings.from_env({"MODERATION_DB": str(db_path)})
    key = privacy.pii_key(settings)
    path = privacy.secret_path(db_path)
    assert path == tmp_path / "sub" / "m.db.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert privacy.load_or_create_secret(path).encode() == key
    assert privacy.pii_key(Settings.from_env({"MODERATION_DB": str(db_path), "MODERATION_SECRET_KEY": "s"})) == b"s"


def test_purge_removes_personal_data_past_retention_and_keeps_decisions(store: Store, now: datetime) -> None:
    with store.write() as db:
        st.insert_comment(db, _comment("old", now - timedelta(days=40)))
        st.insert_comment(db, _comment("new", now - timedelta(days=5)))
        st.insert_decision(
            db,
            {
                "comment_id": "old",
                "at": st.iso(now),
                "actor_type": "model",
                "kind": "submission",
                "action": "approve",
                "status": "approved",
            },
        )
    assert privacy.purge(store, timedelta(days=30), now) == 1
    with store.read() as db:
        old, new = st.comment_row(db, "old"), st.comment_row(db, "new")
        assert len(st.decision_rows_for_comment(db, "old")) == 1
    assert old is not None and new is not None
    assert (old["ip_hash"], old["email_hash"], old["user_agent"], old["author_name"]) == (
        None,
        None,
        None,
        None,
    )
    assert old["text"] == "hello" and old["purged_at"] == st.iso(now)
    assert new["ip_hash"] == "i" * 64 and new["author_name"] == "Alice"
    assert privacy.purge(store, timedelta(days=30), now) == 0


def test_purge_works_in_batches(store: Store, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privacy, "PURGE_BATCH", 7)
    with store.write() as db:
        for n in range(30):
            st.insert_comment(db, _comment(f"c{n}", now - timedelta(days=60)))
    assert privacy.purge(store, timedelta(days=30), now) == 30


def test_durations() -> None:
    assert privacy.parse_duration("30d") == timedelta(days=30)
    assert privacy.parse_duration("12h") == timedelta(hours=12)
    assert privacy.parse_duration("2w") == timedelta(weeks=2)
    for bad in ("30", "d", "-1d", "3y"):
        with pytest.raises(Invalid):
            privacy.parse_duration(bad)
