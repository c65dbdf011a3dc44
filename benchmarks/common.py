"""The benchmarks' one helper: the real records of ../shared through the stages, and the baseline.

Benchmarks call the workflow's stage functions and read the records those write; this module
holds what more than one of them needs:

- experiment tables: the download stage's ``build_corpus`` on a local snapshot file,
  ``prepare_weak_negatives`` on the real OpenAlex API pages, ``assign_splits`` of a split
  definition of the shipped config, and ``build_experiment_data`` of each experiment;
- real papers (title, abstract) and their tokenized splits, through the tokenize stage, for the
  train and evaluate stages; the shipped training settings with a benchmark's overrides;
- the train stage's step record (``training_info.json``) without its warm-up steps;
- the plain baseline the stages are compared with: every row padded to the full length, fp32
  (no TF32), eager attention, plain AdamW, random batches: what a ``run_glue``-style loop does by
  default.  It is another code path, not a patch of a stage.
"""

from __future__ import annotations

import contextlib
import json
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from datasets import DatasetDict
from transformers import BertConfig, BertForSequenceClassification, DataCollatorWithPadding

from arxivcat.config import Experiment, get_experiment, load_yaml, schema_defaults, validate_config
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.model.loading import (
    ID2LABEL,
    LABEL2ID,
    NUM_LABELS,
    load_classifier,
    load_tokenizer,
    tiny_bert_config,
)
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.tokenize import tokenize_splits
from arxivcat.model.trainer_extensions import MODEL_COLUMNS
from arxivcat.negatives.prepare_weak_negatives import prepare_weak_negatives
from arxivcat.negatives.settings import WeakNegativeSettings
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.methods import SPLITS
from arxivcat.splits.settings import LabellingSettings, SplitSettings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
#: The 2,100 recent CS records (2012-2024).
CS_RECORDS = SHARED / "arxiv" / "snapshot-format-cs-2012-2024-from-api-dmarx-stars.jsonl"
#: The 20,000 real records first submitted 2010-2019 (rare categories at 1-3%).
REAL_20K = SHARED / "arxiv" / "snapshot-real-2010-2019-20k-staeiou.jsonl.gz"


@dataclass(frozen=True)
class ExperimentTables:
    """One experiment's labelled tables and split report, and the stage files they came from."""

    name: str
    experiment: Experiment
    tables: dict[str, Path]
    report: Path
    corpus: Path
    assignment: Path
    weak_negatives: Path


def shipped_config() -> dict:
    """The shipped default configuration, validated."""
    return validate_config(
        load_yaml(REPO / "config" / "config.yaml"), load_yaml(REPO / "config" / "schema.yaml")
    )


def labelling_of(experiment: Experiment) -> LabellingSettings:
    """An experiment's labelling settings, as the workflow's rule passes them."""
    return LabellingSettings.from_dict(experiment.labelling())


def require_shared(path: Path = REAL_20K) -> None:
    """Exit with a clear reason when the shared real data is absent."""
    if not path.exists():
        raise SystemExit(f"{path} is absent: this benchmark reads the shared real records")


def real_corpus(workdir: Path, snapshot: Path = REAL_20K) -> Path:
    """The corpus parquet of a real snapshot file, through the download stage."""
    corpus = workdir / "arxiv.parquet"
    settings = SnapshotSettings.from_dict({**schema_defaults("snapshot"), "source": str(snapshot)})
    build_corpus(settings, corpus, workdir / "arxiv.sha256", workdir / "arxiv.json", workdir)
    return corpus


def real_weak_negatives(workdir: Path, min_year: int = 2010) -> Path:
    """The weak negatives of the real OpenAlex API pages, through the prepare stage."""
    table = workdir / "weak_negatives.parquet"
    block = {
        **schema_defaults("weak_negatives"),
        "source": str(SHARED / "openalex" / "api"),
        "min_year": min_year,
    }
    prepare_weak_negatives(
        WeakNegativeSettings.from_dict(block), table, workdir / "weak.sha256", workdir
    )
    return table


