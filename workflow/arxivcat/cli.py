"""The ``arxivcat`` command line: ``python -m arxivcat <command> ...``.

Commands:
    card: render a model card from a Hugging Face Trainer output directory made elsewhere.
    summary: tabulate finished experiments of a results directory.
    predict: score a file of papers with a trained model folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arxivcat import layout
from arxivcat.config import (
    CONFIG_PATH,
    SCHEMA_PATH,
    ConfigError,
    check_setting,
    get_experiment,
    schema_defaults,
    schema_node,
    validate_config,
)
from arxivcat.errors import ArxivcatError
from arxivcat.yaml_file import load_yaml

if TYPE_CHECKING:
    from arxivcat.report.summarize import ExperimentResults

#: The config of a checkout, where Snakemake reads it (relative to the working directory).
CHECKOUT_CONFIG = Path("config/config.yaml")


class CommandError(ArxivcatError, RuntimeError):
    """A command's failure, reported on one line without a traceback."""


def load_config(config_path: Path | None, schema_path: Path) -> dict:
    """Load and validate a configuration file.

    Args:
        config_path: The configuration; None for a checkout's ``config/config.yaml``, or where
            there is none (an installed package run elsewhere), the packaged reference
            experiments.
        schema_path: The schema to validate it against.

    Raises:
        CommandError: If either file is missing, or the configuration is invalid.
    """
    if config_path is None:
        config_path = CHECKOUT_CONFIG if CHECKOUT_CONFIG.is_file() else CONFIG_PATH
    for path, what in ((config_path, "config"), (schema_path, "schema")):
        if not path.is_file():
            raise CommandError(f"{path}: {what} file not found")
    try:
        return validate_config(load_yaml(config_path), load_yaml(schema_path))
    except ConfigError as error:
        raise CommandError(f"{config_path}: {error}") from None


def card_plot_paths(output: Path) -> dict[str, Path]:
    """The card command's plots, beside its output: ``<stem>_pr_curve.png``, ``<stem>_loss.png``."""
    return {key: output.with_name(f"{output.stem}_{key}.png") for key in ("pr_curve", "loss")}


def command_card(args: argparse.Namespace) -> None:
    """Render a card from ``--run-dir`` for ``--experiment`` of the configuration."""
    from arxivcat.report.card_facts import CardError
    from arxivcat.report.outputs import OutputError, check_output_path
    from arxivcat.report.trainer_run import RunDirError
    from arxivcat.report.write_card import card_from_run_dir

    config = load_config(args.config, args.schema)
    try:
        check_output_path(args.output)
        experiment = get_experiment(config, args.experiment).card_facts()
        card_from_run_dir(
            args.run_dir,
            experiment,
            args.output,
            distributed_type=args.distributed_type,
            plot_paths=None if args.no_plots else card_plot_paths(args.output),
        )
    except (ConfigError, CardError, RunDirError, OutputError) as error:
        raise CommandError(str(error)) from None
    print(args.output)


def workflow_results(results_dir: Path, name: str, sweep: str | None = None) -> ExperimentResults:
    """The files of experiment ``name`` (of ``sweep``) in a results directory as the workflow's."""
    from arxivcat.report.summarize import ExperimentResults

    def path(pattern: str) -> Path:
        return layout.under(results_dir, pattern, experiment=name)

    baseline = path(layout.BASELINE_METRICS)
    threshold = path(layout.THRESHOLD)
    probe = path(layout.PROBE_METRICS)
    predictions = path(layout.EVAL_PREDICTIONS)
    return ExperimentResults(
        name=name,
        metrics=path(layout.EVAL_METRICS),
        model_dir=path(layout.MODEL),
        split_report=path(layout.SPLIT_REPORT),
        baseline=baseline if baseline.is_file() else None,
        threshold=threshold if threshold.is_file() else None,
        probe=probe if probe.is_file() else None,
        predictions=predictions if predictions.is_file() else None,
        sweep=sweep,
    )


def command_summary(args: argparse.Namespace) -> None:
    """Summarise the experiments of ``--results`` into Markdown, CSV and a bar chart."""
    from arxivcat.report.outputs import OutputError
    from arxivcat.report.summarize import SummaryError, write_summary

    config = load_config(args.config, args.schema)
    names = args.experiments or list(config["experiments"])
    unknown = [name for name in names if name not in config["experiments"]]
    if unknown:
        known = ", ".join(config["experiments"])
        raise CommandError(f"summary: unknown experiment(s) {', '.join(unknown)} (known: {known})")
    try:
        write_summary(
            [
                workflow_results(args.results, name, config["experiments"][name].get("sweep"))
                for name in names
            ],
            markdown_path=args.output,
            csv_path=args.output.with_suffix(".csv"),
            plot_path=args.output.with_suffix(".png"),
        )
    except (SummaryError, OutputError) as error:
        raise CommandError(f"summary: {error}") from None
    print(args.output)


#: The predict command's options that set a ``predict`` setting of the same name.
PREDICT_SETTINGS = (
    "device", "gpus", "precision", "batch_size", "chunk_rows", "threshold", "progress_seconds",
)  # fmt: skip


