"""The moderation policy: what it holds, the per-comment decision, a preview (its document: policy_document.py)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Literal

from model.categories import CATEGORIES, REPORTED_ONLY_BY_DEFAULT
from model.normalize import normalize_text
from model.types import LoneSentence, Span, Thresholds

ACTIONS: tuple[str, ...] = ("approve", "review", "reject")
STATUS_FOR_ACTION: dict[str, str] = {"approve": "approved", "review": "queued", "reject": "rejected"}
SEVERITY: dict[str, int] = {action: rank for rank, action in enumerate(ACTIONS)}
THRESHOLD_KEYS: tuple[str, ...] = ("reject", "review")


# Bounds of the policy's whole numbers: generous, but a date window must stay a date (and counts stay counts).
MAX_COUNT = 1_000_000
MAX_REJECTION_DAYS = 3650
# Entries of `blocked_terms` and of `watched_terms`, each, before duplicates are dropped.
MAX_TERMS = 10_000


# Where a lone sentence of a long comment holds it (Policy.sentence_holds).
SentenceHolds = Literal["reject", "review", "off"]


@dataclass(frozen=True)
class Policy:
    """Everything that turns scores and facts about a comment into approve, review or reject."""

    thresholds: Thresholds
    sections: dict[str, Thresholds]
    blocked_terms: tuple[str, ...] = ()
    watched_terms: tuple[str, ...] = ()
    max_links: int | None = 2
    new_author_reviews: int = 0
    recent_rejections: int = 2
    recent_rejection_days: int = 30
    known_languages: tuple[str, ...] = ("en",)
    shadow_mode: bool = False
    # Which threshold a lone sentence of a long comment (CommentFacts.sentences) must reach to hold the comment for
    # review: "reject" (default), "review" (holds more: more abuse inside long comments, and more quotations of
    # it), or "off".
    sentence_holds: SentenceHolds = "reject"

    @cached_property
    def term_matcher(self) -> TermMatcher:
        """The blocked and watched terms compiled once for this policy, on first use."""
        return TermMatcher(self.blocked_terms, self.watched_terms)


@dataclass(frozen=True)
class CommentFacts:
    """What the policy needs to know about one comment besides its scores."""

    text: str
    section: str | None = None
    lang: str | None = None
    scored_chars: int | None = None  # set when the model (and the term lists) read only this long a prefix
    sentences: tuple[LoneSentence, ...] = ()  # sentences the model also read on their own (ScoreResult.sentences)


@dataclass(frozen=True)
class AuthorHistory:
    """What the policy needs to know about the comment's author, counted by the caller."""

    comments: int = 0
    recent_rejections: int = 0


@dataclass(frozen=True)
class Reason:
    """One thing that fired during a decision, and the action it argues for."""

    kind: str
    action: str
    detail: str
    category: str | None = None
    value: float | None = None
    threshold: float | None = None
    term: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "action": self.action,
            "detail": self.detail,
            "category": self.category,
            "value": None if self.value is None else round(self.value, 4),
            "threshold": None if self.threshold is None else round(self.threshold, 4),
            "term": self.term,
        }


# Categories whose held comments a moderator should see first: the model may not be precise enough to reject them
# alone (the model card says where), and they are the ones that can mean harm to someone.
URGENT_CATEGORIES = ("threat", "severe_toxicity")
URGENT_PRIORITY = 1.0  # an urgent hold's queue priority is this plus its score (scores are at most 1)


# Reasons the model gives (its scores of the comment, and of a sentence of it read alone), as against the policy's
# own rules: on a tie of actions a rule's reason comes first, and a verdict is the model's when one of these decides.
MODEL_REASONS = ("score", "sentence")
# How much of a lone sentence a reason quotes.
QUOTED_CHARS = 120


