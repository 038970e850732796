"""Spans for stage-2 decisions: the words whose deletion lowers stage 2's score (occlusion), with offsets into the
text as submitted, run only for comments stage 2 flagged, within a bounded number of texts (no torch, no ../shared)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

from api.openapi import document
from model import artifact, occlusion
from model.categories import CATEGORIES
from model.scorer import Scorer, load_scorer
from model.span_eval import AnnotatedPost, mean_span_f1
from model.types import Span
from moderation import service
from moderation.policy import default_policy
from tests import stage2_fixtures as fx

DECIDED, LOOSE = fx.DECIDED, fx.LOOSE
# Words the tiny stage-1 model never saw (tests/model_fixtures.py) but this file's stage 2 reads as identity attacks.
IMPLICIT = {"liars": {"identity_attack": 8.0}, "deserve": {"identity_attack": 6.0}}
HATE = "All Armenians are liars and deserve what happened to them."
INPUTS = ("input_ids", "attention_mask")


def graph_bytes(vocab: dict[str, int], evidence: dict[str, dict[str, float]]) -> bytes:
    """The stage-2 interface in miniature, as tests/stage2_fixtures.py builds it: each token's evidence row,
    averaged over the tokens the mask keeps, times 8, plus fx.BIAS, gives the seven logits."""
    table = np.zeros((len(vocab), len(CATEGORIES)), dtype=np.float32)
    for word, row in evidence.items():
        for category, value in row.items():
            table[vocab[word], CATEGORIES.index(category)] = value
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["embedded"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_3d"]),
        helper.make_node("Mul", ["embedded", "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "token_axis"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask_float", "token_axis"], ["kept"], keepdims=1),
        helper.make_node("Div", ["summed", "kept"], ["mean"]),
        helper.make_node("Mul", ["mean", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "bias"], ["logits"]),
    ]
    initializers = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.array(8.0, dtype=np.float32), "scale"),
        numpy_helper.from_array(np.full(len(CATEGORIES), fx.BIAS, dtype=np.float32), "bias"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "token_axis"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-stage2-implicit",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]) for name in INPUTS],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(CATEGORIES)])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    model.ir_version = 8
    return model.SerializeToString()  # type: ignore[no-any-return]


def write_folder(folder: Path, **config_changes: object) -> Path:
    """A tiny stage-2 folder whose vocabulary is the special tokens and the evidence words (fx.EVIDENCE and
    IMPLICIT): every other word reads as [UNK], which carries nothing."""
    evidence = {**fx.EVIDENCE, **IMPLICIT}
    vocab = {token: index for index, token in enumerate([*fx.SPECIAL, *evidence])}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(graph_bytes(vocab, evidence))
    (folder / "tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps(fx.config(**config_changes)), encoding="utf-8")
    return folder


def cascade(tiny_model_path: Path, folder: Path, out: Path) -> Scorer:
    """A cascade of the tiny stage 1 and `folder`, reviewing each category stage 2 decides at 0.5."""
    stage1 = load_scorer(tiny_model_path).thresholds
    thresholds = {c: {"review": 0.5, "reject": 0.99} if c in DECIDED else stage1[c] for c in CATEGORIES}
    artifact.attach_stage2(tiny_model_path, folder, out, LOOSE, thresholds=thresholds)
    return load_scorer(out)


@pytest.fixture(scope="module")
def scorer(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    folder = tmp_path_factory.mktemp("stage2-spans")
    return cascade(tiny_model_path, write_folder(folder / "export"), folder / "cascade.model")


def record_reads(scorer: Scorer, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every batch of texts the scorer's stage 2 scores from now on, through either of its two ways in."""
    stage2 = scorer.stage2
    assert stage2 is not None
    calls: list[list[str]] = []
    one, many = stage2.probabilities, stage2.probabilities_many

    def probabilities(text: str) -> np.ndarray:
        calls.append([text])
        return one(text)

    def probabilities_many(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        calls.append(list(texts))
        return many(texts, batch_size)

    monkeypatch.setattr(stage2, "probabilities", probabilities)
    monkeypatch.setattr(stage2, "probabilities_many", probabilities_many)
    return calls


@pytest.fixture
def reads(scorer: Scorer, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """What the module's cascade reads during one test."""
    yield record_reads(scorer, monkeypatch)


def by_category(spans: Sequence[Span], text: str) -> dict[str, list[tuple[str, int | None]]]:
    """Each category's span texts and stages, after checking every span's offsets against the submitted text."""
    out: dict[str, list[tuple[str, int | None]]] = {}
    for span in spans:
        assert text[span.start : span.end] == span.text, span
        out.setdefault(span.category, []).append((span.text, span.stage))
    return out


def test_a_comment_only_stage2_flags_gets_spans_over_the_words_behind_it(scorer: Scorer, tiny_model_path: Path) -> None:
    alone = load_scorer(tiny_model_path).score(HATE)
    assert alone.scores["identity_attack"] < 0.5 and alone.spans == []  # stage 1 has no evidence to show
    result = scorer.score(HATE)
    assert result.stage == 2 and result.scores["identity_attack"] >= 0.5
    assert by_category(result.spans, HATE) == {"identity_attack": [("liars", 2), ("deserve", 2)]}
    liars, deserve = result.spans
    assert (liars.start, liars.end, deserve.start, deserve.end) == (18, 23, 28, 35)
    assert liars.weight > deserve.weight > 0.1 and liars.weight + deserve.weight == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # Cyrillic і and е inside the words, after a combining accent that NFKC folds into é.
        ("Cafe\u0301 talk: all Armenians are lіars and dеserve it", ["lіars", "dеserve"]),
        # Zero-width spaces between the letters, and a full-width word.
        (
            "🙂 all Armenians are l\u200bi\u200ba\u200br\u200bs, they ｄｅｓｅｒｖｅ it",
            ["l\u200bi\u200ba\u200br\u200bs", "ｄｅｓｅｒｖｅ"],
        ),
        # Leetspeak and stretched letters.
        ("ALL ARMENIANS ARE L1ARS AND DESERVEEEEE IT", ["L1ARS", "DESERVEEEEE"]),
    ],
)
def test_stage2_spans_point_into_the_text_as_submitted(scorer: Scorer, text: str, words: list[str]) -> None:
    result = scorer.score(text)
    assert result.scores["identity_attack"] >= 0.5
    spans = [s for s in result.spans if s.category == "identity_attack"]
    assert [(s.start, s.end, s.text, s.stage) for s in spans] == [
        (text.index(word), text.index(word) + len(word), word, 2) for word in words
    ]


