# Baseline stage: TF-IDF + logistic regression on the experiment's own split, quoted by the card
# for context.


rule train_baseline:
    input:
        train=rules.label_splits.output.train,
        validation=rules.label_splits.output.validation,
        test=rules.label_splits.output.test,
        heldout=rules.label_splits.output.heldout,
    output:
        metrics=layout.BASELINE_METRICS,
        predictions=layout.BASELINE_PREDICTIONS,
    log:
        layout.log("train_baseline", "{experiment}"),
    benchmark:
        layout.benchmark("train_baseline", "{experiment}")
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=2 * 60,
    params:
        seed=baseline_seed_of,
        code=code_digest("arxivcat.model.train_baseline"),
    script:
        "../scripts/train_baseline.py"
