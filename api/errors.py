"""Every error as JSON `{error, message}` (+ `fields`), mapped from typed domain errors to HTTP here, once."""

from __future__ import annotations

import re

from flask import Flask, Response, jsonify
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


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    """The one JSON shape of every error answer."""
    body: dict[str, object] = {"error": code, "message": message}
    if fields or status == 422:
        body["fields"] = dict(fields or {})
    response = jsonify(body)
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
