# Predict stage: every experiment's scores on the corpora of `predict.corpora`.  Predictions read
# the trained model and threshold.json (from the card stage), never the card: a new card
# re-packages the model folder and reruns no prediction.  The downloaded corpus is `ancient` (its
# digest decides).  Chunks live under results/checkpoints/predict/, outside the declared output,
# so a killed job resumes at its last finished chunk.
include: "predict_inputs.smk"


localrules:
    join_predictions,


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
        gpu_model=resource_of("predict", "gpu_model"),
        cpus_per_task=resource_of("predict", "cpus_per_task"),
        mem_mb=resource_of("predict", "mem_mb"),
        runtime=resource_of("predict", "runtime"),
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