def queue_priority(scores: Mapping[str, float], top_category: str | None, urgent: bool = False) -> float:
    """A queue item's order: the deciding category's score (else the top score), plus URGENT_PRIORITY (ahead of
    every other item) for an urgent hold, ordered by its urgent categories' score."""
    if urgent:
        return URGENT_PRIORITY + max(float(scores.get(c, 0.0)) for c in URGENT_CATEGORIES)
    if top_category is not None and top_category in scores:
        return float(scores[top_category])
    return max((float(s) for s in scores.values()), default=0.0)


@dataclass(frozen=True)
class Verdict:
    """The outcome of applying a policy to one comment."""

    action: str
    status: str
    decided_by: str
    reasons: tuple[Reason, ...]
    would_action: str
    thresholds: Thresholds
    top_category: str | None
    # Held for a person on a threat or severe-toxicity score: the queue puts it before everything else.
    urgent: bool = False
    # The lone sentences that hold the comment, one span per category they hold it on (weight 1: the sentence
    # alone), for the answer's highlights beside the model's own spans.
    sentence_spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class RecordedOutcome:
    """A past comment's scores and, if a moderator ruled on it, their verdict."""

    scores: Mapping[str, float]
    section: str | None
    human_action: str | None
    sentences: tuple[LoneSentence, ...] = ()  # the lone sentences the cascade read, if any


# ---------------------------------------------------------------------------
# Document format and validation


def default_policy(model_thresholds: Thresholds) -> Policy:
    """The policy in force before any admin changes it: the model card's thresholds (none for the categories
    REPORTED_ONLY_BY_DEFAULT), default rules."""
    return Policy(thresholds=_model_defaults(model_thresholds), sections={})


def effective_thresholds(policy: Policy, section: str | None) -> Thresholds:
    """The thresholds in force for a section: the policy's, with that section's overrides laid over them."""
    thresholds = _copy_thresholds(policy.thresholds)
    overrides = policy.sections.get(section, {}) if section is not None else {}
    for category, limits in overrides.items():
        thresholds.setdefault(category, {"reject": None, "review": None}).update(limits)
    return thresholds


def _model_defaults(model_thresholds: Thresholds) -> Thresholds:
    return {
        category: {
            key: None if category in REPORTED_ONLY_BY_DEFAULT else model_thresholds.get(category, {}).get(key)
            for key in THRESHOLD_KEYS
        }
        for category in CATEGORIES
    }


def _copy_thresholds(thresholds: Thresholds) -> Thresholds:
    return {category: dict(limits) for category, limits in thresholds.items()}


# ---------------------------------------------------------------------------
# The decision


def decide(scores: Mapping[str, float], policy: Policy, comment: CommentFacts, author: AuthorHistory) -> Verdict:
    """Decide what to do with one comment under a policy, recording every reason that fired."""
    thresholds = effective_thresholds(policy, comment.section)
    score_reasons = _score_reasons(scores, thresholds)
    holding = _holding_sentences(comment.sentences, thresholds, policy.sentence_holds)
    score_reasons += [_sentence_reason(held, policy.sentence_holds) for held in holding]
    rule_reasons = _rule_reasons(policy, comment, author)

    if any(reason.kind == "language" for reason in rule_reasons) and not any(
        reason.action == "reject" for reason in rule_reasons
    ):
        # Outside its languages the model cannot be trusted to reject alone; a human looks instead.
        score_reasons = [_downgrade_to_review(reason) for reason in score_reasons]

    # Strongest action first; on a tie a rule comes before a score, so reasons[0] is what decided.
    reasons = sorted(
        rule_reasons + score_reasons,
        key=lambda reason: (-SEVERITY[reason.action], reason.kind in MODEL_REASONS),
    )
    would_action = reasons[0].action if reasons else "approve"
    decided_by = "rule" if reasons and reasons[0].kind not in MODEL_REASONS else "model"
    action = would_action
    if policy.shadow_mode:
        action = "approve"
        decided_by = "rule"
        reasons.insert(
            0,
            Reason(
                kind="shadow_mode",
                action="approve",
                detail=f"shadow mode: approved without enforcing; the policy would {would_action}",
            ),
        )
    return Verdict(
        action=action,
        status=STATUS_FOR_ACTION[action],
        decided_by=decided_by,
        reasons=tuple(reasons),
        would_action=would_action,
        thresholds=thresholds,
        top_category=_top_category(scores, thresholds) or _first_sentence_category(reasons),
        urgent=action == "review"
        and (
            any(r.kind in MODEL_REASONS and r.category in URGENT_CATEGORIES for r in reasons)
            or _held_by_a_threatening_sentence(holding, comment.sentences, thresholds)
        ),
        sentence_spans=tuple(
            Span(held.category, held.sentence.start, held.sentence.end, held.sentence.text, 1.0, stage=2)
            for held in holding
        ),
    )


