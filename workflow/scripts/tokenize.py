"""tokenize: an experiment's split tables into an on-disk Arrow DatasetDict."""

from arxivcat.io.runlog import setup_logging
from arxivcat.model.tokenize import tokenize_splits

setup_logging(snakemake.log[0])
tokenize_splits(
    split_paths={
        "train": snakemake.input.train,
        "validation": snakemake.input.validation,
        "test": snakemake.input.test,
        "heldout": snakemake.input.heldout,
    },
    model=snakemake.params.tokenizer["model"],
    max_length=snakemake.params.tokenizer["max_length"],
    output_dir=snakemake.output.dataset,
    num_proc=snakemake.threads,
)
