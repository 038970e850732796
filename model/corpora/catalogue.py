"""The catalogue of known corpora: what each is, where it comes from, its licence and label mapping."""

from __future__ import annotations

from model.corpora.records import CorpusInfo

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
            '`" "` around and after the text) are removed and spaces collapsed; the lowercased, tokenised '
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
