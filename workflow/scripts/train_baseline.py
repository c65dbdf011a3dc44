"""train_baseline: TF-IDF + logistic regression on the experiment's split, for the card."""

from pathlib import Path

from arxivcat.io.runlog import setup_logging
from arxivcat.model.train_baseline import train_baseline

setup_logging(snakemake.log[0])
train_baseline(
    data_dir=Path(snakemake.input.train).parent,
    output_path=snakemake.output.metrics,
    seed=snakemake.params.seed,
)
