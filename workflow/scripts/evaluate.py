"""evaluate: validation and test metrics of the final model, and its predictions."""

from arxivcat.evaluation import evaluate_model
from arxivcat.runlog import setup_logging

setup_logging(snakemake.log[0])
evaluate_model(
    model_dir=snakemake.input.model,
    dataset_dir=snakemake.input.dataset,
    metrics_path=snakemake.output.metrics,
    predictions_path=snakemake.output.predictions,
    settings=snakemake.params.training,
)
