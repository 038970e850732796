"""Benchmark the classifier side by side with alt-profanity-check: quality, fairness, latency, throughput, memory.

Three columns in one run: stage 1 alone (the model's linear stage under its own thresholds), the cascade (stage 1
then stage 2 where it routes, under the model's thresholds; only when the model file carries a stage 2), and
alt-profanity-check. Targets on quality, the functional suite and fairness judge the model as shipped: the cascade
when there is one. The stage-1 speed and memory targets judge stage 1 alone, the stage-2 ones stage 2.

Run with `make bench-model` (needs ../shared/data). Every figure printed is measured in this run; a target that
cannot be measured here (no stage 2, a corpus missing) prints n/a and does not fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_service import real_texts  # noqa: E402  (the repository is on the path now)
from benchmarks.host import describe_host  # noqa: E402
from model import artifact  # noqa: E402
from model.build import load_dataset  # noqa: E402
from model.cascade import STREAM_ABUSIVE_SHARE  # noqa: E402
from model.categories import CATEGORIES  # noqa: E402
from model.evaluate import (  # noqa: E402
    ScoredRows,
    cross_section,
    cross_units,
    fairness_section,
    flag_rates_by_group,
    holdout_rows,
    load_peer,
    score_rows,
    section,
    template_check,
)
from model.metrics import ranking_metrics  # noqa: E402
from model.normalize import normalize_text  # noqa: E402
from model.scorer import Scorer, default_model_path, load_scorer  # noqa: E402
from model.span_eval import AnnotatedPost, load_dev_posts, load_test_posts, mean_span_f1  # noqa: E402
from model.suite.cases import functional_suite  # noqa: E402
from model.suite.evaluate import FLAGGING_ACTIONS, evaluate_suite, scores_function  # noqa: E402
from model.train import PreparedExample, TrainParams, labels_matrix, prepare, split_bucket  # noqa: E402
from model.types import Span, Thresholds  # noqa: E402
from moderation.cli.suite import default_policy_decision  # noqa: E402

TARGETS = {
    "jigsaw_auc": 0.975,
    "impermium_test_auc": 0.90,
    "cad_test_auc": 0.85,
    "youtube_cross_video_spam_auc": 0.97,
    "fairness_fpr_ratio": 1.25,
    "p50_ms": 1.0,
    "throughput_per_core": 3000.0,
    "memory_mb": 150.0,
    "stage2_p50_ms": 12.0,
    "stage2_p99_ms": 40.0,
    "routed_share": 0.25,
    "worker_memory_mb": 350.0,
    "model_file_mb": 60.0,
    "suite_overall_accuracy": 0.90,
    "suite_behaviour_accuracy": 0.75,
}
# alt-profanity-check has one score and no policy: it flags a comment where its own predict() does, at p >= 0.5.
PEER_FLAGS_AT = 0.5
# The corpus of the Contextual Abuse Dataset (model/corpora/implicit.py) and its test split (Example.group).
CAD_CORPUS = "cad"
IMPERMIUM_CORPUS = "impermium_insults"
TEST_GROUP = "test"
STREAM_ROWS = 3000
# Batch throughput: the median of BATCH_ROUNDS batches, each starting BATCH_STRIDE texts after the one before.
BATCH_ROUNDS = 3
BATCH_SIZE = 5000
BATCH_STRIDE = 20_000
OCCLUSION_CANDIDATES = 600  # abusive 400-character comments tried; those stage 2 explains are timed
NA = "n/a"


def comment_of_length(texts: list[str], length: int, count: int) -> list[str]:
    """Real comments cut or joined to exactly `length` characters."""
    pool = [t.replace("\n", " ") for t in texts if len(t) >= 40]
    out: list[str] = []
    index = 0
    while len(out) < count:
        text = pool[index % len(pool)]
        while len(text) < length:
            index += 1
            text += " " + pool[index % len(pool)]
        out.append(text[:length])
        index += 1
    return out


def timings_ms(function: Any, texts: Sequence[str]) -> list[float]:
    """Milliseconds of one call per text (after 50 untimed calls), sorted."""
    for text in texts[:50]:
        function(text)
    timings = []
    for text in texts:
        start = time.perf_counter()
        function(text)
        timings.append((time.perf_counter() - start) * 1000)
    return sorted(timings)


def percentiles(timings: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 of sorted timings."""
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.99) - 1)]


def latency_ms(function: Any, texts: Sequence[str]) -> tuple[float, float]:
    """p50 and p99 of one call per text, in milliseconds."""
    return percentiles(timings_ms(function, texts))


def throughput(function: Any, texts: list[str]) -> float:
    """Comments per second for one batch call over all texts."""
    start = time.perf_counter()
    function(texts)
    return len(texts) / (time.perf_counter() - start)


def batch_rates(ours: Any, peer: Any, texts: list[str]) -> tuple[list[float], list[float]]:
    """Comments per second of both, over BATCH_ROUNDS batches of BATCH_SIZE 400-character comments, each batch new
    to both (texts far apart in the pool), the two taking turns to go first: one batch on a shared host measured
    the neighbours as much as the code."""
    ours_rates: list[float] = []
    peer_rates: list[float] = []
    for round_index in range(BATCH_ROUNDS):
        batch = comment_of_length(texts[round_index * BATCH_STRIDE :], 400, BATCH_SIZE)
        turns = [(ours, ours_rates), (peer, peer_rates)]
        for function, rates in turns if round_index % 2 == 0 else turns[::-1]:
            rates.append(throughput(function, batch))
    return ours_rates, peer_rates


