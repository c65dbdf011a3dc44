"""Papers/s of the predict stage against a plain ``transformers`` pipeline, and its peak memory.

Speed: the same real abstracts (by default the 2,100 recent CS records in ``../shared/data/arxiv``)
are scored by the predict stage's code (:func:`arxivcat.predict.scoring.score_papers`: one
tokenizer call per chunk, length-sorted batches with dynamic padding, inference mode, SDPA, bf16 on
CUDA and on CPUs that multiply bf16 in hardware) and by ``pipeline("text-classification",
batch_size=32)`` on ``{"text": title, "text_pair": abstract}`` as a user of the model folder would
write it (bf16 on CUDA, its fp32 default on the CPU), in interleaved rounds so that a noisy shared
machine slows both alike.  Where the predict stage's precision differs from the pipeline's, the
predict code also runs at the pipeline's, to show what the batching alone gains and that the
scores then agree to 1e-4.  Both read the same packaged model folder (MiniLM-L6 with a random head
by default; ``--model bert-base`` is a random BERT-base-sized model with the same tokenizer).  Wall
time and process CPU time are both reported: on a CPU shared with other jobs CPU time is the fair
comparison, on CUDA the wall time.

Memory: ``predict_corpus`` runs in a fresh process on a generated corpus of N and of 2N records
(parquet, ``builtin:tiny-bert``), and each process reports its peak RSS (``VmHWM``): it should not
grow with N.

Usage::

    HF_HUB_OFFLINE=1 python benchmarks/predict_speed.py                   # CPU, MiniLM
    python benchmarks/predict_speed.py --device cuda --model bert-base --papers 20000 \
        --memory-records 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import common
import numpy as np

from arxivcat.config import schema_defaults
from arxivcat.model.loading import load_classifier, load_tokenizer
from arxivcat.predict.read_papers import corpus_files, iter_chunks
from arxivcat.predict.scoring import load_classifier_folder, score_papers


def model_folder(kind: str, max_length: int, directory: Path) -> Path:
    """Save a classifier folder (MiniLM, random BERT-base or tiny BERT) and its tokenizer.

    The tokenizer records ``max_length``, the token budget the predict stage reads.
    """
    if kind != "minilm":
        common.random_bert(directory, 0, max_length, tiny=kind == "tiny-bert")
        return directory
    load_classifier("builtin:minilm", seed=0).save_pretrained(str(directory))
    tokenizer = load_tokenizer("builtin:minilm")
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(str(directory))
    return directory


def timed(function) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def speed(args: argparse.Namespace, folder: Path) -> dict:
    from transformers import pipeline

    chunk = next(iter_chunks(corpus_files(args.input), args.papers))
    titles, abstracts = chunk.titles, chunk.abstracts
    classifier = load_classifier_folder(folder, args.device, args.precision)
    placement = classifier.placement
    device = 0 if placement.device.type == "cuda" else -1
    # The pipeline as a user writes it: bf16 on CUDA, its fp32 default on the CPU.
    bf16 = placement.device.type == "cuda" and placement.precision == "bf16"
    plain = pipeline(
        "text-classification", model=str(folder), truncation="only_second", batch_size=32,
        device=device, dtype="bfloat16" if bf16 else "float32",
    )  # fmt: skip
    same = classifier
    if placement.precision != ("bf16" if bf16 else "fp32"):
        same = load_classifier_folder(folder, args.device, "bf16" if bf16 else "fp32")
    pairs = [{"text": t, "text_pair": a} for t, a in zip(titles, abstracts, strict=True)]

    def ours():
        return score_papers(classifier, titles, abstracts, args.batch_size)

    def ours_same():
        return score_papers(same, titles, abstracts, args.batch_size)

    def theirs():
        return np.array([r["score"] if r["label"] == "positive" else 1 - r["score"]
                         for r in plain(pairs)])  # fmt: skip

    runs = {"predict": ours, "pipeline": theirs}
    if same is not classifier:
        runs["predict_at_pipeline_precision"] = ours_same
    scores = {name: function() for name, function in runs.items()}  # warm-up
    totals = {name: [0.0, 0.0] for name in runs}
    for _ in range(args.rounds):
        for name, function in runs.items():
            scores[name], wall, cpu = timed(function)
            totals[name][0] += wall
            totals[name][1] += cpu
    reference = scores.get("predict_at_pipeline_precision", scores["predict"])
    n = len(titles) * args.rounds
    out = {
        "papers": len(titles),
        "rounds": args.rounds,
        "device": placement.device.type,
        "precision": placement.precision,
        "pipeline_precision": "bf16" if bf16 else "fp32",
        "max_length": classifier.max_length,
        "predict_batch_size": args.batch_size,
        "pipeline_batch_size": 32,
        "max_abs_score_difference_same_precision": float(
            np.abs(reference - scores["pipeline"]).max()
        ),
        "max_abs_score_difference": float(np.abs(scores["predict"] - scores["pipeline"]).max()),
        # The stage's own record of its batches: padded tokens per real token.
        "predict_padding": round(classifier.stats.padded_tokens / classifier.stats.real_tokens, 3),
    }
    for name, (wall, cpu) in totals.items():
        out[f"{name}_papers_per_s_wall"] = round(n / wall, 1)
        out[f"{name}_papers_per_cpu_s"] = round(n / cpu, 1)
    for name in [name for name in runs if name != "pipeline"]:
        for kind, rate in (("wall", "papers_per_s_wall"), ("cpu", "papers_per_cpu_s")):
            out[f"{name}_speedup_{kind}"] = round(
                out[f"{name}_{rate}"] / out[f"pipeline_{rate}"], 2
            )
    return out


CHILD = """
import json, sys, time
from arxivcat.config import schema_defaults
from arxivcat.predict.predict import predict_corpus
from arxivcat.predict.settings import PredictSettings
folder, source, output, store, chunk_rows, device = sys.argv[1:7]
settings = PredictSettings.from_dict({**schema_defaults("predict"), "chunk_rows": int(chunk_rows),
                                      "device": device, "progress_seconds": 1e9})
