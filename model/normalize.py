"""Text normalization that undoes common evasion tricks, with a map back to offsets in the original text.

Stages, in order: Unicode cleanup (NFKC, invisible and control characters, zalgo marks), spaced or dotted
letters joined, look-alike letters mapped, casefold, leetspeak decoded, stretched letters collapsed, and (given
repairs) misspelt words restored.
`normalize_text` and `normalize` run the same stages; only `normalize` keeps the offsets. Both read at most the
leading characters of a text whose normalized form fits in MAX_NORMALIZED_CHARS (`normalized_prefix_length`):
NFKC turns one U+FDFA into 18 characters, so a text of 20,000 would otherwise become 360,000. Given a lexicon
(a model's vocabulary, a policy's terms), a stretched run collapses to one letter or two, to a spelling the
lexicon knows: the more common one (stuuuupid → stupid, gooood → good), with a doubled consonant favoured
(killlll → kill, assss → ass, but fuckkk → fuck); without a lexicon it always collapses to one. Given repairs
(a map of misspellings to words, `model.misspellings`), a whole word found there is read as its word
(vremin → vermin).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, product

# Normalized text is cut at this length, so the work after normalization is bounded whatever a text expands to:
# an ordinary comment at the 20,000-character limit stays whole (the 20,000 random mixed-script characters of the
# hostile-text tests normalize to about 20,600), a flood of characters NFKC expands (﷽ → 18, ¼ or ﬃ → 3) is cut.
MAX_NORMALIZED_CHARS = 25_000
# The most characters one character becomes under NFKC and then casefold (U+FDFA; tests check all of Unicode).
WIDEST_EXPANSION = 18
_PREFIX_CHUNK = 2048


@dataclass(frozen=True)
class Normalized:
    """Normalized text plus, for each of its characters, the [start, end) of the original it came from."""

    text: str  # the normalized, casefolded text
    starts: list[int]  # per char of .text: code-point index in the original text it came from
    ends: list[int]  # per char of .text: exclusive end index in the original of its source
    source_length: int  # how many leading characters of the original were normalized (all unless it was cut)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) range of .text to the [start, end) range of the original text."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"range [{start}, {end}) is outside the normalized text ({len(self.text)} chars)")
        if start < end:
            return self.starts[start], self.ends[end - 1]
        if start < len(self.starts):
            return self.starts[start], self.starts[start]
        position = self.ends[-1] if self.ends else 0
        return position, position


# A lexicon ranks the words it knows (lower is more common) and answers None for the ones it does not.
Lexicon = Callable[[str], float | None]
# Misspelt words (lower case) and the word each disguises.
Repairs = Mapping[str, str]


def normalize(text: str, lexicon: Lexicon | None = None, repairs: Repairs | None = None) -> Normalized:
    """Normalize text (its bounded prefix) for classification, keeping for each output character its source range."""
    text = text[: normalized_prefix_length(text)]
    offsets: _Offsets = (list(range(len(text))), list(range(1, len(text) + 1)))
    lowered = _plain_lowered(text)
    if lowered is not None:
        cleaned, cleaned_offsets = _apply(lowered, offsets, _ellipsis_edits(lowered))
        normalized, final = _apply(cleaned, cleaned_offsets, _repair_edits(cleaned, repairs, _PLAIN_LONG_WORD))
    else:
        normalized, final = _run_stages(text, offsets, lexicon, repairs)
    assert final is not None
    return Normalized(normalized, final[0], final[1], len(text))


def normalize_text(text: str, lexicon: Lexicon | None = None, repairs: Repairs | None = None) -> str:
    """Normalize text (its bounded prefix) for classification; `normalize(text, ...).text`, without offsets."""
    text = text[: normalized_prefix_length(text)]
    lowered = _plain_lowered(text)
    if lowered is not None:
        cleaned = lowered.replace(_ELLIPSIS, "...")
        return _apply(cleaned, None, _repair_edits(cleaned, repairs, _PLAIN_LONG_WORD))[0]
    return _run_stages(text, None, lexicon, repairs)[0]


def normalized_prefix_length(text: str, limit: int = MAX_NORMALIZED_CHARS) -> int:
    """How many leading characters of `text` normalization reads: all of them unless their normalized form could
    pass `limit` characters, counting each character as at least one (computed without normalizing the text)."""
    if len(text) * WIDEST_EXPANSION <= limit:
        return len(text)
    if text.isascii():
        return min(len(text), limit)
    if unicodedata.is_normalized("NFKC", text) and len(text.casefold()) <= limit:
        return len(text)  # the common case, in C: nothing expands but casefold (ß → ss)
    counts = Counter(text)
    widths = {char: _normalized_width(char) for char in counts}
    if sum(count * widths[char] for char, count in counts.items()) <= limit:
        return len(text)
    total = 0
    for start in range(0, len(text), _PREFIX_CHUNK):  # the cut, chunk by chunk: a flood's is in its first chunks
        running = list(accumulate(map(widths.__getitem__, text[start : start + _PREFIX_CHUNK]), initial=total))
        if running[-1] > limit:
            return start + bisect_right(running, limit) - 1
        total = running[-1]
    raise AssertionError("the widths were summed above the limit")


# --- Offsets and edits -------------------------------------------------------------------------------

_Offsets = tuple[list[int], list[int]]
# An edit replaces s[i:j] with pieces; a piece (chars, a, b) puts `chars` in the output, each char mapped to
# the original range covered by positions [a, b) of s.
_Piece = tuple[str, int, int]
_Edit = tuple[int, int, list[_Piece]]


def _apply(s: str, offsets: _Offsets | None, edits: list[_Edit]) -> tuple[str, _Offsets | None]:
    """Apply ordered, non-overlapping edits to s and, when tracked, carry the offsets along."""
    if not edits:
        return s, offsets
    parts: list[str] = []
    position = 0
    if offsets is None:
        for i, j, pieces in edits:
            parts.append(s[position:i])
            parts.extend(chars for chars, _, _ in pieces)
            position = j
        parts.append(s[position:])
        return "".join(parts), None
    starts, ends = offsets
    new_starts: list[int] = []
    new_ends: list[int] = []
    for i, j, pieces in edits:
        parts.append(s[position:i])
        new_starts.extend(starts[position:i])
        new_ends.extend(ends[position:i])
        for chars, a, b in pieces:
            parts.append(chars)
            new_starts.extend([starts[a]] * len(chars))
            new_ends.extend([ends[b - 1]] * len(chars))
        position = j
    parts.append(s[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return "".join(parts), (new_starts, new_ends)


def _run_stages(
    text: str, offsets: _Offsets | None, lexicon: Lexicon | None, repairs: Repairs | None = None
) -> tuple[str, _Offsets | None]:
    """All normalization stages on text that may need them."""
    s, offsets = _apply(text, offsets, _cleanup_edits(text))
    has_cyrillic_or_greek = _CYRILLIC_OR_GREEK.search(s) is not None
    genuine_script = has_cyrillic_or_greek and _has_genuine_cyrillic_or_greek(s)
    s, offsets = _apply(s, offsets, _spaced_letter_edits(s, lookalike_units=not genuine_script))
    if has_cyrillic_or_greek:
        s, offsets = _apply(s, offsets, _lookalike_edits(s, genuine_script))
    s, offsets = _casefold(s, offsets)
    s, offsets = _apply(s, offsets, _leet_edits(s))
    s, offsets = _apply(s, offsets, _stretch_edits(s, lexicon))
    s, offsets = _apply(s, offsets, _repair_edits(s, repairs))
    return s, offsets


# --- Stage 1: Unicode cleanup ------------------------------------------------------------------------

# Marks that only decorate Latin/Greek/Cyrillic letters (zalgo is built from these). NFKC has already
# composed the ones that belong to a real letter (é, ğ, ü), so what is left is noise. Script-specific marks
# (Devanagari, Arabic, Hebrew, Thai...) are spelling and stay.
_DECORATIVE_MARKS = (
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0483, 0x0489),  # Cyrillic combining marks
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # combining diacritical marks supplement
    (0x20D0, 0x20FF),  # combining marks for symbols
    (0xFE20, 0xFE2F),  # combining half marks
    (0xFE00, 0xFE0F),  # variation selectors
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
_INVISIBLE_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # Hangul fillers render as nothing
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Per-character answers are memoised, but boundedly: a stream of comments cycling through all of Unicode must
# not grow a worker's memory without end.
_CHAR_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _normalized_width(char: str) -> int:
    """At most how many characters one character becomes once normalized (NFKC, then casefold), and at least one."""
    return max(1, len(unicodedata.normalize("NFKC", char).casefold()))


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _is_removable(char: str) -> bool:
    """Whether a (non-whitespace) character is invisible or decorative and is dropped."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Cc", "Cf", "Cs")
        or char in _INVISIBLE_FILLERS
        or any(low <= code <= high for low, high in _DECORATIVE_MARKS)
    )


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _joins_previous(char: str) -> bool:
    """Whether a character belongs to the cluster of the character before it (NFKC may compose them)."""
    first = unicodedata.normalize("NFKD", char)[:1] or char
    return (
        unicodedata.category(char)[0] == "M"
        or unicodedata.combining(char) != 0
        or unicodedata.category(first)[0] == "M"
        or unicodedata.combining(first) != 0
        or 0x1160 <= ord(first) <= 0x11FF  # Hangul vowel/final jamo compose with the syllable before
        or 0xD7B0 <= ord(first) <= 0xD7FF
    )


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _needs_cleanup(char: str) -> bool:
    """Whether a non-ASCII character could change under cleanup, alone or with its neighbours."""
    return (
        unicodedata.normalize("NFKC", char) != char
        or (char.isspace() and char != " ")
        or _is_removable(char)
        or _joins_previous(char)
    )


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _clean_cluster(cluster: str) -> str:
    """NFKC of one base character and its marks, without invisible/decorative characters, spaces unified."""
    nfkc = unicodedata.normalize("NFKC", cluster)
    if nfkc.startswith(" ") and not cluster[0].isspace():
        # Spacing accents (´ ¨ ˜) would become a space and split words such as "don´t"; keep the accent.
        nfkc = cluster[0]
    kept = (char for char in nfkc if char.isspace() or not _is_removable(char))
    return "".join(" " if char.isspace() else char for char in kept)


