"""embed_weak_negatives: a base encoder's embedding of the weak-negative pool, for every split."""

from arxivcat.io.runlog import setup_logging
from arxivcat.probe.embed_weak_negatives import embed_weak_negatives
from arxivcat.probe.settings import EmbedSettings, EncoderSettings

setup_logging(snakemake.log[0])
embed_weak_negatives(
    corpus_path=snakemake.input.corpus,
    weak_negatives_path=snakemake.input.weak_negatives,
    output_path=snakemake.output.embeddings,
    manifest_path=snakemake.output.manifest,
    store_dir=snakemake.params.store,
    encoder=EncoderSettings.from_dict(snakemake.params.encoder),
    settings=EmbedSettings.from_dict(snakemake.params.settings),
    name=f"embed weak negatives with {snakemake.wildcards.encoder}",
)
