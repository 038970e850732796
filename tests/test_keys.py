"""API keys: roles, stored only as hashes, authentication, revocation, the first admin key."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation import keys
from moderation.errors import Invalid, NotFound, Unauthorized
from moderation.storage.store import Store


def _database_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())


def test_created_key_authenticates_with_its_role(store: Store) -> None:
    key, secret = keys.create_key(store, "site", "example.com")
    assert secret.startswith(f"mod_site_{key.id}_")
    found = keys.authenticate(store, secret)
    assert (found.id, found.name, found.role) == (key.id, "example.com", "site")
    _, moderator_secret = keys.create_key(store, "moderator")
    assert keys.authenticate(store, moderator_secret).role == "moderator"
    assert moderator_secret.startswith("mod_mod_")


def test_keys_are_stored_only_as_hashes(store: Store, db_path: Path) -> None:
    secrets = [keys.create_key(store, role)[1] for role in keys.ROLES]
    with store.read() as db:
        stored = [row[0] for row in db.execute("SELECT key_hash FROM api_keys ORDER BY rowid").fetchall()]
    assert stored == [keys.hash_key(secret) for secret in secrets]
    raw = _database_bytes(db_path)
    for secret in secrets:
        assert secret.encode() not in raw
        assert secret.split("_", 3)[3].encode() not in raw


def test_unknown_malformed_and_tampered_keys_are_unauthorized(store: Store) -> None:
    key, secret = keys.create_key(store, "site")
    for presented in (
        None,
        "",
        "nonsense",
        "mod_site_zzzzzzzzzzzz_abc",
        secret[:-1] + "x",
        f"mod_adm_{key.id}_x",
    ):
        with pytest.raises(Unauthorized):
            keys.authenticate(store, presented)


def test_revoked_key_is_refused_at_once(store: Store) -> None:
    key, secret = keys.create_key(store, "moderator", "alice")
    revoked = keys.revoke_key(store, key.id)
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthorized, match="revoked"):
        keys.authenticate(store, secret)
    assert keys.revoke_key(store, key.id).revoked_at == revoked.revoked_at
    with pytest.raises(NotFound):
        keys.revoke_key(store, "000000000000")


def test_list_keys_shows_no_secrets(store: Store) -> None:
    first, _ = keys.create_key(store, "site", "one")
    second, _ = keys.create_key(store, "admin", "two")
    keys.revoke_key(store, first.id)
    listed = keys.list_keys(store)
    assert [k.id for k in listed] == [first.id, second.id]
    assert set(listed[0].as_dict()) == {"id", "name", "role", "created_at", "revoked_at"}
    assert [k.id for k in keys.list_keys(store, include_revoked=False)] == [second.id]


def test_unknown_role_is_invalid(store: Store) -> None:
    with pytest.raises(Invalid) as raised:
        keys.create_key(store, "superuser")
    assert "role" in raised.value.fields


def test_ensure_admin_key_creates_one_only_on_first_start(store: Store) -> None:
    secret = keys.ensure_admin_key(store)
    assert secret is not None and keys.authenticate(store, secret).role == "admin"
    assert keys.ensure_admin_key(store) is None
    keys.revoke_key(store, keys.authenticate(store, secret).id)
    assert keys.ensure_admin_key(store) is not None  # no usable admin key left: make a new one