def _cleanup_edits(s: str) -> list[_Edit]:
    """Edits for NFKC, whitespace unification and removal of invisible, control and zalgo characters."""
    edits: list[_Edit] = []
    if s.isascii():
        for match in _ASCII_CONTROL.finditer(s):
            i = match.start()
            edits.append((i, i + 1, [(" ", i, i + 1)] if s[i].isspace() else []))
        return edits
    # Ask once per distinct character, then walk the text: a long text of varied characters costs one pass.
    needs = {char for char in set(s) if not " " <= char <= "~" and _needs_cleanup(char)}
    if not needs:
        return edits
    done = 0  # everything before this index is already part of an edited cluster
    for position, char in enumerate(s):
        if char not in needs or position < done:
            continue
        start = position
        while start > done and _joins_previous(s[start]):
            start -= 1
        end = position + 1
        while end < len(s) and _joins_previous(s[end]):
            end += 1
        done = end
        cluster = s[start:end]
        cleaned = _clean_cluster(cluster)
        if cleaned != cluster:
            edits.append((start, end, [(cleaned, start, end)] if cleaned else []))
    return edits


# --- Look-alike letters ------------------------------------------------------------------------------

# Cyrillic and Greek letters drawn like a Latin letter, by case (case is still there at this stage).
_LOOKALIKES = {
    # Cyrillic lowercase
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ү": "y",
    # Cyrillic uppercase
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t",
    "У": "y", "Х": "x", "І": "i", "Ј": "j", "Ѕ": "s", "Һ": "h", "Ү": "y",
    # Greek lowercase
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    # Greek uppercase
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
}  # fmt: skip
# Inside a token that already has Latin letters, small-capital shapes count too (idioт, нate).
_MIXED_TOKEN_LOOKALIKES = {**_LOOKALIKES, "т": "t", "н": "h", "в": "b", "м": "m", "к": "k"}

