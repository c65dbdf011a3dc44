# Card stage: the Hugging Face model card of an experiment, its plots, and the TF-IDF baseline
# it quotes for context.


localrules:
    write_card,


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


rule write_card:
    input:
        model="results/{experiment}/model",
        metrics="results/{experiment}/eval/metrics.json",
        predictions="results/{experiment}/eval/predictions.parquet",
        split_report="results/{experiment}/data/split_report.json",
        manifest="results/data/arxiv.manifest.json",
        baseline="results/{experiment}/baseline/metrics.json",
    output:
        card="results/{experiment}/card.md",
        pr_curve="results/{experiment}/card_pr_curve.png",
        loss="results/{experiment}/card_loss.png",
    log:
        "results/logs/write_card/{experiment}.log",
    conda:
        "../../envs/data.yaml"
    params:
        experiment=card_facts_of,
        code=code_digest("arxivcat.report.write_card"),
    script:
        "../scripts/write_card.py"
