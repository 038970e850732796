"""Web sessions that were signed out: their id is recorded so a kept copy of the cookie no longer works."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from moderation.storage import store as st
from moderation.storage.store import Store


def new_session_id() -> str:
    """A random id for a new web session (carried inside its signed cookie)."""
    return secrets.token_urlsafe(18)


def end_session(store: Store, session_id: str, lifetime: timedelta, now: datetime | None = None) -> None:
    """Record a signed-out session, and forget those whose cookies have expired anyway (older than `lifetime`)."""
    moment = now or st.utcnow()
    with store.write() as db:
        st.insert_ended_session(db, session_id, st.iso(moment))
        st.delete_ended_sessions_before(db, st.iso(moment - lifetime - timedelta(hours=1)))


def has_ended(store: Store, session_id: str) -> bool:
    """Whether a session was signed out."""
    with store.read() as db:
        return st.session_has_ended(db, session_id)