def experiment_tables(
    workdir: Path, names: list[str], config: dict | None = None, split: str = "reference"
) -> list[ExperimentTables]:
    """Label ``names`` (experiments of ``config``, default the shipped one) on the real 20k records.

    Args:
        workdir: Where the corpus, assignment and tables are written.
        names: Experiments of the config.
        config: A validated configuration; the shipped one when None.
        split: The split definition to assign.
    """
    config = config or shipped_config()
    corpus = real_corpus(workdir)
    weak = real_weak_negatives(workdir)
    assignment = workdir / split / "assignment.parquet"
    assign_splits(corpus, SplitSettings.from_dict(config["splits"][split]), assignment, name=split)
    out = []
    for name in names:
        experiment = get_experiment(config, name)
        base = workdir / name
        tables = {s: base / f"{s}.parquet" for s in SPLITS}
        build_experiment_data(
            corpus_path=corpus,
            assignment_path=assignment,
            weak_negatives_path=weak if experiment.weak_negatives else None,
            output_paths=tables,
            report_path=base / "split_report.json",
            experiment=name,
            labelling=labelling_of(experiment),
        )
        report = base / "split_report.json"
        out.append(ExperimentTables(name, experiment, tables, report, corpus, assignment, weak))
    return out


# --------------------------------------------------------------------------- papers and stages


def real_papers(path: Path, seed: int) -> list[tuple[str, str]]:
    """Titles and abstracts (whitespace collapsed) of a JSON-lines arXiv file, shuffled."""
    if not path.is_file():
        raise SystemExit(f"{path} is absent: the benchmark reads real arXiv records there")
    papers = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            paper = json.loads(line)
        except ValueError as error:
            raise SystemExit(f"{path}:{number}: not JSON ({error})") from None
        title, abstract = paper.get("title") or "", paper.get("abstract") or ""
        if abstract.strip():
            papers.append((" ".join(title.split()), " ".join(abstract.split())))
    random.Random(seed).shuffle(papers)
    return papers


def tokenized_papers(
    splits: dict[str, list[tuple[str, str]]], tokenizer: str, max_length: int, output: Path
) -> DatasetDict:
    """Tokenize papers of each split with the tokenize stage into ``output`` (labels alternate).

    Args:
        splits: The papers of ``train``, ``validation`` and ``test``.
        tokenizer: The model reference whose tokenizer is used.
        max_length: Most tokens per paper.
        output: The stage's dataset directory (its tokenizer included).

    Returns:
        The tokenized splits.
    """
    with tempfile.TemporaryDirectory() as scratch:
        paths = {}
        for split, papers in splits.items():
            paths[split] = Path(scratch) / f"{split}.parquet"
            table = {
                "id": [f"{split}-{i}" for i in range(len(papers))],
                "title": [title for title, _ in papers],
                "abstract": [abstract for _, abstract in papers],
                "label": [i % 2 for i in range(len(papers))],  # throughput only: any labels do
                "is_weak_negative": [False] * len(papers),
            }
            pq.write_table(pa.table(table), paths[split])
        return tokenize_splits(paths, tokenizer, max_length, output)


def random_bert(
    directory: Path, seed: int, max_length: int = 512, tiny: bool = False
) -> BertForSequenceClassification:
    """Write a model folder of random BERT weights and the MiniLM tokenizer; return the model.

    BERT-base (``BertConfig()`` defaults: the size of SPECTER, the bert-base-uncased vocabulary
    of MiniLM's tokenizer), or the tests' tiny BERT.  The tokenizer records ``max_length``, the
    token budget the predict stage reads from a model folder.
    """
    tokenizer = load_tokenizer("builtin:minilm")
    vocab = len(tokenizer)
    config = tiny_bert_config(vocab) if tiny else BertConfig(vocab_size=vocab)
    config.num_labels, config.id2label, config.label2id = NUM_LABELS, ID2LABEL, LABEL2ID
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.save_pretrained(directory)
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(directory)
    return model