_CYRILLIC_OR_GREEK_RANGES = "\u0370-\u03ff\u0400-\u052f\u1c80-\u1c8f\u1f00-\u1fff\u2de0-\u2dff\ua640-\ua69f"
_CYRILLIC_OR_GREEK = re.compile(f"[{_CYRILLIC_OR_GREEK_RANGES}]")
_LATIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
_LATIN_LETTER = re.compile(f"[{_LATIN_LETTERS}]")
# Tokens are runs of letters, digits and the symbols that leetspeak uses for letters.
_LEET_SYMBOLS = "@$!|"
# The classes the stages' patterns are written in: any letter, and any letter or digit. Plain text (the fast path's)
# has only ASCII ones, lowercased; its patterns use the ASCII classes, which the regex engine scans faster (the
# spaced-letter check of a 400-character comment took 10 µs against 15).
_LETTER = r"[^\W\d_]"
_ALNUM = r"[^\W_]"
_PLAIN_LETTER = "[a-z]"
_PLAIN_ALNUM = "[a-z0-9]"


def _not_after_token(alnum: str) -> str:
    return rf"(?<!{alnum})(?<![@$!|])"


def _not_before_token(alnum: str) -> str:
    return rf"(?!{alnum})(?![@$!|])"


_TOKEN_CHARACTERS = re.compile(rf"(?:{_ALNUM}|[@$!|])*")  # [^\W_] is str.isalnum, in C