def _held_by_a_threatening_sentence(
    holding: Sequence[_HoldingSentence], sentences: Iterable[LoneSentence], thresholds: Thresholds
) -> bool:
    """Whether lone sentences hold the comment and one of them, alone, reaches the review threshold of an urgent
    category (threat and severe toxicity often have no reject threshold, so they cannot hold it themselves)."""
    if not holding:
        return False
    reviews = {c: thresholds.get(c, {}).get("review") for c in URGENT_CATEGORIES}
    return any(
        review is not None and sentence.scores.get(category, 0.0) >= review
        for sentence in sentences
        for category, review in reviews.items()
    )


def _score_action(score: float, limits: Mapping[str, float | None]) -> str | None:
    reject, review = limits.get("reject"), limits.get("review")
    if reject is not None and score >= reject:
        return "reject"
    if review is not None and score >= review:
        return "review"
    return None


def _score_reasons(scores: Mapping[str, float], thresholds: Thresholds) -> list[Reason]:
    reasons: list[tuple[float, Reason]] = []
    for category, limits in thresholds.items():
        score = scores.get(category)
        if score is None:
            continue
        action = _score_action(score, limits)
        if action is None:
            continue
        threshold = limits[action]
        assert threshold is not None  # _score_action only returns an action whose threshold is set
        reason = Reason(
            kind="score",
            action=action,
            detail=f"{category} {_fmt(score, threshold)} ≥ {action} threshold {_fmt(threshold, score)}",
            category=category,
            value=score,
            threshold=threshold,
        )
        reasons.append((_relative(score, threshold), reason))
    # Within an action, the score furthest past its threshold comes first.
    return [reason for _, reason in sorted(reasons, key=lambda pair: -pair[0])]


@dataclass(frozen=True)
class _HoldingSentence:
    """A lone sentence past the threshold it holds at, in one category."""

    category: str
    sentence: LoneSentence
    score: float
    limit: float


def _holding_sentences(
    sentences: Iterable[LoneSentence], thresholds: Thresholds, holds_at: str
) -> list[_HoldingSentence]:
    """Per category, the lone sentence furthest past its `holds_at` threshold ("reject" or "review"; "off": none),
    furthest first."""
    if holds_at not in THRESHOLD_KEYS:
        return []
    furthest: dict[str, tuple[float, _HoldingSentence]] = {}
    for sentence in sentences:
        for category, limits in thresholds.items():
            limit, score = limits.get(holds_at), sentence.scores.get(category)
            if limit is None or score is None or score < limit:
                continue
            relative = _relative(score, limit)
            if category not in furthest or relative > furthest[category][0]:
                furthest[category] = (relative, _HoldingSentence(category, sentence, score, limit))
    return [held for _, held in sorted(furthest.values(), key=lambda item: -item[0])]


def _sentence_reason(held: _HoldingSentence, holds_at: str) -> Reason:
    """A reason to review (never to reject: out of its comment a sentence may be a quotation the comment opposes)."""
    sentence, score, limit = held.sentence, held.score, held.limit
    quoted = sentence.text if len(sentence.text) <= QUOTED_CHARS else sentence.text[: QUOTED_CHARS - 1] + "…"
    return Reason(
        kind="sentence",
        action="review",
        detail=f"the sentence “{quoted}” (characters {sentence.start}-{sentence.end}), read on its own: "
        f"{held.category} {_fmt(score, limit)} ≥ {holds_at} threshold {_fmt(limit, score)}; held for a person, as "
        "the comment around it may quote it to oppose it",
        category=held.category,
        value=score,
        threshold=limit,
    )


