"""What an identifier may hold: no control or format characters anywhere, and no `/` in a comment id.

Identifiers (comment, article, author and parent ids, sections, key names, dataset names, policy terms) end up
in URLs, HTTP headers, log lines, file names and one-per-line form fields, where a line break or an invisible
character either breaks the answer or hides what the value is. So they refuse Unicode's control (Cc), format
(Cf), line (Zl) and paragraph (Zp) separators: C0, DEL, C1, soft hyphen, zero-width and bidirectional marks,
U+2028/U+2029 and the like. A comment id is also the last segment of its URLs (`/v1/comments/{id}/appeal`),
which cannot address a `/`, so a comment id refuses that too.

The same character class makes the server's check and the OpenAPI document's `pattern`, so the fuzzer and the
clients that read the document agree with the server. `tests/test_identifiers.py` checks the class equals those
four categories of this Python's Unicode database.
"""

from __future__ import annotations

import re

# Code point ranges of Unicode 14's Cc, Cf, Zl and Zp, inclusive.
_FORBIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _class_item(code: int) -> str:
    # \uXXXX means the same to ECMA-262 and to Python's re; a code point above the BMP is written as itself.
    return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(
        _class_item(first) if first == last else f"{_class_item(first)}-{_class_item(last)}" for first, last in ranges
    )


_CONTROL_CLASS = _class_body(_FORBIDDEN_RANGES)

# JSON Schema patterns (ECMA-262, unanchored unless anchored): the whole value free of the characters.
IDENTIFIER_PATTERN = f"^[^{_CONTROL_CLASS}]*$"
COMMENT_ID_PATTERN = f"^[^{_CONTROL_CLASS}/]*$"

_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
_CONTROL_OR_SLASH = re.compile(f"[{_CONTROL_CLASS}/]")


def forbidden_ranges() -> tuple[tuple[int, int], ...]:
    """The inclusive code point ranges no identifier may hold (a comment id also refuses `/`)."""
    return _FORBIDDEN_RANGES


def has_control_characters(value: str) -> bool:
    """Whether the text holds a control or format character, or a line or paragraph separator."""
    return _CONTROL.search(value) is not None


def identifier_problem(value: str, *, comment_id: bool = False) -> str | None:
    """Why the value cannot be an identifier (naming the first bad character and where), or None if it can."""
    found = (_CONTROL_OR_SLASH if comment_id else _CONTROL).search(value)
    if found is None:
        return None
    character = found.group()
    if character == "/":
        return f"must not contain '/' (at position {found.start()}): a comment id is a segment of its URLs"
    return (
        f"must not contain control or format characters (U+{ord(character):04X} at position {found.start()}),"
        " line breaks included"
    )


def without_control_characters(value: str, replacement: str = "?") -> str:
    """The text with each control or format character replaced, so it is safe in an HTTP header or a log line."""
    return _CONTROL.sub(replacement, value)
