"""Download stage: the arXiv snapshot and OAI-PMH harvest, normalized into the corpus."""
