"""Corpus adapters, the admin's labelled-file adapter, de-duplication and summaries."""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.categories import CATEGORIES
from model.corpora import (
    CORPORA,
    CorpusWarning,
    Example,
    LabelledFileError,
    LoadedCorpus,
    corpus_summary,
    decode_impermium,
    deduplicate,
    load_corpora,
    load_labelled_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_one(name: str) -> LoadedCorpus:
    (corpus,) = load_corpora(FIXTURES / name)
    assert corpus.info.name == name
    return corpus


def by_text(corpus: LoadedCorpus) -> dict[str, Example]:
    return {example.text: example for example in corpus.examples}


# --- known corpora ------------------------------------------------------------------------------------


def test_jigsaw_columns_map_to_our_six_categories() -> None:
    corpus = load_one("jigsaw_toxic_2018")
    rows = by_text(corpus)

    assert len(rows) == 5
    assert rows["You clueless twit, stop reverting my edits\nor I will report you."].labels == {
        "toxicity": 1, "severe_toxicity": 0, "obscene": 0, "threat": 0, "insult": 1, "identity_attack": 0,
    }  # fmt: skip
    assert rows["Do that again and you will regret it, I promise."].labels["threat"] == 1
    assert all("spam" not in example.labels for example in corpus.examples)


def test_civil_comments_types_by_half_of_annotators_and_no_toxicity_label() -> None:
    rows = by_text(load_one("civil_comments_toxic_spans"))

    idiot = rows["You are a complete idiot and your plan is garbage."]
    assert idiot.labels == {"insult": 1, "obscene": 0, "threat": 0, "identity_attack": 0}

    # Nobody highlighted anything: negative for every span type, and toxicity stays unknown.
    weather = rows["Lovely weather for the parade today."]
    assert weather.labels == {"insult": 0, "obscene": 0, "threat": 0, "identity_attack": 0}
    assert weather.spans == ()

    # Four annotators: threat and insult by two (half), obscene by only one (unknown, so absent).
    # The fourth ticked "not toxic" but still highlighted a span, so it does not count as a negative.
    clown = rows["Keep talking and I will find you, you damn clown."]
    assert clown.labels == {"threat": 1, "insult": 1, "identity_attack": 0}

    # A truncated type name ("Identity based ") still counts; an end offset past the text is clipped.
    those = rows["Those people from over there ruin everything."]
    assert those.labels["identity_attack"] == 1
    assert those.labels["insult"] == 0


def test_civil_comments_keeps_consensus_spans_per_type_and_for_toxicity() -> None:
    rows = by_text(load_one("civil_comments_toxic_spans"))

    idiot = rows["You are a complete idiot and your plan is garbage."]
    assert {(idiot.text[s:e], c) for s, e, c in idiot.spans} == {("idiot", "insult"), ("idiot", "toxicity")}

    clown = rows["Keep talking and I will find you, you damn clown."]
    assert {(clown.text[s:e], c) for s, e, c in clown.spans} == {
        ("I will find you", "threat"), ("I will find you", "toxicity"),
        ("clown", "insult"), ("clown", "toxicity"),
    }  # fmt: skip
    those = rows["Those people from over there ruin everything."]
    assert all(0 <= s < e <= len(those.text) for s, e, _ in those.spans)
    assert ("Those people from over there", "identity_attack") in {(those.text[s:e], c) for s, e, c in those.spans}


def test_davidson_classes_map_to_toxicity_and_identity_attack_with_entities_unescaped() -> None:
    corpus = load_one("davidson_hate_offensive")
    texts = [example.text for example in corpus.examples]

    assert "RT @weatherfan: sunny all week & no rain in sight \U0001f602" in texts
    assert "@pal_two this traffic is so damn stupid >:(" in texts
    rows = by_text(corpus)
    assert rows["RT @weatherfan: sunny all week & no rain in sight \U0001f602"].labels == {
        "toxicity": 0, "identity_attack": 0,
    }  # fmt: skip
    assert rows["@pal_two this traffic is so damn stupid >:("].labels == {"toxicity": 1, "identity_attack": 0}
    hate = next(example for example in corpus.examples if example.text.startswith("people from that town"))
    assert hate.labels == {"toxicity": 1, "identity_attack": 1}
    assert "\u201cgo home\u201d" in hate.text


def test_hatexplain_code_2_is_hate_and_code_1_offensive() -> None:
    rows = by_text(load_one("hatexplain_magpie"))

    assert rows["<user> had a great time at the market this morning"].labels == {
        "toxicity": 0, "identity_attack": 0,
    }  # fmt: skip
    assert rows["<user> shut up you useless moron nobody cares"].labels == {
        "toxicity": 1,
        "identity_attack": 0,
    }
    hate = rows["those outsiders are a disease on our country and should be thrown out"]
    assert hate.labels == {"toxicity": 1, "identity_attack": 1}


def test_olid_official_splits_become_groups_and_insult_comes_from_levels_b_and_c() -> None:
    corpus = load_one("olid")
    rows = by_text(corpus)

    assert {example.group for example in corpus.examples} == {"train", "test"}
    assert rows["@USER What a lovely idea, count me in URL"].labels == {"toxicity": 0, "insult": 0}
    assert rows["@USER You are a pathetic liar and everyone knows it"].labels == {"toxicity": 1, "insult": 1}
    # CSV-style quoting inside the TSV is undone.
    assert rows['@USER He said "this is fine" and then the whole damn thing fell over"'].labels == {
        "toxicity": 1, "insult": 0,
    }  # fmt: skip
    assert rows["@USER That whole party is full of clowns #politics"].labels == {"toxicity": 1}
    assert rows["@USER This airline is a joke"].labels == {"toxicity": 1}
    test = {example.text: example.labels for example in corpus.examples if example.group == "test"}
    assert test == {
        "@USER Good luck with the exam tomorrow!": {"toxicity": 0, "insult": 0},
        "@USER Nobody wants your stupid opinion, you dimwit": {"toxicity": 1, "insult": 1},
        "@USER Ugh this bloody printer again": {"toxicity": 1, "insult": 0},
    }


def test_olid_extra_file_is_the_test_set_again_and_is_not_read() -> None:
    corpus = load_one("olid")

    assert len(corpus.examples) == 8  # 5 train + 3 test; the 3 rows of the -extra file would repeat the test
    assert all("extra" not in path.name for path in corpus.files)


def test_wiki_talk_uses_out_of_context_labels_only() -> None:
    corpus = load_one("wiki_talk_cat_large")
    rows = by_text(corpus)

    assert "Only in context: sure you did." not in rows  # gc.csv (in-context labels) is not read
    assert rows["Go away, you pathetic little vandal."].labels == {"toxicity": 1}
    assert rows["Well that went about as expected."].labels == {"toxicity": 0}  # label_oc, not label_ic
    assert rows["Well that went about as expected."].group == "cat_small"
    assert rows["Go away, you pathetic little vandal."].group == "gn"
    assert {path.name for path in corpus.files} == {"gn.csv", "cat_small.csv"}


def test_impermium_escapes_are_decoded_to_real_unicode() -> None:
    corpus = load_one("impermium_insults")
    rows = by_text(corpus)

    assert rows["You absolute fool,\nnobody asked for your opinion."].labels == {"toxicity": 1, "insult": 1}
    assert "I see your point.\xa0 It just doesn't fit this case." in rows
    assert "A\xa0fair question \u2014 the caf\xe9 closed in 2010." in rows
    assert "Breitbart's story again\n\nnot this one \u2026" in rows
    assert {example.group for example in corpus.examples} == {"train", "test"}
    assert not corpus.info.shippable


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ('"plain"', "plain"),
        ('"line\\nbreak"', "line\nbreak"),
        ('"nbsp\\xc2\\xa0here"', "nbsp\xa0here"),
        ('"quote \\xe2\\x80\\x99s"', "quote \u2019s"),
        ('"viet \\u1ea1"', "viet \u1ea1"),
        ('"caf\\xe9 \\xa0"', "caf\xe9 \xa0"),
        ('"twice \\\\n escaped"', "twice \n escaped"),
        ('"a back\\\\slash"', "a back\\slash"),
    ],
)
def test_impermium_decoding_cases(raw: str, decoded: str) -> None:
    assert decode_impermium(raw) == decoded


