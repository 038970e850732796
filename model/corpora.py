"""Labelled corpora as examples: an adapter per known corpus, one for an admin's own file, de-duplication."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from model.categories import CATEGORIES

MAX_FILE_ERRORS = 20
LABELLED_FILE_SUFFIXES = (".csv", ".jsonl", ".json")


@dataclass(frozen=True)
class Example:
    """One labelled comment; `labels` holds only the categories its corpus labels."""

    text: str
    labels: dict[str, int]
    corpus: str
    group: str = ""
    spans: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class CorpusInfo:
    """What a corpus is, where it comes from, its licence and how its labels map onto our categories."""

    name: str
    title: str
    source: str
    licence: str
    shippable: bool
    attribution: str
    categories: tuple[str, ...]
    mapping: str


@dataclass
class LoadedCorpus:
    """A corpus's examples together with the files they were read from and a hash of those files."""

    info: CorpusInfo
    examples: list[Example]
    files: list[Path]
    sha256: str


class CorpusWarning(UserWarning):
    """A folder or file was skipped, or rows were left out, while loading corpora."""


class CorpusError(ValueError):
    """A known corpus folder is missing a file or does not have the format its adapter expects."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class LabelledFileError(ValueError):
    """An admin's labelled file has problems; `errors` lists each (1-based line, message) found."""

    def __init__(
        self,
        path: Path,
        line: int,
        message: str,
        errors: list[tuple[int, str]] | None = None,
        truncated: bool = False,
    ) -> None:
        self.path = Path(path)
        self.errors = list(errors) if errors else [(line, message)]
        self.line = self.errors[0][0]
        self.truncated = truncated
        lines = [f"line {n}: {m}" for n, m in self.errors]
        if truncated:
            lines.append(f"stopped after {len(self.errors)} errors; there may be more")
        fields: dict[str, list[str]] = defaultdict(list)
        for n, m in self.errors:
            fields[f"line {n}"].append(m)
        self.message = f"{self.path.name}: " + "; ".join(lines)
        self.fields = {k: "; ".join(v) for k, v in fields.items()}
        super().__init__(self.message)


# ---------------------------------------------------------------------------------------------------------
# Corpus descriptions (the `mapping` texts go into MODEL_CARD.md)

