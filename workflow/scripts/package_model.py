"""package_model: the experiment's Hub-ready model folder (card, labels, truncation, threshold)."""

from arxivcat.io.runlog import setup_logging
from arxivcat.predict.package_model import package_model

setup_logging(snakemake.log[0])
package_model(
    model_dir=snakemake.input.model,
    card_path=snakemake.input.card,
    predictions_path=snakemake.input.predictions,
    metrics_path=snakemake.input.metrics,
    output_dir=snakemake.output.folder,
    digest_path=snakemake.output.digest,
    experiment=snakemake.params.experiment,
)
