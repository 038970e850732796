"""Every error as JSON `{error, message}` (+ `fields`), mapped from typed domain errors to HTTP here, once."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, request
from pydantic import Field
from werkzeug.exceptions import HTTPException, InternalServerError

from moderation.errors import (
    Conflict,
    Forbidden,
    Invalid,
    Malformed,
    ModerationError,
    NotFound,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from moderation.records import Record

STATUS_FOR_ERROR: dict[type[ModerationError], int] = {
    Malformed: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Invalid: 422,
    Unavailable: 503,
}
RETRY_AFTER_SECONDS = 5

# Werkzeug's HTTP errors under the same short codes the domain uses, where there is one.
CODE_FOR_STATUS = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    503: "unavailable",
}


# Blueprints that answer errors in Google's shape, as the API they stand in for does (api/perspective.py).
GOOGLE_SHAPED: set[str] = set()
# google.rpc.Code names by HTTP status; Google's APIs answer a bad field with 400, not 422, and a text over the
# limit with 400 too.
GOOGLE_STATUS = {
    400: (400, "INVALID_ARGUMENT"),
    401: (401, "UNAUTHENTICATED"),
    403: (403, "PERMISSION_DENIED"),
    404: (404, "NOT_FOUND"),
    405: (405, "UNIMPLEMENTED"),
    409: (409, "ABORTED"),
    413: (400, "INVALID_ARGUMENT"),
    415: (400, "INVALID_ARGUMENT"),
    422: (400, "INVALID_ARGUMENT"),
    429: (429, "RESOURCE_EXHAUSTED"),
    500: (500, "INTERNAL"),
    503: (503, "UNAVAILABLE"),
}


class ErrorBody(Record):
    """The one JSON shape of every error answer."""

    error: str = Field(description="A short code: malformed, unauthorized, invalid, conflict...")
    message: str
    fields: dict[str, str] | None = Field(default=None, description="What is wrong with each field (422).")


class GoogleErrorStatus(Record):
    """An error as Google's APIs describe it."""

    code: int
    message: str
    status: str = Field(description="google.rpc.Code, e.g. INVALID_ARGUMENT.")
    details: list[dict[str, Any]] | None = None


class GoogleError(Record):
    """Errors of the Perspective-compatible routes, in Google's shape."""

    error: GoogleErrorStatus


def google_error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    """An error in Google's shape, `{"error": {code, message, status, details}}`; bad fields as a BadRequest."""
    http_status, name = GOOGLE_STATUS.get(status, (status, "UNKNOWN"))
    details: list[dict[str, object]] = []
    if code == "language_not_supported_by_attribute":
        details.append(
            {"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error", "errorType": code.upper()}
        )
    if fields:
        violations = [{"field": field, "description": problem} for field, problem in fields.items()]
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations})
    described = GoogleErrorStatus(
        code=http_status, message=message, status=name, **({"details": details} if details else {})
    )
    response = jsonify(GoogleError(error=described).model_dump(exclude_unset=True))
    response.status_code = http_status
    if http_status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    """The one JSON shape of every error answer (Google's, on the routes that stand in for a Google API)."""
    if has_request_context() and request.blueprint in GOOGLE_SHAPED:
        return google_error_response(status, code, message, fields)
    body = ErrorBody(error=code, message=message, **({"fields": dict(fields or {})} if fields or status == 422 else {}))
    response = jsonify(body.model_dump(exclude_unset=True))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="moderation"'
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _domain_error(error: ModerationError) -> Response:
    status = next((STATUS_FOR_ERROR[t] for t in type(error).__mro__ if t in STATUS_FOR_ERROR), 500)
    return error_response(status, error.code, error.message, error.fields)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = CODE_FOR_STATUS.get(status) or re.sub(r"\W+", "_", (error.name or "error").lower()).strip("_")
    response = error_response(status, code, error.description or error.name or "Error.")
    # Keep what the exception adds, e.g. Allow on 405.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _internal_error(error: InternalServerError) -> Response:
    # Flask has already logged the original exception with its traceback.
    return error_response(500, "internal", "Something went wrong on our side.")


def register(app: Flask) -> None:
    """Install the handlers: one per domain error type, one for HTTP errors, and a JSON 500."""
    for error_type in STATUS_FOR_ERROR:
        app.register_error_handler(error_type, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _internal_error)
