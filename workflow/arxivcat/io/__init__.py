"""Shared input/output: atomic writes, checksums, downloads and job logging."""
