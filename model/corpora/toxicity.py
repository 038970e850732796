"""Adapters of the corpora labelled for toxicity, insults, profanity and hate on the words (stage 1 reads these)."""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict

from model.corpora.reading import BINARY, CorpusFolder, flag, keep
from model.corpora.records import CorpusError, Example

# ---------------------------------------------------------------------------------------------------------
# Adapters, one per corpus


_JIGSAW_COLUMNS = {
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "obscene": "obscene",
    "threat": "threat",
    "insult": "insult",
    "identity_hate": "identity_attack",
}


def load_jigsaw(folder: CorpusFolder) -> list[Example]:
    name = "jigsaw_toxic_2018"
    path = folder.root / "train_subset.csv"
    out = []
    for line, row in folder.rows("train_subset.csv", ("comment_text", *_JIGSAW_COLUMNS)):
        labels = {cat: flag(row[col], path, line, BINARY) for col, cat in _JIGSAW_COLUMNS.items()}
        if keep(row["comment_text"]):
            out.append(Example(row["comment_text"], labels, name))
    return out


# Type names as in spans.csv; a few rows hold a truncated name ("Insu"), matched by prefix.
_SPAN_TYPES = {
    "Insult": "insult",
    "Profane/Obscene": "obscene",
    "Threat": "threat",
    "Identity based Attack": "identity_attack",
    "Other Toxicity": None,
}


def _span_category(kind: str) -> str | None:
    kind = kind.strip()
    if kind:
        for full, category in _SPAN_TYPES.items():
            if full.startswith(kind):
                return category
    return None


def _runs(counts: list[int], needed: int, category: str) -> list[tuple[int, int, str]]:
    """Maximal runs of character offsets whose count reaches `needed`."""
    runs = []
    start = None
    for offset, count in enumerate([*counts, 0]):
        if count >= needed and start is None:
            start = offset
        elif count < needed and start is not None:
            runs.append((start, offset, category))
            start = None
    return runs


def load_civil(folder: CorpusFolder) -> list[Example]:
    name = "civil_comments_toxic_spans"
    spans_path = folder.root / "spans.csv"
    annotators: dict[str, list[str]] = defaultdict(list)
    for _, row in folder.rows("annotations.csv", ("annotation", "comment_id")):
        annotators[row["comment_id"]].append(row["annotation"])
    spans: dict[str, list[tuple[int, int, str | None]]] = defaultdict(list)
    for line, row in folder.rows("spans.csv", ("annotation", "type", "start", "end")):
        try:
            start, end = int(row["start"]), int(row["end"])
        except ValueError as error:
            raise CorpusError(spans_path, f"offsets {row['start']!r}, {row['end']!r} are not integers", line) from error
        spans[row["annotation"]].append((start, end, _span_category(row["type"])))
    out = []
    for _, row in folder.rows("comments.csv", ("comment_id", "comment_text")):
        text = row["comment_text"]
        raters = annotators.get(row["comment_id"], [])
        if not raters or not keep(text):
            continue
        n = len(raters)
        needed = (n + 1) // 2  # "at least half" of the annotators
        labels: dict[str, int] = {}
        by_type: dict[str, list[int]] = {}
        any_type = [0] * len(text)
        marked: Counter[str] = Counter()
        for annotation in raters:
            covered: dict[str | None, set[int]] = defaultdict(set)
            for start, end, category in spans.get(annotation, []):
                covered[category].update(range(max(start, 0), min(end, len(text))))
            for offset in set().union(*covered.values()):
                any_type[offset] += 1
            for category, offsets in covered.items():
                if category is None:
                    continue
                marked[category] += 1
                per_char = by_type.setdefault(category, [0] * len(text))
                for offset in offsets:
                    per_char[offset] += 1
        for category in ("insult", "obscene", "threat", "identity_attack"):
            if marked[category] == 0:
                labels[category] = 0
            elif marked[category] >= needed:
                labels[category] = 1
        truth = _runs(any_type, needed, "toxicity")
        for category, per_char in by_type.items():
            truth += _runs(per_char, needed, category)
        out.append(Example(text, labels, name, spans=tuple(sorted(truth))))
    return out


_DAVIDSON = {
    "0": {"toxicity": 1, "identity_attack": 1},
    "1": {"toxicity": 1, "identity_attack": 0},
    "2": {"toxicity": 0, "identity_attack": 0},
}


