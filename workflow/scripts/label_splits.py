"""label_splits: an experiment's labelled train/validation/test tables and split report."""

from arxivcat.io.runlog import setup_logging
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.settings import LabellingSettings

setup_logging(snakemake.log[0])
experiment = snakemake.wildcards.experiment
build_experiment_data(
    corpus_path=snakemake.input.corpus,
    assignment_path=snakemake.input.assignment,
    weak_negatives_path=snakemake.input.weak_negatives or None,
    output_paths={
        "train": snakemake.output.train,
        "validation": snakemake.output.validation,
        "test": snakemake.output.test,
        "heldout": snakemake.output.heldout,
    },
    report_path=snakemake.output.report,
    experiment=experiment,
    labelling=LabellingSettings.from_dict(snakemake.params.labelling, f"experiments.{experiment}"),
    digest_path=snakemake.input.digest,
)
