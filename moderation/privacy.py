"""Commenters' personal data: keyed hashes of IP and e-mail, the hashing secret, and purging past retention.

The secret comes from MODERATION_SECRET_KEY or, when that is unset, from `<db>.secret` beside the
database (created once, mode 0600). It is kept out of the database on purpose: a leaked database or
backup then holds only HMACs, which cannot be reversed by hashing every IPv4 address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from model import private_files
from moderation.errors import Invalid
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store

PURGE_BATCH = 500


def secret_path(db_path: Path) -> Path:
    """Where the generated hashing secret lives: beside the database, named after it."""
    return db_path.with_name(db_path.name + ".secret")


def load_or_create_secret(path: Path) -> str:
    """The secret in `path`, creating it (0600, 256 random bits) if missing; safe when processes race."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    private_files.make_dir(path.parent)
    temporary = private_files.temporary_beside(path)
    try:
        private_files.write_file(temporary, (secrets.token_hex(32) + "\n").encode())
        try:
            # link() refuses to replace: whichever process links first wins, the others read its secret.
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"{path} is empty; delete it to generate a new secret, or set MODERATION_SECRET_KEY")
    return secret


def pii_key(settings: Settings) -> bytes:
    """The HMAC key for personal data under these settings (read once per process)."""
    # Cached by the path as configured: resolving it on every submission cost a syscall per path part.
    return _pii_key(settings.secret_key, settings.db_path)


@lru_cache(maxsize=8)
def _pii_key(secret_key: str | None, db_path: Path) -> bytes:
    secret = secret_key if secret_key else load_or_create_secret(secret_path(db_path.resolve()))
    return secret.encode("utf-8")


def _keyed_hash(key: bytes, kind: str, value: str) -> str:
    # The kind is mixed in so an IP hash can never be matched against an e-mail hash.
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def normalize_ip(ip: str) -> str:
    """The canonical text of an IP address (IPv4-mapped IPv6 as IPv4); ValueError if it is not one."""
    address = ipaddress.ip_address(ip.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.compressed


def hash_ip(key: bytes, ip: str) -> str:
    """HMAC-SHA256 hex of a canonical IP address."""
    return _keyed_hash(key, "ip", normalize_ip(ip))


def hash_email(key: bytes, email: str) -> str:
    """HMAC-SHA256 hex of an e-mail address, trimmed and lower-cased so one person hashes alike."""
    return _keyed_hash(key, "email", email.strip().lower())


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `2w`, `90m`, `45s` as a timedelta; Invalid otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise Invalid("Bad duration.", fields={"older_than": "must be a number and a unit s, m, h, d or w, like 30d"})
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def purge(store: Store, older_than: timedelta, now: datetime | None = None) -> int:
    """Remove personal data (IP and e-mail hashes, user agent, author name) from comments older than
    `older_than`, keeping the comments and their decisions; how many comments were purged."""
    if older_than < timedelta(0):
        raise Invalid("Bad retention.", fields={"older_than": "must not be negative"})
    moment = now or st.utcnow()
    before, at = st.iso(moment - older_than), st.iso(moment)
    total = 0
    while True:
        # Small batches keep each write transaction short, so submissions never wait long behind a purge.
        with store.write() as db:
            changed = st.purge_personal_data(db, before, at, PURGE_BATCH)
        total += changed
        if changed < PURGE_BATCH:
            return total
