# Predict stage: every experiment's model applied to the corpora of `predict.corpora`, after the
# Hub-ready model folder (card as README, class names, truncation, validation-F1 threshold).
# Predictions depend on the folder's scoring digest (hub.sha256), not its time stamp, and on the
# corpus digest: a new card, or a byte-identical re-download, reruns no prediction.  Chunks live
# under results/checkpoints/predict/, outside the declared output, so a killed job resumes.
include: "predict_inputs.smk"


localrules:
    package_model,
    join_predictions,


rule package_model:
    input:
        model="results/{experiment}/model",
        card="results/{experiment}/card.md",
        predictions="results/{experiment}/eval/predictions.parquet",
        metrics="results/{experiment}/eval/metrics.json",
    output:
        folder=directory("results/{experiment}/hub"),
        digest="results/{experiment}/hub.sha256",
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
        model=ancient("results/{experiment}/hub"),
        model_digest="results/{experiment}/hub.sha256",
    output:
        predictions="results/predictions/{corpus}/{experiment}.parquet",
        manifest="results/predictions/{corpus}/{experiment}.json",
    log:
        "results/logs/predict/{corpus}/{experiment}.log",
    benchmark:
        "results/benchmarks/predict/{corpus}/{experiment}.tsv"
    retries: 2
    conda:
        "../../envs/train-gpu.yaml"
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
