# Train stage: fine-tune the experiment's model.  Checkpoints (params.checkpoints) live
# outside the declared output (which Snakemake deletes before a job runs), so that a retried or
# rerun job resumes from the last checkpoint instead of restarting; the store is keyed by the
# training settings and data, and removed once the model is written.  A full disk or a refused
# write fails in one line naming the path, before the first step where it can be foreseen, so the
# retries of such a job cost seconds; Ctrl-C stops a DDP job's torchrun and its workers too.


rule train:
    input:
        dataset=rules.tokenize.output.dataset,
    output:
        model=directory(layout.MODEL),
    log:
        layout.log("train", "{experiment}"),
    benchmark:
        layout.benchmark("train", "{experiment}")
    retries: 2
    conda:
        "../../envs/train-gpu.yaml"
    threads: 4
    resources:
        gpu=train_gpus_of,
        gpu_model=resource_of("train", "gpu_model"),
        cpus_per_task=resource_of("train", "cpus_per_task"),
        mem_mb=resource_of("train", "mem_mb"),
        runtime=resource_of("train", "runtime"),
    params:
        training=training_of,
        checkpoints=layout.TRAIN_CHECKPOINTS,
        code=code_digest("arxivcat.model.train"),
    script:
        "../scripts/train.py"
