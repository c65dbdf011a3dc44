# Evaluate stage: metrics of the final model on validation and test, and its predictions.


rule evaluate:
    input:
        model="results/{experiment}/model",
        dataset="results/{experiment}/tokenized",
    output:
        metrics="results/{experiment}/eval/metrics.json",
        predictions="results/{experiment}/eval/predictions.parquet",
    log:
        "results/logs/evaluate/{experiment}.log",
    benchmark:
        "results/benchmarks/evaluate/{experiment}.tsv"
    conda:
        "../../envs/train-gpu.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=4 * 60,
    params:
        training=training_of,
        code=code_digest("arxivcat.evaluation"),
    script:
        "../scripts/evaluate.py"