def test_a_stage2_reading_raw_text_maps_its_words_back_without_normalization(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "raw", input="raw: the comment text as submitted")
    raw = cascade(tiny_model_path, folder, tmp_path / "raw.model")
    text = "Cafe\u0301 talk: all Armenians are liars, they deserve it"
    spans = [s for s in raw.score(text).spans if s.category == "identity_attack"]
    assert [(s.start, s.text) for s in spans] == [(text.index("liars"), "liars"), (text.index("deserve"), "deserve")]


def test_stage1_evidence_that_reaches_review_alone_is_kept_and_costs_no_reading(
    scorer: Scorer, tiny_model_path: Path, reads: list[list[str]]
) -> None:
    text = "you idiot, read the article twice"
    assert load_scorer(tiny_model_path).score(text).scores["insult"] >= 0.5
    result = scorer.score(text)
    assert reads == [[text.lower()]]  # stage 2 scored the comment once, and deleted no word
    assert ("you idiot", 1) in by_category(result.spans, text)["insult"]
    assert all(span.stage == 1 for span in result.spans)


@pytest.mark.parametrize(
    ("text", "routed"),
    [
        ("thanks for the careful analysis of the talks", False),  # cleared by stage 1
        ("thanks for the careful analysis, minister", True),  # read by stage 2, approved
        ("the minister made a fair point: all Armenians deserve better", True),  # evidence, but below review
    ],
)
def test_approved_comments_never_run_occlusion(scorer: Scorer, reads: list[list[str]], text: str, routed: bool) -> None:
    result = scorer.score(text)
    assert result.stage == (2 if routed else 1)
    assert all(p < 0.5 for c, p in result.scores.items() if c in DECIDED) and result.spans == []
    assert reads == ([[text.lower()]] if routed else [])


def test_a_comment_stage2_flags_is_explained_by_pairs_then_the_words_of_the_pairs_that_moved_it(
    scorer: Scorer, reads: list[list[str]]
) -> None:
    result = scorer.score(HATE)
    comment, pairs, words = reads
    assert comment == [HATE.lower()]
    # Ten words: five copies, each without two adjacent words.
    text = HATE.lower()
    assert sorted(pairs) == sorted(
        text.replace(pair, "", 1) for pair in ["all armenians", "are liars", "and deserve", "what happened", "to them"]
    )
    # Only the pairs holding evidence ("are liars", "and deserve") are searched word by word: four copies, not ten.
    assert sorted(words) == sorted(text.replace(word, "", 1) for word in ["are", "liars", "and", "deserve"])
    assert [(s.text, s.stage) for s in result.spans] == [("liars", 2), ("deserve", 2)]
    assert scorer.score(HATE, explain=False).spans == [] and len(reads) == 4  # without spans: the comment only


