"""Stage-2 training data: shippable corpora plus our own sentences, de-duplicated, split, sampled, as label masks.

Pure Python and numpy (no torch), so the normal test suite covers it. The split is by a seeded hash of the
normalized text, as stage 1 does, so it does not depend on row order and the same text is never on both sides.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from model.cascade import GROUP_WORDS
from model.categories import CATEGORIES, UNKNOWN_LABEL
from model.corpora import LoadedCorpus, corpus_summary, deduplicate, load_corpora
from model.identity_balance import NAME as IDENTITY_BALANCE
from model.identity_balance import identity_balance_corpus
from model.normalize import normalize_text
from model.stage2.synthetic import NAME as SYNTHETIC
from model.stage2.synthetic import synthetic_corpus
from model.train import PreparedExample, Split, prepare, split_bucket, split_by_bucket


class Stage2DataError(ValueError):
    """The data folders hold no shippable corpus to train stage 2 on."""


# One de-duplicated example with its normalized text (the split and sampling key), as stage 1 prepares it.
Row = PreparedExample


@dataclass
class Stage2Data:
    """The corpora read, the de-duplicated rows and how many duplicates were merged."""

    corpora: list[LoadedCorpus]
    rows: list[Row]
    duplicates_removed: int


def load_training_data(paths: Sequence[Path], synthetic: bool = True, identity_balance: bool = True) -> Stage2Data:
    """Shippable corpora under `paths`, plus our sentences, de-duplicated by normalized text."""
    corpora: list[LoadedCorpus] = []
    for path in paths:
        corpora.extend(load_corpora(Path(path), shippable_only=True))
    if not corpora:
        raise Stage2DataError(f"no shippable corpora found under {', '.join(str(p) for p in paths)}")
    if identity_balance:
        corpora.append(identity_balance_corpus())
    if synthetic:
        corpora.append(synthetic_corpus())
    return from_corpora(corpora)


def from_corpora(corpora: list[LoadedCorpus]) -> Stage2Data:
    """De-duplicate the corpora's examples (labels merged by majority) and normalize each text once."""
    examples, removed = deduplicate((e for c in corpora for e in c.examples), key=normalize_text)
    return Stage2Data(corpora, prepare(examples), removed)


INPUTS = ("raw", "normalized")


def model_text(row: Row, kind: str) -> str:
    """The text the encoder reads: the comment as submitted ("raw") or as model.normalize leaves it."""
    if kind not in INPUTS:
        raise ValueError(f"input must be one of {', '.join(INPUTS)}, not {kind!r}")
    return row.example.text if kind == "raw" else row.normalized


