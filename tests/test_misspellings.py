"""Misspelt abusive words (two letters swapped, one dropped) read as the word they disguise, with offsets kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import misspellings
from model.normalize import REPAIRED_MIN_LENGTH, normalize, normalize_text
from model.scorer import load_scorer

REPAIRS = misspellings.repairs_for(["vermin", "parasites", "idiots"], known=["vermis", "idiot"])


def test_one_edit_misspellings_swap_or_drop_a_letter_and_keep_the_first() -> None:
    spellings = misspellings.one_edit_misspellings("vermin")
    assert {"vremin", "vemrin", "vermni", "vrmin", "vermn", "vermi"} <= spellings
    assert "evrmin" not in spellings and "ermin" not in spellings  # the first letter stays
    assert "vermin" not in spellings
    assert all(s[0] == "v" for s in spellings)


def test_repairs_leave_out_known_words_and_short_spellings() -> None:
    assert REPAIRS["vremin"] == "vermin" and REPAIRS["parsites"] == "parasites"
    assert "vermis" not in REPAIRS  # a word the model knows is never read as another
    assert "idiot" not in REPAIRS  # dropping a letter of "idiots" gives a known word
    assert all(len(spelling) >= REPAIRED_MIN_LENGTH for spelling in REPAIRS)
    short = misspellings.repairs_for(["sluts"], known=[])
    assert "sltus" in short and "slts" not in short  # four letters: too many names and acronyms there


def test_a_word_repaired_is_never_read_as_another_repaired_word() -> None:
    # Dropping the "i" of "moskali" gives "moskal", itself a word to repair: it stays itself.
    repairs = misspellings.repairs_for(["moskali", "moskal"], known=[])
    assert "moskal" not in repairs and repairs["mosklai"] == "moskali"


def test_a_shared_misspelling_goes_to_the_earlier_word() -> None:
    # Dropping the "i" of "trials" or of "trails" gives "trals".
    assert misspellings.repairs_for(["trials", "trails"], known=[])["trals"] == "trials"
    assert misspellings.repairs_for(["trails", "trials"], known=[])["trals"] == "trails"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Those vremin again", "those vermin again"),  # ASCII: the fast path
        ("Those vremin again…", "those vermin again..."),  # not ASCII: every stage, then the repair
        ("the parsites, the prasites!", "the parasites, the parasites!"),
        ("vreminous vremins", "vreminous vremins"),  # only whole words
        ("VREMIN", "vermin"),  # after casefolding
    ],
)
def test_repairs_restore_whole_misspelt_words(raw: str, expected: str) -> None:
    assert normalize_text(raw, None, REPAIRS) == expected
    assert normalize(raw, None, REPAIRS).text == expected


def test_without_repairs_nothing_is_restored() -> None:
    assert normalize_text("Those vremin again") == "those vremin again"


@pytest.mark.parametrize("raw", ["Those vremin again", "Thóse vremin again"])
def test_a_repaired_word_maps_back_to_the_misspelt_one(raw: str) -> None:
    result = normalize(raw, None, REPAIRS)
    start = result.text.index("vermin")
    assert result.original_span(start, start + len("vermin")) == (raw.index("vremin"), raw.index("vremin") + 6)
    # The words around it keep their own offsets.
    after = result.text.index("again")
    assert result.original_span(after, after + 5) == (raw.index("again"), raw.index("again") + 5)


@given(st.lists(st.sampled_from(["vremin", "vermin", "the", "prasites", "x", "vreminx", "ü", "!", " "]), max_size=12))
def test_normalize_text_and_normalize_agree_with_repairs(words: list[str]) -> None:
    text = " ".join(words)
    result = normalize(text, None, REPAIRS)
    assert normalize_text(text, None, REPAIRS) == result.text
    assert len(result.starts) == len(result.ends) == len(result.text)


# --- a model's own repairs ------------------------------------------------------------------------------------


def test_a_models_abuse_words_are_its_abusive_unigrams(tiny_model_path: Path) -> None:
    model = load_scorer(tiny_model_path).model
    words = misspellings.abuse_words(model)
    assert words == misspellings.abuse_words(model)  # the same list every time
    # Insults and slurs rank above the words of ordinary comments (which a small model weighs a little too).
    ordinary = [words.index(w) for w in ("article", "careful", "analysis", "thanks") if w in words]
    assert max(words.index("vermin"), words.index("idiot")) < min(ordinary, default=len(words))
    assert all(len(word) >= REPAIRED_MIN_LENGTH and word.isalpha() for word in words)
    assert misspellings.abuse_words(model, count=3) == words[:3]


def test_words_a_cascade_adds_are_repaired_after_the_models_own(tiny_model_path: Path) -> None:
    model = load_scorer(tiny_model_path).model
    own = misspellings.model_repairs(model)
    more = misspellings.model_repairs(model, also=["khokhly", "spaz", "vermin"])
    assert more["kohkhly"] == "khokhly" and more["khokly"] == "khokhly"
    assert not any(word == "spaz" for word in more.values())  # four letters: too short to repair
    assert {s: w for s, w in more.items() if w != "khokhly"} == own  # the model's own repairs are unchanged
    reading = misspellings.ModelReading.of(model, ["khokhly"])
    assert reading.text("the kohkhly again") == "the khokhly again"
    assert misspellings.ModelReading.of(model).text("the kohkhly again") == "the kohkhly again"


def test_the_scorer_reads_a_misspelt_abusive_word_as_the_word(tiny_model_path: Path) -> None:
    scorer = load_scorer(tiny_model_path)
    plain = scorer.score("all immigrants are vermin")
    disguised = scorer.score("all immigrants are vremin")
    assert disguised.scores == plain.scores
    assert disguised.scores["identity_attack"] > scorer.score("all immigrants are vxrmin").scores["identity_attack"]
    # The spans are the plain text's, over the misspelt word.
    where = [(s.category, s.start, s.end) for s in disguised.spans]
    assert where == [(s.category, s.start, s.end) for s in plain.spans]
    at = len("all immigrants are ")
    assert any(s.start <= at and s.end >= at + 6 and "vremin" in s.text for s in disguised.spans)
