# Evaluate stage: metrics of the final model on validation and test, and its predictions.


rule evaluate:
    input:
        model=rules.train.output.model,
        dataset=rules.tokenize.output.dataset,
    output:
        metrics=layout.EVAL_METRICS,
        predictions=layout.EVAL_PREDICTIONS,
    log:
        layout.log("evaluate", "{experiment}"),
    benchmark:
        layout.benchmark("evaluate", "{experiment}")
    conda:
        "../../envs/train-gpu.yaml"
    threads: 4
    resources:
        gpu=evaluate_gpus_of,
        gpu_model=resource_of("evaluate", "gpu_model"),
        cpus_per_task=resource_of("evaluate", "cpus_per_task"),
        mem_mb=resource_of("evaluate", "mem_mb"),
        runtime=resource_of("evaluate", "runtime"),
    params:
        training=training_of,
        code=code_digest("arxivcat.model.evaluate"),
    script:
        "../scripts/evaluate.py"
