"""Adapters of the spam corpora."""

from __future__ import annotations

import html
import re
from pathlib import Path

from model.corpora.reading import BINARY, CorpusFolder, flag, keep
from model.corpora.records import CorpusError, Example

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_VIDEO = re.compile(r"Youtube\d+-(.+)", re.IGNORECASE)


def _youtube_text(raw: str) -> str:
    # Tags first, entities second: an escaped "&lt;3" is something the commenter typed and must survive.
    # The U+FEFF the export appends is missing from most Eminem spam but not its ham: a label leak.
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", raw))).replace("\ufeff", "")


def load_youtube(folder: CorpusFolder) -> list[Example]:
    files = sorted(p.name for p in folder.root.glob("*.csv") if p.name.lower().startswith("youtube"))
    if not files:
        raise CorpusError(folder.root, "no Youtube*.csv files")
    out = []
    for file in files:
        stem = Path(file).stem
        match = _VIDEO.fullmatch(stem)
        video = match.group(1) if match else stem
        for line, row in folder.rows(file, ("CONTENT", "CLASS")):
            label = flag(row["CLASS"], folder.root / file, line, BINARY)
            text = _youtube_text(row["CONTENT"])
            if keep(text):
                out.append(Example(text, {"spam": label}, "youtube_spam", group=video))
    return out


def load_datacamp(folder: CorpusFolder) -> list[Example]:
    file = "datacamp_comments_labeled.csv"
    out = []
    for line, row in folder.rows(file, ("comment", "label")):
        label = flag(row["label"], folder.root / file, line, BINARY)
        if keep(row["comment"]):
            out.append(Example(row["comment"], {"spam": label}, "datacamp_comment_spam", row.get("articleName", "")))
    return out
