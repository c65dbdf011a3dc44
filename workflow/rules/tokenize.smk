# Tokenize stage: an experiment's split tables into an on-disk Arrow dataset.


rule tokenize:
    input:
        train="results/{experiment}/data/train.parquet",
        validation="results/{experiment}/data/validation.parquet",
        test="results/{experiment}/data/test.parquet",
    output:
        dataset=directory("results/{experiment}/tokenized"),
    log:
        "results/logs/tokenize/{experiment}.log",
    benchmark:
        "results/benchmarks/tokenize/{experiment}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 4
    params:
        tokenizer=tokenizer_of,
        code=code_digest("arxivcat.model.tokenize"),
    script:
        "../scripts/tokenize.py"
