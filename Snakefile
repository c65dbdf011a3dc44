# arxivcat: `snakemake` in a checkout runs the workflow of workflow/Snakefile (see there).
include: "workflow/Snakefile"
