"""join_predictions: every experiment's scores on one corpus, one column per experiment."""

from arxivcat.io.runlog import setup_logging
from arxivcat.predict.join_predictions import join_predictions

setup_logging(snakemake.log[0])
join_predictions(
    predictions=dict(zip(snakemake.params.experiments, snakemake.input.predictions, strict=True)),
    output_path=snakemake.output.table,
)
