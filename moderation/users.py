"""People who sign in to the web app with a user name and password an admin made for them.

Passwords are stored only as scrypt hashes (werkzeug.security's, a memory-hard KDF) with a random salt per
user. Hashes stored before werkzeug made them (`scrypt$n$r$p$salt$hash`) still verify, and are replaced by
werkzeug's on the user's next successful sign-in (which, like any new hash, ends their other sessions once).
A user has the role moderator or admin (never site: sites use API keys). Decisions a user makes name the actor
`user:<name>`, beside the key ids of decisions made with API keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.errors import Conflict, Duplicate, Invalid, NotFound, Unauthorized
from moderation.records import Record
from moderation.storage import store as st
from moderation.storage.store import Store

USER_ROLES: tuple[str, ...] = ("moderator", "admin")
ACTOR_PREFIX = "user:"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")

# scrypt cost: 2**15 blocks of 8 x 128 bytes = 32 MiB and about 50-100 ms per hash on this kind of machine.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
PASSWORD_METHOD = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}"
_SALT_CHARS = 16
_LEGACY_PREFIX = "scrypt$"  # hashes made before werkzeug's


class User(Record):
    """A web app user as the rest of the service sees it, read from its row: never the password hash."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: Literal["moderator", "admin"]
    created_at: str | None = None
    created_by: str | None = None
    disabled_at: str | None = None
    # Changes with the password, so a new password ends the sessions signed in with the old one.
    stamp: str = Field(default="", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _stamp_from_hash(cls, row: Any) -> Any:
        """A row's password hash gives the stamp (and stays out of the record)."""
        if isinstance(row, dict) and "password_hash" in row:
            return {**row, "stamp": hashlib.sha256(row["password_hash"].encode()).hexdigest()[:16]}
        return row

    @property
    def actor(self) -> str:
        """How decisions by this user name their actor."""
        return ACTOR_PREFIX + self.name

    def as_dict(self) -> dict[str, object]:
        """The JSON answer (never the stamp)."""
        return self.model_dump()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """The stored form of a password: werkzeug's `scrypt:n:r:p$salt$hash`, with a fresh random salt."""
    return generate_password_hash(password, method=PASSWORD_METHOD, salt_length=_SALT_CHARS)


def _verify_legacy(password: str, stored: str) -> bool:
    """A hash from before werkzeug made them: `scrypt$n$r$p$salt$hash`, base64 without padding."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        derived = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=256 * int(n) * int(r) + 1024 * 1024,
            dklen=len(expected),
        )
        return hmac.compare_digest(derived, expected)
    except (ValueError, TypeError):
        return False


def verify_password(password: str, stored: str) -> bool:
    """Whether a password matches a stored hash, werkzeug's or one made before it (constant-time comparison)."""
    if stored.startswith(_LEGACY_PREFIX):
        return _verify_legacy(password, stored)
    try:
        return check_password_hash(stored, password)
    except ValueError:
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash is not in the current form (made before werkzeug, or with other costs)."""
    return not stored.startswith(PASSWORD_METHOD + "$")


# Checked when the name is unknown, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = f"{PASSWORD_METHOD}${'0' * _SALT_CHARS}${'0' * 128}"


def _check_password(password: object, errors: dict[str, str]) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        errors["password"] = f"must be at least {MIN_PASSWORD_CHARS} characters"
    elif len(password) > MAX_PASSWORD_CHARS:
        errors["password"] = f"must be at most {MAX_PASSWORD_CHARS} characters"


def normalize_name(name: str) -> str:
    """User names are compared lower-cased, without surrounding spaces."""
    return name.strip().lower()


def create_user(
    store: Store, name: str, password: str, role: str, created_by: str | None, now: datetime | None = None
) -> User:
    """Create a user (Invalid names each bad field; Conflict if the name is taken)."""
    errors: dict[str, str] = {}
    clean = normalize_name(name) if isinstance(name, str) else ""
    if not _NAME.fullmatch(clean):
        errors["name"] = "must be 2-40 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
    if role not in USER_ROLES:
        errors["role"] = "must be one of " + ", ".join(USER_ROLES)
    _check_password(password, errors)
    if errors:
        raise Invalid("The user has invalid fields.", fields=errors)
    user = User.model_validate(
        {"name": clean, "role": role, "created_at": st.iso(now or st.utcnow()), "created_by": created_by}
    )
    row = {**user.model_dump(exclude={"disabled_at"}), "password_hash": hash_password(password)}
    try:
        with store.write() as db:
            st.insert_user(db, row)
    except Duplicate:
        raise Conflict(f"There is already a user named {clean}.", fields={"name": "is taken"}) from None
    return User.model_validate({**row, "disabled_at": None})


def list_users(store: Store) -> list[User]:
    """Every user, oldest first, without password hashes."""
    with store.read() as db:
        return [User.model_validate(row) for row in st.user_rows(db)]


def get_user(store: Store, name: str) -> User:
    """One user by name (NotFound when unknown)."""
    with store.read() as db:
        row = st.user_row(db, normalize_name(name))
    if row is None:
        raise NotFound(f"No user named {name}.")
    return User.model_validate(row)


def active_user(store: Store, name: str) -> User:
    """A user who may sign in now; Unauthorized when unknown or disabled (checked on every page)."""
    with store.read() as db:
        row = st.user_row(db, normalize_name(name))
    if row is None or row["disabled_at"] is not None:
        raise Unauthorized("This user cannot sign in.")
    return User.model_validate(row)


def authenticate_password(store: Store, name: str, password: str) -> User:
    """The user these credentials name; Unauthorized (one message for every failure) otherwise."""
    with store.read() as db:
        row = st.user_row(db, normalize_name(name or ""))
    stored = _DUMMY_HASH if row is None else row["password_hash"]
    matches = verify_password(password or "", stored)
    if row is None or not matches or row["disabled_at"] is not None:
        raise Unauthorized("Unknown user name or wrong password.")
    if needs_rehash(stored):
        with store.write() as db:
            st.replace_user_password_hash(db, row["name"], stored, hash_password(password))
            row = st.user_row(db, row["name"])
        assert row is not None
    return User.model_validate(row)


def disable_user(store: Store, name: str, now: datetime | None = None) -> User:
    """Disable a user at once: their sessions end on their next request (NotFound when unknown)."""
    key = normalize_name(name)
    with store.write() as db:
        if st.user_row(db, key) is None:
            raise NotFound(f"No user named {name}.")
        st.mark_user_disabled(db, key, st.iso(now or st.utcnow()))
        row = st.user_row(db, key)
    assert row is not None
    return User.model_validate(row)


def set_password(store: Store, name: str, password: str) -> User:
    """Give a user a new password (Invalid if too short; NotFound when unknown)."""
    errors: dict[str, str] = {}
    _check_password(password, errors)
    if errors:
        raise Invalid("The password is not acceptable.", fields=errors)
    key = normalize_name(name)
    with store.write() as db:
        if st.set_user_password(db, key, hash_password(password)) != 1:
            raise NotFound(f"No user named {name}.")
        row = st.user_row(db, key)
    assert row is not None
    return User.model_validate(row)