def _first_sentence_category(reasons: Iterable[Reason]) -> str | None:
    """The category of the first lone-sentence reason, for a comment only its sentences hold."""
    return next((reason.category for reason in reasons if reason.kind == "sentence"), None)


def held_scores(scores: Mapping[str, float], sentences: Iterable[LoneSentence]) -> dict[str, float]:
    """Per category, the highest of the comment's score and its lone sentences' (what orders a held comment)."""
    highest = dict(scores)
    for sentence in sentences:
        for category, score in sentence.scores.items():
            highest[category] = max(highest.get(category, 0.0), score)
    return highest


def _downgrade_to_review(reason: Reason) -> Reason:
    if reason.action != "reject":
        return reason
    return replace(
        reason,
        action="review",
        detail=reason.detail + "; sent to review because the model does not know this language",
    )


def _top_category(scores: Mapping[str, float], thresholds: Thresholds) -> str | None:
    top, top_relative = None, -math.inf
    for category, limits in thresholds.items():
        score = scores.get(category)
        if score is None or _score_action(score, limits) is None:
            continue
        # Queues filter on what is most over the line to be looked at, which is the review threshold.
        floor = next(limit for limit in (limits.get("review"), limits.get("reject")) if limit is not None)
        relative = _relative(score, floor)
        if relative > top_relative:
            top, top_relative = category, relative
    return top


def _relative(value: float, threshold: float) -> float:
    # A zero threshold fires on everything; rank it by the score itself rather than dividing by zero.
    return value / threshold if threshold > 0 else value * 1e9


def _rule_reasons(policy: Policy, comment: CommentFacts, author: AuthorHistory) -> list[Reason]:
    reasons: list[Reason] = []
    blocked, watched = policy.term_matcher.find(comment.text)
    for term in blocked:
        reasons.append(Reason("blocked_term", "reject", f"contains the blocked term “{term}”", term=term))
    for term in watched:
        reasons.append(Reason("watched_term", "review", f"contains the watched term “{term}”", term=term))

    if policy.max_links is not None:
        links = count_links(comment.text)
        if links > policy.max_links:
            reasons.append(
                Reason(
                    "links",
                    "review",
                    f"{links} links, more than the {policy.max_links} allowed",
                    value=links,
                    threshold=policy.max_links,
                )
            )

    if policy.new_author_reviews > 0 and author.comments < policy.new_author_reviews:
        reasons.append(
            Reason(
                "new_author",
                "review",
                f"the author's comment number {author.comments + 1}; "
                f"an author's first {policy.new_author_reviews} are reviewed",
                value=author.comments,
                threshold=policy.new_author_reviews,
            )
        )

    if policy.recent_rejections > 0 and author.recent_rejections >= policy.recent_rejections:
        reasons.append(
            Reason(
                "author_rejections",
                "review",
                f"the author had {author.recent_rejections} comments rejected in the last "
                f"{policy.recent_rejection_days} days (review from {policy.recent_rejections})",
                value=author.recent_rejections,
                threshold=policy.recent_rejections,
            )
        )

    if comment.scored_chars is not None:
        # Padding that normalization expands (U+FDFA is 18 characters) must not hide what follows it: a person reads.
        reasons.append(
            Reason(
                "truncated",
                "review",
                f"only the first {comment.scored_chars:,} characters were scored: the rest, once normalized, "
                "was too long to read",
                value=comment.scored_chars,
            )
        )

    language = _language_reason(comment, policy.known_languages)
    if language is not None:
        reasons.append(language)
    return reasons


# ---------------------------------------------------------------------------
# Terms, links and languages


def matched_terms(text: str, terms: tuple[str, ...]) -> tuple[str, ...]:
    """The terms that occur in the text as whole words, after both are normalized against evasion."""
    return _matcher_for(tuple(terms)).find(text)[0]


