# Predict stage: every experiment's scores on the corpora of `predict.corpora`.  Predictions read
# the trained model and threshold.json (from the card stage), never the card: a new card
# re-packages the model folder and reruns no prediction.  The downloaded corpus is `ancient` (its
# digest decides).  Finished chunks (params.store) live outside the declared output, so a killed
# job resumes at its last finished chunk.
include: "predict_inputs.smk"


rule predict:
    input:
        unpack(predict_corpus_of),
        model=rules.train.output.model,
        threshold=rules.choose_threshold.output.threshold,
    output:
        predictions=layout.PREDICTIONS,
        manifest=layout.PREDICTIONS_MANIFEST,
    log:
        layout.log("predict", "{corpus}", "{experiment}"),
    benchmark:
        layout.benchmark("predict", "{corpus}", "{experiment}")
    retries: 2
    conda:
        "../../envs/train-gpu.yaml"
    threads: 4
    resources:
        gpu=predict_gpus_of,
        gpu_model=resource_of("predict", "gpu_model"),
        cpus_per_task=resource_of("predict", "cpus_per_task"),
        mem_mb=resource_of("predict", "mem_mb"),
        runtime=resource_of("predict", "runtime"),
    params:
        settings=predict_settings_of,
        store=layout.PREDICT_CHUNKS,
        code=code_digest("arxivcat.predict.predict"),
    script:
        "../scripts/predict.py"


rule join_predictions:
    input:
        predictions=expand(
            rules.predict.output.predictions, experiment=EXPERIMENTS, allow_missing=True
        ),
    output:
        table=layout.JOINED_PREDICTIONS,
    log:
        layout.log("join_predictions", "{corpus}"),
    localrule: True
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
        expand(rules.join_predictions.output.table, corpus=config["predict"]["corpora"]),
