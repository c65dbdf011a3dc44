"""The frozen-encoder probe: base-encoder embeddings of a split, a logistic regression on them."""
