"""Adapters of the corpora of implicit hate, social bias, counter-speech and identity-directed abuse."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

from model.corpora.reading import BINARY, CorpusFolder, flag, keep
from model.corpora.records import CorpusError, Example

_QUOTE_RUNS = re.compile(r'(?:^|(?<=\s))"(?=\s|$)|^\s*"|"\s*$')
_SPACES = re.compile(r"[ \t]+")


def _implicit_hate_text(raw: str) -> str:
    """A stage-1 post without the TSV's stray quote tokens, spaces collapsed."""
    text = raw
    for _ in range(8):  # strip standalone `"` tokens left by doubled quoting, to a fixed point
        cleaned = _QUOTE_RUNS.sub("", text)
        if cleaned == text:
            break
        text = cleaned
    return _SPACES.sub(" ", text).strip()


_IMPLICIT_CLASSES = {
    "explicit_hate": {"toxicity": 1, "identity_attack": 1},
    "implicit_hate": {"toxicity": 1, "identity_attack": 1},
    "not_hate": {"toxicity": 0, "identity_attack": 0},
}


def load_implicit_hate(folder: CorpusFolder) -> list[Example]:
    path = folder.root / "implicit_hate_v1_stg1_posts.tsv"
    threat: dict[str, int | None] = {}
    for _, row in folder.rows("implicit_hate_v1_stg2_posts.tsv", ("post", "implicit_class"), delimiter="\t"):
        kinds = {row["implicit_class"].strip(), row.get("extra_implicit_class", "").strip()}
        threat[row["post"]] = 1 if "threatening" in kinds else None if "incitement" in kinds else 0
    out = []
    for line, row in folder.rows("implicit_hate_v1_stg1_posts.tsv", ("post", "class"), delimiter="\t"):
        kind = row["class"].strip()
        if kind not in _IMPLICIT_CLASSES:
            raise CorpusError(path, f"unexpected class {kind!r}", line)
        labels = dict(_IMPLICIT_CLASSES[kind])
        known_threat = threat.get(row["post"])
        if kind != "not_hate" and known_threat is not None:
            labels["threat"] = known_threat
        text = _implicit_hate_text(row["post"])
        if keep(text):
            out.append(Example(text, labels, "implicit_hate", group="stg1"))
    return out


def _mean(value: str, path: Path, line: int) -> float | None:
    """An annotator mean cell as a float, None when empty."""
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError as error:
        raise CorpusError(path, f"{value!r} is not a number", line) from error


def _sbf_labels(offensive: float | None, who: float | None, no_implication: float | None) -> dict[str, int]:
    if offensive is None:
        return {}
    if offensive <= 0.2:
        return {"toxicity": 0, "identity_attack": 0}
    if offensive < 0.5:
        return {}
    labels = {"toxicity": 1}
    if who is not None and who >= 0.5 and no_implication == 0:
        labels["identity_attack"] = 1
    elif who == 0:
        labels["identity_attack"] = 0
    return labels


def load_social_bias_frames(folder: CorpusFolder) -> list[Example]:
    out = []
    for file, group in (("SBIC.v2.agg.dev.csv", "dev"), ("SBIC.v2.agg.tst.csv", "test")):
        path = folder.root / file
        for line, row in folder.rows(file, ("post", "offensiveYN", "whoTarget", "hasBiasedImplication")):
            labels = _sbf_labels(
                _mean(row["offensiveYN"], path, line),
                _mean(row["whoTarget"], path, line),
                _mean(row["hasBiasedImplication"], path, line),
            )
            text = html.unescape(row["post"]).strip()
            if labels and keep(text):
                out.append(Example(text, labels, "social_bias_frames_devtest", group=group))
    return out


def load_toxigen(folder: CorpusFolder) -> list[Example]:
    file = "toxigen_annotated_subset.csv"
    out = []
    for line, row in folder.rows(file, ("text", "target_group", "toxicity_human")):
        score = _mean(row["toxicity_human"], folder.root / file, line)
        if score is None or 2 < score < 4:
            continue
        value = int(score >= 4)
        text = row["text"].strip()
        if keep(text):
            labels = {"toxicity": value, "identity_attack": value}
            out.append(Example(text, labels, "toxigen_annotated_partial", group=row["target_group"].strip()))
    return out