def resident_mb(code: str) -> tuple[float, float]:
    """Resident memory added by running `code` in a fresh interpreter (numpy, scipy and scikit-learn already
    imported), and the interpreter's whole resident size after it, in MB."""
    probe = (
        "import resource, gc\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 2**20\n"
        "import numpy, scipy.sparse, sklearn\n"
        "before = rss()\n" + code + "\ngc.collect()\nprint(rss() - before, rss())\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    added, total = result.stdout.strip().splitlines()[-1].split()
    return float(added), float(total)


def loaded_model_mb(path: Path) -> tuple[float, float]:
    """resident_mb of loading the model file at `path` (a cascade file loads its stage 2 and self-checks it)."""
    return resident_mb(f"from model.scorer import load_scorer\nscorer = load_scorer({str(path)!r})")


def verdict(measured: float | None, target: float, higher_is_better: bool = True) -> str:
    """PASS, or MISS with the gap."""
    if measured is None:
        return NA
    ok = measured >= target if higher_is_better else measured <= target
    if ok:
        return "PASS"
    gap = target - measured if higher_is_better else measured - target
    return f"MISS by {gap:.3f}"


def fmt(value: float | None, digits: int = 4, width: int = 8) -> str:
    """A figure right-aligned, or n/a."""
    return f"{NA:>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def stage1_manifest(scorer: Scorer) -> dict[str, Any]:
    """The manifest of a cascade's stage 1 as a file of its own: its version, its own thresholds, no stage2."""
    manifest = {key: value for key, value in scorer.manifest.items() if key != "stage2"}
    manifest["thresholds"] = artifact.stage1_thresholds_of(scorer.manifest)
    manifest["version"] = scorer.manifest["stage2"].get("stage1_version") or f"{scorer.version}-stage1"
    return manifest


def stage1_alone(scorer: Scorer) -> Scorer:
    """The model's stage 1 as a scorer of its own (no stage 2, stage 1's thresholds); itself without a cascade."""
    if scorer.stage2 is None:
        return scorer
    return Scorer(artifact.Artifact(scorer.model, stage1_manifest(scorer)))


class FinalScores:
    """A scorer's final scores (score_many: the cascade's where it routes), each distinct text scored once a run."""

    def __init__(self, scorer: Scorer, chunk: int = 4096) -> None:
        self._scorer = scorer
        self._chunk = chunk
        self._rows: dict[str, np.ndarray] = {}

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """[n, 7] in CATEGORIES order."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
        for start in range(0, len(missing), self._chunk):
            chunk = missing[start : start + self._chunk]
            for text, row in zip(chunk, self._scorer.final_probabilities(chunk), strict=True):
                self._rows[text] = row
            if len(missing) > self._chunk:
                print(f"  scored {start + len(chunk)} of {len(missing)}", file=sys.stderr, flush=True)
        return np.array([self._rows[t] for t in texts], dtype=float).reshape(-1, len(CATEGORIES))


def linear_spans(scorer: Scorer, text: str) -> list[Span]:
    """Stage 1's spans for each category the final scores flag: a cascade's spans before stage 2 had its own."""
    review = {category: limits["review"] for category, limits in scorer.thresholds.items()}
    scores = scorer.score(text, explain=False).scores
    flagged = [c for c, p in scores.items() if (bound := review.get(c)) is not None and p >= bound]
    return scorer.explain(text, flagged) if flagged else []


def category_scores(row: np.ndarray) -> dict[str, float]:
    """One row of probabilities as the service's score dict (rounded as Scorer.score rounds)."""
    return {c: round(float(p), 4) for c, p in zip(CATEGORIES, row, strict=True)}


def policy_flag_rates(scored: ScoredRows, ours: np.ndarray | None, thresholds: Thresholds | None) -> dict[str, Any]:
    """The fairness table's false-positive rates on toxicity-labelled rows, flagged = review or reject under the
    default policy of `thresholds` with the scores `ours`, or, without thresholds, the peer at PEER_FLAGS_AT."""
    column = CATEGORIES.index("toxicity")
    known = scored.labels[:, column] >= 0
    rows = [item for item, k in zip(scored.rows, known, strict=True) if k]
    if thresholds is not None and ours is not None:
        decide = default_policy_decision(thresholds)
        flagged = [
            decide(item.example.text, category_scores(row)) in FLAGGING_ACTIONS
            for item, row in zip(rows, ours[known], strict=True)
        ]
    else:
        assert scored.peer is not None
        flagged = list(scored.peer[known] >= PEER_FLAGS_AT)
    return flag_rates_by_group(
        [item.normalized for item in rows],
        scored.labels[known, column],
        flagged,
        [item.example.corpus for item in rows],
    )


def fpr_ratio(rates: Mapping[str, Any], group: str) -> float | None:
    """A group's false-positive rate over the overall one (None without non-toxic mentions)."""
    entry = rates["groups"].get(group)
    if entry is None or not entry["rows"]:
        return None
    overall = rates["overall"]
    base = overall["flagged"] / overall["rows"] if overall["rows"] else 0.0
    rate = entry["flagged"] / entry["rows"]
    if base == 0.0:
        return 0.0 if rate == 0.0 else float("inf")
    return rate / base


def in_corpus_ratio(entry: Mapping[str, Any]) -> float | None:
    """A group's flagged non-toxic mentions over those expected at their own corpora's rates (None if none were)."""
    expected = entry.get("expected_flagged")
    return None if not expected else entry["flagged"] / expected


def toxicity_auc(scores: np.ndarray | None, labels: np.ndarray) -> float | None:
    """Toxicity ROC AUC of one score column (None when not measurable)."""
    if scores is None:
        return None
    return ranking_metrics(scores, labels)["roc_auc"]  # type: ignore[return-value]


def test_split_aucs(
    examples: Sequence[Any], corpus: str, stage1: Scorer, final: FinalScores | None, peer: Any
) -> dict[str, Any] | None:
    """Toxicity ROC AUC on a corpus's test split (Example.group == "test"): stage 1, the cascade, the peer."""
    rows = prepare([e for e in examples if e.corpus == corpus and e.group == TEST_GROUP])
    column = CATEGORIES.index("toxicity")
    rows = [r for r in rows if r.example.labels.get("toxicity") is not None]
    if not rows:
        return None
    scored = score_rows(stage1.model, rows, peer)
    labels = scored.labels[:, column].astype(int)
    cascade = final.probabilities([r.example.text for r in rows])[:, column] if final else None
    return {
        "rows": len(rows),
        "positives": int(labels.sum()),
        "stage1": toxicity_auc(scored.ours[:, column], labels),
        "cascade": toxicity_auc(cascade, labels),
        "peer": toxicity_auc(scored.peer, labels),
    }


def suite_reports(stage1: Scorer, scorer: Scorer | None, peer: Any) -> dict[str, dict[str, Any] | None]:
    """The functional suite for stage 1 and the cascade under the default policy of each one's thresholds, and
    for the peer flagging at PEER_FLAGS_AT."""
    cases = functional_suite()

    def peer_action(_text: str, scores: Any) -> str:
        """Review what the peer scores at or above PEER_FLAGS_AT, approve the rest."""
        return "review" if scores["peer"] >= PEER_FLAGS_AT else "approve"

    return {
        "stage1": evaluate_suite(cases, scores_function(stage1), default_policy_decision(stage1.thresholds)),
        "cascade": None
        if scorer is None
        else evaluate_suite(cases, scores_function(scorer), default_policy_decision(scorer.thresholds)),
        "peer": evaluate_suite(cases, lambda texts: [{"peer": float(p)} for p in peer(texts)], peer_action),
    }


# Hold-out rows the routing-cost comparison reads: stage 2 reads each once as routed and once more as if every
# comment were routed (about 6 ms a read on one core).
ROUTING_COST_ROWS = 6000


def routing_cost(scorer: Scorer, rows: Sequence[PreparedExample], seed: int = 11) -> dict[str, Any]:
    """The cascade as it routes against stage 2 reading every comment, with the same blend and thresholds: ROC AUC
    per category on a sample of hold-out rows, and the functional suite's accuracy under the default policy."""
    sample = random.Random(seed).sample(list(rows), min(ROUTING_COST_ROWS, len(rows)))
    texts = [item.example.text for item in sample]
    labels = labels_matrix(sample)
    routed = scorer.read_both_stages(texts)
    readings = {"routed": routed.final(scorer.cascade), "every": scorer.final_probabilities(texts, read_all=True)}
    aucs: dict[str, dict[str, float | None]] = {}
    for column, category in enumerate(CATEGORIES):
        known = labels[:, column] >= 0
        if len(set(labels[known, column].tolist())) == 2:
            aucs[category] = {
                name: ranking_metrics(scores[known, column], labels[known, column])["roc_auc"]  # type: ignore[misc]
                for name, scores in readings.items()
            }
    decide = default_policy_decision(scorer.thresholds)
    suite = {
        name: evaluate_suite(functional_suite(), score_texts, decide)["overall"]["accuracy"]
        for name, score_texts in (
            ("routed", scores_function(scorer)),
            ("every", lambda texts: scorer.score_many(texts, read_all=True)),
        )
    }
    return {"rows": len(sample), "routed_share": float(routed.routed.mean()), "roc_auc": aucs, "suite": suite}


# Abuse inside a long comment: short abusive hold-out comments, each after a harmless hold-out comment of
# PAD_CHARS characters.
PADDED_PAIRS = 400
ABUSE_CHARS = (15, 160)
PAD_CHARS = (300, 700)


def abuse_in_long_comments(scorer: Scorer, rows: Sequence[PreparedExample], seed: int = 7) -> dict[str, Any]:
    """Short abusive hold-out comments the cascade flags on their own, each put after a harmless hold-out comment
    of 300-700 characters that it approves on its own: the share of the pairs still flagged under the default
    policy with the model's lone sentences and without them (the same model with `sentences` 0)."""
    assert scorer.cascade is not None
    from moderation.policy import AuthorHistory, CommentFacts, decide, default_policy

    policy = default_policy(scorer.thresholds)
    without = Scorer(
        artifact.Artifact(scorer.model, scorer.manifest, scorer.stage2, replace(scorer.cascade, sentences=0))
    )

    def decided(reader: Scorer, text: str) -> tuple[str, bool]:
        result = reader.score(text, explain=False)
        verdict = decide(result.scores, policy, CommentFacts(text, sentences=result.sentences), AuthorHistory())
        by_sentence = verdict.action != "approve" and all(r.kind == "sentence" for r in verdict.reasons)
        return verdict.action, by_sentence

    def toxicity(item: PreparedExample) -> float | None:
        value = item.example.labels.get("toxicity")
        return None if value is None else float(value)

    def first_of(texts: list[str], flagged: bool) -> list[str]:
        """Up to PADDED_PAIRS of `texts` (shuffled) that the cascade flags (or approves) on their own."""
        rng.shuffle(texts)
        return [t for t in texts[: PADDED_PAIRS * 3] if (decided(scorer, t)[0] != "approve") == flagged][:PADDED_PAIRS]

    rng = random.Random(seed)
    abusive = [i.example.text.strip() for i in rows if (toxicity(i) or 0.0) >= 0.5]
    harmless = [i.example.text.strip() for i in rows if toxicity(i) == 0.0]
    lines = first_of([t for t in abusive if ABUSE_CHARS[0] <= len(t) <= ABUSE_CHARS[1]], flagged=True)
    pads = first_of([t for t in harmless if PAD_CHARS[0] <= len(t) <= PAD_CHARS[1]], flagged=False)
    count = min(len(lines), len(pads))
    pairs = [
        (pad if pad[-1] in ".!?" else pad + ".") + " " + line
        for pad, line in zip(pads[:count], lines[:count], strict=True)
    ]
    with_lone = [decided(scorer, text) for text in pairs]
    without_lone = [decided(without, text)[0] for text in pairs]
    return {
        "pairs": count,
        "flagged_with_lone_sentences": sum(action != "approve" for action, _ in with_lone) / max(count, 1),
        "held_by_a_sentence_only": sum(by_sentence for _, by_sentence in with_lone) / max(count, 1),
        "flagged_without_lone_sentences": sum(action != "approve" for action in without_lone) / max(count, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--no-cross", action="store_true", help="skip the cross-corpus retraining")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    model_path: Path = args.model or default_model_path()
    scorer: Scorer = load_scorer(model_path)
    peer_loaded = load_peer()
    if peer_loaded is None:
        sys.exit("alt-profanity-check is not installed (pip install -r requirements-dev.txt)")
    peer_name, peer = peer_loaded
    manifest = scorer.manifest
    stage1 = stage1_alone(scorer)
    cascade = scorer if scorer.stage2 is not None else None
    final = FinalScores(cascade) if cascade else None
    stage2_section: dict[str, Any] = manifest.get("stage2") or {}
    shipped = "cascade" if cascade else "stage1"
    print(f"model {scorer.version} ({model_path}); peer {peer_name}; data {args.data}")
    host = describe_host()
    print(f"host: {host}")
    if cascade:
        print(
            f"cascade: stage 1 {stage1.version} then stage 2 ({stage2_section.get('encoder')}, "
            f"{'int8' if stage2_section.get('quantized') else 'fp32'}, {stage2_section.get('layers')} layers) where "
            f"routed; stage 2 decides {', '.join(scorer.cascade.stage2_categories if scorer.cascade else ())}"
        )
    else:
        print("no stage 2 in this model: the cascade column and the stage-2 targets are n/a")

    dataset = load_dataset([args.data])
    params = TrainParams.from_dict(manifest["params"])
    trained_corpora = {c["name"] for c in manifest["corpora"]}
    # Rows stage 2 trained on are not evidence about the cascade either: a corpus only stage 2 saw contributes
    # its test split (stage 2 splits by stage 1's bucket, seed and shares), not every row.
    stage2_corpora = {c["name"] for c in stage2_section.get("training", {}).get("corpora", [])}
    stage2_params = stage2_section.get("training", {}).get("params", {})
    if cascade and (
        stage2_params.get("seed") != params.seed
        or stage2_params.get("test_share") != params.test_share
        or stage2_params.get("calibration_share") != params.calibration_share
    ):
        print(
            f"warning: stage 2 split with seed {stage2_params.get('seed')}, test share "
            f"{stage2_params.get('test_share')}, calibration share {stage2_params.get('calibration_share')} (stage 1: "
            f"{params.seed}, {params.test_share}, {params.calibration_share}): some hold-out rows of the corpora "
            "stage 2 trained on may be among its training rows"
        )
    rows = holdout_rows(dataset.examples, params, trained_corpora | stage2_corpora)
    print(f"hold-out: {len(rows)} rows", file=sys.stderr, flush=True)
    stage1_scored = score_rows(stage1.model, rows, peer)
    trained = list(stage1.model.trained)
    report: dict[str, Any] = {"peer": peer_name, "stage1_holdout": section(stage1_scored, stage1.thresholds, trained)}
    final_scored: ScoredRows | None = None
    if final is not None:
        print("scoring the hold-out with the cascade", file=sys.stderr, flush=True)
        final_scored = replace(stage1_scored, ours=final.probabilities([r.example.text for r in rows]))
        report["holdout"] = section(final_scored, scorer.thresholds, trained)
    else:
        report["holdout"] = report["stage1_holdout"]
    shipped_scored = final_scored or stage1_scored
    report["fairness"] = fairness_section(
        final.probabilities if final else stage1.final_probabilities, scorer.thresholds, shipped_scored
    )
    stage1_templates = template_check(stage1.final_probabilities, stage1.thresholds)
    if args.no_cross:
        report["cross_corpus"] = {}
    else:
        report["cross_corpus"] = {
            name: cross_section(
                stage1.model, stage1.thresholds, params, trained_corpora, dataset.examples, name, in_unit, peer
            )
            for name, in_unit in cross_units(dataset.examples)
        }

    print("\n== Quality: ROC AUC per corpus and category (hold-out rows; whole corpus when the model never saw it)")
    print(f"{'corpus':<28}{'category':<17}{'rows':>6}{'pos':>6}  {'stage 1':>8}{'cascade':>8}{'peer':>8}")
    stage1_by_corpus = report["stage1_holdout"]["ours"]["by_corpus"]
    peer_by_corpus = report["holdout"]["peer"]
    for corpus, categories in report["holdout"]["ours"]["by_corpus"].items():
        for category, entry in categories.items():
            alone = stage1_by_corpus.get(corpus, {}).get(category, {}).get("roc_auc")
            theirs = peer_by_corpus.get(corpus, {}).get(category, {}).get("roc_auc")
            print(
                f"{corpus:<28}{category:<17}{entry['n']:>6}{entry['positives']:>6}  {fmt(alone)}"
                f"{fmt(entry['roc_auc'] if cascade else None)}{fmt(theirs)}"
            )

    splits: dict[str, dict[str, Any] | None] = {}
    for corpus in (IMPERMIUM_CORPUS, CAD_CORPUS):
        splits[corpus] = test_split_aucs(dataset.examples, corpus, stage1, final, peer)
        entry = splits[corpus]
        if entry is None:
            print(f"\n{corpus} test rows: none in {args.data} (not measured)")
            continue
        seen = " (stage 1 trained on this corpus)" if corpus in trained_corpora else ""
        seen += " (stage 2 trained on this corpus)" if corpus in stage2_corpora else ""
        print(
            f"\n{corpus} test rows ({entry['rows']}, {entry['positives']} toxic){seen}: toxicity ROC AUC "
            f"stage 1 {fmt(entry['stage1'], width=0)}, cascade {fmt(entry['cascade'], width=0)}, "
            f"peer {fmt(entry['peer'], width=0)}"
        )

    spam_aucs = []
    for unit, result in report["cross_corpus"].items():
        print(f"\n-- cross-corpus (stage 1 retrained), trained without {unit}")
        if "skipped" in result:
            print(f"   not measured: {result['skipped']}")
            continue
        for corpus, categories in result["ours"]["by_corpus"].items():
            for category, entry in categories.items():
                theirs = result["peer"].get(corpus, {}).get(category, {}).get("roc_auc")
                ours_auc = entry["roc_auc"]
                print(f"   {category:<17}{entry['n']:>6}{entry['positives']:>6}  ours {ours_auc}  peer {theirs}")
                if unit.startswith("youtube_spam/") and category == "spam" and entry["roc_auc"] is not None:
                    spam_aucs.append(entry["roc_auc"])

    # Fairness under the default policy: flagged = review or reject, for each scorer with its own thresholds.
    fairness_rates = {
        "stage1": policy_flag_rates(stage1_scored, np.asarray(stage1_scored.ours), stage1.thresholds),
        "cascade": policy_flag_rates(final_scored, final_scored.ours, scorer.thresholds) if final_scored else None,
        "peer": policy_flag_rates(stage1_scored, None, None),
    }
    shipped_rates = fairness_rates[shipped]
    assert shipped_rates is not None
    print(
        "\n== Fairness: false-positive rate on non-toxic hold-out rows (toxicity label 0), overall and where they "
        f"mention a group; flagged = review or reject under the default policy (peer: p >= {PEER_FLAGS_AT}); "
        "ratio = group / overall; in-corpus ratio = the group's flags over those expected at the rate of each "
        "mention's own corpus"
    )
    print(
        f"{'group':<14}{'mentions':>9}{'non-tox':>8}  {'stage 1':>8}{'ratio':>7}  {'cascade':>8}{'ratio':>7}  "
        f"{'peer':>8}{'ratio':>7}  subgroup AUC (shipped)  in-corpus ratio (shipped)"
    )

    def rate_of(rates: Mapping[str, Any] | None, group: str | None) -> float | None:
        if rates is None:
            return None
        entry = rates["overall"] if group is None else rates["groups"].get(group)
        return None if entry is None else entry["false_positive_rate"]

    overall = shipped_rates["overall"]
    print(
        f"{'(all rows)':<14}{'':>9}{overall['rows']:>8}  {fmt(rate_of(fairness_rates['stage1'], None))}{'':>7}  "
        f"{fmt(rate_of(fairness_rates['cascade'], None))}{'':>7}  {fmt(rate_of(fairness_rates['peer'], None))}"
    )
    fairness_ratios: dict[str, float | None] = {}
    for group, entry in shipped_rates["groups"].items():
        ratios = {name: None if rates is None else fpr_ratio(rates, group) for name, rates in fairness_rates.items()}
        fairness_ratios[group] = ratios[shipped]
        subgroup = report["fairness"]["groups"].get(group, {}).get("subgroup_auc")
        print(
            f"{group:<14}{entry['mentions']:>9}{entry['rows']:>8}  "
            f"{fmt(rate_of(fairness_rates['stage1'], group))}{fmt(ratios['stage1'], 2, 7)}  "
            f"{fmt(rate_of(fairness_rates['cascade'], group))}{fmt(ratios['cascade'], 2, 7)}  "
            f"{fmt(rate_of(fairness_rates['peer'], group))}{fmt(ratios['peer'], 2, 7)}  {fmt(subgroup)}"
            f"{fmt(in_corpus_ratio(entry), 2, 24)}"
        )
    shipped_templates = report["fairness"]["templates"]
    template_counts = {
        "stage1": len(stage1_templates["flagged"]),  # type: ignore[arg-type]
        "cascade": len(shipped_templates["flagged"]) if cascade else None,
    }
    print(
        f"non-toxic identity templates reaching a review threshold (of {shipped_templates['templates']}): "
        f"stage 1 {template_counts['stage1']}, cascade {NA if cascade is None else template_counts['cascade']}"
    )
    for flagged in shipped_templates["flagged"]:
        print(f"   {flagged['category']} {flagged['score']}: {flagged['text']}")

    suites = suite_reports(stage1, cascade, peer)
    shipped_suite = suites[shipped]
    assert shipped_suite is not None

    def accuracy_of(name: str, part: str, key: str) -> float | None:
        suite = suites[name]
        return None if suite is None else suite[part][key]["accuracy"]  # type: ignore[no-any-return]

    print(
        "\n== Functional suite (model/suite, written for this project): accuracy; flagged = review or reject under "
        f"the default policy of each one's thresholds, peer flagged at p >= {PEER_FLAGS_AT}"
    )
    print(f"{'behaviour':<24}{'expects':<8}{'cases':>6}  {'stage 1':>8}{'cascade':>8}{'peer':>8}")
    for name, entry in shipped_suite["behaviours"].items():
        print(
            f"{name:<24}{entry['expected']:<8}{entry['n']:>6}  {fmt(accuracy_of('stage1', 'behaviours', name))}"
            f"{fmt(accuracy_of('cascade', 'behaviours', name))}{fmt(accuracy_of('peer', 'behaviours', name))}"
        )
    print(f"{'group':<32}{'cases':>6}")
    for group, entry in shipped_suite["groups"].items():
        print(
            f"{group:<32}{entry['n']:>6}  {fmt(accuracy_of('stage1', 'groups', group))}"
            f"{fmt(accuracy_of('cascade', 'groups', group))}{fmt(accuracy_of('peer', 'groups', group))}"
        )
    print(
        f"{'overall':<32}{shipped_suite['overall']['n']:>6}  {fmt(suites['stage1']['overall']['accuracy'])}"  # type: ignore[index]
        f"{fmt(None if suites['cascade'] is None else suites['cascade']['overall']['accuracy'])}"
        f"{fmt(suites['peer']['overall']['accuracy'])}"  # type: ignore[index]
    )

    cost = routing_cost(cascade, rows) if cascade is not None else None
    if cost is not None:
        print(
            "\n== What routing costs: the cascade as it routes against stage 2 reading every comment (same blend and "
            f"thresholds); {cost['rows']} hold-out rows drawn at random, {cost['routed_share']:.1%} of them routed"
        )
        print(f"{'ROC AUC':<17}{'routed':>8}{'every':>8}{'lost':>8}")
        for category, entry in cost["roc_auc"].items():
            routed_auc, every_auc = entry["routed"], entry["every"]
            lost = None if routed_auc is None or every_auc is None else every_auc - routed_auc
            print(f"{category:<17}{fmt(routed_auc)}{fmt(every_auc)}{fmt(lost)}")
        suite_lost = cost["suite"]["every"] - cost["suite"]["routed"]
        print(
            f"functional suite accuracy: routed {cost['suite']['routed']:.4f}, every comment "
            f"{cost['suite']['every']:.4f}, lost {suite_lost:.4f}"
        )

    padded = abuse_in_long_comments(cascade, rows) if cascade is not None else None
    if padded is not None:
        print(
            f"\n== Abuse inside a long comment: {padded['pairs']} short abusive hold-out comments the cascade flags "
            f"alone ({ABUSE_CHARS[0]}-{ABUSE_CHARS[1]} characters), each after a harmless hold-out comment of "
            f"{PAD_CHARS[0]}-{PAD_CHARS[1]} that it approves alone; flagged under the default policy"
        )
        print(
            f"still flagged: {padded['flagged_with_lone_sentences']:.1%} with the model's lone sentences "
            f"({padded['held_by_a_sentence_only']:.1%} held by a sentence alone), "
            f"{padded['flagged_without_lone_sentences']:.1%} without them"
        )

    print("\nmeasuring speed and memory", file=sys.stderr, flush=True)
    texts = [e.text for e in dataset.examples]
    stream = real_texts(args.data, STREAM_ROWS, STREAM_ABUSIVE_SHARE)
    stage2_p50 = stage2_p99 = cascade_p50 = cascade_p99 = None
    stream_p50 = stream_p99 = routed_share = None
    occluded: list[str] = []
    explained_p50 = explained_p99 = unexplained_p50 = unexplained_p99 = None
    with threadpool_limits(limits=1):  # and stage 2's ONNX Runtime session runs on one thread (runtime._session)
        samples = comment_of_length(texts, 400, 2000)
        ours_p50, ours_p99 = latency_ms(stage1.score, samples)
        peer_p50, peer_p99 = latency_ms(lambda t: peer([t]), samples[:500])
        if cascade is not None and cascade.stage2 is not None:
            stage2_p50, stage2_p99 = latency_ms(cascade.stage2.probabilities, samples[:1000])
            cascade_p50, cascade_p99 = latency_ms(cascade.score, samples[:1000])
            if stream:
                # The routing share of a site-like stream, as scorer.score routes it (the model's own settings),
                # and the cascade's latency on those real comments of every length.
                stages: list[int | None] = []
                stream_times = timings_ms(lambda t: stages.append(cascade.score(t).stage), stream)
                routed_share = sum(stage == 2 for stage in stages[-len(stream) :]) / len(stream)  # not the warm-up
                stream_p50, stream_p99 = percentiles(stream_times)
            # Spans for stage-2 decisions (model/occlusion.py): 400-character abusive comments whose answer shows
            # stage-2 spans, timed with their spans and without; the difference is mostly the occlusion.
            abusive = [e.text for e in dataset.examples if any(e.labels.values())]
            candidates = comment_of_length(abusive, 400, OCCLUSION_CANDIDATES)
            occluded = [t for t in candidates if any(s.stage == 2 for s in cascade.score(t).spans)]
            if occluded:
                explained_p50, explained_p99 = latency_ms(cascade.score, occluded)
                unexplained_p50, unexplained_p99 = latency_ms(lambda t: cascade.score(t, explain=False), occluded)
        # Steady state, as a long batch run sees it: both first score 2,000 other comments (from the far end of
        # the pool, so no text is shared), which fills our per-word cache with common words, not these texts.
        warm_up = comment_of_length(texts[::-1], 400, 2000)
        stage1.score_many(warm_up)
        peer(warm_up)
        ours_rates, peer_rates = batch_rates(stage1.score_many, peer, texts)
        ours_rate, peer_rate = statistics.median(ours_rates), statistics.median(peer_rates)
    with tempfile.TemporaryDirectory() as folder:
        stage1_path = model_path
        if cascade is not None:
            # Stage 1 alone, as a file of its own: the linear model under its own thresholds, as make model writes it.
            stage1_path = Path(folder) / "stage1.model"
            artifact.save(stage1.model, stage1_manifest(scorer), stage1_path)
        ours_mb, ours_total_mb = loaded_model_mb(stage1_path)
    worker_mb, worker_total_mb = loaded_model_mb(model_path) if cascade else (ours_mb, ours_total_mb)
    peer_mb, peer_total_mb = resident_mb("from profanity_check import predict_prob\npredict_prob(['warm up'])")
    file_mb = model_path.stat().st_size / 2**20

    print("\n== Speed and memory (one core, 400-character comments)")
    print(f"{'':<38}{'stage 1':>10}{'cascade':>10}{'stage 2':>10}{'peer':>10}")
    print(
        f"{'single comment p50 (ms)':<38}{fmt(ours_p50, 3, 10)}{fmt(cascade_p50, 3, 10)}"
        f"{fmt(stage2_p50, 3, 10)}{fmt(peer_p50, 3, 10)}"
    )
    print(
        f"{'single comment p99 (ms)':<38}{fmt(ours_p99, 3, 10)}{fmt(cascade_p99, 3, 10)}"
        f"{fmt(stage2_p99, 3, 10)}{fmt(peer_p99, 3, 10)}"
    )
    print(
        f"{'batch throughput (comments/s)':<38}{ours_rate:>10.0f}{NA:>10}{NA:>10}{peer_rate:>10.0f}"
        f"  (median of {BATCH_ROUNDS} batches of {BATCH_SIZE:,} new comments, after 2,000 others: "
        f"{', '.join(f'{r:.0f}' for r in ours_rates)} / {', '.join(f'{r:.0f}' for r in peer_rates)})"
    )
    print(
        f"{'resident memory of loaded model (MB)':<38}{ours_mb:>10.1f}{fmt(worker_mb if cascade else None, 1, 10)}"
        f"{NA:>10}{peer_mb:>10.1f}"
    )
    print(
        f"{'  whole process with it (MB)':<38}{ours_total_mb:>10.1f}"
        f"{fmt(worker_total_mb if cascade else None, 1, 10)}{NA:>10}{peer_total_mb:>10.1f}"
    )
    print(
        f"{'model file (MB)':<38}{fmt(None if cascade else file_mb, 1, 10)}{fmt(file_mb if cascade else None, 1, 10)}"
    )
    if cascade is not None:
        stream_note = "no stream: the data lacks its corpora"
        if routed_share is not None:
            stream_note = f"{routed_share:.1%} routed to stage 2; cascade score() p50 {fmt(stream_p50, 3, 0)} ms, "
            stream_note += f"p99 {fmt(stream_p99, 3, 0)} ms"
        print(f"site-like stream ({len(stream)} real comments, {STREAM_ABUSIVE_SHARE:.0%} abusive): {stream_note}")
        occlusion_note = "none of them"
        if occluded:
            occlusion_note = (
                f"{len(occluded)}: score() with spans p50 {fmt(explained_p50, 3, 0)} ms, "
                f"p99 {fmt(explained_p99, 3, 0)} ms; without spans p50 {fmt(unexplained_p50, 3, 0)} ms, "
                f"p99 {fmt(unexplained_p99, 3, 0)} ms"
            )
        print(
            f"stage-2 spans (occlusion) on 400-character abusive comments ({OCCLUSION_CANDIDATES} tried), those "
            f"explained by stage 2: {occlusion_note}"
        )

    jigsaw = report["holdout"]["ours"]["by_corpus"].get("jigsaw_toxic_2018", {}).get("toxicity", {}).get("roc_auc")
    spam = min(spam_aucs) if spam_aucs else None
    beats = []
    for corpus, categories in report["holdout"]["ours"]["by_corpus"].items():
        entry = categories.get("toxicity")
        theirs = report["holdout"]["peer"].get(corpus, {}).get("toxicity", {}).get("roc_auc")
        if entry and entry["roc_auc"] is not None and theirs is not None:
            beats.append((corpus, entry["roc_auc"], theirs))
    outcomes: list[str] = []

    def judge(measured: float | None, target: float, higher_is_better: bool = True) -> str:
        outcome = verdict(measured, target, higher_is_better)
        outcomes.append(outcome)
        return outcome

    def line(label: str, measured: float | None, target: float, higher_is_better: bool = True, digits: int = 4) -> None:
        shown = NA if measured is None else f"{measured:.{digits}f}"
        print(f"{label:<54}{shown:>10}  {judge(measured, target, higher_is_better)}")

    def split_auc(corpus: str) -> float | None:
        entry = splits.get(corpus)
        return None if entry is None else entry[shipped]  # type: ignore[no-any-return]

    # Spans against the Civil Comments toxic-span annotations, on the task's test posts both stages held out.
    span_params = TrainParams.from_dict(manifest["params"])

    def held_out(posts: Sequence[AnnotatedPost]) -> list[AnnotatedPost]:
        return [p for p in posts if split_bucket(normalize_text(p.text), span_params.seed) < span_params.test_share]

    def stage1_spans(text: str) -> list[Span]:
        return stage1.score(text).spans

    def cascade_spans(text: str) -> list[Span]:
        assert cascade is not None
        return cascade.score(text).spans

    held_posts = held_out(load_test_posts(args.data))
    stage1_span_f1 = mean_span_f1(held_posts, stage1_spans)
    # The cascade's spans as it answers them (stage 2's where it decided, model/occlusion.py), and as they were
    # before stage 2 had spans of its own: stage 1's linear evidence for every category flagged by the final scores.
    cascade_span_f1 = mean_span_f1(held_posts, cascade_spans) if cascade else None
    linear_span_f1 = mean_span_f1(held_posts, lambda text: linear_spans(cascade, text)) if cascade else None
    print(
        f"\n== Span F1 (SemEval-2021 toxic spans, {len(held_posts)} held-out test posts): stage 1 alone "
        f"{fmt(stage1_span_f1)}, cascade {fmt(cascade_span_f1)} (with stage 1's spans only {fmt(linear_span_f1)})"
    )
    # The held-out posts of the task's train and trial files: where occlusion's settings were chosen.
    dev_posts = held_out(load_dev_posts(args.data))
    dev_stage1_f1 = mean_span_f1(dev_posts, stage1_spans)
    dev_cascade_f1 = mean_span_f1(dev_posts, cascade_spans) if cascade else None
    print(
        f"   development posts ({len(dev_posts)} held out of the train and trial files, where occlusion's "
        f"settings were chosen): stage 1 alone {fmt(dev_stage1_f1)}, cascade {fmt(dev_cascade_f1)}"
    )

    print(f"\n== Targets (quality, suite and fairness judged on the {'cascade' if cascade else 'stage-1 model'})")
    for corpus, ours_auc, theirs in beats:
        print(f"{f'toxicity AUC >= peer on {corpus}':<54}{ours_auc:>10.4f}  vs {theirs:.4f}  {judge(ours_auc, theirs)}")
    line(f"toxicity AUC >= {TARGETS['jigsaw_auc']} on Jigsaw hold-out rows", jigsaw, TARGETS["jigsaw_auc"])
    line(
        f"toxicity AUC >= {TARGETS['impermium_test_auc']} on Impermium test rows",
        split_auc(IMPERMIUM_CORPUS),
        TARGETS["impermium_test_auc"],
    )
    line(f"toxicity AUC >= {TARGETS['cad_test_auc']} on CAD test rows", split_auc(CAD_CORPUS), TARGETS["cad_test_auc"])
    line(
        f"spam AUC >= {TARGETS['youtube_cross_video_spam_auc']} cross-video (worst video)",
        spam,
        TARGETS["youtube_cross_video_spam_auc"],
    )
    line(
        f"functional suite accuracy >= {TARGETS['suite_overall_accuracy']} overall",
        shipped_suite["overall"]["accuracy"],
        TARGETS["suite_overall_accuracy"],
    )
    for name, entry in shipped_suite["behaviours"].items():
        line(
            f"functional suite >= {TARGETS['suite_behaviour_accuracy']} on {name}",
            entry["accuracy"],
            TARGETS["suite_behaviour_accuracy"],
        )
    for group, ratio in fairness_ratios.items():
        line(
            f"non-toxic FPR of {group} <= {TARGETS['fairness_fpr_ratio']} x overall (ratio)",
            ratio,
            TARGETS["fairness_fpr_ratio"],
            higher_is_better=False,
            digits=3,
        )
    line(
        "non-toxic templates reaching review = 0",
        template_counts[shipped],
        0,
        higher_is_better=False,
        digits=0,
    )
    line("span F1 of the cascade >= stage 1 alone's", cascade_span_f1, stage1_span_f1 or 0.0)
    line("span F1 of the cascade >= with stage 1's spans only", cascade_span_f1, linear_span_f1 or 0.0)
    line(f"stage 1 p50 <= {TARGETS['p50_ms']} ms", ours_p50, TARGETS["p50_ms"], higher_is_better=False, digits=3)
    line(
        f"stage 1 >= {TARGETS['throughput_per_core']:.0f} comments/s per core",
        ours_rate,
        TARGETS["throughput_per_core"],
        digits=0,
    )
    line(f"stage 1 loaded model <= {TARGETS['memory_mb']:.0f} MB", ours_mb, TARGETS["memory_mb"], False, 1)
    line(f"stage 2 alone p50 <= {TARGETS['stage2_p50_ms']:.0f} ms", stage2_p50, TARGETS["stage2_p50_ms"], False, 3)
    line(f"stage 2 alone p99 <= {TARGETS['stage2_p99_ms']:.0f} ms", stage2_p99, TARGETS["stage2_p99_ms"], False, 3)
    line(
        f"share of a site-like stream routed to stage 2 <= {TARGETS['routed_share']:.0%}",
        routed_share,
        TARGETS["routed_share"],
        higher_is_better=False,
    )
    line(
        f"worker with the model loaded <= {TARGETS['worker_memory_mb']:.0f} MB (whole process)",
        worker_total_mb,
        TARGETS["worker_memory_mb"],
        higher_is_better=False,
        digits=1,
    )
    line(f"model file <= {TARGETS['model_file_mb']:.0f} MB", file_mb, TARGETS["model_file_mb"], False, 1)
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "host": host,
                    "report": report,
                    "abuse_in_long_comments": padded,
                    "test_splits": splits,
                    "fairness_policy": fairness_rates,
                    "fairness_ratios": fairness_ratios,
                    "templates": {"stage1": stage1_templates, "shipped": shipped_templates},
                    "p50_ms": ours_p50,
                    "p99_ms": ours_p99,
                    "throughput": ours_rate,
                    "throughput_rounds": {"stage1": ours_rates, "peer": peer_rates},
                    "memory_mb": ours_mb,
                    "stage2_p50_ms": stage2_p50,
                    "stage2_p99_ms": stage2_p99,
                    "cascade_p50_ms": cascade_p50,
                    "cascade_p99_ms": cascade_p99,
                    "span_f1": {
                        "stage1": stage1_span_f1,
                        "cascade": cascade_span_f1,
                        "cascade_linear": linear_span_f1,
                        "development": {"posts": len(dev_posts), "stage1": dev_stage1_f1, "cascade": dev_cascade_f1},
                    },
                    "stage2_spans": {
                        "comments": len(occluded),
                        "with_spans_p50_ms": explained_p50,
                        "with_spans_p99_ms": explained_p99,
                        "without_spans_p50_ms": unexplained_p50,
                        "without_spans_p99_ms": unexplained_p99,
                    },
                    "stream": {
                        "rows": len(stream),
                        "routed_share": routed_share,
                        "p50_ms": stream_p50,
                        "p99_ms": stream_p99,
                    },
                    "worker_memory_mb": worker_total_mb,
                    "model_file_mb": file_mb,
                    "suite": suites,
                    "routing_cost": cost,
                },
                indent=2,
                default=float,
            )
        )
    # Like `make bench`'s service half: a missed target fails the run (n/a, a target that could not be measured
    # here, does not).
    return 1 if any(outcome.startswith("MISS") for outcome in outcomes) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
