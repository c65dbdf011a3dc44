# Card stage: the Hugging Face model card of an experiment.


localrules:
    write_card,


rule write_card:
    input:
        model="results/{experiment}/model",
        metrics="results/{experiment}/eval/metrics.json",
        split_report="results/{experiment}/data/split_report.json",
        manifest="results/data/arxiv.manifest.json",
    output:
        card="results/{experiment}/card.md",
    params:
        experiment=card_facts_of,
        code=code_digest("arxivcat.card"),
    log:
        "results/logs/write_card/{experiment}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/write_card.py"
