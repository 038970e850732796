"""The cascade's routing rule and score merge: stage 2 reads only the comments stage 1 cannot clear.

Stage 1 clears a comment when every category stage 2 decides scores at or below its clear bound and the text
uses none of the routing word lists (by default: the site's groups, public offices, violence words and slurs).
The bounds are chosen when stage 2 is attached, from a budget: each bound is one common fraction (a hundredth
step) of stage 1's review threshold, the lowest fraction (so the most comments read twice) that keeps the share
of a site-like stream routed to stage 2 within DEFAULT_ROUTE_BUDGET. Pure functions only; the settings live in
the model file's manifest.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.categories import CATEGORIES
from model.sentences import sentence_ranges

# Share of a site-like stream (8 % abusive) stage 2 may read, as the speed targets assume.
DEFAULT_ROUTE_BUDGET = 0.25
STREAM_ABUSIVE_SHARE = 0.08
# Fractions of the review threshold tried as clear bounds, lowest first (the first within the budget is kept).
REVIEW_FRACTIONS = tuple(round(0.01 * k, 2) for k in range(1, 101))
# Stage 1 keeps the final say on these by default: the exported encoders are weak on spam (links, promotions).
DEFAULT_STAGE1_CATEGORIES: tuple[str, ...] = ("spam",)
# The bound used without labelled rows to measure bounds on (never above the review threshold).
FALLBACK_CLEAR_BOUND = 0.05
# Most passages of a long comment a cascade may read (CascadeSettings.passages; 4 of stage 2's 94-token windows
# cover about 1,500 characters of English).
MOST_PASSAGES = 16
# Lone sentences (CascadeSettings.sentences): inside one read, stage 2's mean over its tokens thins a short line of
# abuse out among harmless ones ("Someone should put a bullet in Lavrov's head." after a paragraph of news was
# approved). So in a routed comment of at least LONE_SENTENCE_MIN_CHARS characters, each sentence that is at most
# a third of it (LONE_SENTENCE_MOST_SHARE) and at most LONE_SENTENCE_MAX_CHARS may be read on its own; the first
# LONE_SENTENCES_LOOKED_AT sentences are looked at. Both bound what a long hostile text costs stage 1.
MOST_SENTENCES = 8
LONE_SENTENCE_MIN_CHARS = 250
LONE_SENTENCE_MOST_SHARE = 1 / 3
LONE_SENTENCE_MAX_CHARS = 300
LONE_SENTENCES_LOOKED_AT = 16


def _forms(*words: str) -> frozenset[str]:
    return frozenset(words)


# The site's groups, as nouns (singular and plural) and adjectives.
GROUP_WORDS = _forms(
    "armenian", "armenians", "armenia", "azerbaijani", "azerbaijanis", "azeri", "azeris", "azerbaijan",
    "turk", "turks", "turkish", "russian", "russians", "iranian", "iranians", "persian", "persians",
    "georgian", "georgians", "kurd", "kurds", "kurdish", "jew", "jews", "jewish", "jewry", "zionist", "zionists",
    "muslim", "muslims", "moslem", "moslems", "islam", "islamic", "christian", "christians", "christianity",
    "woman", "women", "female", "females", "girl", "girls", "feminist", "feminists",
    "gay", "gays", "lesbian", "lesbians", "homosexual", "homosexuals", "queer", "queers", "lgbt", "lgbtq",
    "trans", "transgender", "transgenders", "tranny", "trannies",
    "immigrant", "immigrants", "migrant", "migrants", "refugee", "refugees", "foreigner", "foreigners",
    "black", "blacks", "disabled", "handicapped", "cripple", "cripples", "autistic",
)  # fmt: skip
# Words addressing or naming a person: second-person pronouns and the titles of people the site writes about.
PERSON_WORDS = _forms(
    "you", "your", "yours", "yourself", "yourselves", "ya", "u", "ur", "thou", "thee",
    "minister", "president", "prime", "mayor", "senator", "deputy", "ambassador", "governor", "mp",
    "mr", "mrs", "ms", "sir", "madam", "author", "journalist", "reporter",
)  # fmt: skip
# Public offices the site's articles name (without "you", which is in most long comments): a threat at an office
# holder often has no violence word ("whoever blows up the minister's motorcade ...") and scores low in stage 1.
# Words common in other senses ("general", "official", "judge", "king", "mr") are left out: they route ordinary talk.
OFFICE_WORDS = _forms(
    "minister", "ministers", "president", "presidents", "premier", "chancellor", "mayor", "senator", "senators",
    "congressman", "congresswoman", "deputy", "deputies", "ambassador", "ambassadors", "governor", "governors",
    "mp", "mps", "chairman", "chairwoman", "spokesman", "spokeswoman", "spokesperson", "secretary", "speaker",
    "leader", "leaders", "emir", "ayatollah", "envoy", "negotiator", "negotiators", "diplomat", "diplomats",
    "lawmaker", "lawmakers", "politician", "politicians", "councillor", "commissioner", "prosecutor",
)  # fmt: skip
VIOLENCE_WORDS = _forms(
    "kill", "kills", "killed", "killing", "killer", "murder", "murders", "murdered", "shoot", "shoots", "shot",
    "shooting", "bullet", "bullets", "gun", "guns", "hang", "hanged", "hanging", "lynch", "lynched", "burn",
    "burns", "burned", "burnt", "burning", "bomb", "bombs", "bombed", "bombing", "stab", "stabbed", "knife",
    "behead", "beheaded", "slaughter", "slaughtered", "massacre", "genocide", "exterminate", "execute",
    "executed", "die", "dies", "dead", "death", "rape", "raped", "strangle", "drown", "torture", "beat",
    "rifle", "pistol", "sniper", "noose", "grave", "graves", "coffin", "bleed", "assassinate", "assassinated",
    "explode", "ambush", "strangled", "stabbing", "butcher", "butchered", "gassed", "exterminated",
    "extermination", "exterminating", "pogrom", "pogroms", "purge", "cleanse", "cleansing", "lynching",
    "execution", "gunned", "murdering", "beheading", "firebomb", "machete", "slit", "slits", "maim", "maimed",
    "assassin", "assassins", "assassination", "hitman", "bloodbath",
)  # fmt: skip
# Slurs for groups, written for this project (none of them is one of the functional suite's test slurs), with
# their plurals: stage 2 learns them from our sentences (model/stage2/synthetic.py) and the cascade routes on them.
SLURS: tuple[tuple[str, str], ...] = (
    ("moskal", "moskali"), ("ruskie", "ruskies"), ("khokhol", "khokhly"), ("zhid", "zhidy"), ("heeb", "heebs"),
    ("hymie", "hymies"), ("chink", "chinks"), ("gook", "gooks"), ("spic", "spics"), ("beaner", "beaners"),
    ("paki", "pakis"), ("polack", "polacks"), ("gyppo", "gyppos"), ("pikey", "pikeys"), ("skank", "skanks"),
    ("poofter", "poofters"), ("spaz", "spazzes"), ("mong", "mongs"), ("jigaboo", "jigaboos"), ("sambo", "sambos"),
    ("sandnigger", "sandniggers"), ("goatfucker", "goatfuckers"), ("honky", "honkies"), ("kraut", "krauts"),
    ("camel jockey", "camel jockeys"),
)  # fmt: skip
# The one-word slurs in both numbers (routing matches single words).
SLUR_WORDS = frozenset(form for pair in SLURS for form in pair if " " not in form)
ROUTE_WORD_LISTS: dict[str, tuple[frozenset[str], str]] = {
    "group": (GROUP_WORDS, "names a group"),
    "person": (PERSON_WORDS, "addresses a person"),
    "office": (OFFICE_WORDS, "names an office"),
    "violence": (VIOLENCE_WORDS, "violence word"),
    "slur": (SLUR_WORDS, "slur"),
}


# The lists files attached before the word lists could be chosen routed on.
FIRST_ROUTE_WORDS: tuple[str, ...] = ("group", "person", "violence")


def recorded_lexicons(route_words: Iterable[str]) -> dict[str, frozenset[str]]:
    """The words of each named list as this code has them, to be sealed into a model file with its routing."""
    return {name: ROUTE_WORD_LISTS[name][0] for name in route_words}


# "person" is off by default: "you" is in most long comments, and routing on it sent ~95 % of a stream to stage 2.
DEFAULT_ROUTE_WORDS: tuple[str, ...] = ("group", "office", "violence", "slur")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class RouteDecision:
    """Whether stage 2 must read a comment, and why (one short phrase)."""

    run_stage2: bool
    why: str


@dataclass(frozen=True)
class CascadeSettings:
    """How a model file's cascade routes and merges: the clear bounds and which categories stage 2 decides."""

    clear_bounds: dict[str, float]  # per category stage 2 decides
    stage2_categories: tuple[str, ...]
    bounds_from: str  # how the bounds were chosen, for the manifest's readers
    route_words: tuple[str, ...] = FIRST_ROUTE_WORDS  # names in ROUTE_WORD_LISTS
    routing: dict[str, Any] | None = None  # what was measured when the bounds were chosen
    # Per category stage 2 decides: (stage 1 weight, stage 2 weight, intercept) on the two stages' log-odds, fitted
    # on held-out rows stage 2 read (fit_blend). Without one, a category's final score is stage 2's probability.
    blend: dict[str, tuple[float, float, float]] | None = None
    # The words of each list in route_words as they were when the routing was measured, so a later edit of the
    # lists in this module does not move a shipped model's routing. None (files attached before they were
    # recorded): the lists in this module.
    route_lexicons: Mapping[str, frozenset[str]] | None = None
    # How many passages of a routed comment stage 2 may read (model/scorer.py): a comment longer than its window
    # is cut at word starts into windows of at most its max_length tokens, and stage 2 reads the first and each of
    # the next `passages` - 1 that stage 1 cannot clear by itself, its score the highest over them. Routing and
    # stage 1's scores stay the whole text's. 1 (files attached before passages): the first window only.
    passages: int = 1
    # How many lone sentences of a long routed comment stage 2 reads on its own (model/scorer.py): of those
    # LONE_SENTENCE_MOST_SHARE of the comment or shorter that stage 1 cannot clear by itself, the ones it scores
    # highest against their clear bounds, in a comment none of whose final scores reaches its review threshold
    # (a sentence can only hold a comment). They change no score: the policy holds the comment for a person when
    # one of them alone reaches a reject threshold (a sentence out of context may be a quotation being opposed,
    # so it never rejects). 0 (files attached before lone sentences): none.
    sentences: int = 0

    def route(self, text: str, stage1_scores: Mapping[str, float]) -> RouteDecision:
        """Whether stage 2 reads this comment under these settings (module-level `route`)."""
        return route(text, stage1_scores, self.clear_bounds, self.route_words, self.route_lexicons)

    def repaired_words(self) -> frozenset[str]:
        """Words whose misspellings are read as the words: the slurs this cascade routes on, if it routes on them."""
        if "slur" not in self.route_words:
            return frozenset()
        return list_words("slur", self.route_lexicons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clear_bounds": dict(self.clear_bounds),
            "stage2_categories": list(self.stage2_categories),
            "bounds_from": self.bounds_from,
            "route_words": list(self.route_words),
            "routing": self.routing,
            **({"blend": {c: list(w) for c, w in self.blend.items()}} if self.blend else {}),
            **(
                {"route_lexicons": {n: sorted(w) for n, w in self.route_lexicons.items()}}
                if self.route_lexicons is not None
                else {}
            ),
            **({"passages": self.passages} if self.passages != 1 else {}),
            **({"sentences": self.sentences} if self.sentences else {}),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> CascadeSettings:
        """Settings read from a manifest's stage2 section; ValueError when they are incomplete or out of range."""
        decided = document.get("stage2_categories")
        bounds = document.get("clear_bounds")
        if not isinstance(decided, list) or not decided or not set(decided) <= set(CATEGORIES):
            raise ValueError(f"stage2_categories must name some of {list(CATEGORIES)}, not {decided!r}")
        if not isinstance(bounds, dict) or set(bounds) != set(decided):
            raise ValueError("clear_bounds must give one bound for each category stage 2 decides")
        for category, bound in bounds.items():
            if isinstance(bound, bool) or not isinstance(bound, int | float) or not 0.0 <= bound <= 1.0:
                raise ValueError(f"the clear bound of {category} must be a probability, not {bound!r}")
        words = document.get("route_words", list(FIRST_ROUTE_WORDS))
        if not isinstance(words, list) or not set(words) <= set(ROUTE_WORD_LISTS):
            raise ValueError(f"route_words must name some of {list(ROUTE_WORD_LISTS)}, not {words!r}")
        routing = document.get("routing")
        passages = document.get("passages", 1)
        if isinstance(passages, bool) or not isinstance(passages, int) or not 1 <= passages <= MOST_PASSAGES:
            raise ValueError(f"passages must be a whole number from 1 to {MOST_PASSAGES}, not {passages!r}")
        sentences = document.get("sentences", 0)
        if isinstance(sentences, bool) or not isinstance(sentences, int) or not 0 <= sentences <= MOST_SENTENCES:
            raise ValueError(f"sentences must be a whole number from 0 to {MOST_SENTENCES}, not {sentences!r}")
        ordered = tuple(c for c in CATEGORIES if c in decided)
        return cls(
            {c: float(bounds[c]) for c in ordered},
            ordered,
            str(document.get("bounds_from", "")),
            tuple(w for w in ROUTE_WORD_LISTS if w in words),
            routing if isinstance(routing, dict) else None,
            _blend_from(document.get("blend"), ordered),
            _lexicons_from(document.get("route_lexicons"), words),
            passages,
            sentences,
        )


def _lexicons_from(document: object, route_words: Sequence[str]) -> dict[str, frozenset[str]] | None:
    """A manifest's recorded word lists, checked: one list of lower-case words per name in route_words."""
    if document is None:
        return None
    if not isinstance(document, dict) or set(document) != set(route_words):
        raise ValueError(f"route_lexicons must give the words of each of {list(route_words)}")
    lexicons: dict[str, frozenset[str]] = {}
    for name, words in document.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w and w == w.casefold() for w in words):
            raise ValueError(f"the route lexicon {name!r} must be a list of lower-case words")
        lexicons[name] = frozenset(words)
    return lexicons