@lru_cache(maxsize=64)
def _matcher_for(terms: tuple[str, ...]) -> TermMatcher:
    return TermMatcher(terms, ())


_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=2 * MAX_TERMS)
def _term_words(term: str) -> tuple[str, ...]:
    """A term's words once normalized; cached, so parsing a policy and building its matcher normalize it once."""
    return tuple(_WORD.findall(normalize_text(term)))


class _TrieNode:
    """One word of a term in the matcher's trie: the words that may follow, and the terms that end here."""

    __slots__ = ("following", "ends")

    def __init__(self) -> None:
        self.following: dict[str, _TrieNode] = {}
        self.ends: list[tuple[int, int]] = []  # (which term list, position in it)


class TermMatcher:
    """Whole-word matching of term lists (blocked, watched) in one pass over a comment's normalized words.

    Built in one pass over the terms: a trie of their words, and those words as the lexicon that resolves
    stretched letters ("killlll" read as the term "kill", not as "kil"). Matching walks the trie from each word
    of the text, so its cost depends on the text and the longest term, not on how many terms there are.
    """

    def __init__(self, *term_lists: tuple[str, ...]) -> None:
        self.term_lists = tuple(tuple(terms) for terms in term_lists)
        self._root = _TrieNode()
        words: set[str] = set()
        for list_index, terms in enumerate(self.term_lists):
            for order, term in enumerate(terms):
                term_words = _term_words(term)
                if not term_words:
                    continue
                words.update(term_words)
                node = self._root
                for word in term_words:
                    node = node.following.setdefault(word, _TrieNode())
                node.ends.append((list_index, order))
        known = frozenset(words)
        self.lexicon: Callable[[str], float | None] = lambda word: 0.0 if word in known else None

    def find(self, text: str) -> tuple[tuple[str, ...], ...]:
        """Per term list, the terms the text holds as whole words, in the list's order."""
        found: tuple[set[int], ...] = tuple(set() for _ in self.term_lists)
        if self._root.following:
            # Words are runs of letters and digits, so a term only ever matches whole words ("ass" not in "class").
            words = _WORD.findall(normalize_text(text, self.lexicon))
            for start in range(len(words)):
                node = self._root.following.get(words[start])
                position = start
                while node is not None:
                    for list_index, order in node.ends:
                        found[list_index].add(order)
                    position += 1
                    node = node.following.get(words[position]) if position < len(words) else None
        return tuple(
            tuple(terms[order] for order in sorted(hits)) for terms, hits in zip(self.term_lists, found, strict=True)
        )


# Without a path, only these endings count: "sentence.Me too" is a missing space, not a link.
_COMMON_TLDS = "com|net|org|info|biz|io|ru|xyz|top|online|site|shop|club|store"
_LINK = re.compile(
    r"https?://(?:(?!https?://)[^\s<>\"'])*"
    r"|(?<![\w@.-])www\.[^\s<>\"']+"
    r"|(?<![\w@.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/[^\s<>\"']*"
    rf"|(?<![\w@.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{_COMMON_TLDS})(?![\w@-])",
    re.IGNORECASE,
)


# Every kind of link above has "://", "www." or a dot followed by a letter; most comments have none.
_MAY_HOLD_LINK = re.compile(r"://|www\.|\.[a-z]", re.IGNORECASE)


def count_links(text: str) -> int:
    """How many links the text holds: http(s) URLs, www. addresses and bare domains."""
    if _MAY_HOLD_LINK.search(text) is None:
        return 0
    return sum(1 for _ in _LINK.finditer(text))


def primary_language(lang: str | None) -> str | None:
    """The primary subtag of a BCP 47 tag, lower-cased ("en-GB" → "en"), or None when there is none."""
    if lang is None:
        return None
    primary = re.split(r"[-_]", lang.strip(), maxsplit=1)[0].lower()
    # "und" is BCP 47 for "undetermined": no better than no tag at all.
    return primary if primary and primary != "und" else None