started = time.perf_counter()
manifest = predict_corpus(folder, [source], output, store, settings)
# VmHWM is this process's own peak (ru_maxrss would carry the parent's peak over the exec).
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"papers": manifest["papers"], "seconds": time.perf_counter() - started,
                  "peak_rss_mib": int(peak.split()[1]) / 1024}))
"""


def memory(args: argparse.Namespace, work: Path) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arxivcat.synthetic.generate import generate_records

    folder = model_folder("tiny-bert", 64, work / "tiny")
    results = []
    for n in (args.memory_records, 2 * args.memory_records):
        corpus = work / f"corpus-{n}.parquet"
        with pq.ParquetWriter(
            corpus, pa.schema([(c, pa.string()) for c in ("id", "title", "abstract")])
        ) as writer:
            batch: list[dict] = []
            for record in generate_records(n, seed=1):
                batch.append({k: record[k] for k in ("id", "title", "abstract")})
                if len(batch) == 50_000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=writer.schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=writer.schema))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder), str(corpus), str(work / f"out-{n}.parquet"),
             str(work / f"store-{n}"), str(args.chunk_rows), args.device],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        corpus.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--input", default=str(common.CS_RECORDS), help="real papers (JSON lines, CSV, parquet)"
    )
    parser.add_argument("--papers", type=int, default=1000, help="papers scored per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", choices=("minilm", "bert-base"), default="minilm")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=schema_defaults("predict")["batch_size"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--memory-records", type=int, default=10_000, help="N (and 2N) for RSS")
    parser.add_argument("--chunk-rows", type=int, default=2_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = model_folder(args.model, args.max_length, work / args.model)
        report = {} if args.skip_speed else {"speed": speed(args, folder)}
        print(json.dumps(report, indent=2), flush=True)
        if not args.skip_memory:
            report["memory"] = memory(args, work)
        report["benchmark_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
