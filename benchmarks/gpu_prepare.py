"""The data of the GPU check (benchmarks/gpu_check.sh), made on this machine.

The GPU machine can download nothing (its packages: ``tools/gpu/``).  This tokenizes the real
arXiv abstracts of ``$ARXIVCAT_SHARED/data/arxiv/*.jsonl`` (default ``<repo>/../shared``) here,
with the tokenize stage and the MiniLM tokenizer (the bert-base-uncased vocabulary of 30,522
tokens, the ``BertConfig()`` default) at max length 512, into ``OUTPUT/tokenized``: a
``DatasetDict`` as the tokenize stage writes it (tokenizer included), which the train and evaluate
stages read there.

- train: the records cycled to ``--train-rows`` rows (default 9,472 = 37 x 256, so that every
  training batch of 32, 128 or 256 is full: a smaller last batch would make ``torch.compile``
  compile again for one step);
- validation: 32 records (one batch: the train stage validates it at the epoch end);
- test: the records cycled to ``--train-rows`` rows too (the evaluate stage's measured split).

``OUTPUT/corpus.parquet`` is the corpus the predict stage scores: ``id``, ``title`` and
``abstract`` of the same records cycled to ``--corpus-rows`` papers (default 20,000, one chunk of
the shipped ``chunk_rows``), dictionary-encoded so that the repeats cost no space; its first eighth
is ``OUTPUT/corpus-head.parquet``.  ``OUTPUT/smoke/`` holds the same, smaller, for the smoke run.

Usage: ``bash benchmarks/gpu_prepare.sh`` (wheels and data; ``... data``: the data alone).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from common import REPO, real_papers, tokenized_papers

MODEL = "builtin:minilm"
MAX_LENGTH = 512
VALIDATION_ROWS = 32
CORPUS_ROWS = 20_000
SEED = 20230227
SMOKE = {"train_rows": 256, "corpus_rows": 256}


def shared_dir() -> Path:
    """The read-only real data: ``$ARXIVCAT_SHARED``, default ``<repo>/../shared``."""
    return Path(os.environ.get("ARXIVCAT_SHARED") or REPO.parent / "shared")


def records(shared: Path) -> list[tuple[str, str]]:
    """Title and abstract of every distinct real record with an abstract."""
    paths = sorted((shared / "data" / "arxiv").glob("*.jsonl"))
    if not paths:
        raise SystemExit(f"{shared}/data/arxiv: no *.jsonl records (set ARXIVCAT_SHARED)")
    return list(dict.fromkeys(r for path in paths for r in real_papers(path, SEED)))


def cycled(papers: list[tuple[str, str]], rows: int) -> list[tuple[str, str]]:
    """``papers`` repeated until there are ``rows``."""
    return [papers[i % len(papers)] for i in range(rows)]


def write_corpus(papers: list[tuple[str, str]], path: Path) -> None:
    """The predict stage's corpus: id, title and abstract of ``papers``."""
    table = {
        "id": [f"paper-{i}" for i in range(len(papers))],
        "title": [title for title, _ in papers],
        "abstract": [abstract for _, abstract in papers],
    }
    # A dictionary page large enough for every distinct abstract: each repeat is an index.
    pq.write_table(pa.table(table), path, dictionary_pagesize_limit=64 * 2**20)


def prepare_data(
    papers: list[tuple[str, str]], output: Path, train_rows: int, corpus_rows: int
) -> None:
    """Tokenize ``papers`` into ``output/tokenized`` with the tokenize stage; write the corpus."""
    splits = {
        "train": cycled(papers, train_rows),
        "validation": papers[:VALIDATION_ROWS],
        "test": cycled(papers, train_rows),
    }
    dataset = tokenized_papers(splits, MODEL, MAX_LENGTH, output / "tokenized")
    corpus = cycled(papers, corpus_rows)
    write_corpus(corpus, output / "corpus.parquet")
    write_corpus(corpus[: corpus_rows // 8], output / "corpus-head.parquet")
    lengths = [len(ids) for ids in dataset["test"]["input_ids"]]
    info = {
        "source": str(shared_dir() / "data" / "arxiv" / "*.jsonl"),
        "records": len(papers),
        "rows": {split: len(rows) for split, rows in splits.items()},
        "corpus_rows": corpus_rows,
        "tokenizer": MODEL,
        "max_length": MAX_LENGTH,
        "mean_tokens": round(sum(lengths) / len(lengths), 1),
        "truncated_share": round(sum(n == MAX_LENGTH for n in lengths) / len(lengths), 4),
    }
    (output / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    print(f"{output}: {json.dumps(info)}; {size / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=REPO / ".gpu-data")
    parser.add_argument("--train-rows", type=int, default=37 * 256)
    parser.add_argument("--corpus-rows", type=int, default=CORPUS_ROWS)
    options = parser.parse_args()
    papers = records(shared_dir())
    prepare_data(papers, options.output / "smoke", **SMOKE)
    prepare_data(papers, options.output, options.train_rows, options.corpus_rows)


if __name__ == "__main__":
    main()
