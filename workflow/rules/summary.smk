# Summary stage: one row per experiment of the config (validation and test metrics, baseline,
# weak-negative share, training time) as Markdown, CSV and a bar chart.


localrules:
    summarize,


rule summarize:
    input:
        metrics=expand("results/{experiment}/eval/metrics.json", experiment=EXPERIMENTS),
        models=expand("results/{experiment}/model", experiment=EXPERIMENTS),
        split_reports=expand("results/{experiment}/data/split_report.json", experiment=EXPERIMENTS),
        baselines=expand("results/{experiment}/baseline/metrics.json", experiment=EXPERIMENTS),
    output:
        markdown="results/summary.md",
        csv="results/summary.csv",
        plot="results/summary.png",
    log:
        "results/logs/summarize.log",
    conda:
        "../../envs/data.yaml"
    params:
        experiments=EXPERIMENTS,
        code=code_digest("arxivcat.report.summarize"),
    script:
        "../scripts/summarize.py"
