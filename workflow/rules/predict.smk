# Predict stage: the validation-F1 threshold of each experiment (which its card states), its
# Hub-ready model folder (card as README, class names, recorded truncation, threshold), and every
# experiment's scores on the corpora of `predict.corpora`.  Predictions read the trained model and
# threshold.json, never the card: a new card re-packages the folder and reruns no prediction.  The
# downloaded corpus is `ancient` (its digest decides).  Chunks live under
# results/checkpoints/predict/, outside the declared output, so a killed job resumes at its last
# finished chunk.
include: "predict_inputs.smk"


localrules:
    choose_threshold,
    package_model,
    join_predictions,


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
        code=code_digest("arxivcat.predict.choose_threshold"),
    script:
        "../scripts/choose_threshold.py"


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
        code=code_digest("arxivcat.predict.package_model"),
    script:
        "../scripts/package_model.py"


rule predict:
    input:
        unpack(predict_corpus_of),
        model="results/{experiment}/model",
        threshold="results/{experiment}/threshold.json",
    output:
        predictions="results/predictions/{corpus}/{experiment}.parquet",
        manifest="results/predictions/{corpus}/{experiment}.json",
    log:
        "results/logs/predict/{corpus}/{experiment}.log",
    benchmark:
        "results/benchmarks/predict/{corpus}/{experiment}.tsv"
    retries: 2
    conda:
        predict_env_of
    threads: 4
    resources:
        gpu=predict_gpus_of,
        gpu_model=resource_of("evaluate", "gpu_model"),
        cpus_per_task=resource_of("evaluate", "cpus_per_task"),
        mem_mb=resource_of("evaluate", "mem_mb"),
        runtime=resource_of("evaluate", "runtime"),
    params:
        settings=predict_settings_of,
        store="results/checkpoints/predict/{corpus}/{experiment}",
        code=code_digest("arxivcat.predict.predict"),
    script:
        "../scripts/predict.py"


rule join_predictions:
    input:
        predictions=expand(
            "results/predictions/{{corpus}}/{experiment}.parquet", experiment=EXPERIMENTS
        ),
    output:
        table="results/predictions/{corpus}.parquet",
    log:
        "results/logs/join_predictions/{corpus}.log",
    conda:
        "../../envs/data.yaml"
    params:
        experiments=EXPERIMENTS,
        code=code_digest("arxivcat.predict.join_predictions"),
    script:
        "../scripts/join_predictions.py"


# `snakemake predictions`: every corpus of predict.corpora scored by every experiment.
rule predictions:
    input:
        expand("results/predictions/{corpus}.parquet", corpus=config["predict"]["corpora"]),


# `snakemake hub`: every experiment's Hub-ready model folder.
rule hub:
    input:
        expand(HUB_FOLDER, experiment=EXPERIMENTS),
