"""harvest_oai: harvest arXiv metadata over OAI-PMH into a table merged by download_snapshot."""

from arxivcat.data.harvest_oai import harvest
from arxivcat.data.settings import OAISettings
from arxivcat.io.runlog import setup_logging

setup_logging(snakemake.log[0])
harvest(
    settings=OAISettings.from_dict(snakemake.params.settings),
    output=snakemake.output.table,
    manifest_path=snakemake.output.manifest,
    state_dir=snakemake.params.cache,
)
