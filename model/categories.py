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

# In a label matrix (rows x CATEGORIES): the corpus says nothing about this category for this row.
UNKNOWN_LABEL = -1