def non_latin_share(text: str) -> float:
    """The share of the text's letters that are not Latin script (0 when it has no letters)."""
    if text.isascii():
        return 0.0  # every ASCII letter is Latin; this skips the per-character loop for most comments
    letters = non_latin = 0
    for char, count in Counter(text).items():  # each distinct character looked up once
        if not char.isalpha():
            continue
        letters += count
        if not char.isascii() and "LATIN" not in unicodedata.name(char, ""):
            non_latin += count
    return non_latin / letters if letters else 0.0


def _language_reason(comment: CommentFacts, known_languages: tuple[str, ...]) -> Reason | None:
    known = ", ".join(known_languages) or "none"
    primary = primary_language(comment.lang)
    if primary is not None:
        if primary in known_languages:
            return None
        return Reason(
            "language",
            "review",
            f"language “{comment.lang}” is not one the model knows ({known})",
        )
    share = non_latin_share(comment.text)
    if share <= 0.5:
        return None
    return Reason(
        "language",
        "review",
        f"no language given and {share:.0%} of the letters are not Latin script, "
        f"so taken as a language the model does not know ({known})",
        value=share,
        threshold=0.5,
    )


# ---------------------------------------------------------------------------
# Preview for the admin page


def preview(policy: Policy, outcomes: Iterable[RecordedOutcome]) -> dict[str, object]:
    """What the policy's score thresholds and sentence holds would have done to recorded comments, and how
    moderators ruled."""
    overall = {action: _Tally() for action in ACTIONS}
    per_category = {category: {"reject": _Tally(), "review": _Tally()} for category in policy.thresholds}
    sentence_held = _Tally()
    total = with_verdict = 0
    for outcome in outcomes:
        if outcome.human_action not in (None, "approve", "reject"):
            raise ValueError(f"human_action must be approve, reject or None, not {outcome.human_action!r}")
        total += 1
        with_verdict += outcome.human_action is not None
        thresholds = effective_thresholds(policy, outcome.section)
        action = "approve"
        for category, limits in thresholds.items():
            score = outcome.scores.get(category)
            category_action = None if score is None else _score_action(score, limits)
            if category_action is None:
                continue
            per_category.setdefault(category, {"reject": _Tally(), "review": _Tally()})
            per_category[category][category_action].add(outcome.human_action, category_action)
            if SEVERITY[category_action] > SEVERITY[action]:
                action = category_action
        if _holding_sentences(outcome.sentences, thresholds, policy.sentence_holds):
            sentence_held.add(outcome.human_action, "review")
            action = "review" if action == "approve" else action
        overall[action].add(outcome.human_action, action)
    return {
        "total": total,
        "with_verdict": with_verdict,
        "actions": {action: tally.summary(total) for action, tally in overall.items()},
        "sentence_holds": sentence_held.summary(total),
        "categories": {
            category: {action: tally.summary(total) for action, tally in tallies.items()}
            for category, tallies in per_category.items()
        },
    }


class _Tally:
    """Counts for one would-be action: rows, rows with a verdict, verdicts that agreed."""

    def __init__(self) -> None:
        self.count = 0
        self.verdicts = 0
        self.agreed = 0

    def add(self, human_action: str | None, action: str) -> None:
        self.count += 1
        if human_action is None:
            return
        self.verdicts += 1
        # A queued comment was worth queueing when the moderator removed it.
        self.agreed += human_action == ("approve" if action == "approve" else "reject")

    def summary(self, total: int) -> dict[str, object]:
        return {
            "count": self.count,
            "share": self.count / total if total else 0.0,
            "verdicts": self.verdicts,
            "precision": self.agreed / self.verdicts if self.verdicts else None,
        }


def _fmt(value: float, other: float | None = None) -> str:
    """A number with two decimals, or more when two would make it look equal to the one beside it."""
    for decimals in range(2, 7):
        if other is None or value == other or round(value, decimals) != round(other, decimals):
            return f"{value:.{decimals}f}"
    return repr(value)
