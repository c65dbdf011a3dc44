"""evaluate: validation and test metrics of the final model, and its predictions."""

from arxivcat.io.runlog import setup_logging
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.settings import TrainingSettings

setup_logging(snakemake.log[0])
evaluate_model(
    model_dir=snakemake.input.model,
    dataset_dir=snakemake.input.dataset,
    metrics_path=snakemake.output.metrics,
    predictions_path=snakemake.output.predictions,
    settings=TrainingSettings.from_dict(snakemake.params.training),
)