def _token_around(s: str, position: int) -> tuple[int, int]:
    """[start, end) of the token (letters, digits, @$!|) that contains s[position]."""
    start = position
    while start > 0 and (s[start - 1].isalnum() or s[start - 1] in _LEET_SYMBOLS):
        start -= 1
    match = _TOKEN_CHARACTERS.match(s, position + 1)
    return start, match.end() if match else position + 1


def _tokens_at(s: str, matches: Iterator[re.Match[str]]) -> Iterator[tuple[int, int]]:
    """Each distinct token that contains the start of one of the matches, in order."""
    done = -1
    for match in matches:
        if match.start() < done:
            continue
        start, done = _token_around(s, match.start())
        yield start, done


def _has_genuine_cyrillic_or_greek(s: str) -> bool:
    """Whether s has a Cyrillic or Greek letter that does not look Latin, i.e. real Russian/Greek/... text."""
    letters = (match.group() for match in _CYRILLIC_OR_GREEK.finditer(s))
    return any(char.isalpha() and char not in _LOOKALIKES for char in letters)


def _lookalike_edits(s: str, genuine_script: bool) -> list[_Edit]:
    """Edits mapping look-alike letters to Latin inside tokens that are disguised Latin words."""
    edits: list[_Edit] = []
    for token_start, token_end in _tokens_at(s, _CYRILLIC_OR_GREEK.finditer(s)):
        token = s[token_start:token_end]
        if _LATIN_LETTER.search(token):
            table = _MIXED_TOKEN_LOOKALIKES
        elif not genuine_script and all(char in _LOOKALIKES for char in token if char.isalpha()):
            # Only Latin-looking Cyrillic/Greek letters, in a text with no real Cyrillic/Greek words.
            table = _LOOKALIKES
        else:
            continue
        for offset, char in enumerate(token):
            latin = table.get(char)
            if latin is not None:
                i = token_start + offset
                edits.append((i, i + 1, [(latin, i, i + 1)]))
    return edits


# --- Spaced or dotted letters ------------------------------------------------------------------------

_SPACED_UNIT = f"[{_LATIN_LETTERS}0-9@$]"


def _spaced_pattern(unit: str, alnum: str) -> str:
    """Three or more units, each alone, split by one repeated separator."""
    sep = r"(?P<sep> ?[._*\-] ?|  ?)"
    return rf"{_not_after_token(alnum)}{unit}{sep}(?:{unit}(?P=sep))+{unit}{_not_before_token(alnum)}"


_SPACED = re.compile(_spaced_pattern(_SPACED_UNIT, _ALNUM))
_SPACED_WITH_LOOKALIKES = re.compile(_spaced_pattern(f"[{_LATIN_LETTERS}0-9@${''.join(_LOOKALIKES)}]", _ALNUM))


def _spaced_letter_edits(s: str, lookalike_units: bool) -> list[_Edit]:
    """Edits joining three or more single characters split by one repeated separator (i d i o t, i . d . i . o . t)."""
    edits: list[_Edit] = []
    pattern = _SPACED_WITH_LOOKALIKES if lookalike_units else _SPACED
    for match in pattern.finditer(s):
        step = len(match.group("sep")) + 1
        positions = range(match.start(), match.end(), step)
        if sum(1 for i in positions if s[i].isalpha() or s[i] in "@$") < 2:
            continue  # digits with at most one letter: "4 x 4", "1 2 3"
        edits.append((match.start(), match.end(), [(s[i], i, i + 1) for i in positions]))
    return edits


