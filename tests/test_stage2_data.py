"""Stage-2 training data without torch: our sentences, de-duplication, the split, sampling, label masks, Platt."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.categories import CATEGORIES, UNKNOWN_LABEL
from model.corpora import Example, LoadedCorpus
from model.identity_balance import identity_balance_corpus
from model.stage2 import data, metrics, synthetic
from model.suite import cases, slurs

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"
ROOT = Path(__file__).resolve().parents[1]


def row(text: str, labels: dict[str, int], corpus: str = "c") -> data.Row:
    return data.Row(Example(text, labels, corpus), text.lower())


# --- our sentences ---------------------------------------------------------------------------------------


def test_synthetic_sentences_are_deterministic_and_cover_every_kind_and_frame() -> None:
    first = synthetic.generate()
    assert first == synthetic.generate()
    assert synthetic.generate(seed=1) != first
    kinds = {s.kind for s in first}
    assert kinds == set(synthetic.KINDS)
    assert set(synthetic._FRAMES) == set(synthetic.KINDS) - set(synthetic.DERIVED)
    for kind, frames in synthetic._FRAMES.items():
        fillers = synthetic._FILLERS.get(kind, synthetic.GROUPS)
        texts = {s.text.lower() for s in first if s.kind == kind}
        # Every frame is used at least once.
        for frame in frames:
            assert any(synthetic._fill(frame, w).lower() in texts for w in fillers), frame


def test_synthetic_labels_say_what_each_kind_means_and_never_spam() -> None:
    hate = {"toxicity": 1, "identity_attack": 1, "threat": 0}
    threat = {"toxicity": 1, "threat": 1, "identity_attack": 0}
    group_threat = {"toxicity": 1, "threat": 1, "identity_attack": 1}
    clean = (
        "counter_speech", "negated", "positive", "neutral", "self", "individual", "criticism", "object",
        "plain_phrase", "remembrance", "slur_mention",
    )  # fmt: skip
    for sentence in synthetic.generate():
        assert "spam" not in sentence.labels
        assert set(sentence.labels) <= set(CATEGORIES)
        if sentence.kind in clean:
            assert set(sentence.labels.values()) == {0}
        elif sentence.kind in ("hate", "negated_praise", "phrase", "backhanded", "stereotype", "slur"):
            assert sentence.labels == hate
        elif sentence.kind == "group_threat":
            assert sentence.labels == group_threat
        elif sentence.kind == "profanity":
            assert sentence.labels == {**dict.fromkeys(synthetic.LABELLED, 0), "obscene": 1}
        elif sentence.kind == "insult":
            assert sentence.labels == {"toxicity": 1, "insult": 1, "obscene": 0, "threat": 0, "identity_attack": 0}
        elif sentence.kind == "evasion":
            assert sentence.labels in (hate, threat, group_threat)
        elif sentence.kind == "context":
            assert sentence.labels in [synthetic.LABELS[k] for k in synthetic.KINDS if k not in synthetic.DERIVED]
        else:
            assert sentence.kind == "threat" and sentence.labels == threat
        assert "{" not in sentence.text and sentence.text.strip() == sentence.text


def test_harsh_words_and_wished_fates_are_taught_by_their_target_and_their_fate() -> None:
    sentences = [s for s in synthetic.generate() if s.kind not in synthetic.DERIVED]
    for word in ("stupid", "pathetic"):
        about = {(s.kind, s.labels["toxicity"]) for s in sentences if word in s.text.lower().split()}
        assert {("object", 0), ("insult", 1)} <= about, word
    # One shell ("... should be {fate} for {why}") carries both kinds; the fate alone says which.
    for fates, kind in ((synthetic.VIOLENT_FATES, "threat"), (synthetic.PEACEFUL_FATES, "criticism")):
        shaped = {s.kind for s in sentences for fate in fates if f" should be {fate} for " in s.text}
        assert shaped == {kind}


def test_contrast_sets_put_the_same_claim_under_both_labels() -> None:
    by_text = {s.text.lower(): s for s in synthetic.generate()}
    hate, negation = synthetic.HATE_CLAIMS[0]
    praise, denied = synthetic.PRAISE_CLAIMS[0]
    for claim, abusive in ((hate, 1), (negation, 0), (praise, 0), (denied, 1)):
        labels = {s.labels["toxicity"] for t, s in by_text.items() if s.kind != "evasion" and f" {claim}" in t}
        assert abusive in labels, claim
    # A hateful claim is both stated as hate and quoted to be rejected.
    stated = {s.kind for t, s in by_text.items() if f" {hate}" in t}
    assert {"hate", "counter_speech", "negated"} <= stated
    # The same shell after a group's adjective: a word for vermin makes it hate, an ordinary noun does not.
    shell = synthetic.PHRASE_SHELLS[0]
    filled = {
        shell.format(a=adjective, n=noun)
        for noun in (*synthetic.VILE_NOUNS, *synthetic.PLAIN_NOUNS)
        for adjective in synthetic.GROUP_ADJECTIVES
    }
    shelled = {(by_text[t].kind, by_text[t].labels["toxicity"]) for t in filled if t in by_text}
    assert shelled == {("phrase", 1), ("plain_phrase", 0)}
    # A slur of our list is both used (hate) and mentioned to reject it (clean).
    for one, plural in synthetic.SLURS[:5]:
        used = {
            s.kind
            for s in by_text.values()
            if s.kind != "context" and re.search(rf"\b({one}|{plural})\b", s.text.lower())
        }
        assert {"slur", "slur_mention"} <= used, one


def test_evasions_misspell_one_word_of_a_hateful_or_threatening_sentence() -> None:
    sentences = synthetic.generate()
    sources = {s.text.lower(): s for s in sentences if s.kind in synthetic.EVADED}
    evasions = [s for s in sentences if s.kind == "evasion"]
    assert len(evasions) > synthetic.PER_KIND["evasion"] * 0.9
    by_shape: dict[int, list[tuple[str, synthetic.Sentence]]] = {}
    for text, source in sources.items():
        by_shape.setdefault(len(text.split()), []).append((text, source))
    for evasion in evasions[:50]:
        words = evasion.text.lower().split()
        matches = [
            s for t, s in by_shape[len(words)] if sum(a != b for a, b in zip(t.split(), words, strict=True)) == 1
        ]
        assert matches and matches[0].labels == evasion.labels, evasion.text


def test_sentences_in_context_keep_their_source_and_its_labels() -> None:
    sentences = synthetic.generate()
    by_text = {s.text: s for s in sentences if s.kind != "context"}
    in_context = [s for s in sentences if s.kind == "context"]
    assert len(in_context) > synthetic.PER_KIND["context"] * 0.9
    shapes = {"before": 0, "after": 0}
    for sentence in in_context[:300]:
        sources = [s for t, s in by_text.items() if (t[0].upper() + t[1:]).rstrip(".") in sentence.text]
        assert sources and sentence.labels in [s.labels for s in sources], sentence.text
        body = (sources[0].text[0].upper() + sources[0].text[1:]).rstrip(".")
        before, _, after = sentence.text.partition(body)
        shapes["before"] += bool(before.strip())
        shapes["after"] += bool(after.strip(" ."))
        assert "{" not in sentence.text
    assert min(shapes.values()) > 50


def test_synthetic_texts_are_distinct_and_differ_from_the_identity_balance_sentences() -> None:
    texts = [s.text.lower() for s in synthetic.generate()]
    assert len(set(texts)) == len(texts)
    balance = {example.text.lower() for example in identity_balance_corpus().examples}
    assert not balance & set(texts)


def _group_normalized_runs(text: str, groups: re.Pattern[str], length: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z']+|<g>", groups.sub("<g>", text.lower()))
    return {tuple(words[i : i + length]) for i in range(len(words) - length + 1)}


def test_training_sentences_keep_clear_of_the_functional_suite() -> None:
    """Our training sentences reuse none of the suite's slots or test-only slurs, and share no seven-word run
    with a suite case (group names aside), so the suite still measures what was not taught."""
    sentences = synthetic.generate()
    ours = (*synthetic.ROLES, *synthetic.SUBJECTS, *synthetic.INDIVIDUALS, *synthetic.PEOPLE, *synthetic.NEWS_TOPICS)
    fillers = {f.lower() for f in ours}
    suite_slots = {s.lower() for s in (*cases.FIGURES, *cases.THINGS, *cases.TOPICS, *cases.PEOPLE, *cases.CROWDS)}
    assert not fillers & suite_slots
    test_only = {w for words in slurs.SLURS.values() for w in words} | set(slurs.HOMONYMS)
    assert not {w for s in sentences for w in re.findall(r"[a-z]+", s.text.lower())} & test_only
    names = {g.lower() for g in synthetic.GROUPS} | {
        form.lower() for g in cases.GROUPS.values() for form in (g.plural, g.one, g.adjective)
    }
    groups = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")
    suite_runs = set().union(*(_group_normalized_runs(c.text, groups, 7) for c in cases.functional_suite()))
    shared = {s.text for s in sentences if _group_normalized_runs(s.text, groups, 7) & suite_runs}
    assert not shared


def test_synthetic_corpus_is_shippable_and_hashes_its_content() -> None:
    corpus = synthetic.synthetic_corpus()
    assert corpus.info.shippable
    assert len(corpus.sha256) == 64 and corpus.sha256 == synthetic.synthetic_corpus().sha256
    assert {e.group for e in corpus.examples} == set(synthetic.KINDS)


# --- preparation and split ---------------------------------------------------------------------------------


def test_training_data_reads_only_shippable_corpora_and_our_sentences() -> None:
    loaded = data.load_training_data([FIXTURES])
    names = {corpus.info.name for corpus in loaded.corpora}
    assert {"implicit_hate", "identity_balance", synthetic.NAME, "jigsaw_toxic_2018"} <= names
    assert not names & {"impermium_insults", "cad", "gab_hate_corpus", "dynahate_devtest", "ethos"}
    normalized = [r.normalized for r in loaded.rows]
    assert len(set(normalized)) == len(normalized)


def test_duplicates_merge_across_corpora_before_the_split() -> None:
    corpora = [
        LoadedCorpus(synthetic.INFO, [Example("Same TEXT here", {"toxicity": 1}, "a")], [], "x"),
        LoadedCorpus(synthetic.INFO, [Example("same text here", {"toxicity": 1, "insult": 0}, "b")], [], "y"),
    ]
    merged = data.from_corpora(corpora)
    assert merged.duplicates_removed == 1
    assert merged.rows[0].example.labels == {"toxicity": 1, "insult": 0}


def test_split_is_by_text_hash_not_row_order_and_disjoint() -> None:
    rows = [row(f"comment number {i}", {"toxicity": i % 2}) for i in range(2000)]
    split = data.split_rows(rows, seed=13, test_share=0.1, calibration_share=0.1)
    again = data.split_rows(list(reversed(rows)), seed=13, test_share=0.1, calibration_share=0.1)
    assert {r.normalized for r in split.test} == {r.normalized for r in again.test}
    assert {r.normalized for r in split.calibration} == {r.normalized for r in again.calibration}
    sides = [{r.normalized for r in part} for part in (split.train, split.calibration, split.test)]
    assert sum(len(s) for s in sides) == 2000
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    assert 150 < len(split.test) < 250 and 150 < len(split.calibration) < 250
    other = data.split_rows(rows, seed=14, test_share=0.1, calibration_share=0.1)
    assert {r.normalized for r in other.test} != sides[2]


def test_quotas_fill_small_corpora_whole_and_share_the_rest() -> None:
    assert data.quotas({"a": 10, "b": 1000, "c": 1000}, 510) == {"a": 10, "b": 250, "c": 250}
    assert data.quotas({"a": 10, "b": 20}, 100) == {"a": 10, "b": 20}
    shares = data.quotas({"a": 7, "b": 7, "c": 7}, 10)
    assert sum(shares.values()) == 10 and max(shares.values()) - min(shares.values()) <= 1


def test_sampling_is_balanced_deterministic_and_order_free() -> None:
    rows = [row(f"big {i}", {"toxicity": 0}, "big") for i in range(900)]
    rows += [row(f"small {i}", {"spam": 1}, "small") for i in range(50)]
    sample = data.sample_rows(rows, 300, seed=13)
    assert len(sample) == 300
    assert sum(r.example.corpus == "small" for r in sample) == 50
    assert [r.normalized for r in data.sample_rows(list(reversed(rows)), 300, seed=13)] == [
        r.normalized for r in sample
    ]
    assert data.sample_rows(rows, None, seed=13) == rows


def test_label_matrix_marks_unknown_and_the_masked_loss_ignores_it() -> None:
    rows = [row("a", {"toxicity": 1, "spam": 0}), row("b", {"insult": 1})]
    labels = data.label_matrix(rows)
    assert labels.shape == (2, len(CATEGORIES))
    assert labels[0, CATEGORIES.index("toxicity")] == 1 and labels[0, CATEGORIES.index("spam")] == 0
    assert (labels[1] == UNKNOWN_LABEL).sum() == len(CATEGORIES) - 1
    logits = np.zeros_like(labels)
    assert data.masked_bce(logits, labels) == pytest.approx(np.log(2))
    # Changing the logit of an unknown label does not change the loss.
    logits[1, CATEGORIES.index("spam")] = 50.0
    assert data.masked_bce(logits, labels) == pytest.approx(np.log(2))
    assert data.masked_bce(logits, np.full_like(labels, UNKNOWN_LABEL)) == 0.0


def test_rows_fingerprint_ignores_order_and_sees_labels() -> None:
    rows = [row("a", {"toxicity": 1}), row("b", {"toxicity": 0})]
    assert data.rows_sha256(rows) == data.rows_sha256(rows[::-1])
    assert data.rows_sha256(rows) != data.rows_sha256([row("a", {"toxicity": 0}), rows[1]])


# --- calibration and metrics -------------------------------------------------------------------------------


def test_platt_recovers_a_known_scaling_and_skips_single_class_categories() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, len(CATEGORIES))).astype(np.float32)
    labels = np.full(logits.shape, UNKNOWN_LABEL, dtype=np.float32)
    j = CATEGORIES.index("threat")
    labels[:, j] = (rng.random(4000) < metrics.sigmoid(2.0 * logits[:, j] - 1.0)).astype(np.float32)
    labels[:, CATEGORIES.index("spam")] = 0.0
    fitted = metrics.fit_platt(logits, labels)
    assert fitted["threat"]["a"] == pytest.approx(2.0, abs=0.25)
    assert fitted["threat"]["b"] == pytest.approx(-1.0, abs=0.2)
    assert fitted["spam"] == {"a": 1.0, "b": 0.0} and fitted["toxicity"] == {"a": 1.0, "b": 0.0}
    probs = metrics.calibrated(logits, fitted)
    assert probs.shape == logits.shape and ((probs > 0) & (probs < 1)).all()


def test_heldout_metrics_per_category_and_per_corpus() -> None:
    rows = [row(f"t{i}", {"toxicity": i % 2}, "a" if i < 10 else "b") for i in range(20)]
    logits = np.zeros((20, len(CATEGORIES)), dtype=np.float32)
    logits[:, 0] = [i % 2 for i in range(20)]
    identity = {c: {"a": 1.0, "b": 0.0} for c in CATEGORIES}
    result = metrics.heldout_metrics(logits, rows, identity)
    assert result["overall"]["toxicity"]["roc_auc"] == 1.0  # type: ignore[index]
    assert set(result["per_corpus"]) == {"a", "b"}  # type: ignore[arg-type]
    assert "insult" not in result["overall"]  # type: ignore[operator]


def test_the_pure_stage2_modules_do_not_import_torch() -> None:
    code = (
        "import sys, model.stage2.data, model.stage2.synthetic, model.stage2.metrics; "
        "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"


def test_model_text_is_the_submitted_or_the_normalized_text() -> None:
    item = data.from_corpora([LoadedCorpus(synthetic.INFO, [Example("You are an 1d10t", {"insult": 1}, "a")], [], "")])
    (only,) = item.rows
    assert data.model_text(only, "raw") == "You are an 1d10t"
    assert data.model_text(only, "normalized") == only.normalized != only.example.text
    with pytest.raises(ValueError, match="input must be one of"):
        data.model_text(only, "lowercase")


def test_stage2_holds_out_the_rows_stage1_holds_out() -> None:
    from model.train import TrainParams, split_examples

    rows = data.from_corpora([synthetic.synthetic_corpus()]).rows
    params = TrainParams()
    stage1 = split_examples(rows, params)
    stage2 = data.split_rows(rows, params.seed, params.test_share, params.calibration_share)
    assert [r.normalized for r in stage2.test] == [r.normalized for r in stage1.test]
    assert [r.normalized for r in stage2.calibration] == [r.normalized for r in stage1.calibration]
    assert stage2.test and stage2.calibration


# --- counterfactual group swaps ----------------------------------------------------------------------------


def test_a_group_swap_renames_every_group_consistently_and_keeps_forms() -> None:
    import random

    swapped = data.swap_groups("all jews are liars, a jew said so, ask the armenians", random.Random(4))
    assert swapped is not None
    words = swapped.replace(",", "").split()
    assert "jews" not in words and "jew" not in words and "armenians" not in words
    plural_of = {single: plural for single, plural in data.SWAP_GROUPS}
    # "jews" and "a jew" became one group's plural and adjective; the armenians another group's plural.
    first, second, third = words[1], words[5], words[-1]
    assert plural_of[second] == first and third in plural_of.values() and third != first
    assert swapped.startswith("all ") and " said so, ask the " in swapped
    assert data.swap_groups("nothing about anyone here", random.Random(4)) is None


def test_a_swap_fixes_the_article_before_a_vowel() -> None:
    import random

    for seed in range(20):
        swapped = data.swap_groups("i met a georgian yesterday", random.Random(seed))
        assert swapped is not None
        article, group = swapped.split()[2:4]
        assert article == ("an" if group[0] in "aeiou" else "a")


def test_counterfactual_copies_keep_labels_only_for_rows_naming_a_group_up_to_the_limit() -> None:
    rows = [
        row("The Kurds deserve nothing", {"toxicity": 1, "identity_attack": 1}),
        row("Muslim families met for dinner", {"toxicity": 0, "identity_attack": 0}),
        row("the weather is fine", {"toxicity": 0}),
    ]
    copies = data.counterfactual_rows(rows, limit=10, seed=1)
    assert len(copies) == 2
    by_labels = {tuple(sorted(c.example.labels.items())): c for c in copies}
    hateful = by_labels[(("identity_attack", 1), ("toxicity", 1))]
    assert "kurds" not in hateful.normalized and hateful.normalized.endswith(" deserve nothing")
    assert hateful.example.text == hateful.normalized and hateful.example.spans == ()
    assert all(c.example.group.startswith("swap:") for c in copies)
    assert len(data.counterfactual_rows(rows, limit=1, seed=1)) == 1
    assert data.counterfactual_rows(rows, limit=10, seed=1) == copies  # deterministic


def test_augmented_training_rows_repeat_only_our_own_sentences() -> None:
    own = row("as a reader i liked it", {"toxicity": 0}, corpus=synthetic.NAME)
    other = row("plain comment", {"toxicity": 0})
    rows = data.augmented_training_rows([own, other], counterfactuals=0, own_repeats=3, seed=1)
    assert rows.count(own) == 3 and rows.count(other) == 1


# --- misspelt copies and group-word balancing ---------------------------------------------------------------


def test_a_misspelling_keeps_first_and_last_letters_and_changes_at_most_two_words() -> None:
    import random

    text = "you are a pathetic idiot and everyone knows it"
    for seed in range(30):
        changed = data.misspell(text, random.Random(seed))
        before, after = text.split(), changed.split()
        assert len(before) == len(after)
        differing = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert 1 <= len(differing) <= 2
        for original, misspelt in differing:
            assert len(original) >= 4 and misspelt[0] == original[0] and misspelt[-1] == original[-1]
            dropped = len(misspelt) == len(original) - 1
            assert dropped or sorted(misspelt) == sorted(original)
    assert data.misspell("a an the of it", random.Random(1)) == "a an the of it"


def test_misspelt_copies_keep_labels_mix_clean_rows_and_respect_the_limit() -> None:
    rows = [row(f"you worthless idiot number {i} go away", {"toxicity": 1}) for i in range(20)]
    rows += [row(f"thanks for the careful reporting part {i}", {"toxicity": 0}) for i in range(20)]
    copies = data.misspelt_rows(rows, limit=10, seed=3, abusive_share=0.7)
    assert len(copies) == 10
    assert sum(c.example.labels["toxicity"] for c in copies) == 7
    assert all(c.example.group.startswith("misspelt:") and c.example.spans == () for c in copies)
    assert all(c.normalized not in {r.normalized for r in rows} for c in copies)
    assert data.misspelt_rows(rows, limit=10, seed=3, abusive_share=0.7) == copies
    augmented = data.augmented_training_rows(rows, counterfactuals=0, own_repeats=1, seed=3, misspelt=4)
    assert len(augmented) == len(rows) + 4


def test_clean_rows_naming_an_over_abused_word_weigh_up_to_the_background_share() -> None:
    rows = [row(f"the jews did thing {i}", {"toxicity": 1}) for i in range(6)]
    rows += [row(f"the jews met friend {i}", {"toxicity": 0}) for i in range(2)]
    rows += [row(f"the weather report {i}", {"toxicity": 0}) for i in range(12)]
    # Background: 6 abusive of 20 known (0.3); "jews": 6 abusive, 2 clean -> weight 6 * 0.7 / 0.3 / 2 = 7.
    weights, per_word = data.balance_weights(rows, data.BALANCE_WORDS, cap=8.0)
    assert per_word == {"jews": 7.0}
    assert weights[6] == weights[7] == pytest.approx(7.0)
    assert set(weights[:6]) == {1.0} and set(weights[8:]) == {1.0}
    capped, _ = data.balance_weights(rows, data.BALANCE_WORDS, cap=3.0)
    assert capped[6] == pytest.approx(3.0)
    off, none = data.balance_weights(rows, data.BALANCE_WORDS, cap=1.0)
    assert set(off) == {1.0} and none == {}


def test_slurs_are_never_weighted_as_clean_group_words() -> None:
    assert {"tranny", "cripples"}.isdisjoint(data.BALANCE_WORDS)
    assert {"jews", "armenians", "muslim", "immigrants", "women"} <= data.BALANCE_WORDS
