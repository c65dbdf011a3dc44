"""package_model: the experiment's Hub-ready model folder (card, labels, truncation, threshold)."""

from arxivcat.io.runlog import setup_logging
from arxivcat.report.package_model import package_model

setup_logging(snakemake.log[0])
package_model(
    model_dir=snakemake.input.model,
    card_path=snakemake.input.card,
    plot_paths=list(snakemake.input.plots),
    threshold_path=snakemake.input.threshold,
    output_dir=snakemake.output.folder,
    experiment=snakemake.params.experiment,
)