# --- Casefold ----------------------------------------------------------------------------------------


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _fold(char: str) -> str:
    """Casefold of one character that expands (ß, İ, ΐ), recomposed and without decorative marks."""
    return "".join(c for c in unicodedata.normalize("NFC", char.casefold()) if not _is_removable(c))


def _casefold(s: str, offsets: _Offsets | None) -> tuple[str, _Offsets | None]:
    """Casefold s; characters whose fold is longer than one character share their source range."""
    folded = s.casefold()
    if len(folded) == len(s):
        return folded, offsets
    # One character to one keeps every offset: fold those in C, then edit only the few that expand.
    folds = {c: c.casefold() for c in set(s)}
    one_to_one = {ord(c): fold for c, fold in folds.items() if len(fold) == 1}
    expanding = {c for c, fold in folds.items() if len(fold) != 1}
    s = s.translate(one_to_one)
    edits = [(i, i + 1, [(_fold(char), i, i + 1)]) for i, char in enumerate(s) if char in expanding]
    return _apply(s, offsets, edits)


# --- Leetspeak ---------------------------------------------------------------------------------------

_DIGIT_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"}
_SYMBOL_LEET = {"@": "a", "$": "s", "!": "i", "|": "l"}
_LEET = {**_DIGIT_LEET, **_SYMBOL_LEET}


def _leet_hint_pattern(letter: str, alnum: str) -> str:
    """Cheap test for "this leet character could be decoded": a superset of what _leet_replacements decodes.
    Every branch starts at the leet character itself, so the regex engine can skip ahead to those characters."""
    not_before = _not_before_token(alnum)
    return (
        rf"[0-9@$!|](?:"
        rf"(?<={letter}.)[0-9@$!|]*{letter}"  # between letters
        rf"|(?<={letter}{letter}{letter}[0-9]){not_before}"  # one trailing digit
        rf"|(?<={letter}[$|])[$|]*{not_before}"  # trailing $ or |
        rf"|(?<=[0-9|])(?<!{alnum}.)(?<![@$!|].){letter}{{3}}"  # leading digit or |
        rf"|(?<=[@$])(?<!{alnum}.)(?<![@$!|].){letter}{{2}})"  # leading @ or $
    )


_LEET_HINT = re.compile(_leet_hint_pattern(_LETTER, _ALNUM))


def _leet_replacements(token: str) -> dict[int, str]:
    """Positions in a token whose digit or symbol stands for a letter, with that letter."""
    # Leet is decoded per token (run of letters, digits and @$!|), only where letters surround it:
    #  1. a run of one or two leet characters (or one repeated) between letters: sh1t, st00pid, b!tch;
    #  2. a trailing run of $ or |: a$$, ki||;
    #  3. one leading leet character before >= 3 letters (>= 2 for @ and $): 1diot, $hit, @ss;
    #  4. one trailing digit after >= 3 letters, only if the token already had leet decoded: h4t3, 1dio7.
    # So numbers (no letters), ordinals and units (1st, 4th, 10am: < 3 letters), decades (1990s: run of 4)
    # and designations (MH17, G7, B52, RPG7, iPhone7: digits end the token, nothing else is leet) stay.
    # ! is only ever decoded between letters, so "idiot!" keeps its "!".
    if token[1:].isalpha() and not token[0].isalpha():
        # The commonest case (@handles): one leading character before letters; only rule 3 can apply.
        lead, letters = token[0], len(token) - 1
        if ((lead in _DIGIT_LEET or lead == "|") and letters >= 3) or (lead in "@$" and letters >= 2):
            return {0: _LEET[lead]}
        return {}
    is_letter = [char.isalpha() for char in token]
    letters = sum(is_letter)
    if letters == 0:
        return {}
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(token):
        if is_letter[i]:
            i += 1
            continue
        j = i
        while j < len(token) and not is_letter[j]:
            j += 1
        runs.append((i, j))
        i = j
    decoded: dict[int, str] = {}

    def decode(start: int, end: int) -> None:
        nonlocal letters
        for k in range(start, end):
            decoded[k] = _LEET[token[k]]
        letters += end - start

    for start, end in runs:
        run = token[start:end]
        if 0 < start and end < len(token) and all(char in _LEET for char in run):
            if end - start <= 2 or run == run[0] * len(run):
                decode(start, end)
    last_start, last_end = runs[-1]
    trailing = last_start > 0 and last_end == len(token)
    if trailing and set(token[last_start:last_end]) <= {"$", "|"}:
        decode(last_start, last_end)
        trailing = False
    first_start, first_end = runs[0]
    if first_start == 0 and first_end == 1:
        lead = token[0]
        if ((lead in _DIGIT_LEET or lead == "|") and letters >= 3) or (lead in "@$" and letters >= 2):
            decode(0, 1)
    single_trailing_digit = trailing and last_end - last_start == 1 and token[last_start] in _DIGIT_LEET
    if single_trailing_digit and letters >= 3 and decoded:
        decode(last_start, last_end)
    return decoded


