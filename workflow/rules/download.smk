# Download stage: the arXiv snapshot and the weak negatives, normalized into parquet tables.
# Runs on the submitting host (compute nodes often have no internet).


localrules:
    download_snapshot,
    harvest_oai,
    prepare_weak_negatives,


rule download_snapshot:
    input:
        harvest=oai_harvest_of,
    output:
        corpus="results/data/arxiv.parquet",
        digest="results/data/arxiv.sha256",
        manifest="results/data/arxiv.manifest.json",
    log:
        "results/logs/download_snapshot.log",
    benchmark:
        "results/benchmarks/download_snapshot.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        source=config["snapshot"]["source"],
        sha256=config["snapshot"]["sha256"],
        missing_abstract=config["snapshot"]["missing_abstract"],
        unknown_categories=config["snapshot"]["unknown_categories"],
        cache="results/downloads",
        code=code_digest("arxivcat.data.download_snapshot"),
    script:
        "../scripts/download_snapshot.py"


# Pages and resumption tokens live in the cache (outside the outputs), so a crashed harvest
# continues where it stopped when the rule runs again.
rule harvest_oai:
    output:
        table="results/data/oai_harvest.parquet",
        manifest="results/data/oai_harvest.manifest.json",
    log:
        "results/logs/harvest_oai.log",
    benchmark:
        "results/benchmarks/harvest_oai.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        settings=config["oai"],
        cache="results/downloads/oai",
        code=code_digest("arxivcat.data.harvest_oai"),
    script:
        "../scripts/harvest_oai.py"


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
        code=code_digest("arxivcat.negatives.prepare_weak_negatives"),
    script:
        "../scripts/prepare_weak_negatives.py"