def _blend_from(document: object, decided: Sequence[str]) -> dict[str, tuple[float, float, float]] | None:
    """A manifest's blend weights, checked: three finite numbers per category stage 2 decides."""
    if document is None:
        return None
    if not isinstance(document, dict) or not set(document) <= set(decided):
        raise ValueError(f"blend must map categories stage 2 decides to weights, not {document!r}")
    blend: dict[str, tuple[float, float, float]] = {}
    for category, weights in document.items():
        numbers = weights if isinstance(weights, list) and len(weights) == 3 else []
        if not numbers or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and np.isfinite(w) for w in numbers
        ):
            raise ValueError(f"the blend of {category} must be three finite numbers, not {weights!r}")
        blend[category] = (float(numbers[0]), float(numbers[1]), float(numbers[2]))
    return blend


def lone_sentence_ranges(text: str) -> list[tuple[int, int]]:
    """The sentences of a comment that may be read on their own: none in a comment shorter than
    LONE_SENTENCE_MIN_CHARS or of one sentence; else those at most LONE_SENTENCE_MOST_SHARE of it and at most
    LONE_SENTENCE_MAX_CHARS long, among the first LONE_SENTENCES_LOOKED_AT."""
    if len(text) < LONE_SENTENCE_MIN_CHARS:
        return []
    ranges = sentence_ranges(text, LONE_SENTENCES_LOOKED_AT)
    if len(ranges) < 2:
        return []
    longest = min(len(text) * LONE_SENTENCE_MOST_SHARE, LONE_SENTENCE_MAX_CHARS)
    return [(a, b) for a, b in ranges if b - a <= longest]


