"""``python -m arxivcat``: the command line (see :mod:`arxivcat.cli`)."""

import sys

from arxivcat.cli import main

sys.exit(main())
