"""Splits stage: train/validation/test assignment and each experiment's labelled tables."""
