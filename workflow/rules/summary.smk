# Summary stage: one row per experiment of the config (validation and test metrics, baselines,
# frozen probe, weak-negative share, training time) as Markdown, CSV and a bar chart.


rule summarize:
    input:
        metrics=expand(rules.evaluate.output.metrics, experiment=EXPERIMENTS),
        models=expand(rules.train.output.model, experiment=EXPERIMENTS),
        split_reports=expand(rules.label_splits.output.report, experiment=EXPERIMENTS),
        baselines=expand(rules.train_baseline.output.metrics, experiment=EXPERIMENTS),
        probes=expand(rules.train_probe.output.metrics, experiment=EXPERIMENTS),
        thresholds=expand(rules.choose_threshold.output.threshold, experiment=EXPERIMENTS),
        predictions=expand(rules.evaluate.output.predictions, experiment=EXPERIMENTS),
    output:
        markdown=report(
            layout.SUMMARY,
            caption="../report/summary_table.rst",
            category="Summary",
            subcategory="All experiments",
            labels={"figure": "table"},
        ),
        csv=layout.SUMMARY_CSV,
        plot=report(
            layout.SUMMARY_PLOT,
            caption="../report/summary_chart.rst",
            category="Summary",
            subcategory="All experiments",
            labels={"figure": "F1 chart"},
        ),
    log:
        layout.log("summarize"),
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        experiments=EXPERIMENTS,
        sweeps=SWEEPS,
        code=code_digest("arxivcat.report.summarize"),
    script:
        "../scripts/summarize.py"