CORPORA: dict[str, CorpusInfo] = {
    info.name: info
    for info in (
        CorpusInfo(
            name="jigsaw_toxic_2018",
            title="Jigsaw Toxic Comment Classification Challenge (2018), training subset",
            source="https://www.kaggle.com/c/jigsaw-toxic-comment-classification-challenge",
            licence="data CC0, comment text CC BY-SA 3.0",
            shippable=True,
            attribution="Wikipedia talk-page comments labelled by Jigsaw/Conversation AI; comment text "
            "from Wikipedia under CC BY-SA 3.0.",
            categories=("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"),
            mapping="Each 0/1 column maps directly: toxic→toxicity, severe_toxic→severe_toxicity, "
            "obscene→obscene, threat→threat, insult→insult, identity_hate→identity_attack. Labels are kept "
            "as published, including the ~1.5 % of rows where a sub-type is 1 but toxic is 0. Toxic rows "
            "are over-sampled (about 1 in 3), far above real traffic.",
        ),
        CorpusInfo(
            name="civil_comments_toxic_spans",
            title="Civil Comments Toxic Spans (SemEval-2021 Task 5 / ACL 2022)",
            source="https://github.com/ipavlopoulos/toxic_spans",
            licence="CC0",
            shippable=True,
            attribution="Pavlopoulos et al., SemEval-2021 Task 5: Toxic Spans Detection, and From the "
            "Detection of Toxic Spans in Online Discussions to the Analysis of Toxic-to-Civil Transfer "
            "(ACL 2022); posts from the Civil Comments dataset.",
            categories=("obscene", "threat", "insult", "identity_attack"),
            mapping="All posts were already rated toxic by at least half of the original Civil Comments "
            "raters; 3-7 span annotators then re-read each post. Toxicity is NOT labelled from this corpus: "
            "its only negatives would be annotators ticking `not toxic`, which the annotation form also "
            "required for 'toxic as a whole, no span to mark', so they are too weak (both our model and "
            "alt-profanity-check rank them at ROC AUC ~0.62); training on them lowered toxicity AUC on the "
            "other corpora. Span types give insult (Insult), obscene "
            "(Profane/Obscene), threat (Threat) and identity_attack (Identity based Attack): positive when "
            "at least half the post's annotators highlighted a span of that type, negative when none did, "
            "unknown otherwise; Other Toxicity and untyped spans count only toward toxicity spans. Spans "
            "(character offsets) are kept as ground truth where at least half the annotators covered a "
            "character: per type, and any type as `toxicity`. The tsd_*.csv files repeat these posts and "
            "are not read.",
        ),
        CorpusInfo(
            name="davidson_hate_offensive",
            title="Hate Speech and Offensive Language (Davidson et al., 2017)",
            source="https://github.com/t-davidson/hate-speech-and-offensive-language",
            licence="MIT",
            shippable=True,
            attribution="Davidson, Warmsley, Macy and Weber, Automated Hate Speech Detection and the "
            "Problem of Offensive Language (ICWSM 2017). Copyright (c) 2017 Tom Davidson, MIT licence.",
            categories=("toxicity", "identity_attack"),
            mapping="Majority class of the CrowdFlower raters: 0 hate speech → toxicity 1, identity_attack "
            "1; 1 offensive language → toxicity 1, identity_attack 0; 2 neither → toxicity 0, "
            "identity_attack 0. HTML entities (&amp;, &#128514; …) are unescaped; retweet prefixes and "
            "@handles are left as they are. Its hate class is known to contain many tweets that merely use "
            "slurs.",
        ),
        CorpusInfo(
            name="hatexplain_magpie",
            title="HateXplain (Mathew et al., 2021), preprocessed text",
            source="https://github.com/hate-alert/HateXplain",
            licence="data MIT; preprocessing repository Apache-2.0",
            shippable=True,
            attribution="Mathew et al., HateXplain: A Benchmark Dataset for Explainable Hate Speech "
            "Detection (AAAI 2021); Twitter and Gab posts, text re-assembled from tokens without "
            "punctuation.",
            categories=("toxicity", "identity_attack"),
            mapping="`label` 0 normal → toxicity 0, identity_attack 0; 1 offensive → toxicity 1, "
            "identity_attack 0; 2 hate speech → toxicity 1, identity_attack 1. The upstream README gives "
            "hatespeech=1, but the counts say otherwise: code 2 has 5,852 rows (HateXplain reports ~5.9k "
            "hate vs ~5.5k offensive), 99 % of them name a target group, and racial and religious slurs "
            "fall mostly under 2, while 1 (5,401 rows) holds generic abuse (e.g. 'retard', 'bitch'). Texts "
            "keep the corpus's <user> and <number> placeholders.",
        ),
        CorpusInfo(
            name="olid",
            title="Offensive Language Identification Dataset (OLID v1.0)",
            source="https://scholar.harvard.edu/malmasi/olid",
            licence="CC BY 4.0",
            shippable=True,
            attribution="Zampieri et al., Predicting the Type and Target of Offensive Posts in Social "
            "Media (NAACL 2019); OffensEval, SemEval-2019 Task 6. Licensed CC BY 4.0.",
            categories=("toxicity", "insult"),
            mapping="Sub-task A: OFF → toxicity 1, NOT → toxicity 0. Insult from sub-tasks B and C: NOT → "
            "insult 0; OFF+UNT (untargeted profanity, by definition aimed at no one) → insult 0; "
            "OFF+TIN+IND (targeted insult or threat at an individual; threats are rare) → insult 1; TIN "
            "aimed at a group or at something else (an organisation, event or issue) → insult unknown, "
            "since those mix insults with identity attacks and criticism of issues. Group 'train' is "
            "olid-training-v1.0.tsv; group 'test' is testset-levela.tsv with labels-level{a,b,c}.csv. "
            "olid-training-v1.0-extra.tsv is that same test set (same 860 ids, texts and labels) in the "
            "training file's layout, so it is not read; testset-taska.tsv has no labels and is not read.",
        ),
        CorpusInfo(
            name="wiki_talk_cat_large",
            title="Toxicity Detection: Does Context Really Matter? (Pavlopoulos et al., 2020)",
            source="https://github.com/ipavlopoulos/context_toxicity",
            licence="repository Apache-2.0, text CC BY-SA",
            shippable=True,
            attribution="Pavlopoulos, Sorensen, Dixon, Thain and Androutsopoulos, Toxicity Detection: Does "
            "Context Really Matter? (ACL 2020); Wikipedia talk-page comments, text CC BY-SA.",
            categories=("toxicity",),
            mapping="`label` → toxicity, using only labels given without the parent comment: gn.csv (group "
            "'gn', 10,000 comments) and the out-of-context label_oc of cat_small.csv (group 'cat_small'). "
            "gc.csv is not read: its 10,000 different comments were labelled with the parent shown, and on "
            "cat_small, which has both labels for the same comments, the in-context label differs for 15 % "
            "of them, so it is not a label of the text the model sees. The `api` column (an external "
            "model's score) is never used.",
        ),
        CorpusInfo(
            name="impermium_insults",
            title="Detecting Insults in Social Commentary (Impermium, Kaggle 2012)",
            source="https://www.kaggle.com/c/detecting-insults-in-social-commentary",
            licence="competition data, no explicit licence",
            shippable=False,
            attribution="Impermium / Kaggle, Detecting Insults in Social Commentary (2012). Used for evaluation only.",
            categories=("toxicity", "insult"),
            mapping="`Insult` → insult, and the same value → toxicity (an insult is toxic). Caveat: only "
            "insults aimed at a participant were labelled, so some 0 rows contain profanity or insults at "
            "third parties; toxicity 0 here is approximate. Text is decoded from its escaped form (outer "
            "quotes, \\n, \\xa0, \\u…, and UTF-8 bytes written as \\xc2\\xa0) to Unicode. Group 'train' is "
            "train.csv, 'test' is test_with_solutions.csv. Evaluation only: no licence to ship.",
        ),
        CorpusInfo(
            name="youtube_spam",
            title="YouTube Spam Collection (UCI)",
            source="https://archive.ics.uci.edu/dataset/380/youtube+spam+collection",
            licence="CC BY 4.0",
            shippable=True,
            attribution="Alberto, Lochter and Almeida, TubeSpam: Comment Spam Filtering on YouTube (ICMLA "
            "2015); UCI Machine Learning Repository, CC BY 4.0.",
            categories=("spam",),
            mapping="`CLASS` 1 → spam 1, 0 → spam 0. Group is the video (Psy, KatyPerry, LMFAO, Eminem) so "
            "evaluation can hold out a whole video. The export's HTML is undone: <br /> becomes a line "
            "break, other tags are removed keeping their text, entities are unescaped, and the byte-order "
            "mark the export appends to comments is removed (its presence differs between spam and ham of "
            "one video).",
        ),
        CorpusInfo(
            name="implicit_hate",
            title="Implicit Hate Corpus (Latent Hatred, ElSherief et al., 2021)",
            source="https://github.com/SALT-NLP/implicit-hate",
            licence="CC BY 4.0 (LICENSE file shipped with the data); tweets under Twitter's terms",
            shippable=True,
            attribution="ElSherief, Ziems, Muchlinski, Anupindi, Seybolt, De Choudhury and Yang, Latent Hatred: A "
            "Benchmark for Understanding Implicit Hate Speech (EMNLP 2021); tweets from US extremist-group "
            "accounts and their replies. Licensed CC BY 4.0.",
            categories=("toxicity", "threat", "identity_attack"),
            mapping="Stage 1 `class` (implicit_hate_v1_stg1_posts.tsv): explicit_hate and implicit_hate → "
            "toxicity 1, identity_attack 1; not_hate → toxicity 0, identity_attack 0. Threat from the stage-2 "
            "implicit type (stg2, the same posts): `threatening` as main or extra type → threat 1; `incitement` "
            "(promoting hate groups, not always violence) → threat unknown; any other type → threat 0; posts "
            "without a stage-2 type → threat unknown. stg3 (free-text targets and implied statements) and the "
            "SAP file (Social Bias Frames posts) are not read. The TSV's doubled-quote artefacts (runs of "
            "`\" \"` around and after the text) are removed and spaces collapsed; the lowercased, tokenised "
            "text (` rt : `) is left as it is. Group 'stg1'.",
        ),
        CorpusInfo(
            name="social_bias_frames_devtest",
            title="Social Bias Frames v2 (Sap et al., 2020), dev and test splits",
            source="https://maartensap.com/social-bias-frames/",
            licence="CC BY 4.0",
            shippable=True,
            attribution="Sap, Gabriel, Qin, Jurafsky, Smith and Choi, Social Bias Frames: Reasoning about Social "
            "and Power Implications of Language (ACL 2020); Reddit, Twitter, Gab and Stormfront posts. Licensed "
            "CC BY 4.0.",
            categories=("toxicity", "identity_attack"),
            mapping="The aggregated files (SBIC.v2.agg.dev.csv, group 'dev'; SBIC.v2.agg.tst.csv, group 'test'): "
            "mean `offensiveYN` (yes 1, maybe 0.5, no 0 over about three annotators) ≥ 0.5 → toxicity 1, ≤ 0.2 "
            "(nobody, or one 'maybe' of six) → toxicity 0, in between unknown. identity_attack 1 when offensive "
            "(≥ 0.5), aimed at a group (mean `whoTarget` ≥ 0.5) and an implied stereotype was written "
            "(`hasBiasedImplication` 0, which upstream codes as 'has one'); identity_attack 0 when not offensive "
            "(≤ 0.2) or offensive but aimed at an individual (`whoTarget` 0); otherwise unknown. `sexYN` (a "
            "sexual reference, not profanity) is not mapped. HTML entities are unescaped. About 280 posts per "
            "split are Davidson tweets, which de-duplication merges. The per-annotator SBIC.v2.dev.csv is not read.",
        ),
        CorpusInfo(
            name="toxigen_annotated_partial",
            title="ToxiGen (Hartvigsen et al., 2022), human-rated statements, partial",
            source="https://github.com/microsoft/TOXIGEN",
            licence="CDLA-Permissive-2.0 (data)",
            shippable=True,
            attribution="Hartvigsen, Gabriel, Palangi, Sap, Ray and Kamar, ToxiGen: A Large-Scale Machine-Generated "
            "Dataset for Adversarial and Implicit Hate Speech Detection (ACL 2022); statements written by GPT-3 "
            "about 13 groups, rated by annotators. Data licensed CDLA-Permissive-2.0.",
            categories=("toxicity", "identity_attack"),
            mapping="`toxicity_human` (mean 1-5 harm rating): ≥ 4 → toxicity 1, identity_attack 1 (every statement "
            "is about the row's target group, so a harmful one attacks it); ≤ 2 → toxicity 0, identity_attack 0; "
            "between 2 and 4 (exclusive) unknown, so the row is left out. Group is `target_group`. Machine-written "
            "text, not real comments.",
        ),
        CorpusInfo(
            name="fox_news_comments",
            title="Fox News User Comments (Gao and Huang, 2017)",
            source="https://github.com/sjtuprog/fox-news-comments",
            licence="MIT (README)",
            shippable=True,
            attribution="Lei Gao and Ruihong Huang, Detecting Online Hate Speech Using Context Aware Models (RANLP "
            "2017); reader comments under 10 Fox News articles. Dataset under the MIT licence.",
            categories=("toxicity", "identity_attack"),
            mapping="`label` 1 (hateful: attacks or demeans on the basis of race, religion, gender, nationality …) "
            "→ toxicity 1, identity_attack 1; 0 → identity_attack 0 with toxicity unknown (a non-hateful comment "
            "may still be rude). Annotated with the thread in view; the model sees the comment alone. Group is "
            "the article title.",
        ),
        CorpusInfo(
            name="cad",
            title="Contextual Abuse Dataset v1.1 (Vidgen et al., 2021)",
            source="https://doi.org/10.5281/zenodo.4881008",
            licence="not stated in this copy (upstream believed CC BY 4.0, unverified)",
            shippable=False,
            attribution="Vidgen, Nguyen, Margetts, Rossini and Tromble, Introducing CAD: the Contextual Abuse "
            "Dataset (NAACL 2021); Reddit posts and comments. Used for evaluation only.",
            categories=("toxicity", "insult", "identity_attack"),
            mapping="`labels` (comma-separated primary categories): IdentityDirectedAbuse → toxicity 1, "
            "identity_attack 1; PersonDirectedAbuse → toxicity 1, insult 1; AffiliationDirectedAbuse → toxicity 1; "
            "Neutral or CounterSpeech (challenging abuse) with no abuse category → toxicity 0, insult 0, "
            "identity_attack 0. identity_attack is 0 on every row without IdentityDirectedAbuse; insult is 0 "
            "on rows with no abuse at all and unknown on affiliation-only abuse (insults mixed with criticism of "
            "parties or professions). Read with quoting off; `[linebreak]` becomes a line break. Groups 'train', "
            "'dev', 'test'. Annotated in thread context. Evaluation only until the licence is confirmed.",
        ),
        CorpusInfo(
            name="gab_hate_corpus",
            title="Gab Hate Corpus (Kennedy et al., 2022)",
            source="https://osf.io/edua3/",
            licence="not stated in this copy (upstream believed CC BY 4.0, unverified)",
            shippable=False,
            attribution="Kennedy, Atari, Mostafazadeh Davani et al., Introducing the Gab Hate Corpus: defining and "
            "applying hate-based rhetoric to social media posts at scale (Language Resources and Evaluation, "
            "2022). Used for evaluation only.",
            categories=("toxicity", "obscene", "threat", "identity_attack"),
            mapping="Majority labels: `hd` (human degradation) → identity_attack; `cv` (call for violence) → "
            "threat; `vo` (vulgarity) → obscene; toxicity 1 when any of the three is 1, else 0 (approximate: a "
            "personal insult without vulgarity or hate is 0 on all three). Groups 'train' (ghc_train.tsv) and "
            "'test' (ghc_test.tsv). Evaluation only until the licence is confirmed.",
        ),
        CorpusInfo(
            name="dynahate_devtest",
            title="Dynamically Generated Hate Speech Dataset (Vidgen et al., 2021), dev and test splits",
            source="https://github.com/bvidgen/Dynamically-Generated-Hate-Speech-Dataset",
            licence="not stated",
            shippable=False,
            attribution="Vidgen, Thrush, Waseem and Kiela, Learning from the Worst: Dynamically Generated Datasets "
            "to Improve Online Hate Detection (ACL 2021); adversarial sentences written by trained annotators. "
            "Used for evaluation only.",
            categories=("toxicity", "threat", "identity_attack"),
            mapping="`label` hate → toxicity 1, identity_attack 1; nothate → identity_attack 0 with toxicity "
            "unknown (the guidelines put abuse that is not aimed at a protected group under nothate). `type` "
            "threatening → threat 1; other hate types → threat 0; threat unknown on nothate rows. Group is the "
            "split and `level`, e.g. 'dev:original' or 'test:perturbation' (contrastive edits: negation, counter "
            "speech, identity swaps). Evaluation only: no licence stated.",
        ),
        CorpusInfo(
            name="ethos",
            title="ETHOS hate speech dataset (Mollas et al., 2022)",
            source="https://github.com/intelligence-csd-auth-gr/Ethos-Hate-Speech-Dataset",
            licence="GPL-3.0",
            shippable=False,
            attribution="Mollas, Chrysopoulou, Karlos and Tsoumakas, ETHOS: a multi-label hate speech detection "
            "dataset (Complex & Intelligent Systems, 2022); YouTube and Reddit comments. GPL-3.0: evaluation only.",
            categories=("toxicity", "threat", "identity_attack"),
            mapping="Ethos_Dataset_Binary.csv `isHate` (share of annotators): ≥ 0.5 → toxicity 1, identity_attack 1; "
            "< 0.5 → identity_attack 0 with toxicity unknown (not hate speech is not necessarily civil). Threat for "
            "the hateful comments from Ethos_Dataset_Multi_Label.csv (matched by text): `violence` ≥ 0.5 → threat "
            "1, else threat 0. Evaluation only: copyleft.",
        ),
        CorpusInfo(
            name="datacamp_comment_spam",
            title="DataCamp tutorial comments labelled spam (student project)",
            source="https://github.com/Desmond00/DatacampArticleSentimentAnalysis",
            licence="none stated",
            shippable=False,
            attribution="Comments on datacamp.com tutorials labelled by one student labeller (Debnath et al., "
            "2019-2020). Used for evaluation only.",
            categories=("spam",),
            mapping="`label` 1 → spam 1, 0 → spam 0. The labeller's spam is broad (link drops and marketing, but "
            "also bare greetings, one-word and non-English comments). Group is the tutorial (`articleName`). "
            "Evaluation only: no licence stated.",
        ),
    )
}