def test_youtube_group_is_the_video_and_html_is_undone() -> None:
    corpus = load_one("youtube_spam")
    rows = by_text(corpus)

    assert {example.group for example in corpus.examples} == {"Psy", "Eminem"}
    spam = rows["Check out my channel\nnew video every day!! http://example.com/ch"]
    assert spam.labels == {"spam": 1}
    assert spam.group == "Psy"
    assert rows["This song never gets old <3 it's great"].labels == {"spam": 0}
    assert all("\ufeff" not in text for text in rows)


def test_examples_carry_labels_only_for_categories_their_corpus_labels() -> None:
    for corpus in load_corpora(FIXTURES):
        assert set(corpus.info.categories) <= set(CATEGORIES)
        for example in corpus.examples:
            assert set(example.labels) <= set(corpus.info.categories), (corpus.info.name, example)
            assert set(example.labels.values()) <= {0, 1}
            assert example.corpus == corpus.info.name


# --- finding corpora ----------------------------------------------------------------------------------


def test_a_data_root_loads_every_known_corpus_in_a_fixed_order() -> None:
    loaded = load_corpora(FIXTURES)

    assert [corpus.info.name for corpus in loaded] == list(CORPORA)
    assert all(corpus.files and len(corpus.sha256) == 64 for corpus in loaded)