def _leet_edits(s: str) -> list[_Edit]:
    """Edits replacing digits and symbols that stand for letters."""
    edits: list[_Edit] = []
    for token_start, token_end in _tokens_at(s, _LEET_HINT.finditer(s)):
        for offset, letter in sorted(_leet_replacements(s[token_start:token_end]).items()):
            i = token_start + offset
            edits.append((i, i + 1, [(letter, i, i + 1)]))
    return edits


# --- Stretched letters -------------------------------------------------------------------------------

_STRETCH = re.compile(r"([^\W\d_])\1{2,}")
# Tokens that legitimately repeat a letter three times: Roman numerals (WWIII, XIII, Henry VIII) and www.
_KEEP_REPEATS = re.compile(r"(?:ww)?m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})|www")


_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
# In lexicon ranks (a model's IDF, natural log): a doubled consonant may be e**3, about 20 times, rarer.
DOUBLED_CONSONANT_MARGIN = 3.0
_MAX_RUNS_RESOLVED = 4  # a word with more stretched runs than this collapses each to one (2**4 spellings)


def _stretch_edits(s: str, lexicon: Lexicon | None) -> list[_Edit]:
    """Edits collapsing a run of three or more of the same letter to one (stuuuupid), or to two (killlll)."""
    edits: list[_Edit] = []
    runs: list[tuple[int, int]] = []  # the stretched runs of the current word
    word_start = word_end = -1
    for match in _STRETCH.finditer(s):
        start, end = match.span()
        if start >= word_end:  # first stretch in this word: find the word once, not once per stretch
            edits.extend(_collapse_runs(s, word_start, word_end, runs, lexicon))
            runs = []
            word_start, word_end = start, end
            while word_start > 0 and s[word_start - 1].isalpha():
                word_start -= 1
            while word_end < len(s) and s[word_end].isalpha():
                word_end += 1
        runs.append((start, end))
    edits.extend(_collapse_runs(s, word_start, word_end, runs, lexicon))
    return edits


def _collapse_runs(
    s: str, word_start: int, word_end: int, runs: list[tuple[int, int]], lexicon: Lexicon | None
) -> list[_Edit]:
    """Edits for the stretched runs of one word: each to the length of the lexicon's best-known spelling."""
    if not runs or _KEEP_REPEATS.fullmatch(s, word_start, word_end) is not None:
        return []
    lengths: tuple[int, ...] = (1,) * len(runs)
    if lexicon is not None and len(runs) <= _MAX_RUNS_RESOLVED:
        best: float | None = None
        for option in product((1, 2), repeat=len(runs)):
            rank = lexicon(_spelling(s, word_start, word_end, runs, option))
            if rank is None:
                continue
            # The more common spelling wins (gooood: good; sooo: so), but a stretched consonant is most often a
            # doubled one: a doubled consonant may be up to DOUBLED_CONSONANT_MARGIN rarer (assss: ass, not as)
            # and still win, though not a misspelling far rarer than the word (fuckkk: fuck, not fuckk).
            doubled = sum(1 for (start, _), n in zip(runs, option, strict=True) if n == 2 and s[start] in _CONSONANTS)
            key = rank - DOUBLED_CONSONANT_MARGIN * doubled
            if best is None or key < best:
                best, lengths = key, option
    return [(start, end, [(s[start] * length, start, end)]) for (start, end), length in zip(runs, lengths, strict=True)]


