"""The benchmarks' one helper: experiment tables built from the real records of ../shared.

Every step is the workflow's own stage function: the download stage's ``build_corpus`` on a local
snapshot file, ``prepare_weak_negatives`` on the real OpenAlex API pages, ``assign_splits`` of a
split definition of the shipped config, and ``build_experiment_data`` of each experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arxivcat.config import Experiment, get_experiment, load_yaml, schema_defaults, validate_config
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.negatives.prepare_weak_negatives import prepare_weak_negatives
from arxivcat.negatives.settings import WeakNegativeSettings
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.methods import SPLITS
from arxivcat.splits.settings import LabellingSettings, SplitSettings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
#: The 20,000 real records first submitted 2010-2019 (rare categories at 1-3%).
REAL_20K = SHARED / "arxiv" / "snapshot-real-2010-2019-20k-staeiou.jsonl.gz"


@dataclass(frozen=True)
class ExperimentTables:
    """One experiment's labelled tables and split report."""

    name: str
    experiment: Experiment
    tables: dict[str, Path]
    report: Path


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
        out.append(ExperimentTables(name, experiment, tables, base / "split_report.json"))
    return out
