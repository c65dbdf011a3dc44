# arxivcat: arXiv metadata -> label splits -> tokens -> fine-tuned classifier -> evaluation -> card.
# Targets: results/<experiment>/card.md for any experiment in config, or `all` for every one.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/tokenize.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/card.smk"


rule all:
    default_target: True
    input:
        expand("results/{experiment}/card.md", experiment=EXPERIMENTS),
