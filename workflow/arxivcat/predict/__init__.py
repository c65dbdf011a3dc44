"""The predict stage: classifiers applied to whole corpora; what a model folder records."""
