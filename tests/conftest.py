"""Shared fixtures: repository paths, the real data in ../shared, and config loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxivcat.config import load_yaml, validate_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared folder with the real data; skips when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"{SHARED} is absent: the real arXiv/OpenAlex test data live there")
    return SHARED


@pytest.fixture(scope="session")
def schema() -> dict:
    """The configuration schema."""
    return load_yaml(REPO / "config" / "schema.yaml")


@pytest.fixture()
def default_config(schema: dict) -> dict:
    """The shipped default configuration, validated (a fresh copy per test)."""
    return validate_config(load_yaml(REPO / "config" / "config.yaml"), schema)
