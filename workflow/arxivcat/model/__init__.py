"""Model stages: tokenize, train, evaluate, and the TF-IDF baseline."""