def test_unknown_folders_are_skipped_with_a_warning(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "youtube_spam", tmp_path / "youtube_spam")
    (tmp_path / "my_notes").mkdir()
    (tmp_path / "MANIFEST.md").write_text("# notes\n")

    with pytest.warns(CorpusWarning, match="my_notes"):
        loaded = load_corpora(tmp_path)

    assert [corpus.info.name for corpus in loaded] == ["youtube_spam"]


def test_a_renamed_corpus_folder_is_recognised_by_its_files(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "davidson_hate_offensive", tmp_path / "tweets")

    (corpus,) = load_corpora(tmp_path / "tweets")

    assert corpus.info.name == "davidson_hate_offensive"


def test_shippable_only_drops_evaluation_only_corpora() -> None:
    names = [corpus.info.name for corpus in load_corpora(FIXTURES, shippable_only=True)]

    assert "impermium_insults" not in names
    assert "jigsaw_toxic_2018" in names
    assert load_corpora(FIXTURES / "impermium_insults", shippable_only=True) == []


def test_content_hash_changes_when_a_byte_of_a_read_file_changes(tmp_path: Path) -> None:
    folder = tmp_path / "jigsaw_toxic_2018"
    shutil.copytree(FIXTURES / "jigsaw_toxic_2018", folder)
    before = load_corpora(folder)[0].sha256
    assert load_corpora(folder)[0].sha256 == before

    data = bytearray((folder / "train_subset.csv").read_bytes())
    data[data.index(b"bridge")] = ord("f")
    (folder / "train_subset.csv").write_bytes(bytes(data))

    assert load_corpora(folder)[0].sha256 != before


def test_content_hash_ignores_files_that_are_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "olid"
    shutil.copytree(FIXTURES / "olid", folder)
    before = load_corpora(folder)[0].sha256

    (folder / "OLIDv1.0" / "olid-training-v1.0-extra.tsv").write_text("changed\n")

    assert load_corpora(folder)[0].sha256 == before


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_corpora(tmp_path / "nowhere")


# --- the admin's labelled file ------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_labelled_csv_reads_text_and_category_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "site_labels.csv",
        "Text,Toxicity,insult,moderator,spam\n"
        '"You are a fool, frankly",yes,TRUE,ann,\n'
        "Nice write-up,0,false,bo,no\n"
        "Buy cheap watches,,,cy,1\n",
    )

    corpus = load_labelled_file(path)

    assert corpus.info.name == "file:site_labels"
    assert corpus.info.shippable
    assert corpus.info.licence == "provided by the admin"
    assert corpus.info.categories == ("toxicity", "insult", "spam")
    assert [(e.text, e.labels) for e in corpus.examples] == [
        ("You are a fool, frankly", {"toxicity": 1, "insult": 1}),
        ("Nice write-up", {"toxicity": 0, "insult": 0, "spam": 0}),
        ("Buy cheap watches", {"spam": 1}),
    ]
    assert corpus.files == [path]
    assert load_corpora(path)[0].examples == corpus.examples


