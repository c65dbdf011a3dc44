"""train_probe: logistic regression on the frozen encoder's embeddings, for the card."""

from arxivcat.io.runlog import setup_logging
from arxivcat.probe.settings import ProbeSettings
from arxivcat.probe.train_probe import train_probe

setup_logging(snakemake.log[0])
train_probe(
    tables={split: snakemake.input[split] for split in ("train", "validation", "test", "heldout")},
    embeddings=[
        (snakemake.input[table], snakemake.input[manifest])
        for table, manifest in (("embeddings", "manifest"), ("weak_embeddings", "weak_manifest"))
        if hasattr(snakemake.input, table)
    ],
    output_path=snakemake.output.metrics,
    predictions_path=snakemake.output.predictions,
    settings=ProbeSettings.from_dict(snakemake.params.settings),
)
