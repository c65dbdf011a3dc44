"""assign_splits: train/validation/test assignment of every paper for one split definition."""

from arxivcat.io.runlog import setup_logging
from arxivcat.splits.assign_splits import assign_splits

setup_logging(snakemake.log[0])
assign_splits(
    corpus_path=snakemake.input.corpus,
    settings=snakemake.params.settings,
    output_path=snakemake.output.assignment,
    name=snakemake.wildcards.split,
)