def test_labelled_jsonl_reads_text_and_category_fields(tmp_path: Path) -> None:
    lines = [
        {"text": "You are a fool", "toxicity": 1, "insult": True, "note": "ignored"},
        {"text": "Nice write-up", "toxicity": "no", "threat": None},
    ]
    path = write(tmp_path / "more.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n")

    corpus = load_labelled_file(path)

    assert corpus.info.name == "file:more"
    assert [(e.text, e.labels) for e in corpus.examples] == [
        ("You are a fool", {"toxicity": 1, "insult": 1}),
        ("Nice write-up", {"toxicity": 0}),
    ]


def test_labelled_json_array_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "arr.json",
        '[\n  {"text": "hello there", "spam": 0},\n  {"text": "win $$$", "spam": 1}\n]\n',
    )

    assert [e.labels for e in load_labelled_file(path).examples] == [{"spam": 0}, {"spam": 1}]


def test_labelled_csv_errors_are_collected_with_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        'text,toxicity,threat\nfine,1,0\nbad value,maybe,0\n"spans\ntwo lines",1,2\n,1,0\ntoo,many,fields,here\n',
    )

    with pytest.raises(LabelledFileError) as raised:
        load_labelled_file(path)

    error = raised.value
    assert [line for line, _ in error.errors] == [3, 4, 6, 7]
    assert "maybe" in error.errors[0][1] and "toxicity" in error.errors[0][1]
    assert "threat" in error.errors[1][1]
    assert "empty text" in error.errors[2][1]
    assert "fields" in error.errors[3][1]
    assert error.line == 3
    assert error.path == path
    assert "line 3" in str(error)


def test_labelled_csv_without_a_text_column_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "notext.csv", "comment,toxicity\nhello,0\n")

    with pytest.raises(LabelledFileError) as raised:
        load_labelled_file(path)

    assert raised.value.errors == [(1, "no `text` column")]


def test_labelled_csv_without_category_columns_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "nolabels.csv", "text,rating\nhello,5\n")

    with pytest.raises(LabelledFileError) as raised:
        load_labelled_file(path)

    assert raised.value.line == 1
    assert "no category column" in raised.value.errors[0][1]


def test_labelled_jsonl_errors_are_collected_with_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.jsonl",
        '{"text": "ok", "spam": 1}\n{not json}\n{"spam": 0}\n{"text": "x", "spam": "perhaps"}\n["a list"]\n',
    )

    with pytest.raises(LabelledFileError) as raised:
        load_labelled_file(path)

    assert [line for line, _ in raised.value.errors] == [2, 3, 4, 5]
    assert "text" in raised.value.errors[1][1]


def test_labelled_jsonl_without_category_fields_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "nolabels.jsonl", '{"text": "a"}\n{"text": "b", "score": 3}\n')

    with pytest.raises(LabelledFileError, match="no category field"):
        load_labelled_file(path)


def test_labelled_file_errors_stop_after_twenty(tmp_path: Path) -> None:
    path = write(tmp_path / "many.csv", "text,spam\n" + "".join(f"row {i},bad\n" for i in range(50)))

    with pytest.raises(LabelledFileError) as raised:
        load_labelled_file(path)

    assert len(raised.value.errors) == 20
    assert raised.value.truncated


def test_labelled_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("text,spam\nok,0\ncaf\xe9,1\n".encode("latin-1"))

    with pytest.raises(LabelledFileError) as raised:
        load_labelled_file(path)

    assert raised.value.line == 3


def test_labelled_rows_without_any_label_are_left_out_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "partial.csv", "text,spam\nlabelled,1\nnot yet,\n")

    with pytest.warns(CorpusWarning, match="1 row"):
        corpus = load_labelled_file(path)

    assert [e.text for e in corpus.examples] == ["labelled"]


# --- de-duplication and summaries ---------------------------------------------------------------------


def test_dedupe_merges_the_same_text_across_corpora() -> None:
    loaded = load_corpora(FIXTURES)
    rows = [example for corpus in loaded for example in corpus.examples]

    merged, removed = deduplicate(rows, key=str.casefold)

    assert removed == 1
    assert len(merged) == len(rows) - 1
    thanks = [e for e in merged if e.text.casefold() == "thanks for fixing the citation on the river article."]
    assert len(thanks) == 1
    assert thanks[0].corpus == "jigsaw_toxic_2018"  # the first occurrence is kept
    assert thanks[0].labels["toxicity"] == 0


