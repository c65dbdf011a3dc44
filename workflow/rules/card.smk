# Card stage: the validation-F1 threshold of an experiment (which its card states and predict
# labels at); the Hugging Face model card (with its Hub metadata, "How to use" and the threshold)
# and the plots it links, each also in `snakemake --report` under the experiment's name (the
# report's front page is workflow.rst); and the Hub-ready model folder whose README the card is
# (class names, recorded truncation, threshold).


report: "../report/workflow.rst"


localrules:
    choose_threshold,
    write_card,
    package_model,


rule choose_threshold:
    input:
        predictions="results/{experiment}/eval/predictions.parquet",
    output:
        threshold="results/{experiment}/threshold.json",
    log:
        "results/logs/choose_threshold/{experiment}.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=code_digest("arxivcat.report.choose_threshold"),
    script:
        "../scripts/choose_threshold.py"


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


rule package_model:
    input:
        model="results/{experiment}/model",
        card="results/{experiment}/card.md",
        plots=["results/{experiment}/card_pr_curve.png", "results/{experiment}/card_loss.png"],
        threshold="results/{experiment}/threshold.json",
    output:
        folder=directory(HUB_FOLDER),
    log:
        "results/logs/package_model/{experiment}.log",
    conda:
        "../../envs/data.yaml"
    params:
        experiment=package_facts_of,
        code=code_digest("arxivcat.report.package_model"),
    script:
        "../scripts/package_model.py"


# `snakemake hub`: every experiment's Hub-ready model folder.
rule hub:
    input:
        expand(HUB_FOLDER, experiment=EXPERIMENTS),
