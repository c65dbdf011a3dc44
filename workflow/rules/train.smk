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
        gpu=1,
        mem_mb=32000,
        runtime=24 * 60,
    retries: 2
    log:
        "results/logs/train/{experiment}.log",
    benchmark:
        "results/benchmarks/train/{experiment}.tsv"
    conda:
        "../../envs/train-gpu.yaml"
    script:
        "../scripts/train.py"
