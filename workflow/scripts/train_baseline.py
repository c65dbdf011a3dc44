"""train_baseline: TF-IDF + logistic regression on the experiment's split, for the card."""

from arxivcat.io.runlog import setup_logging
from arxivcat.model.train_baseline import train_baseline

setup_logging(snakemake.log[0])
train_baseline(
    tables={split: snakemake.input[split] for split in ("train", "validation", "test", "heldout")},
    output_path=snakemake.output.metrics,
    predictions_path=snakemake.output.predictions,
    seed=snakemake.params.seed,
)
