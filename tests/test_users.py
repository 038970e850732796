"""Web app users' passwords: werkzeug's scrypt hashes; hashes made before werkzeug made them still verify and are
replaced on the next successful sign-in."""

from __future__ import annotations

import pytest

from moderation import users
from moderation.errors import Unauthorized
from moderation.storage import store as st
from moderation.storage.store import Store

# Made by moderation.users.hash_password before passwords used werkzeug.security (commit 2026-12-05).
OLD_PASSWORD = "old format password 1"
OLD_HASH = "scrypt$32768$8$1$OukN6zNX2tkc2pAIepDDBg$7w-yWUcESxtMKz8qVkN8JO2QSyz_aL_CKVpI8B7RBLU"


def stored_hash(store: Store, name: str) -> str:
    with store.read() as db:
        row = st.user_row(db, name)
    assert row is not None
    return str(row["password_hash"])


def test_new_passwords_are_werkzeug_scrypt_hashes() -> None:
    made = users.hash_password("a long enough password")
    assert made.startswith("scrypt:32768:8:1$") and not users.needs_rehash(made)
    assert users.verify_password("a long enough password", made)
    assert not users.verify_password("another password entirely", made)
    assert users.hash_password("a long enough password") != made  # a fresh salt each time


def test_a_hash_made_before_werkzeug_still_verifies() -> None:
    assert users.verify_password(OLD_PASSWORD, OLD_HASH) and users.needs_rehash(OLD_HASH)
    assert not users.verify_password("old format password 2", OLD_HASH)
    assert not users.verify_password(OLD_PASSWORD, OLD_HASH[:-4] + "AAAA")
    assert not users.verify_password(OLD_PASSWORD, "scrypt$not$a$hash")


def test_an_old_hash_is_replaced_on_the_next_successful_sign_in(store: Store) -> None:
    users.create_user(store, "olga", "placeholder password", "moderator", None)
    with store.write() as db:
        st.set_user_password(db, "olga", OLD_HASH)
    with pytest.raises(Unauthorized):
        users.authenticate_password(store, "olga", "wrong password here")
    assert stored_hash(store, "olga") == OLD_HASH  # a failed sign-in changes nothing
    assert users.authenticate_password(store, "olga", OLD_PASSWORD).name == "olga"
    rehashed = stored_hash(store, "olga")
    assert rehashed.startswith("scrypt:32768:8:1$") and users.verify_password(OLD_PASSWORD, rehashed)
    users.authenticate_password(store, "olga", OLD_PASSWORD)
    assert stored_hash(store, "olga") == rehashed  # current hashes are left as they are


def test_an_unknown_name_is_refused_like_a_wrong_password(store: Store) -> None:
    with pytest.raises(Unauthorized, match="Unknown user name or wrong password"):
        users.authenticate_password(store, "nobody", "whatever password")
