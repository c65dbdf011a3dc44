"""write_card: the experiment's Hugging Face model card and the plots it links."""

from arxivcat.io.runlog import setup_logging
from arxivcat.report.write_card import write_card

setup_logging(snakemake.log[0])
write_card(
    experiment=snakemake.params.experiment,
    model_dir=snakemake.input.model,
    metrics_path=snakemake.input.metrics,
    split_report_path=snakemake.input.split_report,
    manifest_path=snakemake.input.manifest,
    output_path=snakemake.output.card,
    predictions_path=snakemake.input.predictions,
    baseline_path=snakemake.input.baseline,
    probe_path=snakemake.input.probe,
    baseline_predictions_path=snakemake.input.baseline_predictions,
    probe_predictions_path=snakemake.input.probe_predictions,
    plot_paths={key: snakemake.output[key] for key in ("pr_curve", "loss", "years", "calibration")},
    threshold_path=snakemake.input.threshold,
    folder_name=snakemake.params.folder,
    table_paths={"test": snakemake.input.test, "heldout": snakemake.input.heldout},
)
