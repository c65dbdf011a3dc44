"""label_splits: an experiment's labelled train/validation/test tables and split report."""

from arxivcat.io.runlog import setup_logging
from arxivcat.splits.label_splits import build_experiment_data

setup_logging(snakemake.log[0])
labelling = snakemake.params.labelling
build_experiment_data(
    corpus_path=snakemake.input.corpus,
    assignment_path=snakemake.input.assignment,
    labels=labelling["labels"],
    weak_negatives_path=snakemake.input.weak_negatives or None,
    weak_negative_share=labelling["weak_negatives"],
    output_paths={
        "train": snakemake.output.train,
        "validation": snakemake.output.validation,
        "test": snakemake.output.test,
    },
    report_path=snakemake.output.report,
    experiment=snakemake.wildcards.experiment,
    label_mode=labelling["label_mode"],
    sample_pct=labelling["sample_pct"],
    digest_path=snakemake.input.digest,
)
