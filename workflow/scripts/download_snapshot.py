"""download_snapshot: fetch the arXiv snapshot and write the normalized corpus.

Produces the corpus parquet, a digest file holding the corpus's sha256 (what downstream rules
compare), and a manifest (source, retrieval time, record count, checksums) that the card cites.
"""

from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.io.runlog import setup_logging

setup_logging(snakemake.log[0])
build_corpus(
    settings=SnapshotSettings.from_dict(snakemake.params.settings),
    corpus_path=snakemake.output.corpus,
    digest_path=snakemake.output.digest,
    manifest_path=snakemake.output.manifest,
    cache_dir=snakemake.params.cache,
    harvest_path=snakemake.input.get("harvest") or None,
    snapshot_path=snakemake.input.get("synthetic") or None,
)
