"""summarize: the summary table (Markdown, CSV) and F1 chart of every experiment in config."""

from arxivcat.io.runlog import setup_logging
from arxivcat.report.summarize import experiment_results, write_summary

setup_logging(snakemake.log[0])
write_summary(
    experiment_results(
        snakemake.params.experiments,
        metrics=snakemake.input.metrics,
        models=snakemake.input.models,
        split_reports=snakemake.input.split_reports,
        baselines=snakemake.input.baselines,
        probes=snakemake.input.probes,
        thresholds=snakemake.input.thresholds,
        predictions=snakemake.input.predictions,
        sweeps=snakemake.params.sweeps,
    ),
    markdown_path=snakemake.output.markdown,
    csv_path=snakemake.output.csv,
    plot_path=snakemake.output.plot,
)
