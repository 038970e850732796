"""A small labelled corpus we write ourselves, and a tiny model trained on it, for tests without ../shared."""

from __future__ import annotations

import json
import random
from pathlib import Path

from model.build import build_model
from model.train import TrainParams

SUBJECTS = ["the minister", "the article", "this policy", "the mayor", "the report", "the delegation", "my neighbour"]
NEUTRAL = [
    "{s} made a fair point about the border talks in {p}",
    "i read {s} twice and i still disagree with the conclusion",
    "thanks for the careful analysis of the election in {p}",
    "{s} should publish the full data on the pipeline",
    "the history of {p} is more complicated than this",
    "good summary of the ceasefire negotiations in {p}",
    "i visited {p} last year and the people were kind",
    "{s} ignores the economic side of the sanctions",
]
PLACES = ["yerevan", "baku", "tbilisi", "tehran", "ankara", "moscow", "brussels", "geneva"]
INSULTS = ["idiot", "moron", "stupid fool", "pathetic loser", "clown"]
OBSCENE = ["fucking", "shit", "crap"]
THREATS = ["i will find you and hurt you", "someone should beat you", "you will regret this, i will kill you"]
ATTACKS = ["all {g} are vermin", "{g} people are subhuman", "go back to your country you dirty {g}"]
GROUPS = ["foreigners", "immigrants"]
SPAM = [
    "check out my channel and subscribe http://spam.example/{n}",
    "free money click here www.win-{n}.example",
    "follow me for free followers visit http://promo.example/{n}",
    "subscribe to my channel please like and share {n}",
]
CATEGORY_COLUMNS = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "spam"]


def labelled_rows(seed: int = 7, per_kind: int = 60) -> list[dict[str, object]]:
    """Deterministic labelled comments covering every category with positives and negatives."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []

    def add(text: str, **labels: int) -> None:
        row: dict[str, object] = {"text": text}
        for column in CATEGORY_COLUMNS:
            row[column] = labels.get(column, 0)
        rows.append(row)

    for i in range(per_kind * 3):
        add(rng.choice(NEUTRAL).format(s=rng.choice(SUBJECTS), p=rng.choice(PLACES)) + f" {i}")
    for i in range(per_kind):
        neutral = rng.choice(NEUTRAL).format(s=rng.choice(SUBJECTS), p=rng.choice(PLACES))
        add(f"{neutral}, you {rng.choice(INSULTS)} {i}", toxicity=1, insult=1)
        add(f"this is {rng.choice(OBSCENE)} nonsense from {rng.choice(SUBJECTS)} {i}", toxicity=1, obscene=1)
        add(f"{rng.choice(THREATS)} {i}", toxicity=1, threat=1, severe_toxicity=int(i % 2 == 0))
        add(rng.choice(ATTACKS).format(g=rng.choice(GROUPS)) + f" {i}", toxicity=1, identity_attack=1)
        add(rng.choice(SPAM).format(n=i), spam=1)
    return rows


def write_jsonl(rows: list[dict[str, object]], path: Path) -> Path:
    """Write rows as JSON Lines."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def train_tiny_model(directory: Path, seed: int = 13) -> Path:
    """Train a small model on the fixture corpus; returns the model file."""
    data = write_jsonl(labelled_rows(), directory / "fixture_comments.jsonl")
    out = directory / "tiny.model"
    params = TrainParams(seed=seed, test_share=0.2, calibration_share=0.2)
    build_model([data], out, params)
    return out
