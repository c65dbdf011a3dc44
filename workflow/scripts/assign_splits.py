"""assign_splits: train/validation/test assignment of every paper for one split definition."""

from arxivcat.io.runlog import setup_logging
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.settings import SplitSettings

setup_logging(snakemake.log[0])
assign_splits(
    corpus_path=snakemake.input.corpus,
    settings=SplitSettings.from_dict(
        snakemake.params.settings, f"splits.{snakemake.wildcards.split}"
    ),
    output_path=snakemake.output.assignment,
    name=snakemake.wildcards.split,
)