def load_davidson(folder: CorpusFolder) -> list[Example]:
    path = folder.root / "labeled_data.csv"
    out = []
    for line, row in folder.rows("labeled_data.csv", ("class", "tweet")):
        code = flag(row["class"], path, line, {"0": 0, "1": 1, "2": 2})
        text = html.unescape(row["tweet"])
        if keep(text):
            out.append(Example(text, dict(_DAVIDSON[str(code)]), "davidson_hate_offensive"))
    return out


def load_hatexplain(folder: CorpusFolder) -> list[Example]:
    path = folder.root / "preprocessed.csv"
    out = []
    for line, row in folder.rows("preprocessed.csv", ("text", "label")):
        code = flag(row["label"], path, line, {"0": 0, "1": 1, "2": 2})
        labels = {"toxicity": int(code > 0), "identity_attack": int(code == 2)}
        if keep(row["text"]):
            out.append(Example(row["text"], labels, "hatexplain_magpie"))
    return out


def _olid_labels(a: str, b: str, c: str) -> dict[str, int] | None:
    if a == "NOT":
        return {"toxicity": 0, "insult": 0}
    if a != "OFF":
        return None
    if b == "UNT":
        return {"toxicity": 1, "insult": 0}
    if b == "TIN" and c == "IND":
        return {"toxicity": 1, "insult": 1}
    return {"toxicity": 1}


def load_olid(folder: CorpusFolder) -> list[Example]:
    name = "olid"
    prefix = "OLIDv1.0/" if (folder.root / "OLIDv1.0").is_dir() else ""
    out = []
    train = f"{prefix}olid-training-v1.0.tsv"
    for line, row in folder.rows(train, ("tweet", "subtask_a", "subtask_b", "subtask_c"), delimiter="\t"):
        labels = _olid_labels(row["subtask_a"], row["subtask_b"], row["subtask_c"])
        if labels is None:
            raise CorpusError(folder.root / train, f"unexpected subtask_a {row['subtask_a']!r}", line)
        if keep(row["tweet"]):
            out.append(Example(row["tweet"], labels, name, group="train"))
    gold: dict[str, dict[str, str]] = {}
    for level in "abc":
        for _, row in folder.rows(f"{prefix}labels-level{level}.csv", ("id", "label")):
            gold.setdefault(row["id"], {})[level] = row["label"].strip()
    test = f"{prefix}testset-levela.tsv"
    for line, row in folder.rows(test, ("id", "tweet"), delimiter="\t"):
        known = gold.get(row["id"], {})
        labels = _olid_labels(known.get("a", ""), known.get("b", "NULL"), known.get("c", "NULL"))
        if labels is None:
            raise CorpusError(folder.root / test, f"no level-A label for id {row['id']}", line)
        if keep(row["tweet"]):
            out.append(Example(row["tweet"], labels, name, group="test"))
    return out


def load_wiki(folder: CorpusFolder) -> list[Example]:
    name = "wiki_talk_cat_large"
    out = []
    for file, column, group in (("gn.csv", "label", "gn"), ("cat_small.csv", "label_oc", "cat_small")):
        if group == "cat_small" and not folder.has(file):
            continue
        for line, row in folder.rows(file, ("text", column)):
            label = flag(row[column], folder.root / file, line, BINARY)
            if keep(row["text"]):
                out.append(Example(row["text"], {"toxicity": label}, name, group=group))
    return out


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[nrt'\"\\])")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "'": "'", '"': '"', "\\": "\\"}
# UTF-8 byte sequences that were escaped byte by byte (\xc2\xa0) and so decode to Latin-1 look-alikes.
_MOJIBAKE = re.compile("[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _unescape_once(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body[0] in "xuU":
            return chr(int(body[1:], 16))
        return _SIMPLE_ESCAPES[body]

    return _ESCAPE.sub(one, text)


def _repair_utf8(match: re.Match[str]) -> str:
    try:
        return match.group(0).encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return match.group(0)


def decode_impermium(raw: str) -> str:
    """Impermium's escaped, quoted comment text as real Unicode."""
    text = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    # Some comments were escaped twice or three times (\\\\n, \\\\\\'); stop as soon as nothing changes.
    for _ in range(3):
        decoded = _unescape_once(text)
        if decoded == text:
            break
        text = decoded
    return _MOJIBAKE.sub(_repair_utf8, text)


def load_impermium(folder: CorpusFolder) -> list[Example]:
    out = []
    for file, group in (("train.csv", "train"), ("test_with_solutions.csv", "test")):
        for line, row in folder.rows(file, ("Insult", "Comment")):
            label = flag(row["Insult"], folder.root / file, line, BINARY)
            text = decode_impermium(row["Comment"])
            if keep(text):
                out.append(Example(text, {"toxicity": label, "insult": label}, "impermium_insults", group))
    return out