def first_word(words: Iterable[str], lexicon: frozenset[str]) -> str | None:
    """The first of `words` in `lexicon`, if any."""
    return next((word for word in words if word in lexicon), None)


def route(
    text: str,
    stage1_scores: Mapping[str, float],
    bounds: Mapping[str, float],
    route_words: Iterable[str] = FIRST_ROUTE_WORDS,
    lexicons: Mapping[str, frozenset[str]] | None = None,
) -> RouteDecision:
    """Whether stage 2 reads this comment: any bounded score above its clear bound, or a word of `route_words`' lists.

    `text` is best given as stage 1 normalized it (disguised words decoded); it is case-folded here.
    """
    for category, bound in bounds.items():
        score = stage1_scores.get(category, 0.0)
        if score > bound:
            return RouteDecision(True, f"{category} {score:.4f} above its clear bound {bound:.4f}")
    found = route_word(text, route_words, lexicons)
    if found is not None:
        kind, word = found
        return RouteDecision(True, f"{kind}: {word!r}")
    return RouteDecision(False, "cleared by stage 1")


def route_word(
    text: str, route_words: Iterable[str], lexicons: Mapping[str, frozenset[str]] | None = None
) -> tuple[str, str] | None:
    """The kind and the first word of the first named routing list (its words: `list_words`) that `text`
    (normalized) uses, if any."""
    words = _WORD.findall(text.casefold())
    for name in route_words:
        word = first_word(words, list_words(name, lexicons))
        if word is not None:
            return ROUTE_WORD_LISTS[name][1], word
    return None


