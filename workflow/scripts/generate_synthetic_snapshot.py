"""generate_synthetic_snapshot: the generated records behind a ``synthetic:N`` snapshot source."""

from arxivcat.io.runlog import setup_logging
from arxivcat.synthetic.generate_synthetic_snapshot import generate_synthetic_snapshot

setup_logging(snakemake.log[0])
generate_synthetic_snapshot(source=snakemake.params.source, output=snakemake.output.snapshot)