def _spelling(s: str, word_start: int, word_end: int, runs: list[tuple[int, int]], lengths: tuple[int, ...]) -> str:
    """The word with each stretched run cut to the given length."""
    parts: list[str] = []
    position = word_start
    for (start, end), length in zip(runs, lengths, strict=True):
        parts.append(s[position:start] + s[start] * length)
        position = end
    parts.append(s[position:word_end])
    return "".join(parts)


# --- Misspelt words ----------------------------------------------------------------------------------

# Only words this long are repaired (shorter ones are too often names or acronyms one edit from a slur); looking
# for them alone keeps the check cheap on text with nothing to repair.
REPAIRED_MIN_LENGTH = 5
_LONG_WORD = re.compile(rf"{_LETTER}{{{REPAIRED_MIN_LENGTH},}}")
_PLAIN_LONG_WORD = re.compile(rf"{_PLAIN_LETTER}{{{REPAIRED_MIN_LENGTH},}}")


def _repair_edits(s: str, repairs: Repairs | None, long_word: re.Pattern[str] = _LONG_WORD) -> list[_Edit]:
    """Edits replacing each whole word of `s` found in `repairs` by its word, mapped to the misspelt word's range
    (`long_word` finds the words that may be misspelt: the plain-text pattern for plain text)."""
    if not repairs:
        return []
    if repairs.keys().isdisjoint(long_word.findall(s)):  # the common case, without a Python call per word
        return []
    edits: list[_Edit] = []
    for match in long_word.finditer(s):
        word = repairs.get(match.group())
        if word is not None:
            start, end = match.span()
            edits.append((start, end, [(word, start, end)]))
    return edits


# --- Fast path ---------------------------------------------------------------------------------------

# Plain text that no stage would touch is only lowercased: printable, with ASCII letters and digits only, its other
# non-ASCII characters inert (emoji, quotation marks, dashes) or "…", which cleanup spells "..." (the commonest
# non-ASCII character in comments). Every stage that can change such text has its trigger here, in the plain
# classes: control characters, spaced letters, leet next to a letter, a letter three times.
_ELLIPSIS = "\u2026"
_PRINTABLE_ASCII = frozenset(map(chr, range(0x20, 0x7F)))
_PLAIN_REPEAT = re.compile(rf"({_PLAIN_LETTER})\1\1")
_PLAIN_LEET_HINT = re.compile(_leet_hint_pattern(_PLAIN_LETTER, _PLAIN_ALNUM))
_PLAIN_SPACED = re.compile(_spaced_pattern("[a-z0-9@$]", _PLAIN_ALNUM))


@lru_cache(maxsize=_CHAR_CACHE_SIZE)
def _leaves_text_plain(char: str) -> bool:
    """Whether a non-ASCII character keeps a text plain: "…", or a character every stage leaves as it is and none
    reads as part of a word (not a letter, digit or space; nothing cleanup changes; no case; neither Cyrillic
    nor Greek)."""
    return char == _ELLIPSIS or not (
        char.isalnum()
        or char.isspace()
        or not char.isprintable()
        or _needs_cleanup(char)
        or char.lower() != char
        or char.casefold() != char
        or _CYRILLIC_OR_GREEK.match(char)
    )


def _plain_lowered(text: str) -> str | None:
    """The lowercased text when it is plain text that normalization would only lowercase and clean of "…", else None."""
    if not text.isprintable():
        return None
    if not text.isascii() and not all(map(_leaves_text_plain, set(text).difference(_PRINTABLE_ASCII))):
        return None
    lowered = text.lower()
    cleaned = lowered.replace(_ELLIPSIS, "...")
    if _PLAIN_REPEAT.search(cleaned) or _PLAIN_LEET_HINT.search(cleaned) or _PLAIN_SPACED.search(cleaned):
        return None
    return lowered


def _ellipsis_edits(lowered: str) -> list[_Edit]:
    """Cleanup's edits of plain text: each "…" spelt "...", every dot mapped to it."""
    if _ELLIPSIS not in lowered:
        return []
    return [(i, i + 1, [("...", i, i + 1)]) for i, char in enumerate(lowered) if char == _ELLIPSIS]
