"""Tests of the moderation policy: document validation, the per-comment decision and the threshold preview."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import moderation.policy as policy_module
from model.categories import CATEGORIES
from model.types import LoneSentence, Thresholds
from moderation.errors import Invalid
from moderation.policy import (
    ACTIONS,
    STATUS_FOR_ACTION,
    AuthorHistory,
    CommentFacts,
    Policy,
    Reason,
    RecordedOutcome,
    Verdict,
    count_links,
    decide,
    default_policy,
    effective_thresholds,
    matched_terms,
    non_latin_share,
    preview,
    primary_language,
)
from moderation.policy_document import policy_from_document, policy_to_document

MODEL: Thresholds = {
    "toxicity": {"reject": 0.9, "review": 0.5},
    "severe_toxicity": {"reject": 0.8, "review": 0.3},
    "obscene": {"reject": None, "review": 0.6},
    "threat": {"reject": 0.7, "review": 0.4},
    "insult": {"reject": 0.9, "review": None},
    "identity_attack": {"reject": None, "review": None},
    "spam": {"reject": 0.95, "review": 0.7},
}
# What the default policy makes of MODEL: its thresholds, but none for the categories it only reports.
DEFAULTS: Thresholds = {**MODEL, "obscene": {"reject": None, "review": None}}
SEASONED = AuthorHistory(comments=50, recent_rejections=0)


def policy(**changes: object) -> Policy:
    return replace(default_policy(MODEL), **changes)


def verdict(
    text: str = "A perfectly ordinary comment.",
    scores: dict[str, float] | None = None,
    *,
    under: Policy | None = None,
    section: str | None = None,
    lang: str | None = "en",
    author: AuthorHistory = SEASONED,
) -> Verdict:
    return decide(
        scores or {},
        under or default_policy(MODEL),
        CommentFacts(text=text, section=section, lang=lang),
        author,
    )


def kinds(reasons: tuple[Reason, ...]) -> list[str]:
    return [reason.kind for reason in reasons]


def invalid_fields(doc: object) -> dict[str, str]:
    with pytest.raises(Invalid) as raised:
        policy_from_document(doc, MODEL)
    return raised.value.fields


# --- constants ----------------------------------------------------------------------------------


def test_every_action_has_a_status():
    assert ACTIONS == ("approve", "review", "reject")
    assert STATUS_FOR_ACTION == {"approve": "approved", "review": "queued", "reject": "rejected"}


# --- default policy and thresholds --------------------------------------------------------------


def test_default_policy_takes_the_model_cards_thresholds():
    result = default_policy(MODEL)
    assert result.thresholds == DEFAULTS
    assert result.sections == {}
    assert result.max_links == 2
    assert result.shadow_mode is False


def test_default_policy_fills_categories_missing_from_the_model_card_with_never():
    result = default_policy({"toxicity": {"reject": 0.9}})
    assert list(result.thresholds) == list(CATEGORIES)
    assert result.thresholds["toxicity"] == {"reject": 0.9, "review": None}
    assert result.thresholds["spam"] == {"reject": None, "review": None}


def test_default_policy_does_not_share_the_model_cards_dicts():
    model = {"toxicity": {"reject": 0.9, "review": 0.5}}
    result = default_policy(model)
    model["toxicity"]["reject"] = 0.1
    assert result.thresholds["toxicity"]["reject"] == 0.9


def test_section_overrides_are_partial():
    sectioned = policy(sections={"sport": {"toxicity": {"reject": 0.6}, "spam": {"review": 0.2}}})
    thresholds = effective_thresholds(sectioned, "sport")
    assert thresholds["toxicity"] == {"reject": 0.6, "review": 0.5}
    assert thresholds["spam"] == {"reject": 0.95, "review": 0.2}
    assert thresholds["threat"] == MODEL["threat"]


def test_no_section_or_an_unknown_one_uses_the_policy_thresholds():
    sectioned = policy(sections={"sport": {"toxicity": {"reject": 0.6}}})
    assert effective_thresholds(sectioned, None) == DEFAULTS
    assert effective_thresholds(sectioned, "politics") == DEFAULTS


def test_effective_thresholds_are_a_copy():
    base = default_policy(MODEL)
    effective_thresholds(base, None)["toxicity"]["reject"] = 0.0
    assert base.thresholds["toxicity"]["reject"] == 0.9


# --- score thresholds ---------------------------------------------------------------------------


def test_nothing_firing_approves_by_the_model():
    result = verdict(scores={"toxicity": 0.49, "spam": 0.1})
    assert result.action == "approve"
    assert result.status == "approved"
    assert result.decided_by == "model"
    assert result.would_action == "approve"
    assert result.reasons == ()
    assert result.top_category is None
    assert result.thresholds == DEFAULTS


def test_score_at_the_review_threshold_queues_for_review():
    result = verdict(scores={"toxicity": 0.5})
    assert (result.action, result.status, result.decided_by) == ("review", "queued", "model")
    assert result.reasons == (
        Reason(
            kind="score",
            action="review",
            detail="toxicity 0.50 ≥ review threshold 0.50",
            category="toxicity",
            value=0.5,
            threshold=0.5,
        ),
    )
    assert result.top_category == "toxicity"


def test_score_at_the_reject_threshold_rejects():
    result = verdict(scores={"toxicity": 0.97})
    assert (result.action, result.status, result.decided_by) == ("reject", "rejected", "model")
    assert result.reasons[0].detail == "toxicity 0.97 ≥ reject threshold 0.90"
    assert result.reasons[0].threshold == 0.9


def test_score_detail_shows_enough_digits_to_tell_score_from_threshold():
    result = verdict(scores={"toxicity": 0.903})
    assert result.reasons[0].detail == "toxicity 0.903 ≥ reject threshold 0.900"


def test_score_detail_falls_back_to_full_precision_for_tiny_differences():
    result = verdict(scores={"toxicity": 0.9000001})
    assert result.reasons[0].detail == "toxicity 0.9000001 ≥ reject threshold 0.9"


def test_reject_threshold_none_never_rejects_by_score():
    result = verdict(scores={"obscene": 1.0}, under=policy(thresholds={**DEFAULTS, "obscene": MODEL["obscene"]}))
    assert result.action == "review"
    assert result.reasons[0].threshold == 0.6


def test_default_policy_does_not_act_on_swearing_alone():
    assert verdict("What a fucking mess this deal is.", scores={"obscene": 1.0}).action == "approve"
    assert verdict("You fucking idiot.", scores={"obscene": 1.0, "insult": 0.95}).action == "reject"


def test_a_site_that_wants_a_profanity_filter_sets_obscene_thresholds():
    strict = policy_from_document({"thresholds": {"obscene": {"review": 0.3, "reject": 0.9}}}, MODEL)
    assert verdict(scores={"obscene": 0.5}, under=strict).action == "review"
    assert verdict(scores={"obscene": 0.95}, under=strict).action == "reject"


def test_review_threshold_none_still_rejects_at_the_reject_threshold():
    assert verdict(scores={"insult": 0.89}).action == "approve"
    result = verdict(scores={"insult": 0.95})
    assert result.action == "reject"
    assert result.top_category == "insult"


def test_both_thresholds_none_never_fire():
    assert verdict(scores={"identity_attack": 1.0}).reasons == ()


def test_scores_for_unknown_categories_and_missing_scores_are_ignored():
    result = verdict(scores={"rudeness": 1.0, "spam": 0.1})
    assert result.action == "approve"


def test_section_override_changes_the_outcome_only_in_that_section():
    sectioned = policy(sections={"sport": {"toxicity": {"reject": 0.6}}})
    assert verdict(scores={"toxicity": 0.7}, under=sectioned, section="sport").action == "reject"
    assert verdict(scores={"toxicity": 0.7}, under=sectioned, section="news").action == "review"
    in_sport = verdict(scores={"toxicity": 0.7}, under=sectioned, section="sport")
    assert in_sport.thresholds["toxicity"] == {"reject": 0.6, "review": 0.5}


def test_every_score_reason_is_kept_strongest_first():
    result = verdict(scores={"toxicity": 0.92, "threat": 0.45, "spam": 0.9})
    assert result.action == "reject"
    assert [(reason.category, reason.action) for reason in result.reasons] == [
        ("toxicity", "reject"),
        # Among reviews, the further past its threshold comes first: 0.9/0.7 ≈ 1.29 > 0.45/0.4 ≈ 1.13.
        ("spam", "review"),
        ("threat", "review"),
    ]


def test_top_category_is_the_highest_score_relative_to_its_review_threshold():
    # severe_toxicity 0.75 is only a review, but 2.5× its review threshold beats toxicity's 0.92/0.5.
    result = verdict(scores={"toxicity": 0.92, "severe_toxicity": 0.75})
    assert result.action == "reject"
    assert result.top_category == "severe_toxicity"


def test_top_category_with_a_zero_review_threshold_does_not_divide_by_zero():
    zero = policy(thresholds={**MODEL, "threat": {"reject": None, "review": 0.0}})
    result = verdict(scores={"threat": 0.1, "toxicity": 0.6}, under=zero)
    assert result.top_category == "threat"


# --- terms --------------------------------------------------------------------------------------


def test_blocked_term_rejects_as_a_rule():
    result = verdict("You are an idiot.", under=policy(blocked_terms=("idiot",)))
    assert (result.action, result.status, result.decided_by) == ("reject", "rejected", "rule")
    assert result.reasons == (
        Reason(kind="blocked_term", action="reject", detail="contains the blocked term “idiot”", term="idiot"),
    )


def test_watched_term_queues_for_review_as_a_rule():
    result = verdict("Vote for Smith.", under=policy(watched_terms=("smith",)))
    assert (result.action, result.decided_by) == ("review", "rule")
    assert result.reasons[0].kind == "watched_term"
    assert result.reasons[0].term == "smith"


def test_blocked_term_beats_watched_term():
    both = policy(blocked_terms=("idiot",), watched_terms=("smith",))
    result = verdict("Smith is an idiot", under=both)
    assert result.action == "reject"
    assert kinds(result.reasons) == ["blocked_term", "watched_term"]


@pytest.mark.parametrize(
    "text",
    ["You ass.", "ASS", "what an ass", "smart-ass", "ass_hat", "(ass)"],
)
def test_term_matches_as_a_whole_word(text: str):
    assert matched_terms(text, ("ass",)) == ("ass",)


@pytest.mark.parametrize(
    "text",
    ["A class act.", "Assad spoke today.", "an assessment", "bass guitar", "passing"],
)
def test_term_does_not_match_inside_a_longer_word(text: str):
    assert matched_terms(text, ("ass",)) == ()


@pytest.mark.parametrize(
    "text",
    [
        "you 1d10t",  # leetspeak
        "you I D I O T",  # spaced letters
        "you i.d.i.o.t",  # dotted letters
        "you id\u0456ot",  # a Cyrillic look-alike i
        "you iiiidiooot",  # stretched letters
        "you IDIOT!",
    ],
)
def test_term_matching_defeats_evasion(text: str):
    assert matched_terms(text, ("idiot",)) == ("idiot",)


@pytest.mark.parametrize("text", ["what an a$$", "what an @ss"])
def test_symbol_leetspeak_still_respects_word_boundaries(text: str):
    assert matched_terms(text, ("ass",)) == ("ass",)
    assert matched_terms("first cla$$ service", ("ass",)) == ()


def test_term_is_normalized_the_same_way_as_the_text():
    assert matched_terms("what an idiot", ("1D10T",)) == ("1D10T",)


def test_multi_word_term_matches_across_any_separator():
    terms = ("go to hell",)
    assert matched_terms("Go   to... HELL", terms) == terms
    assert matched_terms("go to hello kitty", terms) == ()
    assert matched_terms("go hell", terms) == ()


def test_every_matching_term_is_reported():
    result = verdict("idiot and moron", under=policy(blocked_terms=("idiot", "moron", "fool")))
    assert [reason.term for reason in result.reasons] == ["idiot", "moron"]


def test_no_terms_match_nothing():
    assert matched_terms("anything at all", ()) == ()


def test_terms_with_nothing_left_after_normalizing_match_nothing():
    assert matched_terms("!!! ???", ("!!!",)) == ()


# --- links --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("no links here", 0),
        ("see http://a.com and https://b.org/x?y=1", 2),
        ("visit www.example.com now", 1),
        ("WWW.EXAMPLE.COM", 1),
        ("example.net/path/to/page", 1),
        ("buy at cheap-pills.com today", 1),
        ("http://www.example.com/page counted once", 1),
        ("https://a.com,https://b.com", 2),
        ("I agree.Me too. See e.g. the report.", 0),
        ("mail bob@example.com", 0),
        ("3.14/2 is not a link", 0),
    ],
)
def test_count_links(text: str, links: int):
    assert count_links(text) == links


@settings(max_examples=2000)
@given(
    st.lists(st.sampled_from(["http", "://", "www", ".", "com", "ru", "/", "a", "-", " ", "@", "Q", "é"]), max_size=20)
)
@example(["www", ".", "."])
@example(["www", ".", "-"])
@example(["http", "://"])
def test_the_quick_no_link_check_never_hides_a_link(parts: list[str]):
    text = "".join(parts)
    assert count_links(text) == sum(1 for _ in policy_module._LINK.finditer(text))


def test_more_links_than_allowed_queues_for_review():
    three = "http://a.com http://b.com http://c.com"
    result = verdict(three)
    assert (result.action, result.decided_by) == ("review", "rule")
    assert result.reasons[0] == Reason(
        kind="links", action="review", detail="3 links, more than the 2 allowed", value=3, threshold=2
    )


def test_links_up_to_the_limit_approve():
    assert verdict("http://a.com http://b.com").action == "approve"


def test_zero_links_allowed_reviews_any_link():
    assert verdict("see www.example.com", under=policy(max_links=0)).action == "review"


def test_max_links_none_disables_the_link_rule():
    many = " ".join(f"http://site{number}.com" for number in range(20))
    assert verdict(many, under=policy(max_links=None)).action == "approve"


# --- author history -----------------------------------------------------------------------------


def test_an_authors_first_comments_are_reviewed():
    first_three = policy(new_author_reviews=3)
    third = verdict(under=first_three, author=AuthorHistory(comments=2))
    assert (third.action, third.decided_by) == ("review", "rule")
    assert third.reasons[0].kind == "new_author"
    assert third.reasons[0].detail == "the author's comment number 3; an author's first 3 are reviewed"
    assert verdict(under=first_three, author=AuthorHistory(comments=3)).action == "approve"


def test_a_comment_scored_only_in_part_is_reviewed_unless_its_prefix_rejects():
    partly = decide({}, default_policy(MODEL), CommentFacts("x" * 100, scored_chars=40), SEASONED)
    assert (partly.action, partly.decided_by) == ("review", "rule") and kinds(partly.reasons) == ["truncated"]
    assert partly.reasons[0].detail.startswith("only the first 40 characters were scored")
    hateful = decide({"threat": 0.99}, default_policy(MODEL), CommentFacts("x" * 100, scored_chars=40), SEASONED)
    assert hateful.action == "reject" and "truncated" in kinds(hateful.reasons)
    assert verdict().action == "approve"  # read whole: nothing said


def test_new_author_rule_off_by_default():
    assert verdict(author=AuthorHistory(comments=0)).action == "approve"


def test_author_with_recent_rejections_is_reviewed():
    result = verdict(author=AuthorHistory(comments=40, recent_rejections=2))
    assert (result.action, result.decided_by) == ("review", "rule")
    assert result.reasons[0].kind == "author_rejections"
    assert result.reasons[0].detail == "the author had 2 comments rejected in the last 30 days (review from 2)"
    assert verdict(author=AuthorHistory(comments=40, recent_rejections=1)).action == "approve"


def test_recent_rejections_zero_disables_the_rule():
    lenient = policy(recent_rejections=0)
    assert verdict(under=lenient, author=AuthorHistory(comments=5, recent_rejections=9)).action == "approve"


# --- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "primary"),
    [("en", "en"), ("EN-gb", "en"), ("en_US", "en"), (" ru ", "ru"), ("", None), ("und", None), (None, None)],
)
def test_primary_language(lang: str | None, primary: str | None):
    assert primary_language(lang) == primary


def test_unknown_language_queues_for_review():
    result = verdict("Привет всем", lang="ru")
    assert (result.action, result.decided_by) == ("review", "rule")
    assert result.reasons[0] == Reason(
        kind="language", action="review", detail="language “ru” is not one the model knows (en)"
    )


@pytest.mark.parametrize("lang", ["en", "EN-GB", "en_US", "de-AT"])
def test_known_languages_compare_the_primary_subtag_case_insensitively(lang: str):
    bilingual = policy(known_languages=("en", "de"))
    assert verdict(lang=lang, under=bilingual).action == "approve"


def test_unknown_language_never_lets_the_model_reject():
    result = verdict("Ты идиот", {"toxicity": 0.99}, lang="ru")
    assert result.action == "review"
    assert result.would_action == "review"
    assert result.decided_by == "rule"
    score = next(reason for reason in result.reasons if reason.kind == "score")
    assert score.action == "review"
    assert score.threshold == 0.9
    assert score.detail == (
        "toxicity 0.99 ≥ reject threshold 0.90; sent to review because the model does not know this language"
    )
    assert result.top_category == "toxicity"


def test_unknown_language_keeps_score_reviews_as_they_were():
    result = verdict("texte", {"toxicity": 0.6}, lang="fr")
    score = next(reason for reason in result.reasons if reason.kind == "score")
    assert score.detail == "toxicity 0.60 ≥ review threshold 0.50"


def test_blocked_term_still_rejects_in_an_unknown_language():
    result = verdict("idiot", {"toxicity": 0.99}, lang="fr", under=policy(blocked_terms=("idiot",)))
    assert result.action == "reject"
    assert result.decided_by == "rule"
    assert kinds(result.reasons) == ["blocked_term", "score", "language"]
    assert result.reasons[1].action == "reject"


def test_mostly_non_latin_text_without_a_language_is_treated_as_unknown():
    result = verdict("Это очень плохой комментарий", {"toxicity": 0.95}, lang=None)
    assert result.action == "review"
    language = next(reason for reason in result.reasons if reason.kind == "language")
    assert language.detail == (
        "no language given and 100% of the letters are not Latin script, "
        "so taken as a language the model does not know (en)"
    )
    assert language.value == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "A plain English comment with one слово",
        "Ça a été très évoqué à Zürich",
        "ＦＵＬＬＷＩＤＴＨ latin",
        "1234 !!! 5678",
    ],
)
def test_latin_script_or_letterless_text_without_a_language_is_not_flagged(text: str):
    assert verdict(text, lang=None).action == "approve"


def test_an_empty_language_tag_falls_back_to_the_script_guess():
    assert verdict("東京は晴れです", lang="").action == "review"


def test_a_given_language_is_trusted_over_the_script():
    assert verdict("Привет всем", lang="en").action == "approve"


def test_non_latin_share():
    assert non_latin_share("") == 0.0
    assert non_latin_share("abcd") == 0.0
    assert non_latin_share("ab вг") == 0.5
    assert non_latin_share("a вгд") == 0.75


# --- severity and who decided -------------------------------------------------------------------


def test_rules_combine_and_the_most_severe_action_wins():
    strict = policy(watched_terms=("smith",), new_author_reviews=5)
    text = "Smith http://a.com http://b.com http://c.com"
    result = verdict(text, {"spam": 0.96}, under=strict, author=AuthorHistory(comments=0, recent_rejections=3))
    assert result.action == "reject"
    assert result.decided_by == "model"
    assert kinds(result.reasons) == ["score", "watched_term", "links", "new_author", "author_rejections"]


def test_a_score_review_ties_with_a_rule_and_the_rule_is_named():
    result = verdict("Smith", {"toxicity": 0.6}, under=policy(watched_terms=("smith",)))
    assert result.action == "review"
    assert result.decided_by == "rule"
    assert kinds(result.reasons) == ["watched_term", "score"]


def test_a_rule_reject_ties_with_a_score_reject_and_the_rule_is_named():
    result = verdict("idiot", {"toxicity": 0.95}, under=policy(blocked_terms=("idiot",)))
    assert result.decided_by == "rule"
    assert kinds(result.reasons) == ["blocked_term", "score"]


def test_a_score_reject_beats_a_rule_review():
    result = verdict("Smith", {"toxicity": 0.95}, under=policy(watched_terms=("smith",)))
    assert (result.action, result.decided_by) == ("reject", "model")


# --- shadow mode --------------------------------------------------------------------------------


def test_shadow_mode_approves_but_records_what_would_have_happened():
    shadow = policy(shadow_mode=True, blocked_terms=("idiot",))
    result = verdict("idiot", {"toxicity": 0.95}, under=shadow)
    assert (result.action, result.status) == ("approve", "approved")
    assert result.would_action == "reject"
    assert result.decided_by == "rule"
    assert kinds(result.reasons) == ["shadow_mode", "blocked_term", "score"]
    assert result.reasons[0] == Reason(
        kind="shadow_mode",
        action="approve",
        detail="shadow mode: approved without enforcing; the policy would reject",
    )
    assert result.top_category == "toxicity"


def test_shadow_mode_with_nothing_firing():
    result = verdict(under=policy(shadow_mode=True))
    assert (result.action, result.would_action) == ("approve", "approve")
    assert kinds(result.reasons) == ["shadow_mode"]


def test_shadow_mode_records_reviews_too():
    result = verdict(scores={"toxicity": 0.6}, under=policy(shadow_mode=True))
    assert (result.action, result.status, result.would_action) == ("approve", "approved", "review")


# --- reasons as JSON ----------------------------------------------------------------------------


def test_reason_as_dict_has_every_field_with_numbers_rounded():
    reason = Reason(kind="score", action="reject", detail="d", category="toxicity", value=0.123456, threshold=0.9)
    assert reason.as_dict() == {
        "kind": "score",
        "action": "reject",
        "detail": "d",
        "category": "toxicity",
        "value": 0.1235,
        "threshold": 0.9,
        "term": None,
    }
    assert Reason(kind="blocked_term", action="reject", detail="d", term="x").as_dict()["value"] is None


# --- document: defaults and valid input ---------------------------------------------------------


def test_empty_document_is_the_default_policy():
    assert policy_from_document({}, MODEL) == default_policy(MODEL)


def test_document_thresholds_override_only_the_keys_given():
    result = policy_from_document({"thresholds": {"toxicity": {"reject": 0.95}}}, MODEL)
    assert result.thresholds["toxicity"] == {"reject": 0.95, "review": 0.5}
    assert result.thresholds["threat"] == MODEL["threat"]


def test_document_null_threshold_means_never():
    result = policy_from_document({"thresholds": {"toxicity": {"reject": None}}}, MODEL)
    assert result.thresholds["toxicity"] == {"reject": None, "review": 0.5}


def test_document_with_every_field():
    doc = {
        "thresholds": {"toxicity": {"reject": 1, "review": 0}},
        "sections": {"sport": {"threat": {"review": 0.5}}},
        "blocked_terms": [" idiot ", "idiot", "go to hell"],
        "watched_terms": ["smith"],
        "max_links": None,
        "new_author_reviews": 3,
        "recent_rejections": 0,
        "recent_rejection_days": 7,
        "known_languages": ["EN", "de", "en"],
        "shadow_mode": True,
    }
    result = policy_from_document(doc, MODEL)
    assert result.thresholds["toxicity"] == {"reject": 1.0, "review": 0.0}
    assert isinstance(result.thresholds["toxicity"]["reject"], float)
    assert result.sections == {"sport": {"threat": {"review": 0.5}}}
    assert result.blocked_terms == ("idiot", "go to hell")
    assert result.watched_terms == ("smith",)
    assert result.max_links is None
    assert (result.new_author_reviews, result.recent_rejections, result.recent_rejection_days) == (3, 0, 7)
    assert result.known_languages == ("en", "de")
    assert result.shadow_mode is True


# --- document: validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "field", "problem"),
    [
        ({"thresholds": {"toxicity": {"reject": 1.5}}}, "thresholds.toxicity.reject", "between 0 and 1"),
        ({"thresholds": {"toxicity": {"reject": -0.1}}}, "thresholds.toxicity.reject", "between 0 and 1"),
        ({"thresholds": {"toxicity": {"review": True}}}, "thresholds.toxicity.review", "between 0 and 1"),
        ({"thresholds": {"toxicity": {"review": "0.5"}}}, "thresholds.toxicity.review", "between 0 and 1"),
        (
            {"thresholds": {"toxicity": {"review": float("nan")}}},
            "thresholds.toxicity.review",
            "between 0 and 1",
        ),
        ({"thresholds": {"rudeness": {"review": 0.5}}}, "thresholds.rudeness", "unknown category"),
        ({"thresholds": {"toxicity": {"block": 0.5}}}, "thresholds.toxicity.block", "unknown field"),
        ({"thresholds": {"toxicity": 0.5}}, "thresholds.toxicity", "must be an object"),
        ({"thresholds": [0.5]}, "thresholds", "must be an object"),
        ({"thresholds": {"toxicity": {"reject": 0.4, "review": 0.6}}}, "thresholds.toxicity.review", "above"),
        ({"thresholds": {"toxicity": {"review": 0.95}}}, "thresholds.toxicity.review", "above the reject"),
        ({"thresholds": {"toxicity": {"reject": 0.3}}}, "thresholds.toxicity.reject", "below the review"),
        (
            {"sections": {"sport": {"threat": {"review": 2}}}},
            "sections.sport.threat.review",
            "between 0 and 1",
        ),
        ({"sections": {"sport": {"rudeness": {}}}}, "sections.sport.rudeness", "unknown category"),
        ({"sections": {"sport": "strict"}}, "sections.sport", "must be an object"),
        ({"sections": ["sport"]}, "sections", "must be an object"),
        ({"sections": {" ": {}}}, "sections. ", "non-empty"),
        ({"sections": {"sport": {"toxicity": {"review": 0.95}}}}, "sections.sport.toxicity.review", "above"),
        ({"sections": {"sport": {"toxicity": {"reject": 0.2}}}}, "sections.sport.toxicity.reject", "below"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"blocked_terms": "idiot"}, "blocked_terms", "list of strings"),
        ({"blocked_terms": ["ok", ""]}, "blocked_terms.1", "non-empty string"),
        ({"watched_terms": [3]}, "watched_terms.0", "non-empty string"),
        ({"watched_terms": ["!!!"]}, "watched_terms.0", "no letters or digits"),
        ({"max_links": -1}, "max_links", "from 0 to 1000000, or null"),
        ({"max_links": 1.5}, "max_links", "whole number"),
        ({"max_links": True}, "max_links", "whole number"),
        ({"new_author_reviews": None}, "new_author_reviews", "from 0 to 1000000"),
        ({"new_author_reviews": -2}, "new_author_reviews", "from 0 to 1000000"),
        ({"recent_rejections": "2"}, "recent_rejections", "from 0 to 1000000"),
        ({"recent_rejection_days": 0}, "recent_rejection_days", "from 1 to 3650"),
        ({"known_languages": "en"}, "known_languages", "list of language codes"),
        ({"known_languages": ["en", "english"]}, "known_languages.1", "language code"),
        ({"known_languages": [5]}, "known_languages.0", "language code"),
        ({"shadow_mode": "yes"}, "shadow_mode", "true or false"),
    ],
)
def test_document_validation_names_the_bad_field(doc: dict[str, object], field: str, problem: str):
    fields = invalid_fields(doc)
    assert list(fields) == [field]
    assert problem in fields[field]


def test_document_threshold_error_message_is_exact():
    fields = invalid_fields({"thresholds": {"toxicity": {"reject": 2}}})
    assert fields == {"thresholds.toxicity.reject": "must be a number between 0 and 1, or null"}


def test_document_validation_names_every_bad_field_at_once():
    doc = {
        "thresholds": {"toxicity": {"reject": 2}, "rudeness": {}},
        "sections": {"sport": {"threat": {"review": -1}}},
        "max_links": -1,
        "shadow_mode": 1,
        "colour": "red",
    }
    with pytest.raises(Invalid) as raised:
        policy_from_document(doc, MODEL)
    assert set(raised.value.fields) == {
        "thresholds.toxicity.reject",
        "thresholds.rudeness",
        "sections.sport.threat.review",
        "max_links",
        "shadow_mode",
        "colour",
    }
    assert raised.value.message == "The policy has invalid fields."


def test_a_document_that_is_not_an_object_is_invalid():
    assert invalid_fields(["thresholds"]) == {"policy": "must be an object"}


# --- document: round trip -----------------------------------------------------------------------


def test_document_is_json_ready_and_round_trips():
    original = policy(
        sections={"sport": {"toxicity": {"reject": 0.6}}},
        blocked_terms=("idiot", "go to hell"),
        watched_terms=("smith",),
        max_links=None,
        new_author_reviews=2,
        known_languages=("en", "de"),
        shadow_mode=True,
    )
    doc = json.loads(json.dumps(policy_to_document(original)))
    assert policy_from_document(doc, MODEL) == original


def test_document_pins_thresholds_even_when_the_model_card_changes():
    doc = policy_to_document(default_policy(MODEL))
    assert policy_from_document(doc, {}).thresholds == DEFAULTS


PROBABILITY = st.none() | st.floats(min_value=0.0, max_value=1.0)


@st.composite
def ordered_limits(draw: st.DrawFn) -> dict[str, float | None]:
    reject, review = draw(PROBABILITY), draw(PROBABILITY)
    if reject is not None and review is not None and review > reject:
        reject, review = review, reject
    return {"reject": reject, "review": review}


@st.composite
def section_overrides(draw: st.DrawFn, base: Thresholds) -> Thresholds:
    overrides: Thresholds = {}
    for category in draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3)):
        full = draw(ordered_limits())
        partial = {key: full[key] for key in draw(st.sets(st.sampled_from(["reject", "review"])))}
        merged = {**base[category], **partial}
        reject, review = merged["reject"], merged["review"]
        # A single key may clash with the base threshold; giving both keys is always consistent.
        overrides[category] = full if reject is not None and review is not None and review > reject else partial
    return overrides


@st.composite
def valid_policies(draw: st.DrawFn) -> Policy:
    thresholds = {category: draw(ordered_limits()) for category in CATEGORIES}
    names = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True), unique=True, max_size=3))
    # Distinct by the words a term matches once normalized ("aaa" and "aaaa" are one term), as a parsed policy is.
    terms = st.lists(
        st.from_regex(r"[a-z]{2,8}( [a-z]{2,8})?", fullmatch=True), unique_by=policy_module._term_words, max_size=4
    )
    return Policy(
        thresholds=thresholds,
        sections={name: draw(section_overrides(thresholds)) for name in names},
        blocked_terms=tuple(draw(terms)),
        watched_terms=tuple(draw(terms)),
        max_links=draw(st.none() | st.integers(min_value=0, max_value=100)),
        new_author_reviews=draw(st.integers(min_value=0, max_value=100)),
        recent_rejections=draw(st.integers(min_value=0, max_value=100)),
        recent_rejection_days=draw(st.integers(min_value=1, max_value=365)),
        known_languages=tuple(draw(st.lists(st.from_regex(r"[a-z]{2,3}", fullmatch=True), unique=True))),
        shadow_mode=draw(st.booleans()),
    )


@given(valid_policies())
def test_random_valid_policies_round_trip_through_json(original: Policy):
    doc = json.loads(json.dumps(policy_to_document(original)))
    assert policy_from_document(doc, MODEL) == original


# --- preview ------------------------------------------------------------------------------------


def outcome(toxicity: float, human: str | None, section: str | None = None, spam: float = 0.0) -> RecordedOutcome:
    return RecordedOutcome(scores={"toxicity": toxicity, "spam": spam}, section=section, human_action=human)


# Thresholds: toxicity reject 0.9 / review 0.5 (reject 0.6 in sport), spam reject 0.95 / review 0.7.
RECORDED = [
    outcome(0.95, "reject"),  # reject, right
    outcome(0.92, "approve", spam=0.75),  # reject, wrong; spam alone would review it
    outcome(0.70, "reject", section="sport"),  # reject by the sport override, right
    outcome(0.70, None),  # review, no verdict
    outcome(0.60, "reject"),  # review, worth it
    outcome(0.55, "approve"),  # review, not worth it
    outcome(0.10, "approve", spam=0.80),  # review by spam, not worth it
    outcome(0.10, "approve"),  # approve, right
    outcome(0.20, "reject"),  # approve, wrong
    outcome(0.30, None),  # approve, no verdict
]
SPORT = {"sport": {"toxicity": {"reject": 0.6}}}


def test_preview_shares_and_precision_per_action():
    result = preview(policy(sections=SPORT), RECORDED)
    assert result["total"] == 10
    assert result["with_verdict"] == 8
    assert result["actions"] == {
        "reject": {"count": 3, "share": 0.3, "verdicts": 3, "precision": pytest.approx(2 / 3)},
        "review": {"count": 4, "share": 0.4, "verdicts": 3, "precision": pytest.approx(1 / 3)},
        "approve": {"count": 3, "share": 0.3, "verdicts": 2, "precision": 0.5},
    }


def test_preview_per_category():
    categories = preview(policy(sections=SPORT), RECORDED)["categories"]
    assert isinstance(categories, dict)
    assert categories["toxicity"] == {
        "reject": {"count": 3, "share": 0.3, "verdicts": 3, "precision": pytest.approx(2 / 3)},
        "review": {"count": 3, "share": 0.3, "verdicts": 2, "precision": 0.5},
    }
    assert categories["spam"] == {
        "reject": {"count": 0, "share": 0.0, "verdicts": 0, "precision": None},
        "review": {"count": 2, "share": 0.2, "verdicts": 2, "precision": 0.0},
    }
    assert categories["threat"]["reject"] == {"count": 0, "share": 0.0, "verdicts": 0, "precision": None}
    assert list(categories) == list(CATEGORIES)


def test_preview_reflects_a_changed_threshold():
    stricter = policy(sections=SPORT, thresholds={**MODEL, "toxicity": {"reject": 0.5, "review": 0.2}})
    actions = preview(stricter, RECORDED)["actions"]
    assert isinstance(actions, dict)
    assert actions["reject"]["count"] == 6
    assert actions["reject"]["precision"] == pytest.approx(3 / 5)
    assert actions["approve"]["count"] == 1


def test_preview_ignores_shadow_mode():
    actions = preview(policy(sections=SPORT, shadow_mode=True), RECORDED)["actions"]
    assert isinstance(actions, dict)
    assert actions["reject"]["count"] == 3


def test_preview_replays_the_holds_of_recorded_lone_sentences():
    def held(sentence_toxicity: float, human: str | None) -> RecordedOutcome:
        lone = LoneSentence(40, 80, "", {"toxicity": sentence_toxicity, "spam": 0.0})
        return replace(outcome(0.1, human), sentences=(lone,))

    recorded = [held(0.95, "reject"), held(0.95, "approve"), held(0.7, "reject"), outcome(0.1, "approve")]
    at_reject = preview(policy(), recorded)
    assert at_reject["sentence_holds"] == {"count": 2, "share": 0.5, "verdicts": 2, "precision": 0.5}
    assert at_reject["actions"]["review"]["count"] == 2 and at_reject["actions"]["approve"]["count"] == 2
    at_review = preview(policy(sentence_holds="review"), recorded)
    assert at_review["sentence_holds"]["count"] == 3 and at_review["actions"]["approve"]["count"] == 1
    off = preview(policy(sentence_holds="off"), recorded)
    assert off["sentence_holds"]["count"] == 0 and off["actions"]["approve"]["count"] == 4
    # A comment its own scores reject stays rejected, whatever its sentences say.
    rejected = preview(policy(), [replace(held(0.95, None), scores={"toxicity": 0.95})])
    assert rejected["actions"]["reject"]["count"] == 1 and rejected["sentence_holds"]["count"] == 1


def test_preview_of_nothing():
    result = preview(default_policy(MODEL), iter([]))
    assert result["total"] == 0
    assert result["actions"]["approve"] == {"count": 0, "share": 0.0, "verdicts": 0, "precision": None}


def test_preview_refuses_an_unknown_human_action():
    with pytest.raises(ValueError, match="human_action"):
        preview(default_policy(MODEL), [outcome(0.5, "review")])


@pytest.mark.parametrize(
    ("text", "term"),
    [("I will killlll you", "kill"), ("what an asssshole", "asshole"), ("stuuuupid", "stupid")],
)
def test_a_stretched_term_matches_even_when_it_doubles_a_letter(text: str, term: str):
    assert matched_terms(text, ("idiot", term)) == (term,)
    blocked = verdict(text, under=policy(blocked_terms=(term,)))
    assert "blocked_term" in kinds(blocked.reasons)


def test_queue_priority_puts_urgent_holds_first_and_otherwise_follows_the_deciding_score() -> None:
    from moderation.policy import URGENT_PRIORITY, queue_priority

    scores = {"toxicity": 0.4, "insult": 0.7, "threat": 0.3, "severe_toxicity": 0.2}
    assert queue_priority(scores, "toxicity") == 0.4  # the category that held it, not the top score
    assert queue_priority(scores, None) == 0.7
    assert queue_priority({}, None) == 0.0
    assert queue_priority(scores, "insult", urgent=True) == URGENT_PRIORITY + 0.3  # by its urgent categories
    assert queue_priority(scores, "threat", urgent=True) > queue_priority({"insult": 0.99}, "insult")
