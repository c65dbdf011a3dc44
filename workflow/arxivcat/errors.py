"""The package's error base: every stage's error says what is wrong in one line.

Each stage defines its own subclass (``ConfigError``, ``SplitError``, ``TrainingError``, ...),
with a second base from the standard library (``ValueError`` for bad input, ``RuntimeError`` for a
failed operation) where callers catch it by that.  Job logs print these without a traceback
(:mod:`arxivcat.io.runlog`); anything else is a bug and keeps its traceback.
"""


class ArxivcatError(Exception):
    """A problem with input, configuration or environment, described in one line."""


class ConfigError(ArxivcatError, ValueError):
    """A configuration problem (a config or schema file, a setting), described in one line."""
