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