def list_words(name: str, lexicons: Mapping[str, frozenset[str]] | None = None) -> frozenset[str]:
    """The words of routing list `name`: a model file's recorded ones (`lexicons`) when given, else this module's."""
    return ROUTE_WORD_LISTS[name][0] if lexicons is None else lexicons[name]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function elementwise, without overflow for large |z| (the inverse of log_odds)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64))))


def log_odds(probabilities: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept off 0 and 1 (stage 1's scores are rounded to 4 places)."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))  # type: ignore[no-any-return]


def final_rows(stage1: np.ndarray, stage2: np.ndarray, settings: CascadeSettings) -> np.ndarray:
    """Final scores ([rows, 7], CATEGORIES order, 4 places) of rows stage 2 read, from both stages' probabilities.

    Categories stage 2 decides take the blend of both stages' log-odds where the settings have one, else stage
    2's probability; the others keep stage 1's.
    """
    final = np.array(stage1, dtype=float, copy=True)
    second = np.asarray(stage2, dtype=float)
    for category in settings.stage2_categories:
        j = CATEGORIES.index(category)
        weights = (settings.blend or {}).get(category)
        if weights is None:
            final[:, j] = second[:, j]
        else:
            z = weights[0] * log_odds(final[:, j]) + weights[1] * log_odds(second[:, j]) + weights[2]
            final[:, j] = sigmoid(z)
    return np.round(final, 4)  # type: ignore[no-any-return]


def merge(
    stage1_scores: Mapping[str, float],
    stage2_probabilities: Sequence[float] | np.ndarray,
    settings: CascadeSettings,
) -> dict[str, float]:
    """Final scores of one comment stage 2 read (final_rows on one row), as a dict in stage 1's order."""
    row = final_rows(
        np.array([[stage1_scores[c] for c in CATEGORIES]]), np.asarray(stage2_probabilities)[None, :], settings
    )[0]
    by_category = dict(zip(CATEGORIES, row, strict=True))
    return {c: float(by_category[c]) for c in stage1_scores}


def fit_blend(
    stage1: np.ndarray, stage2: np.ndarray, labels: np.ndarray, categories: Sequence[str]
) -> dict[str, tuple[float, float, float]]:
    """Per category, a logistic regression of the label on both stages' log-odds ([rows, 7] each; -1 unknown).

    Fitted on held-out rows stage 2 read; a category without both classes among them is left out (stage 2's
    probability stays its final score).
    """
    from sklearn.linear_model import LogisticRegression

    blend: dict[str, tuple[float, float, float]] = {}
    for category in categories:
        j = CATEGORIES.index(category)
        known = labels[:, j] >= 0
        y = labels[known, j]
        if len(np.unique(y)) < 2:
            continue
        features = np.column_stack([log_odds(stage1[known, j]), log_odds(stage2[known, j])])
        fitted = LogisticRegression(C=1.0).fit(features, y)
        w1, w2 = (round(float(w), 4) for w in fitted.coef_[0])
        blend[category] = (w1, w2, round(float(fitted.intercept_[0]), 4))
    return blend


def fallback_bounds(review: Mapping[str, float | None], stage2_categories: Sequence[str]) -> dict[str, float]:
    """Bounds without labelled rows to measure them on: FALLBACK_CLEAR_BOUND, or the review threshold if lower."""
    return {
        c: min(FALLBACK_CLEAR_BOUND, 1.0 if review.get(c) is None else float(review[c]))  # type: ignore[arg-type]
        for c in stage2_categories
    }


def default_settings(
    review: Mapping[str, float | None],
    *,
    stage1_categories: Sequence[str] = DEFAULT_STAGE1_CATEGORIES,
    route_words: Sequence[str] = DEFAULT_ROUTE_WORDS,
) -> CascadeSettings:
    """Fallback bounds (no rows to measure them on), stage 2 deciding every category but `stage1_categories`."""
    decided = tuple(c for c in CATEGORIES if c not in stage1_categories)
    how = f"fallback: {FALLBACK_CLEAR_BOUND} or review"
    return CascadeSettings(
        fallback_bounds(review, decided), decided, how, tuple(route_words),
        route_lexicons=recorded_lexicons(route_words),
    )  # fmt: skip


def budget_settings(
    stage1_probabilities: np.ndarray,
    texts: Sequence[str],
    abusive: Sequence[bool],
    review: Mapping[str, float | None],
    *,
    budget: float = DEFAULT_ROUTE_BUDGET,
    route_words: Sequence[str] = DEFAULT_ROUTE_WORDS,
    stage1_categories: Sequence[str] = DEFAULT_STAGE1_CATEGORIES,
) -> CascadeSettings:
    """Bounds at the lowest REVIEW_FRACTIONS of the review thresholds that route at most `budget` of a stream.

    The stream is `texts` (normalized) with stage 1's probabilities ([rows, 7] in CATEGORIES order) and whether
    each is abusive; the share routed and the share of abusive comments routed are recorded. When no fraction
    keeps within the budget (the word lists alone may exceed it), the bounds are the review thresholds.
    """
    if not 0.0 < budget <= 1.0:
        raise ValueError(f"the route budget must be in (0, 1], not {budget}")
    if len(texts) == 0 or len(texts) != len(stage1_probabilities) or len(texts) != len(abusive):
        raise ValueError("budget_settings needs one probability row and one abusive flag per stream text")
    decided = tuple(c for c in CATEGORIES if c not in stage1_categories)
    ceilings = np.array([1.0 if review.get(c) is None else float(review[c]) for c in decided])  # type: ignore[arg-type]
    columns = [CATEGORIES.index(c) for c in decided]
    lexicons = recorded_lexicons(route_words)
    by_words = np.array([route_word(t, route_words, lexicons) is not None for t in texts], dtype=bool)
    flagged = np.asarray(abusive, dtype=bool)
    chosen, routed = REVIEW_FRACTIONS[-1], np.ones(len(texts), dtype=bool)
    for fraction in REVIEW_FRACTIONS:
        routed = by_words | (stage1_probabilities[:, columns] > fraction * ceilings).any(axis=1)
        chosen = fraction
        if routed.mean() <= budget:
            break
    bounds = {c: round(float(bound), 4) for c, bound in zip(decided, chosen * ceilings, strict=True)}
    routing = {
        "budget": budget,
        "review_fraction": chosen,
        "stream_rows": len(texts),
        "stream_abusive": int(flagged.sum()),
        "routed_share": round(float(routed.mean()), 4),
        "routed_by_words_share": round(float(by_words.mean()), 4),
        "abusive_routed_share": round(float(routed[flagged].mean()), 4) if flagged.any() else None,
    }
    how = (
        f"{chosen} x stage 1's review thresholds, the lowest fraction routing at most {budget:.0%} of "
        f"{len(texts)} site-like comments ({STREAM_ABUSIVE_SHARE:.0%} abusive); measured {routing['routed_share']:.1%}"
    )
    return CascadeSettings(bounds, decided, how, tuple(route_words), routing, route_lexicons=lexicons)


def site_stream(abusive: Sequence[bool], count: int, seed: int = 5) -> list[int]:
    """Indices of a site-like stream drawn from labelled rows: STREAM_ABUSIVE_SHARE abusive, with replacement."""
    bad = [i for i, a in enumerate(abusive) if a]
    good = [i for i, a in enumerate(abusive) if not a]
    if not bad or not good:
        raise ValueError("a site-like stream needs both abusive and clean rows")
    rng = random.Random(seed)
    return [rng.choice(bad if rng.random() < STREAM_ABUSIVE_SHARE else good) for _ in range(count)]
