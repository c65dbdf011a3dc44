# Splits stage: one train/validation/test assignment per split definition (shared by every
# experiment that uses it), then each experiment's labelled tables and split report.
# The large tables are `ancient`: a rewritten but byte-identical table (same digest) reruns nothing.
# label_splits is a checkpoint: the heads of an every-category experiment, and so its head cards,
# are known once its split report is written.


rule assign_splits:
    input:
        corpus=ancient(rules.download_snapshot.output.corpus),
        digest=rules.download_snapshot.output.digest,
    output:
        assignment=layout.ASSIGNMENT,
    log:
        layout.log("assign_splits", "{split}"),
    benchmark:
        layout.benchmark("assign_splits", "{split}")
    conda:
        "../../envs/data.yaml"
    params:
        settings=split_of,
        code=code_digest("arxivcat.splits.assign_splits"),
    script:
        "../scripts/assign_splits.py"


checkpoint label_splits:
    input:
        corpus=ancient(rules.download_snapshot.output.corpus),
        digest=rules.download_snapshot.output.digest,
        assignment=assignment_of,
        weak_negatives=weak_negatives_of,
        weak_negatives_digest=weak_negatives_digest_of,
    output:
        train=layout.TRAIN_TABLE,
        validation=layout.VALIDATION_TABLE,
        test=layout.TEST_TABLE,
        heldout=layout.HELDOUT_TABLE,
        report=layout.SPLIT_REPORT,
    log:
        layout.log("label_splits", "{experiment}"),
    benchmark:
        layout.benchmark("label_splits", "{experiment}")
    conda:
        "../../envs/data.yaml"
    params:
        labelling=labelling_of,
        code=code_digest("arxivcat.splits.label_splits"),
    script:
        "../scripts/label_splits.py"