def predict_settings(args: argparse.Namespace) -> dict:
    """The ``predict`` settings: the schema's defaults, and the options given, checked alike.

    Raises:
        CommandError: Naming the option whose value the schema refuses.
    """
    settings = {**schema_defaults("predict"), "corpora": {}}
    for key in PREDICT_SETTINGS:
        value = getattr(args, key)
        if value is None:
            continue
        try:
            check_setting(value, "predict", key)
        except ConfigError as error:
            raise CommandError(f"--{key.replace('_', '-')}: {error}") from None
        settings[key] = value
    return settings


def command_predict(args: argparse.Namespace) -> None:
    """Score the papers of ``--input`` with the model of ``--model`` into ``--output``.

    Every option and the output are checked before the model is read or a paper scored.
    """
    from arxivcat.predict.predict import predict_corpus
    from arxivcat.predict.settings import PredictSettings
    from arxivcat.report.outputs import OutputError, check_output_path

    settings = PredictSettings.from_dict(predict_settings(args))
    if args.output.suffix != ".parquet":
        raise CommandError(f"{args.output}: the output must be a .parquet file")
    try:
        check_output_path(args.output)
        predict_corpus(
            args.model,
            [args.input],
            args.output,
            store_dir=args.output.with_name(args.output.name + ".chunks"),
            settings=settings,
            rows_without_text="keep" if args.keep_rows_without_text else "error",
        )
    except (ArxivcatError, OutputError) as error:
        raise CommandError(str(error)) from None
    print(args.output)


def add_predict_command(commands: argparse._SubParsersAction) -> None:
    """The ``predict`` subcommand; its settings' choices and defaults come from the schema."""
    predict = commands.add_parser(
        "predict",
        help="score a file of papers with a trained model folder",
        description="Score every paper of a JSON lines, CSV or parquet file (id, title, abstract; "
        "an OpenAlex abstract_inverted_index works too) with a model folder "
        "(results/<experiment>/hub or results/<experiment>/model).  Writes id, probability of "
        "the positive class and label (at the folder's recorded threshold unless --threshold).",
    )
    predict.add_argument("--model", type=Path, required=True, help="model folder")
    predict.add_argument("--input", required=True, help="papers: a file or a glob")
    predict.add_argument("--output", type=Path, required=True, help="predictions (.parquet)")
    predict.add_argument("--threshold", type=float, help="label threshold (default: recorded)")
    defaults = schema_defaults("predict")
    for key, kind, what in (
        ("batch_size", int, "papers per forward pass"),
        ("chunk_rows", int, "papers read, scored and saved at a time"),
        ("gpus", int, "GPUs to spread the papers over, on CUDA"),
        ("progress_seconds", float, "seconds between progress lines"),
        ("device", str, "where the model runs"),
        ("precision", str, "numeric precision"),
    ):
        choices = schema_node("predict", key).get("enum")
        option = f"--{key.replace('_', '-')}"
        predict.add_argument(option, type=kind, choices=choices, help=f"{what} ({defaults[key]})")
    predict.add_argument(
        "--keep-rows-without-text",
        action="store_true",
        help="list papers without a title or abstract with a null score instead of failing",
    )
    predict.set_defaults(run=command_predict)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="arxivcat", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--config",
            type=Path,
            help=f"workflow config ({CHECKOUT_CONFIG} if present, else the packaged one)",
        )
        sub.add_argument(
            "--schema", type=Path, default=SCHEMA_PATH, help="config schema (%(default)s)"
        )

    card = commands.add_parser(
        "card",
        help="render a model card from a Trainer output directory",
        description="Render a Hugging Face model card from a Trainer output directory "
        "(trainer_state.json for the per-epoch table, all_results.json/eval_results.json for the "
        "final evaluation) for an experiment of the config.  Needs no network.",
    )
    card.add_argument("--run-dir", type=Path, required=True, help="Trainer output directory")
    card.add_argument("--experiment", required=True, help="experiment name in the config")
    card.add_argument("--output", type=Path, required=True, help="card to write (README.md)")
    card.add_argument(
        "--distributed-type",
        help="how training was distributed (e.g. tpu, multi-GPU) when the run does not record it",
    )
    card.add_argument("--no-plots", action="store_true", help="do not draw the loss plot")
    common(card)
    card.set_defaults(run=command_card)

    summary = commands.add_parser(
        "summary", help="tabulate finished experiments (Markdown, CSV, bar chart)"
    )
    summary.add_argument("--results", type=Path, default=Path(layout.RESULTS), help="results dir")
    summary.add_argument("--output", type=Path, default=Path(layout.SUMMARY))
    summary.add_argument("experiments", nargs="*", help="experiments (default: all in config)")
    common(summary)
    summary.set_defaults(run=command_summary)

    add_predict_command(commands)
    return parser


#: Commands whose progress lines (INFO) are shown, not only their warnings.
_REPORTS_PROGRESS = ("predict",)


class _CommandFormatter(logging.Formatter):
    """``arxivcat COMMAND: message``, with ``warning:`` before warnings."""

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        kind = "warning: " if record.levelno >= logging.WARNING else ""
        return f"arxivcat {self.command}: {kind}{record.getMessage()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    # The package's warnings (and, for long commands, its progress lines) reach stderr as one
    # line each, for this command only.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO if args.command in _REPORTS_PROGRESS else logging.WARNING)
    handler.setFormatter(_CommandFormatter(args.command))
    package_logger = logging.getLogger("arxivcat")
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    try:
        args.run(args)
    except CommandError as error:
        print(f"arxivcat {args.command}: error: {error}", file=sys.stderr)
        return 1
    finally:
        package_logger.removeHandler(handler)
    return 0
