"""Write MODEL_CARD.md from a model's manifest and evaluation: data, licences, mappings, metrics, limits."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from model.cascade import LONE_SENTENCE_MAX_CHARS, LONE_SENTENCE_MIN_CHARS
from model.categories import CATEGORIES, REPORTED_ONLY_BY_DEFAULT
from model.compare import FINAL_SCORES, judge
from model.corpora import CORPORA
from model.fairness import IDENTITY_GROUPS
from model.identity_balance import INFO
from model.suite.cases import BEHAVIOURS
from model.suite.cases import GROUPS as SUITE_GROUPS
from model.suite.evaluate import NO_GROUP

# all-MiniLM-L6-v2's feed-forward width, which a stage 2 trained with `--ffn-units` cuts.
ENCODER_FFN_UNITS = 1536

KNOWN_LIMITS = """\
- **Base rates.** Every corpus over-samples abuse (often 10-40 % positive); real comment sections see roughly
  2-10 %. Precision at a threshold is therefore lower on live traffic than in these tables. Tune thresholds by
  target precision on your own moderators' verdicts (the admin preview shows it) rather than trusting these.
- **Calibration** is Platt scaling on a calibration split of the same mixed corpora, so probabilities are
  calibrated to that mix, not to your site.
- **Language.** Trained on English only. Other languages get unreliable scores; the policy sends comments in
  unknown languages to review and never auto-rejects them.
- **Bag of words.** The model sees words, word pairs and character fragments, not meaning: sarcasm, quoted
  abuse ("he called me an idiot"), reclaimed slurs and threats phrased without violent words are missed or
  over-flagged. Explanations show which words drove a score; they are not proof of intent.
- **Spam** is learnt from one source (YouTube comments on four music videos): link-and-channel promotion. Other
  spam (SEO text, crypto scams in news comments) is weakly covered; the policy's link rule helps.
- **Long comments.** Stage 1 scores a comment as a whole, so a line of abuse inside a long harmless comment is
  thinned out and, without a routing word, may be cleared by stage 1; stage 2 reads a routed comment in passages
  of its window (see the routing above) and averages over each, so a short line in a passage of quoted news can
  still be read as harmless (a threat at a named minister after one paragraph of news was approved). Where the
  model reads lone sentences (see the routing above), such a line is read on its own too, and holds the comment
  for review when it alone reaches a reject threshold; a line that alone only reaches review is still missed,
  and a comment that quotes hate in one sentence to oppose it in the next is held for a person.
- **Severe toxicity, threat, identity attack** have few positives; their thresholds rest on small counts.
- **Identity terms.** The fairness section below measures false-positive rates for comments that mention
  identity groups; the template check is a floor, not a proof of fairness.
- **Stretched letters** are read against the model's own vocabulary when scoring: a run of three or more
  becomes one letter or two, the more common spelling the model knows, with a doubled consonant favoured
  (`stuuuupid` → `stupid`, `killlll` → `kill`, `assss` → `ass`); a word known in neither spelling keeps one
  letter. Training and the metrics above normalize without the vocabulary (one letter always); stretched words
  are rare in the corpora.
- **Misspelt abusive words** are read as the word when scoring: a word of five letters or more that the model
  does not know, one swapped pair or one dropped letter away from one of the 3,000 words it weighs most as abuse
  (first letter kept), is read as that word (`vremin` → `vermin`, `sltus` → `sluts`); shorter words are left alone
  (too many names and acronyms sit one edit from a slur), and so are words the model knows. On ordinary comments it
  fires on about one in a hundred, mostly a typo read as the word meant (`ridiculus`, `fcuker`). Training and the
  metrics above normalize without it.
- **Phonetic spellings.** Normalization decodes disguises letter by letter (`st00pid` → `stoopid`), but a
  spelling that sounds like an insult (`stoopid`, `phuck`, `azz`) is only as toxic as the corpora taught it:
  such words occur rarely there, so they score well below the plain word.
