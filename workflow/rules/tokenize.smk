# Tokenize stage: an experiment's split tables into an on-disk Arrow dataset.


rule tokenize:
    input:
        train=rules.label_splits.output.train,
        validation=rules.label_splits.output.validation,
        test=rules.label_splits.output.test,
        heldout=rules.label_splits.output.heldout,
    output:
        dataset=directory(layout.TOKENIZED),
    log:
        layout.log("tokenize", "{experiment}"),
    benchmark:
        layout.benchmark("tokenize", "{experiment}")
    conda:
        "../../envs/data.yaml"
    threads: 4
    params:
        tokenizer=tokenizer_of,
        code=code_digest("arxivcat.model.tokenize"),
    script:
        "../scripts/tokenize.py"
