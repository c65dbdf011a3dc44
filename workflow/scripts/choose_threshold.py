"""choose_threshold: the decision threshold that maximises the experiment's validation F1."""

from arxivcat.io.runlog import setup_logging
from arxivcat.report.choose_threshold import write_threshold

setup_logging(snakemake.log[0])
write_threshold(
    snakemake.input.predictions, snakemake.output.threshold, snakemake.params.calibration
)
