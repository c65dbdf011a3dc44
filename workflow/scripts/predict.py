"""predict: one experiment's scores for every paper of one corpus."""

from arxivcat.io.runlog import setup_logging
from arxivcat.predict.predict import predict_corpus
from arxivcat.predict.settings import PredictSettings

setup_logging(snakemake.log[0])
predict_corpus(
    model_dir=snakemake.input.model,
    sources=list(snakemake.input.corpus),
    output_path=snakemake.output.predictions,
    manifest_path=snakemake.output.manifest,
    threshold_path=snakemake.input.threshold,
    store_dir=snakemake.params.store,
    settings=PredictSettings.from_dict(snakemake.params.settings),
    name=f"predict {snakemake.wildcards.experiment} on {snakemake.wildcards.corpus}",
)
