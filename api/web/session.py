"""Who is signed in to the web app: the signed session cookie, page roles, CSRF tokens, security headers.

The session is Flask's signed cookie (HMAC with the session secret; nothing secret is stored in it):
HttpOnly, SameSite=Lax, limited to `/web`, `Secure` whenever the request came over HTTPS (or
MODERATION_SECURE_COOKIES is set). It ends `MODERATION_SESSION_HOURS` after sign-in however busy it is, and
after `MODERATION_SESSION_IDLE_MINUTES` without a request; both are checked against the times the signed cookie
carries, by the app's clock, so a kept copy of an old cookie is refused too. It names the API key id or the user
name that signed in; every request re-reads that key or user, so a revoked key or disabled user is signed out at
once. Each session has a random id; signing out records it as ended, so a copy of the cookie is refused.
Every POST must carry the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from api import services
from api.auth import PUBLIC
from moderation import keys, users, web_sessions
from moderation.errors import Forbidden, ModerationError, Unauthorized
from moderation.privacy import load_or_create_secret
from moderation.settings import Settings

View = TypeVar("View", bound=Callable[..., Any])

COOKIE_NAME = "moderation_session"
COOKIE_PATH = "/web"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
WEB_ROLES: tuple[str, ...] = ("moderator", "admin")

# `default-src 'self'` with nothing inline: every script and style is a file under /web/static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class CsrfRefused(ModerationError):
    """A form or request without the session's CSRF token (HTTP 400)."""

    code = "csrf"


@dataclass(frozen=True)
class Viewer:
    """Whoever is signed in: through an API key (`kind` "key", `ident` its id) or as a user."""

    kind: str
    ident: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        """The moderator id decisions and claims are recorded under (the key id, or `user:<name>`)."""
        return self.ident if self.kind == "key" else users.ACTOR_PREFIX + self.ident

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def page(*allowed: str) -> Callable[[View], View]:
    """Declare a web page and the roles that may see it (checked against the session, not a key header)."""
    if not allowed or set(allowed) - set(WEB_ROLES):
        raise ValueError(f"web pages are for {WEB_ROLES}")

    def declare(view: View) -> View:
        view.roles = frozenset(allowed)  # type: ignore[attr-defined]
        view.by_session = True  # type: ignore[attr-defined]
        return view

    return declare


def open_page(view: View) -> View:
    """Declare a web page anyone may load (sign-in, static files); POSTs still need the CSRF token."""
    view.roles = PUBLIC  # type: ignore[attr-defined]
    view.by_session = True  # type: ignore[attr-defined]
    return view


# ---------------------------------------------------------------------------
# The cookie


def session_secret_path(settings: Settings) -> Any:
    """Where a generated session secret lives: `<db>.session-secret`, beside the database."""
    return settings.db_path.with_name(settings.db_path.name + ".session-secret")


def session_secret(settings: Settings) -> str:
    """MODERATION_SESSION_SECRET, or the generated one kept in a 0600 file beside the database."""
    return settings.session_secret or load_or_create_secret(session_secret_path(settings))


def session_lifetime(settings: Settings) -> timedelta:
    """How long a web session lasts from sign-in, however busy."""
    return timedelta(hours=settings.session_hours)


def _now() -> float:
    return float(current_app.config["CLOCK"].time())


def session_ends_at(settings: Settings, stored: Mapping[str, Any]) -> float | None:
    """When a session ends (seconds since the epoch), from the sign-in and last-use times it carries; None when
    it carries none (signed out, or from before sessions did)."""
    signed_in_at, seen_at = stored.get("signed_in_at"), stored.get("seen_at")
    if not isinstance(signed_in_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return None
    return min(signed_in_at + settings.session_hours * 3600, seen_at + settings.session_idle_minutes * 60)


class WebSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, `Secure` when the request came over HTTPS or the setting says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure or services().settings.secure_cookies)

    def get_expiration_time(self, app: Flask, session: Any) -> datetime | None:
        """The cookie expires when the session does (its absolute or idle end, whichever is first)."""
        ends = session_ends_at(services_of(app).settings, session)
        if ends is None:
            return super().get_expiration_time(app, session)
        return datetime.fromtimestamp(ends, UTC)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The cookie's session; an empty one at once when there is no cookie (every API call), skipping the
        signing setup that would only find nothing to verify."""
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def configure(app: Flask) -> None:
    """Set the session cookie's secret, name, path and flags on the app."""
    app.secret_key = session_secret(services_of(app).settings)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # An outer bound on the signature's age; the session's own times end it sooner (see current_viewer).
        PERMANENT_SESSION_LIFETIME=session_lifetime(services_of(app).settings),
    )
    app.session_interface = WebSessionInterface()