def bucket(text: str, seed: int, salt: str = "") -> float:
    """A stable number in [0, 1) from the seed and a text."""
    digest = hashlib.blake2b(f"{seed}\x00{salt}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_rows(rows: Sequence[Row], seed: int, test_share: float, calibration_share: float) -> Split:
    """Test below `test_share`, calibration in the next `calibration_share`, train above, by stage 1's hash bucket.

    With stage 1's seed and shares this is stage 1's split of the same texts, so a row held out from one stage is
    held out from the other and the cascade can be measured and calibrated on rows neither stage trained on."""
    return split_by_bucket(rows, lambda text: split_bucket(text, seed), test_share, calibration_share)


def quotas(sizes: dict[str, int], total: int) -> dict[str, int]:
    """Rows to take per corpus for `total` rows: one common cap (water-filling), small corpora whole."""
    if total >= sum(sizes.values()):
        return dict(sizes)
    remaining = total
    left = dict(sizes)
    out: dict[str, int] = {}
    while left:
        cap = remaining // len(left)
        small = {name: n for name, n in left.items() if n <= cap}
        if not small:
            ordered = sorted(left)
            for index, name in enumerate(ordered):
                out[name] = cap + (1 if index < remaining - cap * len(left) else 0)
            return out
        for name, n in small.items():
            out[name] = n
            remaining -= n
            del left[name]
    return out


def sample_rows(rows: Sequence[Row], max_rows: int | None, seed: int) -> list[Row]:
    """At most `max_rows` rows, balanced across corpora by `quotas`, chosen by a salted hash (order-free)."""
    if max_rows is None or max_rows >= len(rows):
        return list(rows)
    by_corpus: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_corpus[row.example.corpus].append(row)
    take = quotas({name: len(members) for name, members in by_corpus.items()}, max_rows)
    chosen: list[Row] = []
    for name in sorted(by_corpus):
        members = sorted(by_corpus[name], key=lambda r: bucket(r.normalized, seed, "sample"))
        chosen.extend(members[: take[name]])
    return sorted(chosen, key=lambda r: bucket(r.normalized, seed, "order"))


def label_matrix(rows: Sequence[Row]) -> np.ndarray:
    """(n, 7) float32 labels in CATEGORIES order, UNKNOWN_LABEL (-1) where the source says nothing."""
    matrix = np.full((len(rows), len(CATEGORIES)), UNKNOWN_LABEL, dtype=np.float32)
    for i, row in enumerate(rows):
        for j, category in enumerate(CATEGORIES):
            value = row.example.labels.get(category)
            if value is not None:
                matrix[i, j] = 1.0 if value else 0.0
    return matrix


def masked_bce(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary cross-entropy over the known labels only (numpy reference for the torch loss)."""
    known = labels != UNKNOWN_LABEL
    if not known.any():
        return 0.0
    x = logits[known].astype(np.float64)
    y = labels[known].astype(np.float64)
    losses = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    return float(losses.mean())


def rows_sha256(rows: Sequence[Row]) -> str:
    """Order-independent SHA-256 over the normalized texts and labels of some rows."""
    digest = hashlib.sha256()
    for line in sorted(f"{r.normalized}\x00{sorted(r.example.labels.items())}" for r in rows):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def describe(data: Stage2Data, train: Sequence[Row]) -> list[dict[str, object]]:
    """Per corpus: rows read, rows trained on, licence, shippable and content SHA-256."""
    trained: dict[str, int] = defaultdict(int)
    for row in train:
        trained[row.example.corpus] += 1
    return [
        {
            "name": item["name"],
            "rows": item["rows"],
            "rows_trained": trained.get(str(item["name"]), 0),
            "licence": item["licence"],
            "shippable": item["shippable"],
            "sha256": item["sha256"],
        }
        for item in corpus_summary(data.corpora)
    ]


# Counterfactual group swaps (as in gender-swap augmentation for abuse classifiers): a training row naming one of
# these groups gets a copy naming another, labels unchanged, so that no group's name alone carries its corpora's
# share of abuse. Each group gives its (adjective or singular noun, plural noun) forms.
SWAP_GROUPS: tuple[tuple[str, str], ...] = (
    ("armenian", "armenians"), ("azerbaijani", "azerbaijanis"), ("turkish", "turks"), ("russian", "russians"),
    ("iranian", "iranians"), ("georgian", "georgians"), ("kurdish", "kurds"), ("jewish", "jews"),
    ("muslim", "muslims"), ("christian", "christians"), ("black", "blacks"), ("gay", "gays"),
    ("immigrant", "immigrants"), ("arab", "arabs"), ("mexican", "mexicans"), ("chinese", "chinese"),
    ("catholic", "catholics"), ("hindu", "hindus"), ("ukrainian", "ukrainians"),
)  # fmt: skip
# Singular nouns that differ from the adjective: "a jew", "a turk", "a kurd".
_SINGULAR_NOUNS = {"jew": "jewish", "turk": "turkish", "kurd": "kurdish"}
_SWAP_FORM: dict[str, tuple[int, int]] = {
    word: (index, slot) for index, forms in enumerate(SWAP_GROUPS) for slot, word in enumerate(forms)
}
_SWAP_WORD = re.compile(r"[^\W\d_]+")
_ARTICLE = re.compile(r"\b(an?) ([a-z])")


def swap_groups(text: str, rng: random.Random) -> str | None:
    """`text` (normalized, lower case) with every group it names replaced by another group, or None if it names none.

    Each group named is mapped to one other group for the whole text, keeping adjective and plural forms.
    """
    named = {_SWAP_FORM[w][0] for w in _SWAP_WORD.findall(text) if w in _SWAP_FORM}
    named |= {_SWAP_FORM[_SINGULAR_NOUNS[w]][0] for w in _SWAP_WORD.findall(text) if w in _SINGULAR_NOUNS}
    if not named:
        return None
    others = [i for i in range(len(SWAP_GROUPS)) if i not in named]
    targets = dict(zip(sorted(named), rng.sample(others, len(named)), strict=True))

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in _SINGULAR_NOUNS:
            word = _SINGULAR_NOUNS[word]
        if word not in _SWAP_FORM:
            return match.group(0)
        index, slot = _SWAP_FORM[word]
        return SWAP_GROUPS[targets[index]][slot]

    swapped = _SWAP_WORD.sub(swap, text)
    return _ARTICLE.sub(lambda m: ("an " if m.group(2) in "aeiou" else "a ") + m.group(2), swapped)


def counterfactual_rows(rows: Sequence[Row], limit: int, seed: int) -> list[Row]:
    """Up to `limit` group-swapped copies of the rows that name a group (chosen by a salted hash), labels kept."""
    rng = random.Random(seed)
    naming = sorted(
        (
            row
            for row in rows
            if any(w in _SWAP_FORM or w in _SINGULAR_NOUNS for w in _SWAP_WORD.findall(row.normalized))
        ),
        key=lambda r: bucket(r.normalized, seed, "swap"),
    )
    copies: list[Row] = []
    for row in naming[:limit]:
        swapped = swap_groups(row.normalized, rng)
        if swapped is not None and swapped != row.normalized:
            example = replace(row.example, text=swapped, group=f"swap:{row.example.group}", spans=())
            copies.append(PreparedExample(example, swapped))
    return copies


def misspell(text: str, rng: random.Random, words: int = 2) -> str:
    """`text` with up to `words` of its words of four or more letters misspelt: two inner letters swapped or one
    inner letter dropped (the first and last letters stay, so the word stays readable)."""
    spans = [m.span() for m in _SWAP_WORD.finditer(text) if m.end() - m.start() >= 4]
    chosen = sorted(rng.sample(spans, min(words, len(spans))), reverse=True)
    for start, end in chosen:
        word = text[start:end]
        at = rng.randrange(1, len(word) - 2)
        if rng.random() < 0.5:
            changed = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        else:
            changed = word[:at] + word[at + 1 :]
        text = text[:start] + changed + text[end:]
    return text


def misspelt_rows(rows: Sequence[Row], limit: int, seed: int, abusive_share: float = 0.7) -> list[Row]:
    """Up to `limit` misspelt copies of training rows (labels kept), `abusive_share` of them of abusive rows.

    Readers disguise abuse by swapping or dropping letters, which normalization cannot undo; clean rows are
    misspelt too, so that a misspelling alone does not come to mean abuse."""
    rng = random.Random(seed)
    ordered = sorted(rows, key=lambda r: bucket(r.normalized, seed, "misspell"))
    abusive = [r for r in ordered if abuse_label(r) == 1]
    clean = [r for r in ordered if abuse_label(r) == 0]
    wanted_abusive = min(len(abusive), round(limit * abusive_share))
    picked = abusive[:wanted_abusive] + clean[: max(0, limit - wanted_abusive)]
    copies: list[Row] = []
    for row in picked:
        text = misspell(row.normalized, rng)
        if text != row.normalized:
            example = replace(row.example, text=text, group=f"misspelt:{row.example.group}", spans=())
            copies.append(PreparedExample(example, text))
    return copies


# Our own sentences, few beside the corpora's rows, which training may repeat.
OWN_CORPORA = (SYNTHETIC, IDENTITY_BALANCE)


def augmented_training_rows(
    rows: Sequence[Row], counterfactuals: int, own_repeats: int, seed: int, misspelt: int = 0
) -> list[Row]:
    """The rows, up to `counterfactuals` group-swapped copies, up to `misspelt` misspelt copies, and our own
    sentences again to `own_repeats` in all."""
    own = [row for row in rows if row.example.corpus in OWN_CORPORA]
    return [
        *rows,
        *counterfactual_rows(rows, counterfactuals, seed),
        *misspelt_rows(rows, misspelt, seed),
        *own * max(0, own_repeats - 1),
    ]


# Toxic share balancing per group word (after Dixon et al., 2018, "Measuring and Mitigating Unintended Bias"): in the
# corpora a word like "jew" is in far more abusive rows than clean ones (84 % against 42 % for all rows), so the
# word alone comes to predict abuse. Clean rows naming such a word are weighted up until the word's weighted
# abusive share is the background share, at most by the cap.
ABUSE_LABELS = ("toxicity", "identity_attack")
DEFAULT_BALANCE_CAP = 8.0
# The routing list's group words and every form the group swaps write.
# Slurs among the routing words are left out: a clean row using one is mislabelled or reclaimed, not a model.
BALANCE_WORDS = (GROUP_WORDS | frozenset(_SWAP_FORM) | frozenset(_SINGULAR_NOUNS)) - {
    "tranny", "trannies", "cripple", "cripples", "queers", "moslem", "moslems",
}  # fmt: skip


def abuse_label(row: Row) -> int | None:
    """1 if the row is labelled toxic or an identity attack, 0 if it is labelled clean on either, else None."""
    values = [row.example.labels.get(c) for c in ABUSE_LABELS]
    if any(v == 1 for v in values):
        return 1
    if any(v == 0 for v in values):
        return 0
    return None


def group_words_in(text: str, lexicon: frozenset[str]) -> set[str]:
    """The words of `lexicon` a normalized text uses."""
    return set(_SWAP_WORD.findall(text)) & lexicon


def balance_weights(rows: Sequence[Row], lexicon: frozenset[str], cap: float) -> tuple[np.ndarray, dict[str, float]]:
    """Per row, the loss weight that balances each group word's abusive share to the background share.

    A clean row naming group words takes the largest weight among them; every other row weighs 1. Returns the
    weights and, per word that needed one above 1, its weight (for the config)."""
    labels = [abuse_label(row) for row in rows]
    known = [label for label in labels if label is not None]
    weights = np.ones(len(rows), dtype=np.float32)
    if cap <= 1.0 or len(set(known)) < 2:
        return weights, {}
    background = sum(known) / len(known)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    named = [group_words_in(row.normalized, lexicon) for row in rows]
    for words, label in zip(named, labels, strict=True):
        if label is not None:
            for word in words:
                counts[word][label] += 1
    per_word: dict[str, float] = {}
    for word, (clean, abusive) in counts.items():
        if clean and abusive:
            # Weighted clean count w * clean must be abusive * (1 - background) / background.
            wanted = abusive * (1 - background) / background / clean
            if wanted > 1.0:
                per_word[word] = round(min(cap, wanted), 3)
    for i, (words, label) in enumerate(zip(named, labels, strict=True)):
        if label == 0 and words:
            weights[i] = max([1.0, *(per_word.get(w, 1.0) for w in words)])
    return weights, dict(sorted(per_word.items()))
