"""Strict JSON documents: UTF-8 only, no NaN or Infinity, no lone surrogates, bounded nesting."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from moderation.errors import Malformed

MAX_DEPTH = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes, what: str = "The body") -> Any:
    """Decode strict UTF-8 JSON, raising Malformed (its message starting with `what`) for anything unusable."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Malformed(f"{what} is not valid UTF-8 ({error.reason} at byte {error.start}).") from None
    if not text.strip():
        raise Malformed(f"{what} is empty; send a JSON document.")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        # The C parser gives up on very deep input this way; it never reaches the depth check below.
        raise Malformed(f"The JSON is nested too deeply (at most {MAX_DEPTH} levels).") from None
    except ValueError as error:
        raise Malformed(f"{what} is not valid JSON: {error}.") from None
    check_document(document)
    return document


def check_document(document: Any) -> None:
    """Raise Malformed if parsed JSON nests over MAX_DEPTH or holds what JSON text cannot carry back out."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise Malformed("The JSON holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text.")
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                raise Malformed("The JSON holds a number too large to represent (over about 1.8e308).")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise Malformed(f"The JSON is nested too deeply (at most {MAX_DEPTH} levels).")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)