# ---------------------------------------------------------------------------------------------------------
# Reading files


def _content_hash(blobs: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over (relative name, bytes) pairs in name order, each length-prefixed."""
    digest = hashlib.sha256()
    for name, data in sorted(blobs):
        encoded = name.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class _Folder:
    """Reads a corpus folder's files once each, keeping their bytes for the content hash."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs: dict[str, bytes] = {}

    def has(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def text(self, relative: str) -> str:
        path = self.root / relative
        if not path.is_file():
            raise CorpusError(path, "expected file is missing")
        data = path.read_bytes()
        self.blobs[relative] = data
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CorpusError(path, "not UTF-8 text", data.count(b"\n", 0, error.start) + 1) from error

    def rows(
        self,
        relative: str,
        required: Iterable[str],
        delimiter: str = ",",
        quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
    ) -> Iterator[tuple[int, dict[str, str]]]:
        """(1-based starting line, row) for each record of a CSV/TSV file with a header."""
        path = self.root / relative
        reader = csv.reader(io.StringIO(self.text(relative), newline=""), delimiter=delimiter, quoting=quoting)
        header = next(reader, None)
        missing = [name for name in required if header is None or name not in header]
        if header is None or missing:
            raise CorpusError(path, f"missing column(s) {', '.join(missing)}", 1)
        try:
            while True:
                line = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                if row:
                    yield line, dict(zip(header, row + [""] * (len(header) - len(row)), strict=False))
        except csv.Error as error:
            raise CorpusError(path, f"CSV error: {error}", reader.line_num) from error

    @property
    def files(self) -> list[Path]:
        return [self.root / name for name in sorted(self.blobs)]

    @property
    def sha256(self) -> str:
        return _content_hash(self.blobs.items())


def _flag(value: str | None, path: Path, line: int, allowed: dict[str, int]) -> int:
    """A label cell mapped through `allowed`, or a CorpusError naming the cell."""
    key = (value or "").strip()
    if key not in allowed:
        raise CorpusError(path, f"unexpected label {key!r} (expected one of {', '.join(allowed)})", line)
    return allowed[key]


_BINARY = {"0": 0, "1": 1}


def _keep(text: str) -> bool:
    return bool(text.strip())


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


def _load_jigsaw(folder: _Folder) -> list[Example]:
    name = "jigsaw_toxic_2018"
    path = folder.root / "train_subset.csv"
    out = []
    for line, row in folder.rows("train_subset.csv", ("comment_text", *_JIGSAW_COLUMNS)):
        labels = {cat: _flag(row[col], path, line, _BINARY) for col, cat in _JIGSAW_COLUMNS.items()}
        if _keep(row["comment_text"]):
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


def _load_civil(folder: _Folder) -> list[Example]:
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
        if not raters or not _keep(text):
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


def _load_davidson(folder: _Folder) -> list[Example]:
    path = folder.root / "labeled_data.csv"
    out = []
    for line, row in folder.rows("labeled_data.csv", ("class", "tweet")):
        code = _flag(row["class"], path, line, {"0": 0, "1": 1, "2": 2})
        text = html.unescape(row["tweet"])
        if _keep(text):
            out.append(Example(text, dict(_DAVIDSON[str(code)]), "davidson_hate_offensive"))
    return out


def _load_hatexplain(folder: _Folder) -> list[Example]:
    path = folder.root / "preprocessed.csv"
    out = []
    for line, row in folder.rows("preprocessed.csv", ("text", "label")):
        code = _flag(row["label"], path, line, {"0": 0, "1": 1, "2": 2})
        labels = {"toxicity": int(code > 0), "identity_attack": int(code == 2)}
        if _keep(row["text"]):
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


def _load_olid(folder: _Folder) -> list[Example]:
    name = "olid"
    prefix = "OLIDv1.0/" if (folder.root / "OLIDv1.0").is_dir() else ""
    out = []
    train = f"{prefix}olid-training-v1.0.tsv"
    for line, row in folder.rows(train, ("tweet", "subtask_a", "subtask_b", "subtask_c"), delimiter="\t"):
        labels = _olid_labels(row["subtask_a"], row["subtask_b"], row["subtask_c"])
        if labels is None:
            raise CorpusError(folder.root / train, f"unexpected subtask_a {row['subtask_a']!r}", line)
        if _keep(row["tweet"]):
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
        if _keep(row["tweet"]):
            out.append(Example(row["tweet"], labels, name, group="test"))
    return out


def _load_wiki(folder: _Folder) -> list[Example]:
    name = "wiki_talk_cat_large"
    out = []
    for file, column, group in (("gn.csv", "label", "gn"), ("cat_small.csv", "label_oc", "cat_small")):
        if group == "cat_small" and not folder.has(file):
            continue
        for line, row in folder.rows(file, ("text", column)):
            label = _flag(row[column], folder.root / file, line, _BINARY)
            if _keep(row["text"]):
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


def _load_impermium(folder: _Folder) -> list[Example]:
    out = []
    for file, group in (("train.csv", "train"), ("test_with_solutions.csv", "test")):
        for line, row in folder.rows(file, ("Insult", "Comment")):
            label = _flag(row["Insult"], folder.root / file, line, _BINARY)
            text = decode_impermium(row["Comment"])
            if _keep(text):
                out.append(Example(text, {"toxicity": label, "insult": label}, "impermium_insults", group))
    return out


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_VIDEO = re.compile(r"Youtube\d+-(.+)", re.IGNORECASE)


def _youtube_text(raw: str) -> str:
    # Tags first, entities second: an escaped "&lt;3" is something the commenter typed and must survive.
    # The U+FEFF the export appends is missing from most Eminem spam but not its ham: a label leak.
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", raw))).replace("\ufeff", "")


def _load_youtube(folder: _Folder) -> list[Example]:
    files = sorted(p.name for p in folder.root.glob("*.csv") if p.name.lower().startswith("youtube"))
    if not files:
        raise CorpusError(folder.root, "no Youtube*.csv files")
    out = []
    for file in files:
        stem = Path(file).stem
        match = _VIDEO.fullmatch(stem)
        video = match.group(1) if match else stem
        for line, row in folder.rows(file, ("CONTENT", "CLASS")):
            label = _flag(row["CLASS"], folder.root / file, line, _BINARY)
            text = _youtube_text(row["CONTENT"])
            if _keep(text):
                out.append(Example(text, {"spam": label}, "youtube_spam", group=video))
    return out


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


def _load_implicit_hate(folder: _Folder) -> list[Example]:
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
        if _keep(text):
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


def _load_social_bias_frames(folder: _Folder) -> list[Example]:
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
            if labels and _keep(text):
                out.append(Example(text, labels, "social_bias_frames_devtest", group=group))
    return out


def _load_toxigen(folder: _Folder) -> list[Example]:
    file = "toxigen_annotated_subset.csv"
    out = []
    for line, row in folder.rows(file, ("text", "target_group", "toxicity_human")):
        score = _mean(row["toxicity_human"], folder.root / file, line)
        if score is None or 2 < score < 4:
            continue
        value = int(score >= 4)
        text = row["text"].strip()
        if _keep(text):
            labels = {"toxicity": value, "identity_attack": value}
            out.append(Example(text, labels, "toxigen_annotated_partial", group=row["target_group"].strip()))
    return out


def _load_fox_news(folder: _Folder) -> list[Example]:
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
        if _keep(text):
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


def _load_cad(folder: _Folder) -> list[Example]:
    out = []
    for group in ("train", "dev", "test"):
        file = f"cad_v1_1_{group}.tsv"
        for line, row in folder.rows(file, ("id", "text", "labels"), delimiter="\t", quoting=csv.QUOTE_NONE):
            kinds = {kind.strip() for kind in row["labels"].split(",") if kind.strip()}
            if not kinds or kinds - _CAD_KINDS:
                raise CorpusError(folder.root / file, f"unexpected labels {row['labels']!r}", line)
            text = row["text"].replace("[linebreak]", "\n").strip()
            if _keep(text):
                out.append(Example(text, _cad_labels(kinds), "cad", group=group))
    return out


def _load_gab(folder: _Folder) -> list[Example]:
    out = []
    for file, group in (("ghc_train.tsv", "train"), ("ghc_test.tsv", "test")):
        path = folder.root / file
        for line, row in folder.rows(file, ("text", "hd", "cv", "vo"), delimiter="\t"):
            hd, cv, vo = (_flag(row[column], path, line, _BINARY) for column in ("hd", "cv", "vo"))
            labels = {"toxicity": int(hd or cv or vo), "identity_attack": hd, "threat": cv, "obscene": vo}
            if _keep(row["text"]):
                out.append(Example(row["text"], labels, "gab_hate_corpus", group=group))
    return out


def _load_dynahate(folder: _Folder) -> list[Example]:
    out = []
    for file, split in (("db_dev.csv", "dev"), ("db_test.csv", "test")):
        path = folder.root / file
        for line, row in folder.rows(file, ("text", "label", "type", "level")):
            hate = _flag(row["label"], path, line, {"hate": 1, "nothate": 0})
            labels = {"toxicity": 1, "identity_attack": 1} if hate else {"identity_attack": 0}
            if hate and row["type"].strip() not in ("", "notgiven"):
                labels["threat"] = int(row["type"].strip() == "threatening")
            if _keep(row["text"]):
                out.append(Example(row["text"], labels, "dynahate_devtest", group=f"{split}:{row['level'].strip()}"))
    return out


def _load_ethos(folder: _Folder) -> list[Example]:
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
        if _keep(row["comment"]):
            out.append(Example(row["comment"].strip(), labels, "ethos", group="binary"))
    return out


def _load_datacamp(folder: _Folder) -> list[Example]:
    file = "datacamp_comments_labeled.csv"
    out = []
    for line, row in folder.rows(file, ("comment", "label")):
        label = _flag(row["label"], folder.root / file, line, _BINARY)
        if _keep(row["comment"]):
            out.append(Example(row["comment"], {"spam": label}, "datacamp_comment_spam", row.get("articleName", "")))
    return out


# name -> (adapter, files whose presence identifies the corpus in a folder of another name)
_ADAPTERS: dict[str, tuple[Callable[[_Folder], list[Example]], tuple[str, ...]]] = {
    "jigsaw_toxic_2018": (_load_jigsaw, ("train_subset.csv",)),
    "civil_comments_toxic_spans": (_load_civil, ("comments.csv", "annotations.csv", "spans.csv")),
    "davidson_hate_offensive": (_load_davidson, ("labeled_data.csv",)),
    "hatexplain_magpie": (_load_hatexplain, ("preprocessed.csv",)),
    "olid": (_load_olid, ("OLIDv1.0/olid-training-v1.0.tsv",)),
    "wiki_talk_cat_large": (_load_wiki, ("gn.csv",)),
    "impermium_insults": (_load_impermium, ("train.csv", "test_with_solutions.csv")),
    "youtube_spam": (_load_youtube, ("Youtube01-Psy.csv",)),
    "implicit_hate": (_load_implicit_hate, ("implicit_hate_v1_stg1_posts.tsv",)),
    "social_bias_frames_devtest": (_load_social_bias_frames, ("SBIC.v2.agg.dev.csv", "SBIC.v2.agg.tst.csv")),
    "toxigen_annotated_partial": (_load_toxigen, ("toxigen_annotated_subset.csv",)),
    "fox_news_comments": (_load_fox_news, ("fox-news-comments.json",)),
    "cad": (_load_cad, ("cad_v1_1_train.tsv",)),
    "gab_hate_corpus": (_load_gab, ("ghc_train.tsv", "ghc_test.tsv")),
    "dynahate_devtest": (_load_dynahate, ("db_dev.csv", "db_test.csv")),
    "ethos": (_load_ethos, ("Ethos_Dataset_Binary.csv",)),
    "datacamp_comment_spam": (_load_datacamp, ("datacamp_comments_labeled.csv",)),
}


def load_corpus(folder: Path, name: str) -> LoadedCorpus:
    """Load one known corpus from its folder."""
    adapter, _ = _ADAPTERS[name]
    reader = _Folder(folder)
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
# An admin's own labelled file


_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


def _parse_flag(value: object) -> int | None:
    """0/1 from 0/1, true/false or yes/no (any case); None for empty or null; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in _TRUE:
            return 1
        if word in _FALSE:
            return 0
    raise ValueError(f"{value!r} is not 0/1, true/false or yes/no")


class _Rows:
    """Validates an admin file's records in line order: examples, plus up to MAX_FILE_ERRORS errors."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.examples: list[Example] = []
        self.errors: list[tuple[int, str]] = []
        self.truncated = False
        self.unlabelled = 0

    def error(self, line: int, message: str) -> None:
        if len(self.errors) < MAX_FILE_ERRORS:
            self.errors.append((line, message))
        else:
            self.truncated = True

    def add(self, line: int, text: str, values: dict[str, object]) -> None:
        valid = bool(text.strip())
        if not valid:
            self.error(line, "empty text")
        labels = {}
        for category, value in values.items():
            try:
                flag = _parse_flag(value)
            except ValueError as problem:
                self.error(line, f"{category}: {problem}")
                valid = False
                continue
            if flag is not None:
                labels[category] = flag
        if valid and labels:
            self.examples.append(Example(text, labels, self.name))
        elif valid:
            self.unlabelled += 1


_CATEGORY_HINT = "expected at least one of: " + ", ".join(CATEGORIES)


def _read_csv(text: str, rows: _Rows) -> set[str]:
    """Feeds each CSV record to `rows`; returns the category columns present."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as problem:
        rows.error(1, f"cannot read the header: {problem}")
        return set()
    if not header:
        rows.error(1, "the file is empty; the first line must be a header with a `text` column")
        return set()
    names = [cell.strip().lower() for cell in header]
    for duplicate in sorted({n for n in names if names.count(n) > 1 and (n == "text" or n in CATEGORIES)}):
        rows.error(1, f"column `{duplicate}` appears more than once")
    columns = {n: i for i, n in enumerate(names) if n == "text" or n in CATEGORIES}
    present = {n for n in columns if n != "text"}
    if "text" not in columns:
        rows.error(1, "no `text` column")
    if not present:
        rows.error(1, f"no category column; {_CATEGORY_HINT}")
    if rows.errors:
        return present
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader, None)
        except csv.Error as problem:
            rows.error(line, f"CSV error: {problem}")
            return present
        if row is None:
            return present
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            rows.error(line, f"has {len(row)} fields but the header has {len(header)} (is text with commas quoted?)")
            continue
        rows.add(line, row[columns["text"]], {n: row[i] for n, i in columns.items() if n != "text"})


def _json_values(text: str, suffix: str, rows: _Rows) -> Iterator[tuple[int, object]]:
    """(line, decoded value) for each JSON Lines line, or each item of a top-level JSON array."""
    if suffix == ".json" and text.lstrip().startswith("["):
        decoder = json.JSONDecoder()
        position = text.index("[") + 1
        while True:
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1
            if position >= len(text) or text[position] == "]":
                return
            line = text.count("\n", 0, position) + 1
            try:
                value, position = decoder.raw_decode(text, position)
            except json.JSONDecodeError as problem:
                rows.error(problem.lineno, f"not valid JSON: {problem.msg}")
                return
            yield line, value
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as problem:
            rows.error(number, f"not valid JSON: {problem.msg}")


def _read_json(text: str, suffix: str, rows: _Rows) -> set[str]:
    """Feeds each JSON record to `rows`; returns the category fields seen in any record."""
    present: set[str] = set()
    for line, value in _json_values(text, suffix, rows):
        if not isinstance(value, dict):
            rows.error(line, "expected a JSON object with a `text` field")
            continue
        fields = {str(k).strip().lower(): v for k, v in value.items()}
        values = {k: v for k, v in fields.items() if k in CATEGORIES}
        present.update(values)
        body = fields.get("text")
        if not isinstance(body, str):
            rows.error(line, "no `text` field" if body is None else "`text` must be a string")
            continue
        rows.add(line, body, values)
    if not present:
        rows.error(1, f"no category field in any record; {_CATEGORY_HINT}")
    return present


def load_labelled_file(path: Path) -> LoadedCorpus:
    """An admin's CSV or JSON Lines file of `text` plus 0/1 category columns, as a corpus."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LABELLED_FILE_SUFFIXES:
        raise LabelledFileError(path, 1, f"unsupported file type {suffix or '(none)'}; use .csv, .jsonl or .json")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        raise LabelledFileError(path, line, "not UTF-8 text; save the file as UTF-8") from problem
    name = f"file:{path.stem}"
    rows = _Rows(name)
    present = _read_csv(text, rows) if suffix == ".csv" else _read_json(text, suffix, rows)
    if rows.errors:
        errors = sorted(rows.errors, key=lambda item: item[0])
        raise LabelledFileError(path, errors[0][0], errors[0][1], errors, rows.truncated)
    if rows.unlabelled:
        warnings.warn(f"{path.name}: {rows.unlabelled} row(s) with no label were left out", CorpusWarning, stacklevel=2)
    categories = tuple(c for c in CATEGORIES if c in present)
    info = CorpusInfo(
        name=name,
        title=f"{path.name} (labelled by the site's administrator)",
        source=path.name,
        licence="provided by the admin",
        shippable=True,
        attribution="Comments labelled by the site's administrator.",
        categories=categories,
        mapping="Columns " + ", ".join(categories) + " are used as given (1/true/yes positive, 0/false/no "
        "negative, empty unknown).",
    )
    return LoadedCorpus(info, rows.examples, [path], _content_hash([(path.name, data)]))


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
