"""Weak-negative stage: non-arXiv, non-CS papers from OpenAlex or a local file."""
