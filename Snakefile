# arxivcat: `snakemake` in a checkout runs the workflow of workflow/Snakefile (see there).  Rules
# of an included file are never the default target, so this file names it: workflow/Snakefile's
# `all` (every card and the summary), which a `module` of it makes its host's default.
include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
