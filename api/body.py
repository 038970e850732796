"""Reading requests: JSON bodies with size, type, encoding and depth checks; typed query parameters."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import UnsupportedMediaType

from api import MAX_BODY_BYTES
from moderation.errors import Invalid, Malformed, TooLarge
from moderation.json_documents import parse_json

SQLITE_MAX_INT = 2**63 - 1


def _check_declared_size(limit: int) -> None:
    request.max_content_length = limit + 1
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"The body is {request.content_length} bytes; at most {limit} are accepted.")


def _read_body(limit: int) -> bytes:
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        # A chunked body has no Content-Length: werkzeug stops reading one byte past the limit set above.
        raise TooLarge(f"The body is over {limit} bytes; at most {limit} are accepted.")
    return raw


def json_body(limit: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON document: 413 over `limit` bytes, 415 if not JSON, 400 if malformed."""
    _check_declared_size(limit)
    mimetype = request.mimetype
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise UnsupportedMediaType("Send the body as JSON, with `Content-Type: application/json`.")
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise UnsupportedMediaType("JSON bodies must be UTF-8.")
    return parse_json(_read_body(limit))


def raw_body(limit: int, mimetypes: dict[str, str]) -> tuple[bytes, str]:
    """A UTF-8 body of one of `mimetypes` (type: what it is called), at most `limit` bytes; (bytes, type).

    413 over the limit, 415 for another type or charset, 400 when empty.
    """
    _check_declared_size(limit)
    mimetype = request.mimetype
    if mimetype not in mimetypes:
        accepted = ", ".join(f"`{name}` ({kind})" for name, kind in mimetypes.items())
        raise UnsupportedMediaType(f"Send the body as one of: {accepted}.")
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise UnsupportedMediaType("The body must be UTF-8.")
    raw = _read_body(limit)
    if not raw.strip():
        raise Malformed("The body is empty.")
    return raw, mimetype


def json_object(limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON body, which must be an object (422 otherwise)."""
    document = json_body(limit)
    if not isinstance(document, dict):
        raise Invalid("The body must be a JSON object.", fields={"body": "must be an object"})
    return document


def optional_json_object() -> dict[str, Any]:
    """The JSON object body if one was sent, else {} (for actions whose body is optional)."""
    if not request.content_length and request.headers.get("Transfer-Encoding") is None:
        return {}
    return json_object()


def int_arg(name: str, default: int, minimum: int = 0, maximum: int = SQLITE_MAX_INT) -> int:
    """A whole-number query parameter within bounds, `default` when absent (422 naming it otherwise, empty too)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"Bad {name}.", fields={name: "must be a whole number"}) from None
    if not minimum <= value <= maximum:
        raise Invalid(f"Bad {name}.", fields={name: f"must be a whole number from {minimum} to {maximum}"})
    return value


def bool_arg(name: str) -> bool | None:
    """A true/false query parameter, None when absent (422 naming it when neither, empty too)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Invalid(f"Bad {name}.", fields={name: "must be true or false"})


def text_arg(name: str) -> str | None:
    """A text query parameter, None when absent or empty."""
    value = request.args.get(name)
    return value or None


def choice_arg(name: str) -> str | None:
    """A query parameter naming one of a fixed set (checked by the domain), None when absent; empty is refused."""
    value = request.args.get(name)
    if value == "":
        raise Invalid(f"Bad {name}.", fields={name: "must not be empty; leave the parameter out for no filter"})
    return value


def require_int(document: dict[str, Any], name: str, errors: dict[str, str]) -> int | None:
    """A required whole-number field of a JSON object; records a problem in `errors` when it is not one."""
    value = document.get(name)
    if value is None:
        errors[name] = "is required"
    elif isinstance(value, bool) or not isinstance(value, int):
        errors[name] = "must be a whole number"
    elif not 0 <= value <= SQLITE_MAX_INT:
        errors[name] = f"must be a whole number from 0 to {SQLITE_MAX_INT}"
    else:
        return value
    return None


def required_text(document: dict[str, Any], name: str) -> str:
    """A required string field of a JSON object (422 naming it otherwise)."""
    value = document.get(name)
    if not isinstance(value, str):
        raise Invalid(f"Bad {name}.", fields={name: "is required" if value is None else "must be a string"})
    return value
