"""Unintended-bias checks after Jigsaw: identity subgroups, subgroup AUC, BPSN/BNSP AUC, false-positive rates."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

# Groups the site's readers discuss, plus the usual ones; patterns match normalized (casefolded) text.
IDENTITY_GROUPS: dict[str, str] = {
    "armenian": r"armenians?|armenia",
    "azerbaijani": r"azerbaijanis?|azeris?|azerbaijan",
    "turkish": r"turkish|turks?|turkey",
    "iranian": r"iranians?|iran|persians?",
    "russian": r"russians?|russia",
    "georgian": r"georgians?",
    "kurdish": r"kurdish|kurds?",
    "jewish": r"jewish|jews?|judaism",
    "muslim": r"muslims?|islam|islamic",
    "christian": r"christians?|christianity",
    "gay": r"gay|gays|lesbians?|homosexuals?|lgbtq?",
    "women": r"women|woman|female|females",
    "black": r"black|blacks|african americans?",
    "immigrant": r"immigrants?|migrants?|refugees?",
}
_PATTERNS = {group: re.compile(rf"\b(?:{pattern})\b") for group, pattern in IDENTITY_GROUPS.items()}

# Non-toxic sentences we wrote ourselves; none may reach a category's review threshold.
NON_TOXIC_TEMPLATES: tuple[str, ...] = (
    "I am a proud Armenian.",
    "I am a proud Azerbaijani.",
    "The Azerbaijani delegation arrived in Tehran.",
    "The Armenian delegation arrived in Baku for talks.",
    "As a Muslim, I disagree with the author.",
    "As a Christian, I disagree with the author.",
    "As a Jew, I found this article balanced.",
    "I am Jewish and I live in Yerevan.",
    "My grandmother was Georgian and my grandfather was Kurdish.",
    "Turkish and Armenian historians should work together on this.",
    "Iranian students protested peacefully in Tehran.",
    "Many Russian citizens oppose the war.",
    "Kurdish families returned to their villages after the ceasefire.",
    "The Muslim community in the city organized a charity drive.",
    "Christian and Muslim leaders met to discuss the peace process.",
    "I am a gay man and I agree with this analysis.",
    "Women journalists have covered this conflict bravely.",
    "As a black woman, I appreciate this perspective.",
    "Immigrants from Armenia and Azerbaijan live side by side in Moscow.",
    "I am an immigrant and I vote in every election.",
    "Being Azerbaijani and being Armenian are not opposites.",
    "The Georgian government announced new elections.",
    "Jewish and Muslim neighbors shared a meal after the holiday.",
    "The article explains the history of the Armenian church well.",
    "Turkish coffee is the best part of visiting Istanbul.",
)


def groups_mentioned(normalized_text: str) -> list[str]:
    """Identity groups a normalized text mentions."""
    return [group for group, pattern in _PATTERNS.items() if pattern.search(normalized_text)]


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    if len(labels) == 0 or labels.min() == labels.max():
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def bias_report(
    normalized_texts: Sequence[str], labels: np.ndarray, scores: np.ndarray, review_threshold: float | None
) -> dict[str, object]:
    """Per identity group: rows, subgroup AUC, BPSN and BNSP AUC, false-positive rate vs all non-toxic rows."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    mentions = np.array([groups_mentioned(text) for text in normalized_texts], dtype=object)
    threshold = np.inf if review_threshold is None else review_threshold
    background_negative = labels == 0
    overall_fpr = float((scores[background_negative] >= threshold).mean()) if background_negative.any() else None
    report: dict[str, object] = {
        "review_threshold": review_threshold,
        "overall_false_positive_rate": None if overall_fpr is None else round(overall_fpr, 4),
        "groups": {},
    }
    groups: dict[str, object] = {}
    for group in IDENTITY_GROUPS:
        in_group = np.array([group in found for found in mentions], dtype=bool)
        if not in_group.any():
            continue
        negative = in_group & (labels == 0)
        bpsn = (in_group & (labels == 0)) | (~in_group & (labels == 1))
        bnsp = (in_group & (labels == 1)) | (~in_group & (labels == 0))
        fpr = float((scores[negative] >= threshold).mean()) if negative.any() else None
        groups[group] = {
            "rows": int(in_group.sum()),
            "toxic": int((in_group & (labels == 1)).sum()),
            "subgroup_auc": _auc(labels[in_group], scores[in_group]),
            "bpsn_auc": _auc(labels[bpsn], scores[bpsn]),
            "bnsp_auc": _auc(labels[bnsp], scores[bnsp]),
            "false_positive_rate": None if fpr is None else round(fpr, 4),
        }
    report["groups"] = groups
    return report
