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
        thresholds=expand("results/{experiment}/threshold.json", experiment=EXPERIMENTS),
    output:
        markdown=report(
            "results/summary.md",
            caption="../report/summary_table.rst",
            category="Summary",
            subcategory="All experiments",
            labels={"figure": "table"},
        ),
        csv="results/summary.csv",
        plot=report(
            "results/summary.png",
            caption="../report/summary_chart.rst",
            category="Summary",
            subcategory="All experiments",
            labels={"figure": "F1 chart"},
        ),
    log:
        "results/logs/summarize.log",
    conda:
        "../../envs/data.yaml"
    params:
        experiments=EXPERIMENTS,
        code=code_digest("arxivcat.report.summarize"),
    script:
        "../scripts/summarize.py"
