"""prepare_weak_negatives: the weak-negative table (non-arXiv, non-CS papers).

From the OpenAlex API or a local file, as configured; written with a digest file (the table's
sha256) and a manifest (source, retrieval time, record count, checksums) that the card cites.
"""

from arxivcat.io.runlog import setup_logging
from arxivcat.negatives.prepare_weak_negatives import prepare_weak_negatives
from arxivcat.negatives.settings import WeakNegativeSettings

setup_logging(snakemake.log[0])
prepare_weak_negatives(
    settings=WeakNegativeSettings.from_dict(snakemake.params.settings, "weak_negatives"),
    table_path=snakemake.output.table,
    digest_path=snakemake.output.digest,
    cache_dir=snakemake.params.cache,
    manifest_path=snakemake.output.manifest,
)
