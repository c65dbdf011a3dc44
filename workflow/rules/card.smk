# Card stage: the validation-F1 threshold of an experiment (which its card states and predict
# labels at); the Hugging Face model card (with its Hub metadata, "How to use" and the threshold)
# and the plots it links, each also in `snakemake --report` under the experiment's name (the
# report's front page is workflow.rst); and the Hub-ready model folder whose README the card is
# (class names, recorded truncation, threshold).


report: "../report/workflow.rst"


rule choose_threshold:
    input:
        predictions=rules.evaluate.output.predictions,
    output:
        threshold=layout.THRESHOLD,
    log:
        layout.log("choose_threshold", "{experiment}"),
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        calibration=calibration_of,
        code=code_digest("arxivcat.report.choose_threshold"),
    script:
        "../scripts/choose_threshold.py"


rule write_card:
    input:
        unpack(card_inputs),
    output:
        card=report(
            layout.CARD,
            caption="../report/card.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "model card"},
        ),
        pr_curve=report(
            layout.CARD_PR_CURVE,
            caption="../report/pr_curve.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "precision-recall curves"},
        ),
        loss=report(
            layout.CARD_LOSS,
            caption="../report/loss.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "loss curves"},
        ),
        years=report(
            layout.CARD_YEARS,
            caption="../report/years.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "F1 by year"},
        ),
        calibration=report(
            layout.CARD_CALIBRATION,
            caption="../report/calibration.rst",
            category="Experiments",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "reliability"},
        ),
    log:
        layout.log("write_card", "{experiment}"),
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        experiment=card_facts_of,
        folder=layout.HUB_FOLDER,
        code=code_digest("arxivcat.report.write_card"),
    script:
        "../scripts/write_card.py"


rule write_head_card:
    input:
        unpack(card_inputs),
    output:
        card=layout.HEAD_CARD,
        pr_curve=layout.HEAD_CARD_PR_CURVE,
        years=layout.HEAD_CARD_YEARS,
        calibration=layout.HEAD_CARD_CALIBRATION,
    log:
        layout.log("write_head_card", "{experiment}", "{head}"),
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        experiment=card_facts_of,
        folder=layout.HUB_FOLDER,
        code=code_digest("arxivcat.report.write_card"),
    script:
        "../scripts/write_head_card.py"


# `snakemake heads`: the card of every head of every multi-head experiment.
rule heads:
    input:
        head_cards,


rule package_model:
    input:
        model=rules.train.output.model,
        card=rules.write_card.output.card,
        plots=[
            rules.write_card.output.pr_curve,
            rules.write_card.output.loss,
            rules.write_card.output.years,
            rules.write_card.output.calibration,
        ],
        threshold=rules.choose_threshold.output.threshold,
    output:
        folder=directory(layout.HUB_FOLDER),
    log:
        layout.log("package_model", "{experiment}"),
    localrule: True
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
        expand(rules.package_model.output.folder, experiment=EXPERIMENTS),