def test_dedupe_votes_labels_per_category_with_ties_positive() -> None:
    rows = [
        Example("Same words", {"toxicity": 1, "insult": 0}, "a", group="g1"),
        Example("same words", {"toxicity": 0}, "b"),
        Example("SAME WORDS", {"toxicity": 0, "spam": 0}, "c"),
        Example("same Words", {"insult": 1}, "d"),
        Example("other", {"spam": 1}, "b"),
    ]

    merged, removed = deduplicate(rows, key=str.casefold)

    assert removed == 3
    assert merged[0] == Example("Same words", {"toxicity": 0, "insult": 1, "spam": 0}, "a", group="g1")
    assert merged[1] == rows[4]


def test_dedupe_drops_and_counts_texts_whose_key_is_empty() -> None:
    rows = [
        Example("   ", {"spam": 0}, "a"),
        Example("!!!", {"spam": 1}, "a"),
        Example("hi", {"spam": 0}, "a"),
    ]

    merged, removed = deduplicate(rows, key=lambda text: "".join(ch for ch in text if ch.isalnum()))

    assert [e.text for e in merged] == ["hi"]
    assert removed == 2


def test_dedupe_with_the_production_normalizer_when_available() -> None:
    normalize = pytest.importorskip("model.normalize").normalize_text
    rows = [Example("You are an idiot", {"insult": 1}, "a"), Example("you are an idiot", {"insult": 1}, "b")]

    merged, removed = deduplicate(rows, key=normalize)

    assert (len(merged), removed) == (1, 1)


@given(st.lists(st.tuples(st.sampled_from(["a", "A", "b", "B ", "", " c"]), st.integers(0, 1)), max_size=30))
def test_dedupe_leaves_one_example_per_key_and_counts_the_rest(items: list[tuple[str, int]]) -> None:
    rows = [Example(text, {"spam": label}, "x") for text, label in items]

    merged, removed = deduplicate(rows, key=str.casefold)

    keys = [e.text.casefold() for e in merged]
    assert len(keys) == len(set(keys))
    assert all(key.strip() for key in keys)
    assert len(merged) + removed == len(rows)


def test_corpus_summary_counts_positives_and_negatives_per_category() -> None:
    (summary,) = corpus_summary([load_one("youtube_spam")])

    assert summary["name"] == "youtube_spam"
    assert summary["rows"] == 4
    assert summary["positives"] == {"spam": 2}
    assert summary["negatives"] == {"spam": 2}
    assert summary["licence"] == "CC BY 4.0"
    assert summary["shippable"] is True
    assert len(summary["sha256"]) == 64


def test_every_known_corpus_documents_its_mapping_and_licence() -> None:
    for info in CORPORA.values():
        assert info.mapping and info.licence and info.attribution and info.source
        assert set(info.categories) <= set(CATEGORIES)


# --- corpora added for stage 2 (fixtures written for these tests, in each corpus's column layout) ----------


def test_implicit_hate_classes_and_threatening_type_with_quote_artefacts_removed() -> None:
    corpus = load_one("implicit_hate")
    rows = by_text(corpus)

    assert rows[": the new park opened downtown and the kids loved it"].labels == {"toxicity": 0, "identity_attack": 0}
    grievance = rows["those people are ruining our towns , send them all back"]
    assert grievance.labels == {"toxicity": 1, "identity_attack": 1, "threat": 0}
    assert rows["we know where they meet . soon they will learn"].labels["threat"] == 1
    # Incitement and explicit hate without a stage-2 type leave threat unknown.
    assert "threat" not in rows["join the movement and take back what is ours"].labels
    assert rows["they are vermin and should be wiped out"].labels == {"toxicity": 1, "identity_attack": 1}
    assert all('"' not in text for text in rows)
    assert corpus.info.shippable


