"""API keys: roles site, moderator and admin; only SHA-256 hashes of the keys are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from moderation.errors import Duplicate, Invalid, NotFound, Unauthorized
from moderation.identifiers import IDENTIFIER_PATTERN, identifier_problem
from moderation.records import Record
from moderation.storage import store as st
from moderation.storage.store import Store, Transaction

ROLES: tuple[str, ...] = ("site", "moderator", "admin")
ROLE_PREFIX: dict[str, str] = {"site": "site", "moderator": "mod", "admin": "adm"}
_ROLE_FOR_PREFIX = {prefix: role for role, prefix in ROLE_PREFIX.items()}
_ID_HEX_CHARS = 12


class Key(Record):
    """An API key as the rest of the service sees it, read from its row: never the secret, never the hash."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Literal["site", "moderator", "admin"]
    created_at: str | None = None
    revoked_at: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The JSON answer."""
        return self.model_dump()


class KeyList(Record):
    """Every key (never a secret or its hash)."""

    items: list[Key]


class NewKey(Record):
    """A key just made, with its secret: shown this once."""

    key: Key
    secret: str


class KeyIn(Record):
    """What an admin asks for when making a key."""

    role: Literal["site", "moderator", "admin"]
    name: str | None = Field(default=None, max_length=200, json_schema_extra={"pattern": IDENTIFIER_PATTERN})


def hash_key(presented: str) -> str:
    """The stored form of a key: SHA-256 hex (the key carries 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(presented.encode("utf-8")).hexdigest()


def _new_secret(role: str, key_id: str) -> str:
    # mod_<role prefix>_<id>_<secret>: the id lets us fetch the one row to compare against.
    return f"mod_{ROLE_PREFIX[role]}_{key_id}_{secrets.token_urlsafe(32)}"


def create_key_in(db: Transaction, role: str, name: str | None, at: str) -> tuple[Key, str]:
    """Create a key inside an open write transaction; (the key, its secret, shown this once)."""
    if role not in ROLES:
        raise Invalid("Unknown role.", fields={"role": "must be one of " + ", ".join(ROLES)})
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise Invalid("Bad key name.", fields={"name": "must be a string of at most 200 characters"})
    if name is not None and (problem := identifier_problem(name)):
        raise Invalid("Bad key name.", fields={"name": problem})
    for _ in range(5):
        key_id = secrets.token_hex(_ID_HEX_CHARS // 2)
        secret = _new_secret(role, key_id)
        key = Key.model_validate({"id": key_id, "name": name or f"{role} key", "role": role, "created_at": at})
        try:
            st.insert_key(db, {**key.model_dump(exclude={"revoked_at"}), "key_hash": hash_key(secret)})
        except Duplicate:
            continue  # a 48-bit id collided; draw another
        return key, secret
    raise RuntimeError("could not draw an unused key id")


def create_key(store: Store, role: str, name: str | None = None, now: datetime | None = None) -> tuple[Key, str]:
    """Create an API key; (the key, its secret). The secret is never stored and cannot be shown again."""
    with store.write() as db:
        return create_key_in(db, role, name, st.iso(now or st.utcnow()))


def list_keys(store: Store, include_revoked: bool = True) -> list[Key]:
    """Every key, oldest first, without secrets or hashes."""
    with store.read() as db:
        return [Key.model_validate(row) for row in st.key_rows(db, include_revoked)]


def revoke_key(store: Store, key_id: str, now: datetime | None = None) -> Key:
    """Revoke a key at once (NotFound if unknown; revoking twice keeps the first time)."""
    with store.write() as db:
        if st.key_row(db, key_id) is None:
            raise NotFound(f"No key with id {key_id}.")
        st.mark_key_revoked(db, key_id, st.iso(now or st.utcnow()))
        row = st.key_row(db, key_id)
    assert row is not None
    return Key.model_validate(row)


def parse_key_id(presented: str) -> str | None:
    """The key id embedded in a presented key, or None when it is not shaped like one of ours."""
    parts = presented.split("_", 3)
    if len(parts) != 4 or parts[0] != "mod" or parts[1] not in _ROLE_FOR_PREFIX:
        return None
    key_id = parts[2]
    if len(key_id) != _ID_HEX_CHARS or any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id


def authenticate(store: Store, presented: str | None) -> Key:
    """The key a request presented, raising Unauthorized when it is missing, unknown or revoked."""
    if not presented:
        raise Unauthorized("An API key is required.")
    key_id = parse_key_id(presented)
    if key_id is None:
        raise Unauthorized("Unknown API key.")
    with store.read() as db:
        row = st.key_row(db, key_id)
    if row is None or not hmac.compare_digest(row["key_hash"], hash_key(presented)):
        raise Unauthorized("Unknown API key.")
    if row["revoked_at"] is not None:
        raise Unauthorized("This API key has been revoked.")
    return Key.model_validate(row)


def ensure_admin_key(store: Store, now: datetime | None = None) -> str | None:
    """On first start, create an admin key and return its secret (print it once); None if one exists."""
    with store.write() as db:
        if st.count_active_keys(db, "admin") > 0:
            return None
        _, secret = create_key_in(db, "admin", "first admin key", st.iso(now or st.utcnow()))
        return secret


def active_key(store: Store, key_id: str) -> Key:
    """A key by id that may still be used (for the web app's signed-in sessions); Unauthorized otherwise."""
    with store.read() as db:
        row = st.key_row(db, key_id)
    if row is None:
        raise Unauthorized("Unknown API key.")
    if row["revoked_at"] is not None:
        raise Unauthorized("This API key has been revoked.")
    return Key.model_validate(row)
