"""embed: a base encoder's embedding of every paper of one split definition."""

from arxivcat.io.runlog import setup_logging
from arxivcat.probe.embed import embed_split
from arxivcat.probe.settings import EmbedSettings, EncoderSettings

setup_logging(snakemake.log[0])
embed_split(
    corpus_path=snakemake.input.corpus,
    assignment_path=snakemake.input.assignment,
    output_path=snakemake.output.embeddings,
    manifest_path=snakemake.output.manifest,
    store_dir=snakemake.params.store,
    encoder=EncoderSettings.from_dict(snakemake.params.encoder),
    settings=EmbedSettings.from_dict(snakemake.params.settings),
    name=f"embed {snakemake.wildcards.split} with {snakemake.wildcards.encoder}",
)
