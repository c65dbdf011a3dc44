# Splits stage: one train/validation/test assignment per split definition (shared by every
# experiment that uses it), then each experiment's labelled tables and split report.
# The large tables are `ancient`: a rewritten but byte-identical table (same digest) reruns nothing.


rule assign_splits:
    input:
        corpus=ancient("results/data/arxiv.parquet"),
        digest="results/data/arxiv.sha256",
    output:
        assignment="results/splits/{split}/assignment.parquet",
    log:
        "results/logs/assign_splits/{split}.log",
    benchmark:
        "results/benchmarks/assign_splits/{split}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        settings=split_of,
        code=code_digest("arxivcat.splits.assign_splits"),
    script:
        "../scripts/assign_splits.py"


rule label_splits:
    input:
        corpus=ancient("results/data/arxiv.parquet"),
        digest="results/data/arxiv.sha256",
        assignment=assignment_of,
        weak_negatives=weak_negatives_of,
        weak_negatives_digest=weak_negatives_digest_of,
    output:
        train="results/{experiment}/data/train.parquet",
        validation="results/{experiment}/data/validation.parquet",
        test="results/{experiment}/data/test.parquet",
        report="results/{experiment}/data/split_report.json",
    log:
        "results/logs/label_splits/{experiment}.log",
    benchmark:
        "results/benchmarks/label_splits/{experiment}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        labelling=labelling_of,
        code=code_digest("arxivcat.splits.label_splits"),
    script:
        "../scripts/label_splits.py"
