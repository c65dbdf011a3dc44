# Train stage: fine-tune the experiment's model.  Checkpoints live under results/checkpoints/,
# outside the declared output, so that a retried (preempted) job resumes instead of restarting.


rule train:
    input:
        dataset="results/{experiment}/tokenized",
    output:
        model=directory("results/{experiment}/model"),
    params:
        training=training_of,
        checkpoints="results/checkpoints/{experiment}",
        code=code_digest("arxivcat.train"),
    threads: 4
    resources:
        gpu=resource_of("train", "gpu"),
        gpu_model=resource_of("train", "gpu_model"),
        cpus_per_task=resource_of("train", "cpus_per_task"),
        mem_mb=resource_of("train", "mem_mb"),
        runtime=resource_of("train", "runtime"),
    retries: 2
    log:
        "results/logs/train/{experiment}.log",
    benchmark:
        "results/benchmarks/train/{experiment}.tsv"
    conda:
        "../../envs/train-gpu.yaml"
    script:
        "../scripts/train.py"
