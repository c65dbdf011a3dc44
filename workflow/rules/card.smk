# Card stage: the Hugging Face model card of an experiment (with its Hub metadata, "How to use" and
# the validation-F1 threshold: it is also the model folder's README) and the plots it links, each
# also in `snakemake --report` under the experiment's name (the report's front page is workflow.rst).


report: "../report/workflow.rst"


localrules:
    write_card,


rule write_card:
    input:
        model="results/{experiment}/model",
        metrics="results/{experiment}/eval/metrics.json",
        predictions="results/{experiment}/eval/predictions.parquet",
        split_report="results/{experiment}/data/split_report.json",
        manifest="results/data/arxiv.manifest.json",
        baseline="results/{experiment}/baseline/metrics.json",
        threshold="results/{experiment}/threshold.json",
    output:
        card=report(
            "results/{experiment}/card.md",
            caption="../report/card.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "model card"},
        ),
        pr_curve=report(
            "results/{experiment}/card_pr_curve.png",
            caption="../report/pr_curve.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "precision-recall curves"},
        ),
        loss=report(
            "results/{experiment}/card_loss.png",
            caption="../report/loss.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "loss curves"},
        ),
    log:
        "results/logs/write_card/{experiment}.log",
    conda:
        "../../envs/data.yaml"
    params:
        experiment=card_facts_of,
        folder=HUB_FOLDER,
        code=code_digest("arxivcat.report.write_card"),
    script:
        "../scripts/write_card.py"
