"""Where a text's sentences are: for the cascade's lone sentences and for Perspective's per-sentence scores."""

from __future__ import annotations

import re

# A run of sentence-ending marks before a space, or a line break ("e.g. this" is cut too: cheap and good enough).
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s)|\n")


def sentence_ranges(text: str, limit: int) -> list[tuple[int, int]]:
    """[start, end) of each sentence or line of a text, spaces trimmed; past `limit`, the rest is the last one."""
    cuts = [match.end() for match in _SENTENCE_END.finditer(text)]
    spans: list[tuple[int, int]] = []
    start = 0
    for end in [*cuts, len(text)]:
        segment = text[start:end]
        if segment.strip():
            left = start + len(segment) - len(segment.lstrip())
            right = start + len(segment.rstrip())
            spans.append((left, right))
        start = end
    if len(spans) > limit:
        spans = [*spans[: limit - 1], (spans[limit - 1][0], spans[-1][1])]
    return spans
