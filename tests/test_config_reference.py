"""Files generated from the package, kept in step with it: config/README.md, the file list."""

from __future__ import annotations

from pathlib import Path

from arxivcat.config import load_schema
from arxivcat.config_reference import render
from arxivcat.package_files import MANIFEST, package_files

REPO = Path(__file__).resolve().parents[1]


def test_config_readme_is_the_schema_rendered():
    committed = (REPO / "config" / "README.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "config/README.md differs from the schema: "
        "python -m arxivcat.config_reference > config/README.md"
    )


def test_config_readme_names_every_key_of_the_schema():
    text = render()
    for key in load_schema()["properties"]:
        assert f"| `{key}` |" in text
    for key in load_schema()["definitions"]["training"]["properties"]:
        assert f"| `training.{key}` |" in text


def test_package_file_list_names_every_file_of_the_package():
    root = REPO / "workflow" / "arxivcat"
    listed = (root / MANIFEST).read_text(encoding="utf-8").split()
    assert listed == package_files(root), "out of date: python -m arxivcat.package_files"