"""


PEER_NOTE = """\
- **The peer's home advantage.** alt-profanity-check was trained on the Davidson tweets and on the full Jigsaw
  2018 training set, which contains the Jigsaw rows used here; on those two corpora it is scored on its own
  training data, so its numbers there are optimistic. On corpora it never saw (HateXplain, OLID, Civil Comments,
  Wikipedia talk, Impermium, YouTube) the comparison is fair.
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _category_table(metrics: dict[str, Any]) -> list[str]:
    lines = [
        "| category | rows | positives | ROC AUC | avg precision | review thr | P / R at review | reject thr "
        "| P / R at reject |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for category, entry in metrics["categories"].items():
        review, reject = entry["review"], entry["reject"]
        lines.append(
            f"| {category} | {entry['n']} | {entry['positives']} | {_fmt(entry['roc_auc'])} | "
            f"{_fmt(entry['average_precision'])} | {_fmt(review['threshold'])} | "
            f"{_fmt(review['precision'])} / {_fmt(review['recall'])} | {_fmt(reject['threshold'])} | "
            f"{_fmt(reject['precision'])} / {_fmt(reject['recall'])} |"
        )
    return lines


def _versus_rows(section: dict[str, Any], prefix: str = "") -> list[str]:
    """Table rows comparing our ranking metrics with the peer's, per corpus and category."""
    lines = []
    ours = section["ours"]["by_corpus"]
    peer = section.get("peer", {})
    for corpus in sorted(ours):
        for category in CATEGORIES:
            entry = ours[corpus].get(category)
            if entry is None:
                continue
            theirs = peer.get(corpus, {}).get(category, {})
            lines.append(
                f"| {prefix}{corpus} | {category} | {entry['n']} | {entry['positives']} | {_fmt(entry['roc_auc'])} | "
                f"{_fmt(theirs.get('roc_auc'))} | {_fmt(entry['average_precision'])} | "
                f"{_fmt(theirs.get('average_precision'))} |"
            )
    return lines


VERSUS_HEADER = [
    "| corpus | category | rows | positives | ours ROC AUC | peer ROC AUC | ours AP | peer AP |",
    "|---|---|---|---|---|---|---|---|",
]


def _evaluated_only(manifest: dict[str, Any]) -> dict[str, int]:
    """Corpora the evaluation measured but training never saw, with their hold-out row counts."""
    trained = {corpus["name"] for corpus in manifest["corpora"]}
    by_corpus = (manifest.get("evaluation") or {}).get("holdout", {}).get("ours", {}).get("by_corpus", {})
    return {
        name: max(entry["n"] for entry in categories.values())
        for name, categories in sorted(by_corpus.items())
        if name not in trained and categories
    }


def render_model_card(manifest: dict[str, Any]) -> str:
    """The model card as Markdown."""
    out = [
        "# Model card: comment-moderation default model",
        "",
        f"- **Version:** `{manifest['version']}` (content SHA-256 `{manifest['content_sha256'][:16]}…`)",
        f"- **Created:** {manifest['created_at']}",
        "- **Libraries:** " + ", ".join(f"{k} {v}" for k, v in manifest["libraries"].items()),
        "- **Rows:** "
        + ", ".join(f"{part} {count:,}" for part, count in manifest["rows"].items())
        + f" after removing {manifest.get('duplicates_removed', 0)} duplicates "
        "(texts compared after normalization, across all corpora, before the split)",
        f"- **Training rows fingerprint:** `{manifest['training_rows_sha256'][:16]}…`",
        "- **Rebuild:** `make model` (reads `../shared/data`; deterministic for the recorded seed)",
        "",
        "## What it scores",
        "Seven calibrated probabilities in [0, 1]: " + ", ".join(f"`{c}`" for c in CATEGORIES) + ". "
        "Each category is learnt only from the corpora that label it: a corpus that does not label a category "
        "says nothing about it. Model: text normalization against evasion (look-alike letters, leetspeak, "
        "spaced and stretched letters, zero-width characters), TF-IDF of word 1-2 grams and character 2-5 grams "
        "within words, one naive-Bayes-scaled logistic regression per category, Platt calibration on a separate "
        "split, thresholds chosen from targets on that split.",
        "",
        "## Data, licences and attribution",
        "| corpus | rows | licence | shipped model trained on it | content SHA-256 |",
        "|---|---|---|---|---|",
    ]
    for corpus in manifest["corpora"]:
        out.append(
            f"| {corpus['name']} | {corpus['rows']} | {corpus['licence']} | "
            f"{'yes' if corpus['shippable'] else 'no'} | `{corpus['sha256'][:16]}…` |"
        )
    evaluated_only = _evaluated_only(manifest)
    for name, rows in evaluated_only.items():
        licence = CORPORA[name].licence if name in CORPORA else "unknown"
        out.append(f"| {name} | {rows} (evaluation only) | {licence} | no | – |")
    out += ["", "### Attribution and label mappings", ""]
    for name in [corpus["name"] for corpus in manifest["corpora"]] + list(evaluated_only):
        info = CORPORA.get(name) or (INFO if name == INFO.name else None)
        if info is None:
            continue
        out += [f"**{info.title}** ({info.name}). {info.attribution}", "", f"Mapping: {info.mapping}", ""]
    targets = manifest["params"]["targets"]
    out += [
        "## Thresholds",
        f"Chosen on the calibration split as Wikimedia's ORES does: **reject** at the maximum recall with "
        f"precision ≥ {targets['reject_precision']}; **review** at recall ≥ {targets['review_recall']}, except "
        f"where that cut would send mostly innocent comments to the queue: there review is at the maximum recall "
        f"with precision ≥ {targets.get('review_min_precision', 0.5)}, or at the cut with the best F1 where none "
        "reaches it (the hold-out table shows the recall that leaves). `–` means no threshold met the target, so "
        "the model never decides that alone.",
        "",
        "| category | review | reject |",
        "|---|---|---|",
    ]
    for category in CATEGORIES:
        limits = manifest["thresholds"].get(category, {})
        out.append(f"| {category} | {_fmt(limits.get('review'))} | {_fmt(limits.get('reject'))} |")
    advisory = ", ".join(f"`{category}`" for category in REPORTED_ONLY_BY_DEFAULT)
    out += [
        "",
        f"The service's default policy uses these thresholds except {advisory}'s: those scores are reported but "
        "decide nothing until a site sets them (swearing at no one is not abuse; abuse that swears is held through "
        "toxicity and insult). The values above are what a site wanting a profanity filter would set.",
    ]
    stage1_only = " (stage 1 alone, as trained)" if "stage2" in manifest else ""
    out += [
        "",
        f"## Metrics on the de-duplicated random hold-out{stage1_only} (test split, never used to fit or tune)",
        "",
    ]
    out += _category_table(manifest["metrics"]["holdout"])
    evaluation = manifest.get("evaluation")
    if evaluation:
        peer = evaluation["peer"]
        out += ["", f"### Per corpus, side by side with {peer} on the same rows", ""]
        out += VERSUS_HEADER + _versus_rows(evaluation["holdout"])
        if evaluation.get("cross_corpus"):
            out += [
                "",
                "## Cross-corpus: trained without a corpus (or YouTube video), tested on it",
                "",
                f"Peer: {peer}, scored on the same rows in the same run. Corpus column: held-out unit → corpus.",
                "",
                *VERSUS_HEADER,
            ]
            skipped = {
                unit: result["skipped"] for unit, result in evaluation["cross_corpus"].items() if "skipped" in result
            }
            for unit, result in evaluation["cross_corpus"].items():
                if unit not in skipped:
                    out += _versus_rows(result, prefix=f"{unit} → ")
            out += [f"\nNot measured without {unit}: {reason}." for unit, reason in skipped.items()]
        fairness = evaluation.get("fairness")
        if fairness:
            out += [
                "",
                "## Fairness to identity terms (toxicity, hold-out rows that mention a group)",
                "",
                f"Review threshold {_fmt(fairness['review_threshold'])}; false-positive rate over all non-toxic "
                f"rows {_fmt(fairness['overall_false_positive_rate'])}. Subgroup, BPSN and BNSP AUC after "
                "Jigsaw's unintended-bias metrics.",
                "",
                "| group | rows | toxic | subgroup AUC | BPSN AUC | BNSP AUC | FPR on non-toxic mentions |",
                "|---|---|---|---|---|---|---|",
            ]
            # The groups in the order the fairness check lists them (a stored manifest has its keys sorted).
            known = [group for group in IDENTITY_GROUPS if group in fairness["groups"]]
            for group in known + sorted(set(fairness["groups"]) - set(known)):
                entry = fairness["groups"][group]
                out.append(
                    f"| {group} | {entry['rows']} | {entry['toxic']} | {_fmt(entry['subgroup_auc'])} | "
                    f"{_fmt(entry['bpsn_auc'])} | {_fmt(entry['bnsp_auc'])} | {_fmt(entry['false_positive_rate'])} |"
                )
            templates = fairness["templates"]
            out += [
                "",
                f"Template check: {len(templates['flagged'])} of {templates['templates']} non-toxic identity "
                f"templates reach a review threshold (highest toxicity {_fmt(templates['max_toxicity'])}).",
            ]
    out += _stage2_section(manifest)
    out += _suite_section(manifest)
    out += _retraining_section(manifest)
    out += ["", "## Known limits", "", PEER_NOTE, KNOWN_LIMITS]
    if "stage2" in manifest:
        out += [STAGE2_LIMITS]
    return "\n".join(out)


STAGE2_LIMITS = """\
- **Stage 2 reads meaning, within limits.** It is a cut of a small sentence encoder fine-tuned on the
  shippable corpora and our own sentences. Counter-speech that quotes hate, negated hate, praise of a group
  ("Turks are the best people on earth." is held), harsh words about things, homonyms of slurs and swearing at
  no one are still often held for review (the functional suite above and in `make bench-model` measures them).
- **Slurs** are learnt from the corpora and from our own list (`SLURS` in `model/cascade.py`, which the cascade
  also routes on and repairs); a slur in neither (several for the Caucasus and Russians) is caught only when the
  sentence around it is hateful or stage 1's score routes it.
- **Stage 1 reads words only.** It trains on the corpora whose labels sit on words (not the implicit-hate
  corpora, which taught it to take group names for evidence), so a comment it clears without a routing word is
  judged on its words.
- **Routing is a trade.** Comments stage 1 clears are never read by stage 2: a threat or slur phrased without
  any word stage 1 knows, any routing word or a score near review is decided by stage 1 alone.
- **Spans** of a category stage 2 lifted over review are found by deleting words and reading again
  (occlusion, `model/occlusion.py`): evidence spread over the whole comment, which no single word or short
  window carries, shows no stage-2 span; past 16 words only each category's best window of 12 words is
  searched, by pairs of words first and then word by word inside the pairs that lowered the category (at most
  five), so a word whose pair barely moved it is not tried alone. A word counts only when deleting it lowers the
  category's log-odds by 1.5; where no
  word does (a category stage 2 lifts a little over review on a long comment), stage 1's words are shown.
- **Threats and severe toxicity** have few positives in the calibration split; where no reject threshold reaches
  the precision target they are never rejected alone, and their holds go to the top of the review queue.
"""


def _feed_forward(section: dict[str, Any]) -> str:
    """How much of each layer's feed-forward block stage 2 kept, when it did not keep all of it."""
    units = section.get("ffn_units")
    if not isinstance(units, int) or units >= ENCODER_FFN_UNITS:
        return ""
    return (
        f", each with the {units:,} of its {ENCODER_FFN_UNITS:,} feed-forward units whose weights are largest "
        "(pruned before fine-tuning)"
    )


def _weight_averaging(training: dict[str, Any]) -> str:
    """The weights' origin when the run exported a mean of snapshots (--average-from), else nothing."""
    averaging = training.get("weight_averaging")
    if not isinstance(averaging, dict):
        return ""
    return (
        f"; the weights are the mean of {averaging['snapshots']} snapshots taken every {averaging['every_steps']} "
        f"steps from step {averaging['from_step']:,} of {training.get('steps', '?'):,} (stochastic weight averaging)"
    )


def _stage2_section(manifest: dict[str, Any]) -> list[str]:
    """The cascade: the encoder, what stage 2 trained on, the routing rule, and both stages side by side."""
    section = manifest.get("stage2")
    if not isinstance(section, dict):
        return []
    training = section.get("training", {})
    routing = section.get("routing") or {}
    out = [
        "",
        "## Stage 2: the cascade",
        "",
        f"- **Encoder:** {section['encoder']}; the first {section['layers']} of its 6 layers{_feed_forward(section)}, "
        f"{section['max_length']} tokens, mean pooling and a linear head to the seven categories, fine-tuned end to "
        f"end (word embeddings frozen){_weight_averaging(training)}, Platt-calibrated per category; "
        f"{_quantization(section)}, "
        f"run by ONNX Runtime on one thread. Seed {section['seed']}; graph SHA-256 `{section['graph_sha256'][:16]}…`; "
        f"stage 1 version `{section.get('stage1_version')}`.",
        f"- **Routing:** stage 1 scores every comment; stage 2 reads it when a category's stage-1 score is above its "
        f"clear bound ({section['bounds_from']}) or it uses a word from the lists "
        + ", ".join(
            f"`{w}`"
            + (
                f" ({len(section['route_lexicons'][w]):,} words, sealed in the file)"
                if "route_lexicons" in section
                else ""
            )
            for w in section.get("route_words", [])
        )
        + ". Where stage 2 ran, the final scores of "
        + ", ".join(f"`{c}`" for c in section["stage2_categories"])
        + (
            " blend both stages' log-odds (a logistic regression per category, fitted on calibration rows stage 2 "
            "read: "
            + ", ".join(f"`{c}` {w[0]:g} × stage 1 + {w[1]:g} × stage 2" for c, w in section["blend"].items())
            + ")"
            if section.get("blend")
            else " are stage 2's"
        )
        + "; the others stay stage 1's."
        + (
            " A routed comment longer than stage 2's window is read in passages of at most "
            f"{section['max_length'] - 2} tokens, cut before a word: the first, and each of the next "
            f"{section['passages'] - 1} that stage 1 cannot clear by itself; stage 2's score is the highest over "
            "them (routing reads the whole comment)."
            if section.get("passages", 1) > 1
            else " Stage 2 reads the first window of a longer comment only."
        )
        + (
            f" In a routed comment of at least {LONE_SENTENCE_MIN_CHARS} characters that the thresholds do not "
            f"already flag, stage 2 also reads on its own each of up to {section['sentences']} sentences (of at most "
            f"{LONE_SENTENCE_MAX_CHARS} characters and a third of the comment) that stage 1 cannot clear by itself, "
            "those furthest over their clear bounds first; they change no score, but one whose own final score "
            "reaches a reject threshold (the policy's `sentence_holds` may say review, or off) holds the comment "
            "for review, never rejects it: out of its comment a sentence may be a quotation the comment opposes."
            if section.get("sentences")
            else ""
        ),
    ]
    adapter = section.get("adapter")
    if isinstance(adapter, dict):
        fit = adapter.get("fit") or {}
        fitted = fit.get("categories") or {}
        adapted = [c for c in CATEGORIES if (fitted.get(c) or {}).get("adapted")]
        out.append(
            f"- **Adapted from moderators' verdicts:** the graph is unchanged; a head adapter (a residual on the "
            f"calibrated logit from the {adapter.get('hidden')} pooled features) was fitted on {fit.get('rows')} "
            "verdict rows for " + (", ".join(f"`{c}`" for c in adapted) or "no category") + "."
        )
    if routing:
        out.append(
            f"- **Measured routing:** {_fmt(routing.get('routed_share'))} of {routing.get('stream_rows')} site-like "
            f"comments (8 % abusive, drawn from stage 1's calibration split) reach stage 2, "
            f"{_fmt(routing.get('routed_by_words_share'))} by their words alone; "
            f"{_fmt(routing.get('abusive_routed_share'))} of the abusive ones do. Of the "
            f"{routing.get('calibration_rows')} calibration rows (abuse over-represented), "
            f"{_fmt(routing.get('calibration_routed_share'))} reach it."
        )
    out += [
        "- **Thresholds** in the table above are chosen on the cascade's final scores of stage 1's calibration split "
        "(neither stage trained on it), with the same targets. Stage 1's own, which set the clear bounds:",
        "",
        "| category | stage-1 review | stage-1 reject |",
        "|---|---|---|",
    ]
    for category, limits in (section.get("stage1_thresholds") or {}).items():
        out.append(f"| {category} | {_fmt(limits.get('review'))} | {_fmt(limits.get('reject'))} |")
    unreachable = [c for c in ("threat", "severe_toxicity") if manifest["thresholds"].get(c, {}).get("reject") is None]
    if unreachable:
        out += [
            "",
            "No reject threshold reached the precision target for "
            + " and ".join(f"`{c}`" for c in unreachable)
            + " on the calibration split, so the model never rejects those alone; comments held on them are "
            "marked urgent and listed before every other item in the review queue.",
        ]
    out += [
        "",
        "### Stage 2's training corpora",
        "",
        "| corpus | rows | rows trained on | licence |",
        "|---|---|---|---|",
    ]
    for corpus in training.get("corpora", []):
        out.append(f"| {corpus['name']} | {corpus['rows']} | {corpus['rows_trained']} | {corpus['licence']} |")
    evaluation = manifest.get("evaluation") or {}
    if "stage1_holdout" in evaluation:
        out += [
            "",
            "### Both stages on the same hold-out rows (ROC AUC / average precision)",
            "",
            "| category | cascade AUC | stage 1 AUC | cascade AP | stage 1 AP |",
            "|---|---|---|---|---|",
        ]
        final = evaluation["holdout"]["ours"]["categories"]
        alone = evaluation["stage1_holdout"]["ours"]["categories"]
        for category in CATEGORIES:
            a, b = final.get(category, {}), alone.get(category, {})
            out.append(
                f"| {category} | {_fmt(a.get('roc_auc'))} | {_fmt(b.get('roc_auc'))} | "
                f"{_fmt(a.get('average_precision'))} | {_fmt(b.get('average_precision'))} |"
            )
    return out


def _suite_section(manifest: dict[str, Any]) -> list[str]:
    """The project's functional suite under the default policy, per behaviour and per group, when it was run."""
    suite = (manifest.get("evaluation") or {}).get("suite")
    if not isinstance(suite, dict):
        return []
    overall = suite["overall"]

    def percent(entry: dict[str, Any]) -> str:
        return "–" if entry.get("accuracy") is None else f"{entry['accuracy'] * 100:.1f} %"

    out = [
        "",
        "## Functional suite (our own cases, `model/suite/`)",
        "",
        f"Flagged means review or reject under the default policy (the thresholds above). Right on "
        f"{overall['correct']} of {overall['n']} cases ({percent(overall)}). No case trains anything.",
        "",
        "| behaviour | expects | cases | right |",
        "|---|---|---|---|",
    ]
    # In the suite's own order (a stored manifest has its keys sorted).
    behaviours, groups = suite["behaviours"], suite["groups"]
    for name in _in_order(behaviours, BEHAVIOURS):
        entry = behaviours[name]
        out.append(f"| {name} | {entry['expected']} | {entry['n']} | {percent(entry)} |")
    out += ["", "| group | cases | right |", "|---|---|---|"]
    for name in _in_order(groups, [*SUITE_GROUPS, NO_GROUP]):
        out.append(f"| {name} | {groups[name]['n']} | {percent(groups[name])} |")
    return out


def _in_order(names: Iterable[str], order: Iterable[str]) -> list[str]:
    """`names` in the order of `order`, any others after them, sorted."""
    known = [name for name in order if name in names]
    return known + sorted(set(names) - set(known))


def _retraining_section(manifest: dict[str, Any]) -> list[str]:
    """For a retrained version: what trained it, and how it compared with the active version on the same rows."""
    training, stored = manifest.get("training"), manifest.get("comparison")
    if not training or not stored:
        return []
    comparison = judge(stored)
    verdicts = training["verdicts"]
    how = (
        f"adapted from `{training['base_version']}` with the verdicts and imported files"
        if training["mode"] == "adapt"
        else "trained from the base corpora, the imported files and the verdicts"
    )
    out = [
        "",
        "## Retraining",
        "",
        f"- **Mode:** {training['mode']}: {how}; seed {training['seed']}.",
        f"- **Moderators' verdicts:** {verdicts['labels']} labels up to label id {verdicts['max_label_id']} "
        f"(ids SHA-256 `{verdicts['label_ids_sha256'][:16]}…`): {verdicts['train_comments']} comments trained it, "
        f"{verdicts['holdout_comments']} ({verdicts['holdout_share']:.0%} by comment id) were held out.",
        *(
            [
                f"- **Suggested scores** (Perspective's `comments:suggestscore`, e.g. Coral's moderators): "
                f"{suggested['rows']} up to id {suggested['max_id']}: {suggested['train']} trained it, "
                f"{suggested['holdout']} were held out."
            ]
            if (suggested := verdicts.get("suggested_scores"))
            else []
        ),
        "- **Imported files:** "
        + (", ".join(f"{d['name']} ({d['rows']} rows, `{d['sha256'][:12]}…`)" for d in training["datasets"]) or "none"),
        "",
        f"### Compared with the active version `{comparison['active_version']}` on the same {comparison['rows']} "
        "hold-out rows",
        "",
        f"A category is *worse* when this version's ROC AUC is more than {comparison['tolerance']} below the "
        f"active version's. It is measured only with at least {comparison['min_rows']} rows, "
        f"{comparison['min_positives']} of them positive and {comparison['min_negatives']} negative; otherwise it is "
        "not measurable. A version passes when at least one category was measured and none is worse."
        + (
            " Both versions are cascades: each is ranked by its final scores."
            if comparison.get("scores") == FINAL_SCORES
            else ""
        ),
        "",
        f"**Outcome: {comparison['outcome']}**: {comparison['summary']}."
        + ("" if comparison["passed"] else " Activating it needs force and a reason."),
        "",
        "| category | rows | positives | ROC AUC (this / active) | avg precision (this / active) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for category in CATEGORIES:
        entry = comparison["categories"].get(category)
        if not entry or not entry["n"]:
            continue
        this, active = entry["candidate"], entry["active"]
        out.append(
            f"| {category} | {entry['n']} | {entry['positives']} | {_fmt(this['roc_auc'])} / "
            f"{_fmt(active['roc_auc'])} | {_fmt(this['average_precision'])} / {_fmt(active['average_precision'])} "
            f"| {entry['verdict']} |"
        )
    return out


def write_model_card(manifest: dict[str, Any], path: Path) -> None:
    """Write the model card for a manifest to a file."""
    Path(path).write_text(render_model_card(manifest), encoding="utf-8")


def _quantization(section: dict[str, Any]) -> str:
    """How the card names the stage-2 graph's number format."""
    if not section["quantized"]:
        return "fp32"
    narrow = section.get("narrow_weights")
    if narrow:
        named = "int8 dynamic quantization, 7-bit weights with a scale per output column"
        if isinstance(narrow, dict) and narrow.get("from_graph_sha256"):
            named += f", requantized from the 8-bit graph `{str(narrow['from_graph_sha256'])[:16]}…` (Platt refitted)"
        return f"{named} (the same scores on every x86 CPU)"
    if section.get("unsigned_weights"):
        return "int8 dynamic quantization, its weights shifted to unsigned (the same scores on every x86 CPU)"
    return "int8 dynamic quantization"
