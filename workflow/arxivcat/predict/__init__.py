"""The predict stage: trained classifiers applied to whole corpora, and the Hub-ready model folder."""
