"""The seven categories every comment is scored on."""

CATEGORIES: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "spam",
)
