"""Non-toxic sentences that mention identity groups, written for this project, to unlearn identity-term bias.

After Dixon et al. (2018), "Measuring and Mitigating Unintended Bias in Text Classification": a model trained on
abuse corpora learns that words like "muslim" or "gay" predict toxicity, because they appear mostly in attacks.
Adding ordinary sentences that mention the same groups teaches it otherwise. The sentence frames here are
deliberately different from the fairness templates the tests check (`model.fairness.NON_TOXIC_TEMPLATES`).
"""

from __future__ import annotations

import hashlib

from model.corpora import CorpusInfo, Example, LoadedCorpus

NAME = "identity_balance"
LABELLED = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")

ADJECTIVES = (
    "armenian", "azerbaijani", "turkish", "iranian", "russian", "georgian", "kurdish", "jewish", "muslim",
    "christian", "gay", "lesbian", "black", "white", "asian", "african", "arab", "persian", "ukrainian",
    "immigrant", "female", "transgender", "catholic", "orthodox", "buddhist", "hindu", "mexican", "chinese",
)  # fmt: skip
PLURALS = (
    "armenians", "azerbaijanis", "turks", "iranians", "russians", "georgians", "kurds", "jews", "muslims",
    "christians", "gay people", "lesbians", "black people", "white people", "women", "immigrants", "refugees",
    "arabs", "persians", "ukrainians", "catholics", "migrants", "men", "girls",
)  # fmt: skip
ADJECTIVE_FRAMES = (
    "my {} colleague read this article twice",
    "the {} community held a public meeting yesterday",
    "i met a {} journalist at the conference in geneva",
    "she is {} and teaches history at the university",
    "he is {} and has lived here for thirty years",
    "the {} delegation presented a new proposal",
    "our {} neighbours invited us for dinner on sunday",
    "{} writers have published several books on this topic",
    "the museum opened an exhibition about {} culture",
    "a {} family runs the bakery on our street",
    "the report quotes several {} officials",
    "i grew up in a {} household",
    "{} students won the regional science competition",
    "the {} church restored its old building",
    "my grandmother was {}",
)  # fmt: skip
PLURAL_FRAMES = (
    "{} have lived in this region for centuries",
    "many {} voted in the last election",
    "the survey asked {} about their views on the economy",
    "{} and their neighbours signed the petition together",
    "the article interviews {} from three different cities",
    "some {} support the agreement and some oppose it",
    "{} celebrated the holiday with music and food",
    "the documentary follows {} who moved to the capital",
)  # fmt: skip

# Geopolitical comments often name two groups at once ("armenians and azerbaijanis"); so do these.
PAIR_FRAMES = (
    "{} and {} students studied together in the same class",
    "the meeting brought {} and {} leaders to one table",
    "{} and {} families live on the same street",
    "a new book compares how {} and {} remember the war",
)  # fmt: skip
PAIR_WORDS = ("armenian", "azerbaijani", "turkish", "iranian", "russian", "georgian", "kurdish", "jewish", "muslim",
              "christian", "arab", "ukrainian")  # fmt: skip


def _texts() -> list[str]:
    texts = [frame.format(word) for frame in ADJECTIVE_FRAMES for word in ADJECTIVES]
    texts += [frame.format(word) for frame in PLURAL_FRAMES for word in PLURALS]
    pairs = [(a, b) for a in PAIR_WORDS for b in PAIR_WORDS if a < b]
    texts += [frame.format(a, b) for index, (a, b) in enumerate(pairs) for frame in PAIR_FRAMES[index % 2 :: 2]]
    return texts


INFO = CorpusInfo(
    name=NAME,
    title="Identity-term balance sentences (written for this project)",
    source="model/identity_balance.py in this repository",
    licence="same as this project",
    shippable=True,
    attribution="Written by the project; no third-party text.",
    categories=LABELLED,
    mapping="Ordinary sentences that mention one or two identity groups (frame × group, "
    f"{len(_texts())} rows), labelled 0 for every "
    "category except spam (unknown), so identity words alone stop predicting toxicity. The frames differ from "
    "the fairness templates checked in the tests.",
)


def identity_balance_corpus() -> LoadedCorpus:
    """The balance sentences as a corpus, with a hash of their text."""
    texts = _texts()
    labels = dict.fromkeys(LABELLED, 0)
    examples = [Example(text, dict(labels), NAME) for text in texts]
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    return LoadedCorpus(INFO, examples, [], digest)