def test_no_word_is_searched_when_no_pair_moves_the_score() -> None:
    reader = KeywordReader("liars")
    text = "liars and more liars here"  # deleting any pair leaves a "liars": nothing drops
    spans = occlusion.occlusion_spans(
        reader, text, np.full(len(CATEGORIES), 0.99), {"identity_attack": 5}, lambda s, e: (s, e), text, 5
    )
    assert spans == [] and [len(batch) for batch in reader.calls] == [3]


def test_a_longer_comment_is_searched_by_windows_and_its_words_found(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_reader = cascade(tiny_model_path, write_folder(tmp_path / "long", max_length=512), tmp_path / "long.model")
    reads = record_reads(long_reader, monkeypatch)
    plain = "the minister made a fair point"
    text = f"{plain}, {plain}. All Armenians are liars, liars and liars who deserve it. {plain}."
    result = long_reader.score(text)
    assert len(text.split()) > occlusion.CONTEXT_WORDS and result.scores["identity_attack"] >= 0.5
    spans = by_category(result.spans, text)["identity_attack"]
    assert spans == [("liars", 2), ("liars", 2), ("liars", 2), ("deserve", 2)]
    assert [s.start for s in result.spans] == [
        text.index("liars"),
        text.index("liars", text.index("liars") + 1),
        text.rindex("liars"),
        text.index("deserve"),
    ]
    # The comment, its windows read alone, then pairs and words deleted from the best.
    comment, windows, pairs, words = reads
    assert comment == [text.lower()] and len(windows) <= occlusion.MAX_WINDOWS
    assert len(pairs) <= occlusion.FINE_VARIANTS and len(words) <= occlusion.FINE_VARIANTS


def test_the_cap_holds_on_a_very_long_comment(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_reader = cascade(tiny_model_path, write_folder(tmp_path / "long", max_length=4096), tmp_path / "long.model")
    reads = record_reads(long_reader, monkeypatch)
    plain = " ".join(["the minister made a fair point about the border talks, liars"] * 100)
    cluster = " ".join(["liars"] * 60)
    text = f"{plain} {cluster} {plain}"  # 2,260 words, all read by a stage 2 of 4,096 tokens
    result = long_reader.score(text)
    assert result.scores["identity_attack"] >= 0.5
    assert len(reads) == 3 and sum(map(len, reads[1:])) <= occlusion.MAX_VARIANTS
    # Windows this wide (283 words) have runs of adjacent words deleted together (12, to make 24 copies): the
    # spans are on the cluster, reaching at most a run of words beyond it on either side.
    run = math.ceil(math.ceil(len(text.split()) / occlusion.MAX_WINDOWS) / occlusion.FINE_VARIANTS)
    start, end = len(plain) + 1, len(plain) + 1 + len(cluster)
    spans = [s for s in result.spans if s.category == "identity_attack"]
    assert 0 < len(spans) <= 5
    for span in spans:
        assert span.start < end and start < span.end  # on the cluster
        beyond = text[span.start : max(span.start, start)] + text[min(span.end, end) : span.end]
        assert len(beyond.split()) <= 2 * run, span


class KeywordReader:
    """A stand-in stage 2: identity_attack 0.99 when a text holds the keyword, else 0.01; records what it read."""

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.calls: list[list[str]] = []

    def probabilities_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.full((len(texts), len(CATEGORIES)), 0.01)
        out[:, CATEGORIES.index("identity_attack")] = [0.99 if self.keyword in t.split() else 0.01 for t in texts]
        return out


@pytest.mark.parametrize("words", [1, 5, 16, 17, 40, 96, 97, 192, 193, 500, 3000])
def test_the_keyword_is_found_anywhere_stage2_reads_within_the_cap(words: int) -> None:
    reader = KeywordReader("liars")
    for position in {0, words // 3, words - 1}:
        reader.calls.clear()
        tokens = ["w"] * words
        tokens[position] = "liars"
        text = " ".join(tokens)
        read = np.full(len(CATEGORIES), 0.99)
        spans = occlusion.occlusion_spans(
            reader,
            text,
            read,
            {"identity_attack": CATEGORIES.index("identity_attack")},
            lambda s, e: (s, e),
            text,
            words,
        )
        assert len(spans) == 1 and "liars" in spans[0].text and spans[0].stage == 2
        # The word alone while the windows searched hold at most 2 x FINE_VARIANTS words (pairs, then the words of
        # the pair that moved the score); past that, a run of a few adjacent words.
        searched = occlusion.MAX_WINDOWS * 2 * occlusion.FINE_VARIANTS
        if words <= searched:
            assert spans[0].text == "liars" and len(reader.calls) <= 3
        else:
            assert len(spans[0].text.split()) <= math.ceil(words / searched) * 2 + 1 and len(reader.calls) == 2
        assert sum(map(len, reader.calls)) <= occlusion.MAX_VARIANTS


class CountingReader:
    """A stand-in stage 2 for three categories, each with its own word: the more of its word a text holds, the
    higher that category (log-odds 2 per occurrence, less 8); records what it read."""

    WORDS = {"liars": "identity_attack", "idiots": "insult", "kill": "threat"}

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def probabilities_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.full((len(texts), len(CATEGORIES)), 0.01)
        for row, text in enumerate(texts):
            words = text.split()
            for word, category in self.WORDS.items():
                out[row, CATEGORIES.index(category)] = 1 / (1 + math.exp(8 - 2 * words.count(word)))
        return out


def test_words_are_searched_one_at_a_time_only_within_the_cap() -> None:
    # 300 words: eight windows of 38, so the one searched holds 19 pairs, and each of the three categories picks
    # five of its own, 30 words, more than FINE_VARIANTS copies: the pairs past the cap are kept whole.
    reader = CountingReader()
    text = " ".join(["liars w idiots w kill w"] * 50)  # each pair holds one category's word
    columns = {category: CATEGORIES.index(category) for category in CountingReader.WORDS.values()}
    read = reader.probabilities_many([text])[0]
    reader.calls.clear()
    spans = occlusion.occlusion_spans(reader, text, read, columns, lambda s, e: (s, e), text, 300)
    windows, pairs, words = reader.calls
    assert len(windows) == occlusion.MAX_WINDOWS and len(pairs) == 19
    assert len(words) == occlusion.FINE_VARIANTS and sum(map(len, reader.calls)) <= occlusion.MAX_VARIANTS
    shown = {(span.category, span.text) for span in spans}
    assert {category for category, _ in shown} == set(columns)  # every category is explained
    for category, span_text in shown:
        word = next(w for w, c in CountingReader.WORDS.items() if c == category)
        assert word in span_text.split() and len(span_text.split()) <= occlusion.CHUNK_WORDS, (category, span_text)


def test_words_stage2_cannot_read_are_never_deleted() -> None:
    reader = KeywordReader("liars")
    text = "liars " + "w " * 10 + "liars"
    spans = occlusion.occlusion_spans(
        reader, text, np.full(len(CATEGORIES), 0.99), {"identity_attack": 5}, lambda s, e: (s, e), text, 5
    )
    assert [len(batch) for batch in reader.calls] == [3]  # pairs of the first five words deleted, no more
    assert spans == []  # deleting the first "liars" leaves the last one: no drop, no span


def test_the_span_f1_of_the_cascade_measures_its_stage2_spans(scorer: Scorer, tiny_model_path: Path) -> None:
    gold = frozenset(range(18, 23)) | frozenset(range(28, 35))  # "liars", "deserve"
    posts = [AnnotatedPost(HATE, gold)]
    assert mean_span_f1(posts, lambda text: scorer.score(text).spans) == 1.0
    assert mean_span_f1(posts, lambda text: load_scorer(tiny_model_path).score(text).spans) == 0.0


def test_the_answer_carries_each_spans_stage_as_the_openapi_document_says(scorer: Scorer) -> None:
    answer = service.dry_run(scorer, default_policy(scorer.thresholds), {"text": HATE})
    assert [(s["text"], s["stage"]) for s in answer["spans"]] == [("liars", 2), ("deserve", 2)]
    schemas = document()["components"]["schemas"]
    span = schemas["SubmissionAnswer"]["properties"]["spans"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert set(answer["spans"][0]) == set(schemas[span]["properties"])


class LeaningReader:
    """A stand-in stage 2 whose identity_attack rests on "liars" (0.95) and leans a little on "I" (0.85 without it)."""

    def probabilities_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        out = np.full((len(texts), len(CATEGORIES)), 0.01)
        column = CATEGORIES.index("identity_attack")
        for row, text in enumerate(texts):
            words = text.split()
            out[row, column] = (0.95 if "I" in words else 0.85) if "liars" in words else 0.3
        return out


def test_a_word_whose_deletion_barely_moves_the_score_is_no_evidence() -> None:
    text, reader = "I think they are liars", LeaningReader()
    spans = occlusion.occlusion_spans(
        reader,
        text,
        reader.probabilities_many([text])[0],
        {"identity_attack": CATEGORIES.index("identity_attack")},
        lambda s, e: (s, e),
        text,
        5,
    )
    # Deleting "I" lowers the log-odds by 1.2 (a quarter of all the drops, over MIN_SHARE) but under MIN_DROP.
    assert [span.text for span in spans] == ["liars"]
