# Probe stages: the frozen-encoder baseline of every card.  An experiment's base encoder
# (training.model, not fine-tuned) embeds its split definition's papers once, for every
# experiment on that split with that model and max_length (`embed`, resumable in chunks kept
# outside its output), and the weak-negative pool once for every split (`embed_weak_negatives`,
# needed only by experiments that add weak negatives); each experiment fits a logistic
# regression on its own rows' embeddings (`train_probe`).  The corpus and weak negatives are
# `ancient` (their digests decide).
include: "probe_inputs.smk"


rule embed:
    input:
        corpus=ancient(rules.download_snapshot.output.corpus),
        digest=rules.download_snapshot.output.digest,
        assignment=rules.assign_splits.output.assignment,
    output:
        embeddings=layout.EMBEDDINGS,
        manifest=layout.EMBEDDINGS_MANIFEST,
    log:
        layout.log("embed", "{split}", "{encoder}"),
    benchmark:
        layout.benchmark("embed", "{split}", "{encoder}")
    retries: 2
    conda:
        "../../envs/train-gpu.yaml"
    threads: 4
    resources:
        gpu=embed_gpus_of,
        gpu_model=embed_resource_of("gpu_model"),
        cpus_per_task=embed_resource_of("cpus_per_task"),
        mem_mb=embed_resource_of("mem_mb"),
        runtime=embed_resource_of("runtime"),
    params:
        encoder=encoder_of,
        settings=config["embed"],
        store=layout.EMBED_CHUNKS,
        code=code_digest("arxivcat.probe.embed"),
    script:
        "../scripts/embed.py"


rule embed_weak_negatives:
    input:
        corpus=ancient(rules.download_snapshot.output.corpus),
        digest=rules.download_snapshot.output.digest,
        weak_negatives=ancient(rules.prepare_weak_negatives.output.table),
        weak_negatives_digest=rules.prepare_weak_negatives.output.digest,
    output:
        embeddings=layout.WEAK_NEGATIVE_EMBEDDINGS,
        manifest=layout.WEAK_NEGATIVE_EMBEDDINGS_MANIFEST,
    log:
        layout.log("embed_weak_negatives", "{encoder}"),
    benchmark:
        layout.benchmark("embed_weak_negatives", "{encoder}")
    retries: 2
    conda:
        "../../envs/train-gpu.yaml"
    threads: 4
    resources:
        gpu=embed_gpus_of,
        gpu_model=embed_resource_of("gpu_model"),
        cpus_per_task=embed_resource_of("cpus_per_task"),
        mem_mb=embed_resource_of("mem_mb"),
        runtime=embed_resource_of("runtime"),
    params:
        encoder=weak_negative_encoder_of,
        settings=config["embed"],
        store=layout.WEAK_NEGATIVE_EMBED_CHUNKS,
        code=code_digest("arxivcat.probe.embed_weak_negatives"),
    script:
        "../scripts/embed_weak_negatives.py"


rule train_probe:
    input:
        unpack(embedding_of),
        train=rules.label_splits.output.train,
        validation=rules.label_splits.output.validation,
        test=rules.label_splits.output.test,
        heldout=rules.label_splits.output.heldout,
    output:
        metrics=layout.PROBE_METRICS,
        predictions=layout.PROBE_PREDICTIONS,
    log:
        layout.log("train_probe", "{experiment}"),
    benchmark:
        layout.benchmark("train_probe", "{experiment}")
    conda:
        "../../envs/data.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=2 * 60,
    params:
        settings=config["probe"],
        code=code_digest("arxivcat.probe.train_probe"),
    script:
        "../scripts/train_probe.py"
