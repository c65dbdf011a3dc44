# arxivcat: arXiv metadata -> label splits -> tokens -> fine-tuned classifier -> evaluation -> card.
# Targets: results/<experiment>/card.md for any experiment in config (and
# results/<experiment>/heads/<head>/card.md for each head of a multi-head one), `summary` for
# results/summary.md across all of them, or `all` for every card and the summary.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/tokenize.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/baseline.smk"
include: "workflow/rules/probe.smk"
include: "workflow/rules/card.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/predict.smk"


rule all:
    default_target: True
    input:
        expand(rules.write_card.output.card, experiment=EXPERIMENTS),
        head_cards,
        rules.summarize.output.markdown,


# `snakemake summary`: the summary table and chart of every experiment in config.
rule summary:
    input:
        rules.summarize.output.markdown,
