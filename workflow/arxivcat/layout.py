"""Where the workflow writes each output: the one statement of the results layout.

Each constant is a path pattern relative to the working directory, with Snakemake wildcards in
braces (``{experiment}``, ``{split}``, ``{corpus}``).  The rule that writes a file names it here
(``output: metrics=layout.EVAL_METRICS``); rules downstream take it from that rule
(``rules.evaluate.output.metrics``), so a path is written once and every consumer names its
producer.  The CLI's ``summary`` and the tests read the same patterns instead of rebuilding the
layout.  Stage modules never import this: their paths come from the rule (``snakemake.input``,
``output``, ``log``), or from the CLI's arguments.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Every output lies under this folder of the working directory.
RESULTS = "results"

# Download stage: the corpus, the weak negatives, and what they came from.
SYNTHETIC_SNAPSHOT = "results/data/synthetic_snapshot.jsonl"
CORPUS = "results/data/arxiv.parquet"
CORPUS_DIGEST = "results/data/arxiv.sha256"
CORPUS_MANIFEST = "results/data/arxiv.manifest.json"
OAI_HARVEST = "results/data/oai_harvest.parquet"
OAI_HARVEST_MANIFEST = "results/data/oai_harvest.manifest.json"
WEAK_NEGATIVES = "results/data/weak_negatives.parquet"
WEAK_NEGATIVES_DIGEST = "results/data/weak_negatives.sha256"
WEAK_NEGATIVES_MANIFEST = "results/data/weak_negatives.manifest.json"
#: Downloaded files, kept between runs (outside any rule's output).
DOWNLOADS = "results/downloads"
#: OAI-PMH pages and resumption tokens, so that a crashed harvest continues.
OAI_PAGES = "results/downloads/oai"

# Splits stage: one assignment per split definition, labelled tables per experiment.
ASSIGNMENT = "results/splits/{split}/assignment.parquet"
TRAIN_TABLE = "results/{experiment}/data/train.parquet"
VALIDATION_TABLE = "results/{experiment}/data/validation.parquet"
TEST_TABLE = "results/{experiment}/data/test.parquet"
#: The split definition's newest papers, held out of the other three (empty without a holdout).
HELDOUT_TABLE = "results/{experiment}/data/heldout.parquet"
SPLIT_REPORT = "results/{experiment}/data/split_report.json"

# Model stages: tokens, the trained model, its evaluation and the TF-IDF baseline.
TOKENIZED = "results/{experiment}/tokenized"
MODEL = "results/{experiment}/model"
#: Training checkpoints, outside the model (which Snakemake deletes before a job starts).
TRAIN_CHECKPOINTS = "results/checkpoints/{experiment}"
EVAL_METRICS = "results/{experiment}/eval/metrics.json"
EVAL_PREDICTIONS = "results/{experiment}/eval/predictions.parquet"
BASELINE_METRICS = "results/{experiment}/baseline/metrics.json"
#: Each paper's baseline probability, in the evaluate stage's format (the card pairs them).
BASELINE_PREDICTIONS = "results/{experiment}/baseline/predictions.parquet"

# Probe stages: a split definition's embedding by one base encoder (``{encoder}`` is
# :func:`encoder_key` of the model and max_length), shared by every experiment on the split with
# that encoder, and each experiment's logistic regression on it.
EMBEDDINGS = "results/embeddings/{split}/{encoder}/embeddings.parquet"
EMBEDDINGS_MANIFEST = "results/embeddings/{split}/{encoder}/embeddings.json"
#: Finished chunks of an embed job, outside its output, so that a killed job resumes.
EMBED_CHUNKS = "results/checkpoints/embed/{split}/{encoder}"
# The weak-negative pool's embedding by one base encoder, shared by every split definition.
WEAK_NEGATIVE_EMBEDDINGS = "results/embeddings/weak_negatives/{encoder}.parquet"
WEAK_NEGATIVE_EMBEDDINGS_MANIFEST = "results/embeddings/weak_negatives/{encoder}.json"
WEAK_NEGATIVE_EMBED_CHUNKS = "results/checkpoints/embed_weak_negatives/{encoder}"
PROBE_METRICS = "results/{experiment}/probe/metrics.json"
PROBE_PREDICTIONS = "results/{experiment}/probe/predictions.parquet"

# Card stage: the threshold, the card and its plots, the Hub-ready model folder.
THRESHOLD = "results/{experiment}/threshold.json"
CARD = "results/{experiment}/card.md"
CARD_PR_CURVE = "results/{experiment}/card_pr_curve.png"
CARD_LOSS = "results/{experiment}/card_loss.png"
CARD_YEARS = "results/{experiment}/card_years.png"
CARD_CALIBRATION = "results/{experiment}/card_calibration.png"
#: The Hub-ready model folder, which the card's "How to use" snippet also names.
HUB_FOLDER = "results/{experiment}/hub"
#: The card of one head of a multi-head experiment, and its precision-recall curves.
HEAD_CARD = "results/{experiment}/heads/{head}/card.md"
HEAD_CARD_PR_CURVE = "results/{experiment}/heads/{head}/card_pr_curve.png"
HEAD_CARD_YEARS = "results/{experiment}/heads/{head}/card_years.png"
HEAD_CARD_CALIBRATION = "results/{experiment}/heads/{head}/card_calibration.png"

# Summary stage: one row per experiment.
SUMMARY = "results/summary.md"
SUMMARY_CSV = "results/summary.csv"
SUMMARY_PLOT = "results/summary.png"

# Predict stage: each experiment's scores on each corpus, and the joined table per corpus.
PREDICTIONS = "results/predictions/{corpus}/{experiment}.parquet"
PREDICTIONS_MANIFEST = "results/predictions/{corpus}/{experiment}.json"
JOINED_PREDICTIONS = "results/predictions/{corpus}.parquet"
#: Finished chunks of a predict job, outside its output, so that a killed job resumes.
PREDICT_CHUNKS = "results/checkpoints/predict/{corpus}/{experiment}"


def encoder_key(model: str, max_length: int) -> str:
    """The ``{encoder}`` of an embedding's paths: the model reference and token budget as a name.

    ``sentence-transformers/allenai-specter`` at 512 tokens is
    ``sentence-transformers--allenai-specter_512``: ``/`` becomes ``--`` (as in the Hugging Face
    cache), any other run of characters outside letters, digits, ``.``, ``_`` and ``-`` one
    ``-``.  Two references can share a name (``a/b`` and ``a--b``): the workflow refuses such a
    config rather than mix their embeddings.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", model.replace("/", "--")).strip(".-") or "model"
    return f"{name}_{max_length}"


def log(rule: str, *wildcards: str) -> str:
    """The log of a job of ``rule``: ``results/logs/<rule>.log``, or one per job in a folder.

    Args:
        rule: The rule's name.
        wildcards: The job's wildcards as patterns (``"{experiment}"``) or values (``"cv-32"``),
            each a level of ``results/logs/<rule>/.../<last>.log``.
    """
    return "/".join((RESULTS, "logs", rule, *wildcards)) + ".log"


def benchmark(rule: str, *wildcards: str) -> str:
    """The benchmark of a job of ``rule``: as its :func:`log`, a ``.tsv`` under benchmarks."""
    return "/".join((RESULTS, "benchmarks", rule, *wildcards)) + ".tsv"


def under(results_dir: str | Path, pattern: str, **wildcards: str) -> Path:
    """``pattern`` filled with ``wildcards``, in ``results_dir`` instead of ``results/``.

    For reading a results folder that lies elsewhere (``arxivcat summary --results DIR``).
    """
    return Path(results_dir, Path(pattern.format(**wildcards)).relative_to(RESULTS))
