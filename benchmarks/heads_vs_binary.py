"""One multi-head model against one binary model per question, on the real 2010-2019 records.

The reference's five fields (AI, CV, NLP, RO, cyber) are asked twice on the 20,000 real records of
../shared: once as one experiment with five heads, once as five binary experiments, all through
the workflow's stages (labels, tokenize, train, evaluate, threshold) with the same training
budget (MiniLM, ``--epochs`` epochs, the same rows and settings, pos_weight auto).  The
multi-head experiment fits its heads on the pretrained features before training (``head_init:
logistic``) and refits them on the fine-tuned ones after it (``refit_heads``), as the shipped
``fields-weak-negs`` (their cost is in its train stage's seconds); ``--refit all`` and
``--head-init all`` give the binary models the same (is it what the shared encoder needs, or a
gain any model gets?), ``none`` neither.

The split is the reference's stratified one with other fractions (``--fractions``, default 17.5%
training, 32.5% validation, 50% test): a 70/15/15 split of 20,000 records tests on 54 cs.CV
papers, where the 95% interval of an F1 difference is about +-0.1, too wide to tell a 0.02 cost
from none.  The smaller training split is what the CPU allows anyway.

Prints the summary's own comparison table (:mod:`arxivcat.report.shared_encoder`: each head's
F1 beside its binary model's at 0.5 and at each one's own threshold chosen on validation, the
test difference with its paired bootstrap interval, samples processed and hours), then the CPU
seconds of the train stages and the issue's targets.  ../shared holds 154 usable real weak
negatives, so every experiment takes 1% of its training size as weak negatives.

``--binaries EARLIER`` trains only the multi-head model and compares it with the binary models
of an earlier run with the same options (a change to the multi-head side, in a fifth of the time;
the compute ratio is then not measured).  With ``--refit all`` the earlier binary models are
refit (:func:`arxivcat.model.refit_heads.refit_heads` on their kept weights, as training would
have) rather than trained again, and each model's test F1 minus the earlier run's is printed: the
refit's gain for each binary model, and 0 for the heads, trained again with the same seed.  With
``--head-init all`` the binary models are trained again, their heads fitted first, and the same
differences print (against an earlier run with ``--head-init none``: the heads' own gain too).

The interval covers the test papers, not training's randomness: ``--against EARLIER`` (the
WORKDIR of a run with another ``--seed`` or ``--epochs`` and otherwise the same options) also
prints each model's test F1 in this run minus in that one, with the same paired interval.

``--fields NLP Cyber`` trains only those fields' binary models (a cheaper check of a few heads,
e.g. at more epochs), ``--heads NLP AI`` gives the multi-head model only those heads (which
heads interfere: ``--heads NLP --fields NLP`` is one question as a one-head sigmoid model against
the binary softmax model); the compute ratio and the targets are the whole family's, so they
print only when all five of each are trained.

Usage: PYTHONPATH=workflow python benchmarks/heads_vs_binary.py [--sample-pct 100] [--epochs 1]
           [--fractions 0.175 0.325 0.5] [--seed N] [--against EARLIER] [--fields NAME ...]
           [--heads NAME ...] [--refit heads|all|none] [--head-init heads|all|none]
           [--binaries EARLIER] [WORKDIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from common import experiment_tables, require_shared, shipped_config
from datasets import DatasetDict

from arxivcat.config import load_schema, validate_config
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.inference import Placement, load_for_inference
from arxivcat.model.refit_heads import refit_heads
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.split_scoring import VALIDATION_PASS
from arxivcat.model.tokenize import tokenize_splits
from arxivcat.model.train import train_model
from arxivcat.report.choose_threshold import write_threshold
from arxivcat.report.paired import f1_difference_on_test
from arxivcat.report.shared_encoder import comparison_rows, markdown
from arxivcat.report.summarize import ExperimentResults
from arxivcat.report.trainer_run import read_json
from arxivcat.splits.methods import SPLITS

FIELDS = {
    "AI": ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO", "stat.ML"],
    "CV": ["cs.CV"],
    "NLP": ["cs.CL"],
    "RO": ["cs.RO"],
    "Cyber": ["cs.CR"],
}


def bench_config(
    sample_pct: float,
    max_length: int,
    epochs: float,
    fractions: tuple[float, float, float],
    seed: int | None = None,
    heads: Sequence[str] = tuple(FIELDS),
    refit: str = "heads",
    head_init: str = "heads",
) -> dict:
    """The five binary experiments and the multi-head one (``heads``), with one training budget.

    ``refit`` says whose heads are refit on the fine-tuned features: the multi-head model's
    (``heads``), every model's (``all``) or none; ``head_init`` whose heads are fitted on the
    pretrained features before training (``head_init: logistic``), the same way.
    """
    config = shipped_config()
    config["splits"]["reference"]["fractions"] = dict(zip(SPLITS, fractions, strict=True))
    common = {"weak_negatives": 0.01, "sample_pct": sample_pct}
    config["experiments"] = {name.lower(): {"labels": labels, **common}
                             for name, labels in FIELDS.items()}  # fmt: skip
    config["experiments"]["fields"] = {"heads": {h: FIELDS[h] for h in heads}, **common}
    config["experiments"]["fields"]["training"] = {
        "refit_heads": refit in ("heads", "all"),
        "head_init": "logistic" if head_init in ("heads", "all") else "random",
    }
    config["training"].update(
        model="builtin:minilm", max_length=max_length, num_epochs=epochs, learning_rate=5e-5,
        train_batch_size=32, eval_batch_size=64, device="cpu", pos_weight="auto",
        logging_steps=100, progress_seconds=120, checkpoint_minutes=0, refit_heads=refit == "all",
        head_init="logistic" if head_init == "all" else "random",
    )  # fmt: skip
    if seed is not None:
        config["training"]["seed"] = seed
    return validate_config(config, load_schema())


def run(item, workdir: Path) -> tuple[ExperimentResults, dict]:
    """Tokenize, train (timed), evaluate and choose thresholds for one experiment.

    Returns its result files as the summary reads them, and the train stage's CPU and wall
    seconds.
    """
    base = workdir / item.name
    settings = TrainingSettings.from_dict(item.experiment.training)
    tokenize_splits(item.tables, settings.model, settings.max_length, base / "tokenized")
    wall, cpu = time.monotonic(), time.process_time()
    train_model(base / "tokenized", base / "model", base / "store", settings, 2)
    train = {"wall": time.monotonic() - wall, "cpu": time.process_time() - cpu}
    return evaluated(base, base / "tokenized", item.report, settings), train


def evaluated(
    base: Path, tokenized: Path, report: Path, settings: TrainingSettings
) -> ExperimentResults:
    """Evaluate the model in ``base`` on ``tokenized``, choose its threshold; its result files."""
    evaluate_model(base / "model", tokenized, base / "metrics.json",
                   base / "predictions.parquet", settings)  # fmt: skip
    write_threshold(base / "predictions.parquet", base / "threshold.json")
    return results_in(base, report)


def refit_earlier(earlier: Path, base: Path, settings: TrainingSettings) -> ExperimentResults:
    """Refit the heads of ``earlier``'s trained model into ``base``; evaluate, choose a threshold.

    Args:
        earlier: An earlier run's experiment folder (its model, tokenized splits, split report).
        base: Where the refit model and its results go.
        settings: The experiment's training settings (the refit's rows, seed and batch size).
    """
    shutil.rmtree(base, ignore_errors=True)
    kept = shutil.ignore_patterns(VALIDATION_PASS)  # training's pass, before the refit
    shutil.copytree(earlier / "model", base / "model", ignore=kept)
    cpu = Placement(torch.device("cpu"), "fp32")
    model = load_for_inference(base / "model", cpu)
    splits = DatasetDict.load_from_disk(str(earlier / "tokenized"))
    record, _ = refit_heads(
        model, splits["train"], splits["validation"], settings.eval_batch_size, cpu,
        settings.progress_seconds, settings.refit_max_rows, settings.seed,
    )  # fmt: skip
    model.save_pretrained(base / "model")
    print(f"{base.name}: refit in {record['seconds']:.0f} s, C {record['heads'][0]['C']:g}")
    return evaluated(base, earlier / "tokenized", earlier / "split_report.json", settings)


def results_in(base: Path, report: Path) -> ExperimentResults:
    """The result files of the experiment run in ``base``, as the summary reads them."""
    return ExperimentResults(
        base.name, base / "metrics.json", base / "model", report,
        threshold=base / "threshold.json", predictions=base / "predictions.parquet",
    )  # fmt: skip


def seed_differences(
    workdir: Path, earlier: Path, fields: Sequence[str], heads: Sequence[str]
) -> None:
    """Print each model's test F1 in ``workdir`` minus in ``earlier`` (another seed or epochs).

    Args:
        workdir: This run's files.
        earlier: The earlier run's.
        fields: The fields whose binary models both runs trained.
        heads: The heads both multi-head models have.
    """

    def side(base: Path, experiment: str, head: str | None) -> tuple[Path, dict, str | None]:
        report = read_json(base / experiment / "threshold.json") or {}
        chosen = report["heads"][head] if head else report
        return base / experiment / "predictions.parquet", chosen, head

    print(f"\ntest F1 at own thresholds, this run minus {earlier} [95% paired interval]:")
    models = [*((name.lower(), None) for name in fields), *(("fields", name) for name in heads)]
    for experiment, head in models:
        ours, theirs = side(workdir, experiment, head), side(earlier, experiment, head)
        found = f1_difference_on_test(ours, theirs)
        print(f"  {experiment}{f' {head}' if head else ''}: {found['difference']:+.3f} "
              f"[{found['low']:+.3f}, {found['high']:+.3f}]")  # fmt: skip


def main(workdir: Path, args: argparse.Namespace) -> None:
    """Run the comparison the command line asks for in ``workdir``."""
    fields, heads, epochs = args.fields, args.heads, args.epochs
    fractions, max_length, sample_pct = tuple(args.fractions), args.max_length, args.sample_pct
    config = bench_config(
        sample_pct, max_length, epochs, fractions, args.seed, heads, args.refit, args.head_init
    )
    names = [*(n.lower() for n in fields), "fields"]
    if args.binaries:  # only the multi-head model is trained
        (item,) = experiment_tables(workdir, ["fields"], config)
        earlier = [args.binaries / name for name in names[:-1]]
        if args.head_init == "all":  # trained again, their heads fitted first
            tables = experiment_tables(workdir, names[:-1], config)
            runs = {item.name: run(item, workdir) for item in tables}
        elif args.refit == "all":
            settings = TrainingSettings.from_dict(item.experiment.training)
            runs = {e.name: (refit_earlier(e, workdir / e.name, settings), None) for e in earlier}
        else:
            runs = {e.name: (results_in(e, e / "split_report.json"), None) for e in earlier}
        runs["fields"] = run(item, workdir)
    else:
        runs = {item.name: run(item, workdir) for item in experiment_tables(workdir, names, config)}
    rows = comparison_rows([results for results, _ in runs.values()])
    print(f"\nMiniLM, {max_length} tokens, {epochs:g} epoch(s), {sample_pct:g}% of the training "
          f"split, fractions {fractions}, seed {config['training']['seed']}, heads refit: "
          f"{args.refit}, heads fitted first: {args.head_init}, CPU\n")  # fmt: skip
    print(markdown(rows))
    binary = [runs[name.lower()][1] for name in fields]
    multi = runs["fields"][1]
    cpu = None if None in binary else sum(r["cpu"] for r in binary)
    print(
        f"train stage CPU seconds: multi-head {multi['cpu']:.0f} ({multi['wall']:.0f} s wall), "
        + (f"{len(binary)} binary model(s) {cpu:.0f} ({sum(r['wall'] for r in binary):.0f} s wall)"
           if cpu is not None else f"binary models those of {args.binaries}, not timed here")
    )  # fmt: skip
    if args.against is not None:
        seed_differences(workdir, args.against, fields, heads)
    elif args.binaries and "all" in (args.refit, args.head_init):  # against as they were
        seed_differences(workdir, args.binaries, fields, heads)
    if len(fields) < len(FIELDS) or len(heads) < len(FIELDS):
        return
    if cpu is not None:
        print(f"compute ratio {multi['cpu'] / cpu:.2f}")
    worst = min(row["interval"]["difference"] for row in rows)
    lowest = min(row["interval"]["low"] for row in rows)
    ratio = "not measured" if cpu is None else "met" if multi["cpu"] / cpu <= 0.25 else "not met"
    close = "met" if worst >= -0.02 else "not met"
    print(
        f"targets: compute at most 0.25 of the binary family's: {ratio}; every head within 0.02 "
        f"test F1 of its binary model (at own thresholds): {close} "
        f"(worst {worst:+.3f}); every interval's lower end above -0.02: "
        f"{'yes' if lowest >= -0.02 else 'no'} (lowest {lowest:+.3f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep files here")
    parser.add_argument("--sample-pct", type=float, default=100, help="training papers kept (%%)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--seed", type=int, help="training seed of every model (default: config's)")
    parser.add_argument(
        "--against", type=Path, help="an earlier run's WORKDIR (another seed or epochs)"
    )
    parser.add_argument(
        "--fields", nargs="+", choices=list(FIELDS), default=list(FIELDS),
        help="the binary models to train (default: all five)",
    )  # fmt: skip
    parser.add_argument(
        "--heads", nargs="+", choices=list(FIELDS), default=list(FIELDS),
        help="the multi-head model's heads (default: all five)",
    )  # fmt: skip
    parser.add_argument(
        "--binaries", type=Path,
        help="an earlier run's WORKDIR (the same options): its binary models, not trained again",
    )  # fmt: skip
    parser.add_argument(
        "--refit", choices=("heads", "all", "none"), default="heads",
        help="whose heads are refit on the fine-tuned features (default: the multi-head model's)",
    )  # fmt: skip
    parser.add_argument(
        "--head-init", choices=("heads", "all", "none"), default="heads",
        help="whose heads are fitted on the pretrained features before training "
        "(default: the multi-head model's)",
    )  # fmt: skip
    parser.add_argument(
        "--fractions", type=float, nargs=3, default=(0.175, 0.325, 0.5),
        metavar=("TRAIN", "VALIDATION", "TEST"), help="the split's fractions",
    )  # fmt: skip
    args = parser.parse_args()
    if args.binaries and args.against:
        parser.error("--binaries and --against: compare the earlier runs with --against instead")
    require_shared()
    if args.workdir:
        main(args.workdir, args)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(Path(scratch), args)
