"""arxivcat: fine-tune SPECTER classifiers for arXiv categories.

The package holds the logic of every workflow stage; the Snakemake rules under ``workflow/rules``
call it through thin scripts, and everything here also works without Snakemake.
"""

__version__ = "0.2.0"
