"""Typed domain errors; `api/errors.py` maps each to one HTTP status, once."""

from __future__ import annotations


class ModerationError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Invalid(ModerationError):
    """Input is well-formed but has missing or wrong fields (HTTP 422)."""

    code = "invalid"


class Malformed(ModerationError):
    """Input cannot be parsed at all (HTTP 400)."""

    code = "malformed"


class TooLarge(ModerationError):
    """Input is over a size limit (HTTP 413)."""

    code = "too_large"


class NotFound(ModerationError):
    """The thing asked for does not exist (HTTP 404)."""

    code = "not_found"


class Conflict(ModerationError):
    """The request clashes with stored state (HTTP 409)."""

    code = "conflict"


class Duplicate(Conflict):
    """A row with the same unique key is already stored (the store's translation of the driver's error)."""


class Unauthorized(ModerationError):
    """No key, or a key that is unknown or revoked (HTTP 401)."""

    code = "unauthorized"


class Forbidden(ModerationError):
    """A valid key whose role may not do this (HTTP 403)."""

    code = "forbidden"


class Unavailable(ModerationError):
    """The service cannot do this now, e.g. the disk is full (HTTP 503)."""

    code = "unavailable"
