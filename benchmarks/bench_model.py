"""Benchmark the classifier side by side with alt-profanity-check: quality, latency, throughput, memory.

Run with `make bench-model` (needs ../shared/data). Every figure printed is measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from model.build import load_dataset
from model.categories import CATEGORIES
from model.evaluate import evaluate, load_peer, score_rows
from model.metrics import ranking_metrics
from model.scorer import Scorer, load_scorer
from model.suite.cases import functional_suite
from model.suite.evaluate import evaluate_suite, scores_function
from model.train import TrainParams, prepare
from moderation.cli_suite import default_policy_decision

TARGETS = {
    "jigsaw_auc": 0.97,
    "impermium_test_auc": 0.85,
    "youtube_cross_video_spam_auc": 0.97,
    "p50_ms": 1.0,
    "throughput_per_core": 3000.0,
    "memory_mb": 150.0,
    "suite_overall_accuracy": 0.90,
    "suite_behaviour_accuracy": 0.75,
}
# alt-profanity-check has one score and no policy: it flags a comment where its own predict() does, at p >= 0.5.
PEER_FLAGS_AT = 0.5


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


def latency_ms(function: Any, texts: list[str]) -> tuple[float, float]:
    """p50 and p99 of one call per text, in milliseconds."""
    for text in texts[:50]:
        function(text)
    timings = []
    for text in texts:
        start = time.perf_counter()
        function(text)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def throughput(function: Any, texts: list[str]) -> float:
    """Comments per second for one batch call over all texts."""
    start = time.perf_counter()
    function(texts)
    return len(texts) / (time.perf_counter() - start)


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


def verdict(measured: float | None, target: float, higher_is_better: bool = True) -> str:
    """PASS, or MISS with the gap."""
    if measured is None:
        return "n/a"
    ok = measured >= target if higher_is_better else measured <= target
    if ok:
        return "PASS"
    gap = target - measured if higher_is_better else measured - target
    return f"MISS by {gap:.3f}"


def suite_reports(scorer: Scorer, peer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The functional suite for our model under the default policy, and for the peer flagging at PEER_FLAGS_AT."""
    cases = functional_suite()
    ours = evaluate_suite(cases, scores_function(scorer), default_policy_decision(scorer.thresholds))

    def peer_action(_text: str, scores: Any) -> str:
        """Review what the peer scores at or above PEER_FLAGS_AT, approve the rest."""
        return "review" if scores["peer"] >= PEER_FLAGS_AT else "approve"

    theirs = evaluate_suite(cases, lambda texts: [{"peer": float(p)} for p in peer(texts)], peer_action)
    return ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--no-cross", action="store_true", help="skip the cross-corpus retraining")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    scorer: Scorer = load_scorer(args.model)
    peer_loaded = load_peer()
    if peer_loaded is None:
        sys.exit("alt-profanity-check is not installed (pip install -r requirements-dev.txt)")
    peer_name, peer = peer_loaded
    manifest = scorer.manifest
    print(f"model {scorer.version}; peer {peer_name}; data {args.data}")

    dataset = load_dataset([args.data])
    params = TrainParams.from_dict(manifest["params"])
    trained_corpora = {c["name"] for c in manifest["corpora"]}
    report = evaluate(
        scorer.model, scorer.thresholds, params, trained_corpora, dataset.examples, cross_corpus=not args.no_cross
    )

    print("\n== Quality: ROC AUC per corpus and category (hold-out rows; whole corpus when the model never saw it)")
    print(f"{'corpus':<28}{'category':<17}{'rows':>6}{'pos':>6}  {'ours':>7}  {'peer':>7}")
    holdout = report["holdout"]
    for corpus, categories in holdout["ours"]["by_corpus"].items():
        for category, entry in categories.items():
            theirs = holdout["peer"].get(corpus, {}).get(category, {}).get("roc_auc")
            print(
                f"{corpus:<28}{category:<17}{entry['n']:>6}{entry['positives']:>6}  "
                f"{entry['roc_auc'] or float('nan'):>7.4f}  {theirs or float('nan'):>7.4f}"
            )

    impermium = [e for e in dataset.examples if e.corpus == "impermium_insults" and e.group == "test"]
    impermium_auc: float | None = None
    if impermium:
        scored = score_rows(scorer.model, prepare(impermium), peer)
        column = CATEGORIES.index("toxicity")
        labels = scored.labels[:, column].astype(int)
        ours = ranking_metrics(scored.ours[:, column], labels)
        assert scored.peer is not None
        theirs = ranking_metrics(scored.peer, labels)
        impermium_auc = ours["roc_auc"]  # type: ignore[assignment]
        print(f"\nImpermium test rows ({ours['n']}): toxicity ROC AUC ours {ours['roc_auc']} peer {theirs['roc_auc']}")

    spam_aucs = []
    for unit, result in report.get("cross_corpus", {}).items():
        print(f"\n-- cross-corpus, trained without {unit}")
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

    texts = [e.text for e in dataset.examples]
    with threadpool_limits(limits=1):
        samples = comment_of_length(texts, 400, 2000)
        ours_p50, ours_p99 = latency_ms(scorer.score, samples)
        peer_p50, peer_p99 = latency_ms(lambda t: peer([t]), samples[:500])
        batch = comment_of_length(texts, 400, 5000)
        # Steady state, as a long batch run sees it: both first score 2,000 other comments (from the far end of
        # the pool, so no text is shared), which fills our per-word cache with common words, not these texts.
        warm_up = comment_of_length(texts[::-1], 400, 2000)
        scorer.score_many(warm_up)
        peer(warm_up)
        ours_rate = throughput(scorer.score_many, batch)
        peer_rate = throughput(peer, batch)
    model_path = str(args.model or "")
    ours_mb, ours_total_mb = resident_mb(
        f"from model.scorer import load_scorer\nscorer = load_scorer({model_path!r} or None)"
    )
    peer_mb, peer_total_mb = resident_mb("from profanity_check import predict_prob\npredict_prob(['warm up'])")

    suite_ours, suite_peer = suite_reports(scorer, peer)
    print(
        "\n== Functional suite (model/suite, written for this project): accuracy; ours flagged = review or reject "
        f"under the default policy, peer flagged at p >= {PEER_FLAGS_AT}"
    )
    print(f"{'behaviour':<24}{'expects':<8}{'cases':>6}  {'ours':>7}  {'peer':>7}  target >= 0.75 (ours)")
    behaviour_accuracy: dict[str, float | None] = {}
    for name, entry in suite_ours["behaviours"].items():
        theirs = suite_peer["behaviours"][name]["accuracy"]
        behaviour_accuracy[name] = entry["accuracy"]
        print(
            f"{name:<24}{entry['expected']:<8}{entry['n']:>6}  {entry['accuracy']:>7.4f}  {theirs:>7.4f}  "
            f"{verdict(entry['accuracy'], TARGETS['suite_behaviour_accuracy'])}"
        )
    suite_overall = suite_ours["overall"]["accuracy"]
    print(
        f"{'overall':<32}{suite_ours['overall']['n']:>6}  {suite_overall:>7.4f}  "
        f"{suite_peer['overall']['accuracy']:>7.4f}"
    )

    print("\n== Speed and memory (one core, 400-character comments)")
    print(f"{'':<34}{'ours':>12}{'peer':>12}")
    print(f"{'single comment p50 (ms)':<34}{ours_p50:>12.3f}{peer_p50:>12.3f}")
    print(f"{'single comment p99 (ms)':<34}{ours_p99:>12.3f}{peer_p99:>12.3f}")
    throughput_line = f"{'batch throughput (comments/s)':<34}{ours_rate:>12.0f}{peer_rate:>12.0f}"
    print(f"{throughput_line}  (5,000 comments, after 2,000 others)")
    print(f"{'resident memory of loaded model (MB)':<34}{ours_mb:>12.1f}{peer_mb:>12.1f}")
    print(f"{'  whole process with it (MB)':<34}{ours_total_mb:>12.1f}{peer_total_mb:>12.1f}")

    jigsaw = holdout["ours"]["by_corpus"].get("jigsaw_toxic_2018", {}).get("toxicity", {}).get("roc_auc")
    spam = min(spam_aucs) if spam_aucs else None
    beats = []
    for corpus, categories in holdout["ours"]["by_corpus"].items():
        entry = categories.get("toxicity")
        theirs = holdout["peer"].get(corpus, {}).get("toxicity", {}).get("roc_auc")
        if entry and entry["roc_auc"] is not None and theirs is not None:
            beats.append((corpus, entry["roc_auc"], theirs))
    outcomes: list[str] = []

    def judge(measured: float | None, target: float, higher_is_better: bool = True) -> str:
        outcome = verdict(measured, target, higher_is_better)
        outcomes.append(outcome)
        return outcome

    print("\n== Targets")
    for corpus, ours_auc, theirs in beats:
        print(f"toxicity AUC >= peer on {corpus:<26} {ours_auc:.4f} vs {theirs:.4f}  {judge(ours_auc, theirs)}")
    print(f"toxicity AUC >= 0.97 on Jigsaw hold-out rows      {jigsaw}  {judge(jigsaw, TARGETS['jigsaw_auc'])}")
    print(
        f"toxicity AUC >= 0.85 on Impermium test rows       {impermium_auc}  "
        f"{judge(impermium_auc, TARGETS['impermium_test_auc'])}"
    )
    print(
        f"spam AUC >= 0.97 cross-video (worst video)        {spam}  "
        f"{judge(spam, TARGETS['youtube_cross_video_spam_auc'])}"
    )
    print(
        f"p50 <= 1 ms                                       {ours_p50:.3f}  "
        f"{judge(ours_p50, TARGETS['p50_ms'], higher_is_better=False)}"
    )
    print(
        f">= 3000 comments/s per core                       {ours_rate:.0f}  "
        f"{judge(ours_rate, TARGETS['throughput_per_core'])}"
    )
    print(
        f"<= 150 MB loaded model                            {ours_mb:.1f}  "
        f"{judge(ours_mb, TARGETS['memory_mb'], higher_is_better=False)}"
    )
    print(
        f"functional suite accuracy >= 0.90 overall         {suite_overall}  "
        f"{judge(suite_overall, TARGETS['suite_overall_accuracy'])}"
    )
    for name, accuracy in behaviour_accuracy.items():
        print(
            f"functional suite >= 0.75 on {name:<22}{accuracy}  {judge(accuracy, TARGETS['suite_behaviour_accuracy'])}"
        )
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "report": report,
                    "p50_ms": ours_p50,
                    "p99_ms": ours_p99,
                    "throughput": ours_rate,
                    "memory_mb": ours_mb,
                    "suite": {"ours": suite_ours, "peer": suite_peer},
                },
                indent=2,
            )
        )
    # Like `make bench`'s service half: a missed target fails the run (n/a, a target that could not be measured
    # here, does not).
    return 1 if any(outcome.startswith("MISS") for outcome in outcomes) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