def test_social_bias_frames_offensive_means_and_group_target() -> None:
    rows = by_text(load_one("social_bias_frames_devtest"))

    assert rows["Heading to the farmers market & then a nap"].labels == {"toxicity": 0, "identity_attack": 0}
    assert rows["Why do those folks always smell, asking for a friend"].labels == {"toxicity": 1, "identity_attack": 1}
    assert rows["You absolute clown get off my timeline"].labels == {"toxicity": 1, "identity_attack": 0}
    assert rows["Rain again, of course"].labels == {"toxicity": 0, "identity_attack": 0}
    assert rows["Rain again, of course"].group == "test"
    # Offensive and aimed at a group but with no implied stereotype: identity_attack unknown.
    assert rows["Group jokes are fine, everyone laughs"].labels == {"toxicity": 1}
    # 0.33 is between the cut-offs: nothing known, so the row is left out.
    assert "That joke was kind of edgy, idk" not in rows


def test_toxigen_human_rating_four_or_more_toxic_two_or_less_not_three_unknown() -> None:
    rows = by_text(load_one("toxigen_annotated_partial"))

    assert rows["many families in the valley speak two languages at home"].labels == {
        "toxicity": 0, "identity_attack": 0,
    }  # fmt: skip
    took = rows["they only come here to take what belongs to others"]
    assert took.labels == {"toxicity": 1, "identity_attack": 1}
    assert took.group == "mexican"
    assert "some people say their customs are a bit strange" not in rows


def test_fox_news_hateful_is_identity_attack_and_non_hateful_leaves_toxicity_unknown() -> None:
    rows = by_text(load_one("fox_news_comments"))

    assert rows["The budget leaves out the libraries again, disappointing."].labels == {"identity_attack": 0}
    hateful = rows["Of course it is those people again, they ruin every city they move to."]
    assert hateful.labels == {"toxicity": 1, "identity_attack": 1}
    assert hateful.group == "City council votes on new budget"


def test_cad_abuse_kinds_and_counter_speech_is_not_toxic() -> None:
    corpus = load_one("cad")
    rows = by_text(corpus)

    assert rows['Anyone tried the new bakery? \n The rye is "amazing"'].labels == {
        "toxicity": 0, "insult": 0, "identity_attack": 0,
    }  # fmt: skip
    assert rows["Calling them animals is not okay, they are people"].labels == {
        "toxicity": 0, "insult": 0, "identity_attack": 0,
    }  # fmt: skip
    assert rows["That group is a bunch of degenerates, all of them"].labels == {"toxicity": 1, "identity_attack": 1}
    assert rows["You are a moron and everyone here knows it"].labels == {
        "toxicity": 1, "insult": 1, "identity_attack": 0,
    }  # fmt: skip
    assert rows["This party is full of crooks"].labels == {"toxicity": 1, "identity_attack": 0}
    assert rows["Both of you are idiots, and your kind too"].labels == {
        "toxicity": 1, "insult": 1, "identity_attack": 1,
    }  # fmt: skip
    assert {example.group for example in corpus.examples} == {"train", "dev", "test"}
    assert not corpus.info.shippable


def test_gab_hate_columns_map_to_identity_attack_threat_and_obscene() -> None:
    rows = by_text(load_one("gab_hate_corpus"))

    assert rows["Lovely sunset over the lake tonight"].labels == {
        "toxicity": 0, "identity_attack": 0, "threat": 0, "obscene": 0,
    }  # fmt: skip
    assert rows["Those people are less than human"].labels["identity_attack"] == 1
    shoot = rows["Someone should shoot the lot of them"]
    assert shoot.labels["threat"] == 1 and shoot.labels["toxicity"] == 1
    assert rows["what the hell is this crap"].labels == {
        "toxicity": 1, "identity_attack": 0, "threat": 0, "obscene": 1,
    }  # fmt: skip
    assert rows["Morning coffee and a good book"].group == "test"


def test_dynahate_hate_is_identity_attack_and_nothate_leaves_toxicity_unknown() -> None:
    rows = by_text(load_one("dynahate_devtest"))

    assert rows["members of that faith are a disease"].labels == {"toxicity": 1, "identity_attack": 1, "threat": 0}
    negated = rows["members of that faith are not a disease"]
    assert negated.labels == {"identity_attack": 0}
    assert negated.group == "dev:perturbation"
    assert rows["we will hunt that group down one by one"].labels["threat"] == 1
    # Round-1 rows have no type: threat unknown.
    assert rows["dont get me wrong, i just dislike that crowd"].labels == {"toxicity": 1, "identity_attack": 1}


