"""Hostile comment texts, shared by the hostile-text tests and `make bench` (which times them over HTTP).

BENIGN and JUNK must be approved (or, for junk, at most queued); every DISGUISED text must score like INSULT.
EXPANDING texts (part of JUNK) grow under NFKC to more than the normalizer keeps: scored by a bounded prefix.
"""

from __future__ import annotations

import random

_rng = random.Random(7)
# Harmless text in hostile clothing.
BENIGN: dict[str, str] = {
    "NUL and control characters": "Thanks\x00 for\x07 the\x1b[31m report\x7f on the \x01budget.",
    "right-to-left override": "The \u202eregdub\u202c was \u2067debated\u2069 at length.",
    "10,000 emoji": "😀" * 10_000,
    "flags with joiners": "🏳️‍🌈" * 2_000,
    "zero-width flood": "ok" + "\u200b\u200c\u200d\u2060\ufeff" * 3_000,
    "combining marks": "Z̷̢̛a̶̡͝l̵̨̛g̸̢̕o̷̢͝ " * 300,
}


def _cycle(code_points: list[int], length: int = 20_000) -> str:
    """`length` characters cycling through the given code points."""
    return "".join(chr(code_points[i % len(code_points)]) for i in range(length))


# Characters NFKC makes several of: 20,000 of them would normalize to up to 360,000 characters.
EXPANDING: dict[str, str] = {
    "20,000 × U+FDFA (18 characters each once normalized)": "\ufdfa" * 20_000,
    "20,000 × U+FDFB (8 each)": "\ufdfb" * 20_000,
    "20,000 × ¼ (3 each)": "¼" * 20_000,
    "20,000 × ﬃ (3 each)": "\ufb03" * 20_000,
    "20,000 squared words U+3300-U+33FF (up to 6 each)": _cycle(list(range(0x3300, 0x3400))),
    "20,000 circled numbers 21-50 and PTE, U+3250-U+32BF (2-3 each)": _cycle(
        [*range(0x3250, 0x3260), *range(0x32B1, 0x32C0)]
    ),
    "20,000 parenthesized numbers and letters U+2474-U+24B5 (2-4 each)": _cycle(list(range(0x2474, 0x24B6))),
}
# Junk a human may glance at, but nothing to reject.
JUNK: dict[str, str] = {
    "20,000 mixed-script characters": "".join(chr(_rng.randint(0x20, 0x2FFF)) for _ in range(20_000)),
    "one 20,000-letter word": "a" * 20_000,
    "20,000 characters of short words": " ".join(_rng.choice("abcdefghij") * _rng.randint(1, 9) for _ in range(4_000))[
        :20_000
    ],
    **EXPANDING,
}

INSULT = "you are an idiot"
DISGUISED: dict[str, str] = {
    "plain": INSULT,
    "zero-width padding": "you are an i\u200bd\u200bi\u200bo\u200bt",
    "right-to-left override around it": "you are an \u202eidiot\u202c",
    "Cyrillic homoglyphs": "you are an \u0456d\u0456\u043et",
    "leetspeak": "you are an 1d10t",
    "spaced letters": "you are an i d i o t",
    "full-width letters": "you are an ｉｄｉｏｔ",
    "combining marks": "you are an i̷d̷i̷o̷t̷",
    "stretched": "you are an idiooooot",
    "NUL inside": "you are an id\x00iot",
}
