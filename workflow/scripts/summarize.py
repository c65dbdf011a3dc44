"""summarize: results/summary.md, .csv and .png across every experiment of the config."""

from pathlib import Path

from arxivcat.io.runlog import setup_logging
from arxivcat.report.summarize import write_summary

setup_logging(snakemake.log[0])
write_summary(
    experiments=snakemake.params.experiments,
    results_dir=Path(snakemake.output.markdown).parent,
    markdown_path=snakemake.output.markdown,
    csv_path=snakemake.output.csv,
    plot_path=snakemake.output.plot,
)