def test_ethos_share_of_annotators_and_violence_from_the_multi_label_file() -> None:
    rows = by_text(load_one("ethos"))

    assert rows["This video explains the recipe very well"].labels == {"identity_attack": 0}
    assert rows["People of that religion should all be thrown off a cliff"].labels == {
        "toxicity": 1, "identity_attack": 1, "threat": 1,
    }  # fmt: skip
    assert rows["That group is inferior and always will be"].labels["threat"] == 0


def test_datacamp_label_is_spam_and_group_is_the_tutorial() -> None:
    rows = by_text(load_one("datacamp_comment_spam"))

    assert rows["Buy cheap followers at www.example.com now"].labels == {"spam": 1}
    assert rows["Great tutorial thanks a lot"].labels == {"spam": 0}
    assert rows["Hi, very useful, the second example helped"].group == "Intro to SQL"


def test_shippable_only_keeps_the_shippable_stage2_corpora() -> None:
    names = {corpus.info.name for corpus in load_corpora(FIXTURES, shippable_only=True)}

    assert {"implicit_hate", "social_bias_frames_devtest", "toxigen_annotated_partial", "fox_news_comments"} <= names
    assert not names & {"cad", "gab_hate_corpus", "dynahate_devtest", "ethos", "datacamp_comment_spam"}


# --- the real data --------------------------------------------------------------------------------------

# Rows per corpus as this adapter reads them, against MANIFEST.md: jigsaw 12,184; civil 16,100 posts;
# davidson 24,783; hatexplain 18,962; olid 13,240 + 860; wiki 10,000 (gn) + 978 (cat_small, out of context);
# impermium 3,947 + 2,647; youtube 1,586. Added for stage 2 (rows with at least one known label): implicit_hate
# 21,479; social_bias_frames_devtest 8,667 of 9,357 posts (offensiveYN between 0.2 and 0.5 is unknown); toxigen
# 3,462 of 4,526 (toxicity_human between 2 and 4 is unknown); fox_news 1,522; cad 23,342; gab 27,522; dynahate
# 7,070; ethos 998; datacamp 599.
EXPECTED_ROWS = {
    "jigsaw_toxic_2018": 12_184,
    "civil_comments_toxic_spans": 16_100,
    "davidson_hate_offensive": 24_783,
    "hatexplain_magpie": 18_962,
    "olid": 14_100,
    "wiki_talk_cat_large": 10_978,
    "impermium_insults": 6_594,
    "youtube_spam": 1_586,
    "implicit_hate": 21_479,
    "social_bias_frames_devtest": 8_667,
    "toxigen_annotated_partial": 3_462,
    "fox_news_comments": 1_522,
    "cad": 23_342,
    "gab_hate_corpus": 27_522,
    "dynahate_devtest": 7_070,
    "ethos": 998,
    "datacamp_comment_spam": 599,
}


@pytest.mark.shared_data
def test_the_shared_data_loads_with_plausible_counts() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not present")
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorpusWarning)
        loaded = load_corpora(SHARED_DATA)
    elapsed = time.perf_counter() - started
    # Folders added to the shared data for work not done yet are skipped by name; anything else is a fault.
    problems = [str(w.message) for w in caught if "not a known corpus folder" not in str(w.message)]
    assert problems == []
    skipped = [str(w.message) for w in caught if "not a known corpus folder" in str(w.message)]
    assert len(skipped) <= len(list(SHARED_DATA.iterdir())) - len(EXPECTED_ROWS)

    rows = {corpus.info.name: len(corpus.examples) for corpus in loaded}
    for name, expected in EXPECTED_ROWS.items():
        assert abs(rows[name] - expected) <= expected * 0.01, (name, rows[name], expected)
    summary = {item["name"]: item for item in corpus_summary(loaded)}
    assert summary["hatexplain_magpie"]["positives"]["identity_attack"] > 5_000
    assert 50 < summary["wiki_talk_cat_large"]["positives"]["toxicity"] < 400
    assert summary["youtube_spam"]["positives"]["spam"] > 700
    print(f"loaded {sum(rows.values()):,} rows in {elapsed:.1f} s")  # a figure, not a target: make bench-model times
