"""The predict stage: trained classifiers applied to whole corpora; the Hub-ready model folder."""