def services_of(app: Flask) -> Any:
    return app.extensions["moderation"]


# ---------------------------------------------------------------------------
# Signing in and out


def sign_in_with_key(presented: str) -> Viewer:
    """Sign in with an API key: moderator and admin keys only (a site key is refused)."""
    key = keys.authenticate(services().store, (presented or "").strip())
    if key.role not in WEB_ROLES:
        raise Forbidden("A site key cannot sign in to the web app; use a moderator or admin key.")
    viewer = Viewer("key", key.id, key.name, key.role)
    _start_session(viewer, stamp="")
    return viewer


def sign_in_with_password(name: str, password: str) -> Viewer:
    """Sign in with a user name and password an admin made."""
    user = users.authenticate_password(services().store, name, password)
    viewer = Viewer("user", user.name, user.name, user.role)
    _start_session(viewer, stamp=user.stamp)
    return viewer


def _start_session(viewer: Viewer, stamp: str) -> None:
    # A fresh session (and CSRF token) at sign-in, so a session planted before it is worth nothing after.
    session.clear()
    session.permanent = True
    session["kind"] = viewer.kind
    session["ident"] = viewer.ident
    session["stamp"] = stamp
    session["sid"] = web_sessions.new_session_id()
    session["signed_in_at"] = session["seen_at"] = _now()
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.viewer = viewer


def sign_out() -> None:
    """End the session: recorded as ended (so a copy of the cookie stops working) and the cookie dropped."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        lifetime = session_lifetime(services().settings)
        web_sessions.end_session(services().store, session_id, lifetime, datetime.fromtimestamp(_now(), UTC))
    session.clear()
    g.viewer = None


def current_viewer() -> Viewer | None:
    """Who this request's session names, if that key or user may still sign in; else None (and forget it)."""
    if "viewer" in g:
        return g.viewer  # type: ignore[no-any-return]
    viewer = None
    kind, ident, session_id = session.get("kind"), session.get("ident"), session.get("sid")
    now = _now()
    try:
        if (
            not isinstance(session_id, str)
            or not _still_current(now)
            or web_sessions.has_ended(services().store, session_id)
        ):
            viewer = None  # signed out, past its lifetime or idle too long (or a cookie from before they were kept)
        elif kind == "key" and isinstance(ident, str):
            key = keys.active_key(services().store, ident)
            if key.role in WEB_ROLES:
                viewer = Viewer("key", key.id, key.name, key.role)
        elif kind == "user" and isinstance(ident, str):
            user = users.active_user(services().store, ident)
            if hmac.compare_digest(user.stamp, str(session.get("stamp", ""))):
                viewer = Viewer("user", user.name, user.name, user.role)
    except Unauthorized:
        viewer = None
    if viewer is None and kind is not None:
        for name in ("kind", "ident", "stamp", "sid", "signed_in_at", "seen_at"):
            session.pop(name, None)
    g.viewer = viewer
    if viewer is not None:
        session["seen_at"] = now
        request.environ["moderation.key_id"] = viewer.actor  # for the access log
    return viewer


def _still_current(now: float) -> bool:
    ends = session_ends_at(services().settings, session)
    return ends is not None and now < ends


def viewer() -> Viewer:
    """The signed-in viewer (only inside pages that declared roles)."""
    found = current_viewer()
    assert found is not None
    return found


# ---------------------------------------------------------------------------
# CSRF


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing request that does not carry this session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(expected, sent):
        raise CsrfRefused(
            "This form was refused: it did not carry this session's security token. Reload the page and try again."
        )


# ---------------------------------------------------------------------------
# Before and after every page


def wants_fragment() -> bool:
    """Whether the request came from the pages' own script (which swaps in HTML or reads JSON)."""
    return request.headers.get("X-Requested-With") == "fetch"


def authorize_page() -> None:
    """Check the CSRF token on POSTs, then the signed-in viewer's role against what the page declared."""
    if request.endpoint is None:
        return
    check_csrf()
    view = current_app.view_functions[request.endpoint]
    allowed = getattr(view, "roles", None)
    if allowed is PUBLIC:
        return
    found = current_viewer()
    if found is None:
        raise Unauthorized("Sign in first.")
    if allowed is None or found.role not in allowed:
        raise Forbidden("This page is for admins." if allowed == frozenset({"admin"}) else "Not allowed.")


def add_security_headers(response: Response) -> Response:
    """Security headers on every page, and no caching of anything but static files."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "web.static":
        response.headers["Cache-Control"] = "no-store"
    return response