def load_fox_news(folder: CorpusFolder) -> list[Example]:
    file = "fox-news-comments.json"
    path = folder.root / file
    out = []
    for number, raw in enumerate(folder.text(file).split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise CorpusError(path, f"not valid JSON: {error.msg}", number) from error
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise CorpusError(path, "expected an object with a string `text`", number)
        label = record.get("label")
        if label not in (0, 1) or isinstance(label, bool):
            raise CorpusError(path, f"unexpected label {label!r} (expected 0 or 1)", number)
        labels = {"toxicity": 1, "identity_attack": 1} if label == 1 else {"identity_attack": 0}
        text = record["text"].strip()
        if keep(text):
            out.append(Example(text, labels, "fox_news_comments", group=str(record.get("title", ""))))
    return out


_CAD_KINDS = {"Neutral", "CounterSpeech", "IdentityDirectedAbuse", "PersonDirectedAbuse", "AffiliationDirectedAbuse"}


def _cad_labels(kinds: set[str]) -> dict[str, int]:
    identity = "IdentityDirectedAbuse" in kinds
    person = "PersonDirectedAbuse" in kinds
    if not (identity or person or "AffiliationDirectedAbuse" in kinds):
        return {"toxicity": 0, "insult": 0, "identity_attack": 0}
    labels = {"toxicity": 1, "identity_attack": int(identity)}
    if person:
        labels["insult"] = 1
    return labels


def load_cad(folder: CorpusFolder) -> list[Example]:
    out = []
    for group in ("train", "dev", "test"):
        file = f"cad_v1_1_{group}.tsv"
        for line, row in folder.rows(file, ("id", "text", "labels"), delimiter="\t", quoting=csv.QUOTE_NONE):
            kinds = {kind.strip() for kind in row["labels"].split(",") if kind.strip()}
            if not kinds or kinds - _CAD_KINDS:
                raise CorpusError(folder.root / file, f"unexpected labels {row['labels']!r}", line)
            text = row["text"].replace("[linebreak]", "\n").strip()
            if keep(text):
                out.append(Example(text, _cad_labels(kinds), "cad", group=group))
    return out


def load_gab(folder: CorpusFolder) -> list[Example]:
    out = []
    for file, group in (("ghc_train.tsv", "train"), ("ghc_test.tsv", "test")):
        path = folder.root / file
        for line, row in folder.rows(file, ("text", "hd", "cv", "vo"), delimiter="\t"):
            hd, cv, vo = (flag(row[column], path, line, BINARY) for column in ("hd", "cv", "vo"))
            labels = {"toxicity": int(hd or cv or vo), "identity_attack": hd, "threat": cv, "obscene": vo}
            if keep(row["text"]):
                out.append(Example(row["text"], labels, "gab_hate_corpus", group=group))
    return out


def load_dynahate(folder: CorpusFolder) -> list[Example]:
    out = []
    for file, split in (("db_dev.csv", "dev"), ("db_test.csv", "test")):
        path = folder.root / file
        for line, row in folder.rows(file, ("text", "label", "type", "level")):
            hate = flag(row["label"], path, line, {"hate": 1, "nothate": 0})
            labels = {"toxicity": 1, "identity_attack": 1} if hate else {"identity_attack": 0}
            if hate and row["type"].strip() not in ("", "notgiven"):
                labels["threat"] = int(row["type"].strip() == "threatening")
            if keep(row["text"]):
                out.append(Example(row["text"], labels, "dynahate_devtest", group=f"{split}:{row['level'].strip()}"))
    return out


def load_ethos(folder: CorpusFolder) -> list[Example]:
    multi = "Ethos_Dataset_Multi_Label.csv"
    violence: dict[str, float] = {}
    for line, row in folder.rows(multi, ("comment", "violence"), delimiter=";"):
        share = _mean(row["violence"], folder.root / multi, line)
        if share is not None:
            violence[row["comment"]] = share
    binary = "Ethos_Dataset_Binary.csv"
    out = []
    for line, row in folder.rows(binary, ("comment", "isHate"), delimiter=";"):
        share = _mean(row["isHate"], folder.root / binary, line)
        if share is None:
            raise CorpusError(folder.root / binary, "empty isHate", line)
        labels = {"toxicity": 1, "identity_attack": 1} if share >= 0.5 else {"identity_attack": 0}
        if share >= 0.5 and row["comment"] in violence:
            labels["threat"] = int(violence[row["comment"]] >= 0.5)
        if keep(row["comment"]):
            out.append(Example(row["comment"].strip(), labels, "ethos", group="binary"))
    return out
