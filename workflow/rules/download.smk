# Download stage: the arXiv snapshot and the weak negatives, normalized into parquet tables.
# Runs on the submitting host (compute nodes often have no internet).


localrules:
    download_snapshot,
    prepare_weak_negatives,


rule download_snapshot:
    output:
        corpus="results/data/arxiv.parquet",
        digest="results/data/arxiv.sha256",
        manifest="results/data/arxiv.manifest.json",
    params:
        source=config["snapshot"]["source"],
        sha256=config["snapshot"]["sha256"],
        cache="results/downloads",
        code=code_digest("arxivcat.snapshot"),
    log:
        "results/logs/download_snapshot.log",
    benchmark:
        "results/benchmarks/download_snapshot.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/download_snapshot.py"


rule prepare_weak_negatives:
    output:
        table="results/data/weak_negatives.parquet",
        digest="results/data/weak_negatives.sha256",
        manifest="results/data/weak_negatives.manifest.json",
    log:
        "results/logs/prepare_weak_negatives.log",
    benchmark:
        "results/benchmarks/prepare_weak_negatives.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        settings=config["weak_negatives"],
        cache="results/downloads",
        code=code_digest("arxivcat.weak_negatives"),
    script:
        "../scripts/prepare_weak_negatives.py"
