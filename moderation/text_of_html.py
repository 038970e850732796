"""The readable text of an HTML comment body, with where each of its characters came from in the markup."""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser

# Elements that start a new line of text when a browser shows them.
_BLOCK = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li "
    "main nav ol p pre section table td th tr ul".split()
)
_UNSEEN = frozenset({"script", "style", "template", "head", "title"})


@dataclass(frozen=True)
class TextOfHtml:
    """Text without markup; `origins[i]` is the (start, end) in the source of the text's character i."""

    text: str
    origins: tuple[tuple[int, int], ...]

    def source_range(self, start: int, end: int) -> tuple[int, int]:
        """The source range [start, end) of the text's characters [start, end) (end > start)."""
        return self.origins[start][0], self.origins[end - 1][1]


class _Reader(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(source) if ch == "\n"]
        self.chars: list[str] = []
        self.origins: list[tuple[int, int]] = []
        self._unseen = 0

    def _here(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _break(self) -> None:
        if self.chars and self.chars[-1] != "\n":
            at = self._here()
            self.chars.append("\n")
            self.origins.append((at, at))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSEEN:
            self._unseen += 1
        elif tag in _BLOCK:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSEEN:
            self._unseen = max(0, self._unseen - 1)
        elif tag in _BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._unseen:
            return
        start = self._here()
        for offset, ch in enumerate(data):
            self.chars.append(ch)
            self.origins.append((start + offset, start + offset + 1))

    def _reference(self, name: str, prefix: str) -> None:
        if self._unseen:
            return
        start = self._here()
        end = start + len(prefix) + len(name)
        if self.source.startswith(";", end):
            end += 1
        # As written: a name that is no entity ("AT&T") stays as it is.
        for ch in html.unescape(self.source[start:end]):
            self.chars.append(ch)
            self.origins.append((start, end))

    def handle_entityref(self, name: str) -> None:
        self._reference(name, "&")

    def handle_charref(self, name: str) -> None:
        self._reference(name, "&#")


def text_of_html(source: str) -> TextOfHtml:
    """The text a reader sees in an HTML fragment: tags dropped, entities decoded, blocks on their own lines."""
    reader = _Reader(source)
    # A tag after the end, so that a reference at the very end ("AT&T") is read as one, as it is mid-text.
    reader.feed(source + "<span>")
    reader.close()
    chars, origins = reader.chars, reader.origins
    # Trailing breaks say nothing.
    while chars and chars[-1] == "\n":
        chars.pop()
        origins.pop()
    return TextOfHtml("".join(chars), tuple(origins))


def utf16_offsets(text: str) -> list[int]:
    """For each index 0..len(text) of a Python string, the same position counted in UTF-16 code units."""
    offsets = [0] * (len(text) + 1)
    for i, ch in enumerate(text):
        offsets[i + 1] = offsets[i] + (2 if ord(ch) > 0xFFFF else 1)
    return offsets