def training_settings(**overrides: Any) -> TrainingSettings:
    """The shipped training settings (the schema's defaults) with ``overrides``."""
    return TrainingSettings.from_dict({**schema_defaults("training"), **overrides})


def steady_steps(record: dict[str, Any], warmup: int) -> dict[str, float]:
    """The train stage's step record (``training_steps``) less its first ``warmup`` steps.

    Raises:
        SystemExit: If the record lists fewer first steps, or holds no step after them.
    """
    first = record["first_steps"][:warmup]
    if len(first) < warmup or record["steps"] <= warmup:
        raise SystemExit(f"the training ran {record['steps']} steps: none after {warmup} warm-up")
    keys = ("samples", "real_tokens", "padded_tokens", "seconds", "cpu_seconds")
    out = {key: record[key] - sum(step[key] for step in first) for key in keys}
    return {"steps": record["steps"] - warmup, **out}


# --------------------------------------------------------------------------- the plain baseline


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


@contextlib.contextmanager
def plain_fp32() -> Iterator[None]:
    """Full fp32 matrix products in the block (no TF32, which the train stage turns on)."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    precision = torch.get_float32_matmul_precision()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
        torch.set_float32_matmul_precision(precision)


def padded_batches(
    split: Any, tokenizer: Any, batch_size: int, max_length: int, seed: int | None
) -> Iterator[dict[str, torch.Tensor]]:
    """Batches of a tokenized split, every row padded to ``max_length``.

    Args:
        split: A split of the tokenize stage's dataset.
        tokenizer: Its tokenizer.
        batch_size: Rows per batch.
        max_length: The width of every batch.
        seed: Random batches drawn with it; None: the rows in order.
    """
    split = split.select_columns([c for c in MODEL_COLUMNS if c in split.column_names])
    order = list(range(len(split)))
    if seed is not None:
        random.Random(seed).shuffle(order)
    collate = DataCollatorWithPadding(tokenizer, padding="max_length", max_length=max_length)
    for start in range(0, len(order), batch_size):
        yield collate([split[i] for i in order[start : start + batch_size]])


class PlainTraining:
    """The baseline's training: fp32 (no TF32), eager attention, plain AdamW, timed steps.

    Args:
        model: A model reference or folder (:func:`arxivcat.model.loading.load_classifier`).
        seed: Seeds the classifier head.
        device: Where it trains.
    """

    def __init__(self, model: str, seed: int, device: torch.device) -> None:
        self.model = load_classifier(model, seed=seed, attn_implementation="eager").to(device)
        self.device = device
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=2e-5)
        self.reset()

    def reset(self) -> None:
        """Forget the steps timed so far (after the warm-up)."""
        self.steps = self.samples = self.tokens = 0
        self.seconds = self.cpu_seconds = 0.0

    def step(self, batch: dict[str, torch.Tensor]) -> None:
        """One optimizer step on ``batch``, timed to completion (wall and process CPU time)."""
        batch = {k: v.to(self.device) for k, v in batch.items()}
        self.model.train()
        with plain_fp32():
            synchronize(self.device)
            wall, cpu = time.perf_counter(), time.process_time()
            self.model(**batch).loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            synchronize(self.device)
        self.seconds += time.perf_counter() - wall
        self.cpu_seconds += time.process_time() - cpu
        self.steps += 1
        self.samples += batch["input_ids"].shape[0]
        self.tokens += batch["input_ids"].numel()

    def record(self) -> dict[str, float]:
        """Its timed steps, in the keys of the train stage's step record."""
        return {
            "steps": self.steps,
            "samples": self.samples,
            "padded_tokens": self.tokens,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
        }
