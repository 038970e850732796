"""Loading corpora: a data root of corpus folders, one folder, or an admin's file; de-duplication, summaries."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from model.categories import CATEGORIES
from model.corpora.catalogue import CORPORA
from model.corpora.implicit import (
    load_cad,
    load_dynahate,
    load_ethos,
    load_fox_news,
    load_gab,
    load_implicit_hate,
    load_social_bias_frames,
    load_toxigen,
)
from model.corpora.labelled_files import LABELLED_FILE_SUFFIXES, load_labelled_file
from model.corpora.reading import CorpusFolder
from model.corpora.records import CorpusWarning, Example, LoadedCorpus
from model.corpora.spam import load_datacamp, load_youtube
from model.corpora.toxicity import (
    load_civil,
    load_davidson,
    load_hatexplain,
    load_impermium,
    load_jigsaw,
    load_olid,
    load_wiki,
)

# name -> (adapter, files whose presence identifies the corpus in a folder of another name)
_ADAPTERS: dict[str, tuple[Callable[[CorpusFolder], list[Example]], tuple[str, ...]]] = {
    "jigsaw_toxic_2018": (load_jigsaw, ("train_subset.csv",)),
    "civil_comments_toxic_spans": (load_civil, ("comments.csv", "annotations.csv", "spans.csv")),
    "davidson_hate_offensive": (load_davidson, ("labeled_data.csv",)),
    "hatexplain_magpie": (load_hatexplain, ("preprocessed.csv",)),
    "olid": (load_olid, ("OLIDv1.0/olid-training-v1.0.tsv",)),
    "wiki_talk_cat_large": (load_wiki, ("gn.csv",)),
    "impermium_insults": (load_impermium, ("train.csv", "test_with_solutions.csv")),
    "youtube_spam": (load_youtube, ("Youtube01-Psy.csv",)),
    "implicit_hate": (load_implicit_hate, ("implicit_hate_v1_stg1_posts.tsv",)),
    "social_bias_frames_devtest": (load_social_bias_frames, ("SBIC.v2.agg.dev.csv", "SBIC.v2.agg.tst.csv")),
    "toxigen_annotated_partial": (load_toxigen, ("toxigen_annotated_subset.csv",)),
    "fox_news_comments": (load_fox_news, ("fox-news-comments.json",)),
    "cad": (load_cad, ("cad_v1_1_train.tsv",)),
    "gab_hate_corpus": (load_gab, ("ghc_train.tsv", "ghc_test.tsv")),
    "dynahate_devtest": (load_dynahate, ("db_dev.csv", "db_test.csv")),
    "ethos": (load_ethos, ("Ethos_Dataset_Binary.csv",)),
    "datacamp_comment_spam": (load_datacamp, ("datacamp_comments_labeled.csv",)),
}


def load_corpus(folder: Path, name: str) -> LoadedCorpus:
    """Load one known corpus from its folder."""
    adapter, _ = _ADAPTERS[name]
    reader = CorpusFolder(folder)
    examples = adapter(reader)
    return LoadedCorpus(CORPORA[name], examples, reader.files, reader.sha256)


def _identify(folder: Path) -> str | None:
    if folder.name in CORPORA:
        return folder.name
    for name, (_, markers) in _ADAPTERS.items():
        if all((folder / marker).is_file() for marker in markers):
            return name
    return None


def load_corpora(path: Path, *, shippable_only: bool = False) -> list[LoadedCorpus]:
    """Load a data root of corpus folders, a single corpus folder, or an admin's labelled file."""
    path = Path(path)
    if path.is_file():
        return [load_labelled_file(path)]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    name = _identify(path)
    if name is not None:
        folders = {name: path}
    else:
        folders = {}
        for child in sorted(path.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir():
                found = _identify(child)
                if found is None or found in folders:
                    warnings.warn(f"skipping {child}: not a known corpus folder", CorpusWarning, stacklevel=2)
                else:
                    folders[found] = child
            elif child.suffix.lower() in LABELLED_FILE_SUFFIXES:
                warnings.warn(
                    f"skipping {child}: labelled files are loaded only when given by their own path",
                    CorpusWarning,
                    stacklevel=2,
                )
    # Known corpora load in CORPORA order so de-duplication keeps the same first occurrence every time.
    return [
        load_corpus(folders[known], known)
        for known in CORPORA
        if known in folders and (CORPORA[known].shippable or not shippable_only)
    ]


# ---------------------------------------------------------------------------------------------------------
# De-duplication and summaries


def deduplicate(examples: Iterable[Example], key: Callable[[str], str]) -> tuple[list[Example], int]:
    """One example per key(text) across corpora, labels merged by majority (ties positive); rows removed."""
    groups: dict[str, list[Example]] = {}
    total = 0
    for example in examples:
        total += 1
        k = key(example.text)
        if k.strip():
            groups.setdefault(k, []).append(example)
    merged = []
    for members in groups.values():
        first = members[0]
        if len(members) == 1:
            merged.append(first)
            continue
        positive: Counter[str] = Counter()
        known: Counter[str] = Counter()
        for member in members:
            for category, value in member.labels.items():
                known[category] += 1
                positive[category] += value
        labels = {c: int(2 * positive[c] >= known[c]) for c in known}
        spans = first.spans or next((m.spans for m in members if m.text == first.text and m.spans), ())
        merged.append(Example(first.text, labels, first.corpus, first.group, spans))
    return merged, total - len(merged)


def corpus_summary(loaded: list[LoadedCorpus]) -> list[dict]:
    """Per corpus: name, rows, positives and negatives per category, content hash, licence, shippable."""
    summary = []
    for corpus in loaded:
        positives: Counter[str] = Counter()
        negatives: Counter[str] = Counter()
        for example in corpus.examples:
            for category, value in example.labels.items():
                (positives if value else negatives)[category] += 1
        categories = [c for c in CATEGORIES if c in corpus.info.categories or c in positives or c in negatives]
        summary.append(
            {
                "name": corpus.info.name,
                "title": corpus.info.title,
                "rows": len(corpus.examples),
                "positives": {c: positives[c] for c in categories},
                "negatives": {c: negatives[c] for c in categories},
                "sha256": corpus.sha256,
                "licence": corpus.info.licence,
                "shippable": corpus.info.shippable,
            }
        )
    return summary
