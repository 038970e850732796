"""The seven categories every comment is scored on, declared once: as a type, and as the tuple of its values."""

from typing import Literal, get_args

Category = Literal[
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "spam",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

# Categories the default policy scores and reports but does not act on: swearing at no one ("what a fucking mess
# this deal is") is not abuse, and abuse that swears is held through toxicity and insult. A site that wants a
# profanity filter sets thresholds for them in its policy; the model card's are suggestions.
REPORTED_ONLY_BY_DEFAULT: tuple[str, ...] = ("obscene",)

# In a label matrix (rows x CATEGORIES): the corpus says nothing about this category for this row.
UNKNOWN_LABEL = -1
