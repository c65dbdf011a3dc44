"""Synthetic arXiv records for the offline demo and scale benchmarks (not real data)."""
