"""Secrets that must never reach a log: Perspective's clients send their API key in the URL, as `?key=`."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"key"})
REDACTED = "[redacted]"
_PARAMETER = re.compile(r"(^|&)([^&=]*)=([^&]*)")
# A secret parameter inside a logged request line or URL (nginx's error log quotes the request line).
_IN_LINE = re.compile(r"([?&])([^=&\s\"'?]+)=([^&\s\"']*)")


def redacted_query(query: str | None) -> str | None:
    """A query string with the value of every secret parameter replaced by `[redacted]` (None when empty)."""
    if not query:
        return None

    def redact(match: re.Match[str]) -> str:
        if unquote_plus(match.group(2)).lower() not in SECRET_PARAMETERS:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}={REDACTED}"

    return _PARAMETER.sub(redact, query)


def redacted_line(line: str) -> str:
    """A log line with the value of every `key=` query parameter in it replaced by `[redacted]`."""

    def redact(match: re.Match[str]) -> str:
        if unquote_plus(match.group(2)).lower() not in SECRET_PARAMETERS:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}={REDACTED}"

    return _IN_LINE.sub(redact, line)
