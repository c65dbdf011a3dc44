# Baseline stage: TF-IDF + logistic regression on the experiment's own split, quoted by the card
# for context.


rule train_baseline:
    input:
        train="results/{experiment}/data/train.parquet",
        validation="results/{experiment}/data/validation.parquet",
        test="results/{experiment}/data/test.parquet",
    output:
        metrics="results/{experiment}/baseline/metrics.json",
    log:
        "results/logs/train_baseline/{experiment}.log",
    benchmark:
        "results/benchmarks/train_baseline/{experiment}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=2 * 60,
    params:
        seed=baseline_seed_of,
        code=code_digest("arxivcat.model.train_baseline"),
    script:
        "../scripts/train_baseline.py"
