# Train stage: fine-tune the experiment's model.  Checkpoints live under results/checkpoints/,
# outside the declared output (which Snakemake deletes before a job runs), so that a retried or
# rerun job resumes from the last checkpoint instead of restarting; the store is keyed by the
# training settings and data, and removed once the model is written.  A full disk or a refused
# write fails in one line naming the path, before the first step where it can be foreseen, so the
# retries of such a job cost seconds; Ctrl-C stops a DDP job's torchrun and its workers too.


rule train:
    input:
        dataset="results/{experiment}/tokenized",
    output:
        model=directory("results/{experiment}/model"),
    log:
        "results/logs/train/{experiment}.log",
    benchmark:
        "results/benchmarks/train/{experiment}.tsv"
    retries: 2
    conda:
        env_of
    threads: 4
    resources:
        gpu=train_gpus_of,
        gpu_model=resource_of("train", "gpu_model"),
        cpus_per_task=resource_of("train", "cpus_per_task"),
        mem_mb=resource_of("train", "mem_mb"),
        runtime=resource_of("train", "runtime"),
    params:
        training=training_of,
        checkpoints="results/checkpoints/{experiment}",
        code=code_digest("arxivcat.model.train"),
    script:
        "../scripts/train.py"
