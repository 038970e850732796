"""API keys and roles: every view declares who may call it, and a view that declares nothing is denied.

Roles: `site` (the comment platform), `moderator`, `admin`. Admin may do everything the other two may;
each view lists its roles explicitly (admin included) so the role matrix reads straight off the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from api import services
from moderation.errors import Forbidden, Unauthorized
from moderation.keys import ROLES, Key, authenticate

View = TypeVar("View", bound=Callable[..., Any])

PUBLIC: frozenset[str] = frozenset({"public"})
SIGNED: frozenset[str] = frozenset({"signed"})
QUERY_KEY = "key"


def roles(*allowed: str) -> Callable[[View], View]:
    """Declare which key roles may call a view (put it right under the route decorator)."""
    unknown = set(allowed) - set(ROLES)
    if unknown or not allowed:
        raise ValueError(f"roles must be some of {ROLES}, not {sorted(unknown) or 'none'}")

    def declare(view: View) -> View:
        view.roles = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return declare


def public(view: View) -> View:
    """Declare a view callable without a key (health, readiness, metrics, the API document)."""
    view.roles = PUBLIC  # type: ignore[attr-defined]
    return view


def accepts_query_key(view: View) -> View:
    """Declare a view that also takes its key as `?key=` (Perspective's clients send it so); logs redact it."""
    view.query_key = True  # type: ignore[attr-defined]
    return view


def signed(view: View) -> View:
    """Declare a view that checks a signature over its body itself instead of a key (Coral's moderation phase)."""
    view.roles = SIGNED  # type: ignore[attr-defined]
    return view


def by_session(view: Callable[..., Any]) -> bool:
    """Whether a view is a web page, checked against the signed-in session (`api/web/`) instead of a key."""
    return bool(getattr(view, "by_session", False))


def declared_roles(view: Callable[..., Any]) -> frozenset[str] | None:
    """The roles a view declared, PUBLIC, or None when it declared nothing."""
    return getattr(view, "roles", None)


def presented_key(view: Callable[..., Any] | None = None) -> str | None:
    """The key from `Authorization: Bearer <key>` or `X-API-Key`, or `?key=` where the view accepts it, if any."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Use `Authorization: Bearer <key>` or `X-API-Key: <key>`.")
        return value.strip()
    if request.headers.get("X-API-Key"):
        return request.headers["X-API-Key"]
    if getattr(view, "query_key", False):
        return request.args.get(QUERY_KEY) or None
    return None


def current_key() -> Key:
    """The key this request authenticated with (only inside views that are not public)."""
    return g.key  # type: ignore[no-any-return]


def _authorize() -> None:
    if request.endpoint is None:
        return  # no route matched: the routing error (404 or 405) answers
    view = current_app.view_functions[request.endpoint]
    if by_session(view):
        return  # a web page: api/web/session.py checks the session's user and role, and the CSRF token
    allowed = declared_roles(view)
    if allowed is None:
        raise Forbidden("This route declares no role, so nobody may call it.")
    if allowed is PUBLIC or allowed is SIGNED:
        return
    key = authenticate(services().store, presented_key(view))
    g.key = key
    request.environ["moderation.key_id"] = key.id  # for the access log
    if key.role not in allowed:
        raise Forbidden(f"A {key.role} key may not do this; it needs one of: {', '.join(sorted(allowed))}.")


def register(app: Flask) -> None:
    """Check the key and its role before every view."""
    app.before_request(_authorize)
