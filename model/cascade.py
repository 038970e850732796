"""The cascade's routing rule and score merge: stage 2 reads only the comments stage 1 cannot clear.

Stage 1 clears a comment when every category stage 2 decides scores at or below its clear bound, and the text
names no group, addresses no person and uses no violence word. The bounds are chosen when stage 2 is attached:
per category, the highest stage-1 score that still sends DEFAULT_CLEAR_RECALL (99 %) of that category's labelled
positives on to stage 2. Pure functions only; the bounds live in the model file's manifest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.categories import CATEGORIES

DEFAULT_CLEAR_RECALL = 0.99
# Stage 1 keeps the final say on these by default: the exported encoders are weak on spam (links, promotions).
DEFAULT_STAGE1_CATEGORIES: tuple[str, ...] = ("spam",)
# The bound used for a category without enough labelled positives to measure one (never above its review bound).
FALLBACK_CLEAR_BOUND = 0.05
MIN_POSITIVES_FOR_BOUND = 100  # fewer, and a 99 % quantile is no measurement: the fallback bound is used


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
VIOLENCE_WORDS = _forms(
    "kill", "kills", "killed", "killing", "killer", "murder", "murders", "murdered", "shoot", "shoots", "shot",
    "shooting", "bullet", "bullets", "gun", "guns", "hang", "hanged", "hanging", "lynch", "lynched", "burn",
    "burns", "burned", "burnt", "burning", "bomb", "bombs", "bombed", "bombing", "stab", "stabbed", "knife",
    "behead", "beheaded", "slaughter", "slaughtered", "massacre", "genocide", "exterminate", "execute",
    "executed", "die", "dies", "dead", "death", "rape", "raped", "strangle", "drown", "torture", "beat",
)  # fmt: skip
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "clear_bounds": dict(self.clear_bounds),
            "stage2_categories": list(self.stage2_categories),
            "bounds_from": self.bounds_from,
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
        ordered = tuple(c for c in CATEGORIES if c in decided)
        return cls({c: float(bounds[c]) for c in ordered}, ordered, str(document.get("bounds_from", "")))


def first_word(words: Iterable[str], lexicon: frozenset[str]) -> str | None:
    """The first of `words` in `lexicon`, if any."""
    return next((word for word in words if word in lexicon), None)


def route(text: str, stage1_scores: Mapping[str, float], bounds: Mapping[str, float]) -> RouteDecision:
    """Whether stage 2 reads this comment: any bounded score above its clear bound, a group, a person or violence.

    `text` is best given as stage 1 normalized it (disguised words decoded); it is case-folded here.
    """
    for category, bound in bounds.items():
        score = stage1_scores.get(category, 0.0)
        if score > bound:
            return RouteDecision(True, f"{category} {score:.4f} above its clear bound {bound:.4f}")
    words = _WORD.findall(text.casefold())
    for lexicon, kind in (
        (GROUP_WORDS, "names a group"),
        (PERSON_WORDS, "addresses a person"),
        (VIOLENCE_WORDS, "violence word"),
    ):
        word = first_word(words, lexicon)
        if word is not None:
            return RouteDecision(True, f"{kind}: {word!r}")
    return RouteDecision(False, "cleared by stage 1")


def merge(
    stage1_scores: Mapping[str, float],
    stage2_probabilities: Sequence[float] | np.ndarray,
    stage2_categories: Iterable[str],
) -> dict[str, float]:
    """Final scores: stage 2's for the categories it decides, stage 1's for the rest (rounded as stage 1's)."""
    decided = set(stage2_categories)
    by_category = dict(zip(CATEGORIES, stage2_probabilities, strict=True))
    return {c: round(float(by_category[c]), 4) if c in decided else s for c, s in stage1_scores.items()}


def clear_bounds(
    probabilities: np.ndarray,
    labels: np.ndarray,
    review: Mapping[str, float | None],
    *,
    recall: float = DEFAULT_CLEAR_RECALL,
    stage2_categories: Sequence[str],
) -> dict[str, float]:
    """Per category stage 2 decides, the highest stage-1 score that still routes `recall` of its positives.

    `probabilities` and `labels` are [rows, 7] in CATEGORIES order, labels 1, 0 or -1 (unknown). A bound never
    exceeds the category's review threshold: whatever stage 1 would queue, stage 2 reads. Categories with fewer
    than MIN_POSITIVES_FOR_BOUND positives get FALLBACK_CLEAR_BOUND.
    """
    if not 0.0 < recall <= 1.0:
        raise ValueError(f"recall must be in (0, 1], not {recall}")
    bounds: dict[str, float] = {}
    for category in stage2_categories:
        column = CATEGORIES.index(category)
        positives = np.sort(probabilities[labels[:, column] == 1, column])
        ceiling = review.get(category)
        ceiling = 1.0 if ceiling is None else float(ceiling)
        if len(positives) < MIN_POSITIVES_FOR_BOUND:
            bounds[category] = min(FALLBACK_CLEAR_BOUND, ceiling)
            continue
        # At most `allowed` positives may score at or below the bound (and so be cleared without stage 2).
        allowed = math.floor((1.0 - recall) * len(positives) + 1e-9)
        bound = 0.0 if allowed == 0 else float(np.nextafter(positives[allowed], 0.0))
        bounds[category] = min(max(bound, 0.0), ceiling)
    return bounds


def fallback_bounds(review: Mapping[str, float | None], stage2_categories: Sequence[str]) -> dict[str, float]:
    """Bounds without labelled rows to measure them on: FALLBACK_CLEAR_BOUND, or the review threshold if lower."""
    return {
        c: min(FALLBACK_CLEAR_BOUND, 1.0 if review.get(c) is None else float(review[c]))  # type: ignore[arg-type]
        for c in stage2_categories
    }


def measured_settings(
    stage1_probabilities: np.ndarray,
    labels: Sequence[Mapping[str, int]],
    review: Mapping[str, float | None],
    *,
    recall: float = DEFAULT_CLEAR_RECALL,
    stage1_categories: Sequence[str] = DEFAULT_STAGE1_CATEGORIES,
) -> CascadeSettings:
    """Settings whose bounds keep `recall` of the labelled positives (labels: per row, the categories it labels)."""
    decided = tuple(c for c in CATEGORIES if c not in stage1_categories)
    matrix = np.array([[row.get(c, -1) for c in CATEGORIES] for row in labels]).reshape(-1, len(CATEGORIES))
    bounds = clear_bounds(stage1_probabilities, matrix, review, recall=recall, stage2_categories=decided)
    positives = {c: int(np.sum(matrix[:, CATEGORIES.index(c)] == 1)) for c in decided}
    measured = ", ".join(f"{c} {n}" for c, n in positives.items())
    return CascadeSettings(bounds, decided, f"recall {recall} of {len(labels)} labelled rows' positives ({measured})")


def default_settings(review: Mapping[str, float | None]) -> CascadeSettings:
    """Fallback bounds, stage 2 deciding every category but DEFAULT_STAGE1_CATEGORIES."""
    decided = tuple(c for c in CATEGORIES if c not in DEFAULT_STAGE1_CATEGORIES)
    return CascadeSettings(fallback_bounds(review, decided), decided, f"fallback: {FALLBACK_CLEAR_BOUND} or review")
